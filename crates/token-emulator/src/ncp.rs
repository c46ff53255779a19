//! NCP Key Management Service token calls under `/kms/v1` (FACTS.md §1).
//!
//! Account calls are checked as the API Gateway checks them: signature v2 over the wire
//! path and query, a 5-minute window on the timestamp, a known access key. Token calls
//! carry a refresh token in `x-ncp-ocapi-token`. Tokens are RS256 JWTs naming their key
//! tag, their kind and the generator that minted them, so replacing or disabling the
//! generator invalidates every token issued before.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};
use token_common::clock::{unix_millis, unix_seconds};
use token_common::SecretString;

use crate::config::{NcpConfig, NcpServerRole};
use crate::jwt::{self, random_hex, JwtKey};
use crate::ncp_crypto::{self, KeyRing};
use crate::ncp_temporary::TemporaryKeys;
use crate::server::{json, AppState, Incoming, Reply};
use crate::verify::{self, Refusal};

/// Header carrying a token on token-authenticated calls.
const TOKEN_HEADER: &str = "x-ncp-ocapi-token";
const MAX_HOURS: i64 = 17_520;
const DEFAULT_ACCESS_HOURS: Hours = Hours::Hours(72);
const DEFAULT_REFRESH_HOURS: Hours = Hours::Hours(2160);
const CRYPTO_ACTIONS: &[&str] = &[
    "encrypt",
    "decrypt",
    "sign",
    "verify",
    "re-encrypt",
    "reencrypt",
    "create-custom-key",
];

/// NCP accounts, keys and their token generators.
#[derive(Debug)]
pub(crate) struct NcpState {
    accounts: HashMap<String, SecretString>,
    /// When the accounts' keys were "created" (the emulator's start), for STS's answer.
    pub(crate) accounts_created: SystemTime,
    keys: Mutex<Vec<Key>>,
    jwt_key: JwtKey,
    /// Keys handed out by the metadata and STS routes.
    pub(crate) temporary: TemporaryKeys,
    /// The emulated server's role, if it has one.
    pub(crate) server_role: Option<NcpServerRole>,
    /// Metadata v2 session tokens and their expiry.
    pub(crate) metadata_tokens: Mutex<HashMap<String, SystemTime>>,
}

#[derive(Debug)]
struct Key {
    key_id: String,
    tag: String,
    registered_ms: u64,
    generator: Generator,
    ring: KeyRing,
}

#[derive(Debug, Default)]
struct Generator {
    /// Changes on enable-after-disable and on replace; tokens name the id that minted them.
    id: Option<String>,
    active: bool,
    enabled_ms: Option<u64>,
    disabled_ms: Option<u64>,
    issued: u64,
}

impl Generator {
    fn activate(&mut self, now_ms: u64) {
        self.id = Some(random_hex(16));
        self.active = true;
        self.enabled_ms = Some(now_ms);
        self.issued = 0;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hours {
    Hours(i64),
    Unlimited,
}

impl NcpState {
    pub(crate) fn new(config: &NcpConfig, now: SystemTime) -> Self {
        let now_ms = unix_millis(now);
        let keys = config
            .keys
            .iter()
            .map(|k| {
                let mut generator = Generator::default();
                if k.token_generator {
                    generator.activate(now_ms);
                }
                Key {
                    key_id: random_hex(24),
                    tag: k.key_tag.clone(),
                    registered_ms: now_ms,
                    generator,
                    ring: KeyRing::new(k.key_type),
                }
            })
            .collect();
        Self {
            accounts: config
                .accounts
                .iter()
                .map(|a| (a.access_key.clone(), a.secret_key.clone()))
                .collect(),
            accounts_created: now,
            keys: Mutex::new(keys),
            jwt_key: JwtKey::random(),
            temporary: TemporaryKeys::default(),
            server_role: config.server_role.clone(),
            metadata_tokens: Mutex::new(HashMap::new()),
        }
    }

    /// The secret of an account key or of a temporary key still valid at `now`.
    pub(crate) fn secret_for(
        &self,
        access_key: &str,
        now: SystemTime,
    ) -> Result<SecretString, Refusal> {
        if let Some(secret) = self.accounts.get(access_key) {
            return Ok(secret.clone());
        }
        match self.temporary.lookup(access_key, now) {
            Some(found) => found.map(|k| k.secret_key),
            None => Err(Refusal::UnknownAccessKey),
        }
    }

    fn keys(&self) -> MutexGuard<'_, Vec<Key>> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a version to the key (it becomes the one new ciphertexts and signatures use);
    /// `None` for an unknown key tag.
    pub(crate) fn rotate_key(&self, tag: &str) -> Option<u32> {
        let mut keys = self.keys();
        let key = keys.iter_mut().find(|k| k.tag == tag)?;
        Some(key.ring.rotate())
    }
}

/// Answers one request under `/kms/`.
pub(crate) fn handle(state: &AppState, inc: &Incoming) -> Reply {
    match respond(state, inc) {
        Ok(r) | Err(r) => r,
    }
}

fn respond(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let not_found = || {
        gateway_error(
            StatusCode::NOT_FOUND,
            "300",
            "Not Found",
            "No API matches this method and path.",
        )
    };
    let segments = inc.segments("/kms/v1/").ok_or_else(not_found)?;
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = &inc.method;
    match segs.as_slice() {
        ["keys"] if m == Method::GET => {
            authenticate(state, inc).map(drop)?;
            list_keys(state, inc)
        }
        ["keys", tag, "token-set"] if m == Method::POST => {
            authenticate(state, inc).map(drop)?;
            create_token_set(state, inc, tag)
        }
        ["keys", tag, "token-set"] if m == Method::PUT => renew_token_set(state, inc, tag),
        ["keys", tag, "access-token"] if m == Method::POST => refresh_access_token(state, inc, tag),
        ["keys", tag, "token-generator"]
            if [Method::POST, Method::GET, Method::PUT, Method::DELETE].contains(m) =>
        {
            authenticate(state, inc).map(drop)?;
            token_generator(state, m, tag)
        }
        ["keys", tag, action] if m == Method::POST && CRYPTO_ACTIONS.contains(action) => {
            // The same paths take an access token or account keys.
            if inc.header(TOKEN_HEADER).is_some() {
                verify_token(state, inc, tag, "ACCESS")?;
            } else {
                authenticate(state, inc).map(drop)?;
            }
            crypto(state, inc, tag, action)
        }
        _ => Err(not_found()),
    }
}

/// Checks signature v2 with the emulator's own verifier ([`crate::verify::ncp`]): headers
/// present, timestamp within 5 minutes, access key known (an account's, or a temporary key
/// not yet expired), signature equal to the one recomputed over the wire path and query.
/// Returns the access key.
pub(crate) fn authenticate(state: &AppState, inc: &Incoming) -> Result<String, Reply> {
    let now = state.clock.now();
    let lookup = |ak: &str| state.ncp.secret_for(ak, now);
    verify::ncp::verify(&inc.parts(), now, lookup).map_err(|refusal| {
        gateway_error(
            StatusCode::UNAUTHORIZED,
            "200",
            "Authentication Failed",
            &refusal.to_string(),
        )
    })
}

fn list_keys(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let mut page_no: i64 = 1;
    let mut page_size: i64 = 100;
    for (k, v) in inc.query_pairs() {
        let target = match k.as_str() {
            "pageNo" => &mut page_no,
            "pageSize" => &mut page_size,
            _ => continue,
        };
        *target = v
            .parse()
            .map_err(|_| invalid_request(&format!("{k} must be an integer.")))?;
    }
    if page_no < 1 {
        return Err(invalid_request("pageNo must be 1 or more."));
    }
    if !(1..=200).contains(&page_size) {
        return Err(invalid_request("pageSize must be from 1 to 200."));
    }
    let keys = state.ncp.keys();
    let total = keys.len() as i64;
    let start = ((page_no - 1) * page_size).min(total) as usize;
    let end = (start + page_size as usize).min(keys.len());
    let list: Vec<Value> = keys[start..end]
        .iter()
        .map(|k| {
            json!({
                "keyId": k.key_id, "keyTag": k.tag, "keyName": k.tag,
                "keyType": k.ring.kind().as_str(),
                "status": "ENABLE", "protectionType": "SOFTWARE", "isConvergent": false,
                "registerDate": k.registered_ms, "destroyDate": null,
            })
        })
        .collect();
    Ok(success(json!({
        "currentPageNo": page_no,
        "totalPageNo": (total + page_size - 1) / page_size,
        "totalCount": total,
        "keyList": list,
    })))
}

fn create_token_set(state: &AppState, inc: &Incoming, tag: &str) -> Result<Reply, Reply> {
    let body = body_object(inc)?;
    let access = hours(&body, "accessTokenHours", DEFAULT_ACCESS_HOURS)?;
    let refresh = hours(&body, "refreshTokenHours", DEFAULT_REFRESH_HOURS)?;
    let mut keys = state.ncp.keys();
    let key = find_key(&mut keys, tag)?;
    let set = mint_set(state, key, access, refresh)?;
    Ok(success(set))
}

fn renew_token_set(state: &AppState, inc: &Incoming, tag: &str) -> Result<Reply, Reply> {
    verify_token(state, inc, tag, "REFRESH")?;
    let body = body_object(inc)?;
    let access = hours(&body, "accessTokenHours", DEFAULT_ACCESS_HOURS)?;
    let refresh = hours(&body, "refreshTokenHours", DEFAULT_REFRESH_HOURS)?;
    let mut keys = state.ncp.keys();
    let key = find_key(&mut keys, tag)?;
    let set = mint_set(state, key, access, refresh)?;
    Ok(success(set))
}

fn refresh_access_token(state: &AppState, inc: &Incoming, tag: &str) -> Result<Reply, Reply> {
    verify_token(state, inc, tag, "REFRESH")?;
    let body = body_object(inc)?;
    let access = hours(&body, "accessTokenHours", DEFAULT_ACCESS_HOURS)?;
    let mut keys = state.ncp.keys();
    let key = find_key(&mut keys, tag)?;
    let token = mint(state, key, "ACCESS", access)?;
    Ok(success(json!({ "accessToken": token })))
}

fn crypto(state: &AppState, inc: &Incoming, tag: &str, action: &str) -> Result<Reply, Reply> {
    let body = body_object(inc)?;
    let mut keys = state.ncp.keys();
    let key = find_key(&mut keys, tag)?;
    ncp_crypto::perform(&key.ring, tag, action, &body)
        .map(success)
        .map_err(|r| kms_error(r.status, r.code, &r.msg))
}

fn token_generator(state: &AppState, method: &Method, tag: &str) -> Result<Reply, Reply> {
    let now_ms = unix_millis(state.clock.now());
    let mut keys = state.ncp.keys();
    let key = find_key(&mut keys, tag)?;
    let g = &mut key.generator;
    let inactive = || invalid_request("The token generator of this key is not active.");
    match *method {
        Method::GET => {
            return Ok(success(json!({
                "tokenGeneratorId": g.id,
                "status": if g.active { "ACTIVE" } else { "INACTIVE" },
                "enabledDate": g.enabled_ms,
                "disabledDate": g.disabled_ms,
                "issuedTokenCount": g.issued,
            })))
        }
        Method::POST if !g.active => g.activate(now_ms),
        Method::POST => {} // already active: nothing to do
        Method::PUT if g.active => g.activate(now_ms),
        Method::DELETE if g.active => {
            g.active = false;
            g.disabled_ms = Some(now_ms);
        }
        _ => return Err(inactive()),
    }
    Ok(success(Value::Null))
}

fn find_key<'a>(keys: &'a mut [Key], tag: &str) -> Result<&'a mut Key, Reply> {
    keys.iter_mut().find(|k| k.tag == tag).ok_or_else(|| {
        kms_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The key does not exist.",
        )
    })
}

fn mint_set(
    state: &AppState,
    key: &mut Key,
    access: Hours,
    refresh: Hours,
) -> Result<Value, Reply> {
    let access_token = mint(state, key, "ACCESS", access)?;
    let refresh_token = mint(state, key, "REFRESH", refresh)?;
    Ok(json!({ "accessToken": access_token, "refreshToken": refresh_token }))
}

/// Mints one token from the key's active generator.
fn mint(state: &AppState, key: &mut Key, kind: &str, hours: Hours) -> Result<String, Reply> {
    let g = &mut key.generator;
    let (true, Some(generator_id)) = (g.active, g.id.clone()) else {
        return Err(kms_error(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "The token generator of this key is disabled: enable it first.",
        ));
    };
    g.issued += 1;
    let iat = unix_seconds(state.clock.now());
    let mut claims = Map::new();
    claims.insert("iss".into(), json!("ncp-kms-emulator"));
    claims.insert("sub".into(), json!(key.tag));
    claims.insert("tokenType".into(), json!(kind));
    claims.insert("generatorId".into(), json!(generator_id));
    claims.insert("jti".into(), json!(random_hex(32)));
    claims.insert("iat".into(), json!(iat));
    if let Hours::Hours(h) = hours {
        claims.insert("exp".into(), json!(iat + h * 3600));
    }
    Ok(jwt::encode(&claims, &state.ncp.jwt_key))
}

/// Checks `x-ncp-ocapi-token`: ours, of `kind`, for `tag`, from the key's current
/// generator, not expired.
fn verify_token(state: &AppState, inc: &Incoming, tag: &str, kind: &str) -> Result<(), Reply> {
    let Some(token) = inc.header(TOKEN_HEADER) else {
        return Err(gateway_error(
            StatusCode::UNAUTHORIZED,
            "200",
            "Authentication Failed",
            "The x-ncp-ocapi-token header is required.",
        ));
    };
    let refused = || {
        kms_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "The token is invalid, expired or revoked.",
        )
    };
    let claims = jwt::decode(token, &state.ncp.jwt_key).ok_or_else(refused)?;
    let now = unix_seconds(state.clock.now());
    let expired = claims
        .get("exp")
        .and_then(Value::as_i64)
        .is_some_and(|exp| now >= exp);
    let mut keys = state.ncp.keys();
    let key = find_key(&mut keys, tag)?;
    let current = key
        .generator
        .active
        .then_some(key.generator.id.as_deref())
        .flatten();
    let ok = !expired
        && claims.get("tokenType").and_then(Value::as_str) == Some(kind)
        && claims.get("sub").and_then(Value::as_str) == Some(tag)
        && current.is_some()
        && claims.get("generatorId").and_then(Value::as_str) == current;
    if ok {
        Ok(())
    } else {
        Err(refused())
    }
}

fn body_object(inc: &Incoming) -> Result<Map<String, Value>, Reply> {
    if inc.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(&inc.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(invalid_request("The request body must be a JSON object.")),
    }
}

/// An hours field: an integer 1..=17520 or `"UL"`; absent (or null) means `default`.
fn hours(body: &Map<String, Value>, field: &str, default: Hours) -> Result<Hours, Reply> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) if s == "UL" => Ok(Hours::Unlimited),
        Some(Value::Number(n)) if n.as_i64().is_some_and(|h| (1..=MAX_HOURS).contains(&h)) => {
            Ok(Hours::Hours(n.as_i64().unwrap_or(1)))
        }
        Some(_) => Err(invalid_request(&format!(
            "{field} must be an integer from 1 to {MAX_HOURS}, or \"UL\"."
        ))),
    }
}

fn success(data: Value) -> Reply {
    json(StatusCode::OK, json!({ "code": "SUCCESS", "data": data }))
}

fn invalid_request(msg: &str) -> Reply {
    kms_error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", msg)
}

/// KMS's own error body: `{"code","msg"}`.
fn kms_error(status: StatusCode, code: &str, msg: &str) -> Reply {
    json(status, json!({ "code": code, "msg": msg }))
}

/// The API Gateway's error body.
pub(crate) fn gateway_error(status: StatusCode, code: &str, message: &str, details: &str) -> Reply {
    json(
        status,
        json!({ "error": { "errorCode": code, "message": message, "details": details } }),
    )
}

/// The gateway's answer for an injected status.
pub(crate) fn error_for_status(status: StatusCode) -> Reply {
    let (code, message) = match status.as_u16() {
        400 => ("100", "Bad Request"),
        401 => ("200", "Authentication Failed"),
        403 => ("230", "Forbidden"),
        404 => ("300", "Not Found"),
        413 => ("430", "Request Entity Too Large"),
        429 => ("410", "Throttle Limited"),
        503 => ("500", "Endpoint Error"),
        504 => ("510", "Endpoint Timeout"),
        _ => ("900", "Unexpected Error"),
    };
    gateway_error(status, code, message, "Injected by token-emulator.")
}
