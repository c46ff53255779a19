//! Huawei temporary credentials (FACTS.md §2 "Temporary credentials"): ECS instance
//! metadata, CCE pod identity and IAM OIDC federation.
//!
//! | route | answer |
//! |---|---|
//! | `PUT /meta-data/latest/api/token` | a session token (text), for `X-Metadata-Token-Ttl-Seconds` 1..=21600 s |
//! | `GET /openstack/latest/securitykey` | `{"credential":{access, secret, securitytoken, expires_at}}` |
//! | `POST /huawei/pod-identity/credentials` | `{"credentials":{accessKeyId, secretAccessKey, securityToken, expiration}}` |
//! | `POST /v3.0/OS-AUTH/id-token/tokens` | an IAM token in `X-Subject-Token` |
//! | `POST /v3.0/OS-CREDENTIAL/securitytokens` | `{"credential":{access, secret, securitytoken, expires_at}}` |
//!
//! Metadata keys rotate `lifetime_seconds` apart: generation `n` is served from
//! `start + n·lifetime − overlap` and expires at `start + (n+1)·lifetime`, the overlap being
//! 10 minutes (at most half the lifetime), so two keys work during a rotation. Every key
//! handed out signs IdentityCenterStore requests (with its security token) until it
//! expires, and is refused with 401 `APIGW.0301` after.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use token_common::SecretString;

use crate::config::{HuaweiConfig, HuaweiFederationConfig, HuaweiMetadataConfig};
use crate::jwt::random_hex;
use crate::server::{json, text, AppState, Incoming, Reply};
use crate::verify::huawei::HuaweiKey;
use crate::verify::Refusal;

const TOKEN_PATH: &str = "/meta-data/latest/api/token";
const SECURITY_KEY_PATH: &str = "/openstack/latest/securitykey";
const POD_PATH: &str = "/huawei/pod-identity/credentials";
const ID_TOKEN_PATH: &str = "/v3.0/OS-AUTH/id-token/tokens";
const SECURITY_TOKENS_PATH: &str = "/v3.0/OS-CREDENTIAL/securitytokens";
/// What a server without an agency answers (FACTS.md §2).
const NO_AGENCY: &str = "Please configure Cloud Service Agency first";
const MAX_SESSION_TTL: u64 = 21_600;
const ROTATION_OVERLAP: Duration = Duration::from_secs(600);
const POD_KEY_LIFETIME: Duration = Duration::from_secs(3600);
const IAM_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// One temporary key pair with its security token.
#[derive(Debug, Clone)]
struct TemporaryKey {
    sk: SecretString,
    security_token: SecretString,
    project_id: String,
    expires_at: SystemTime,
}

/// The temporary-credentials side of the emulated Huawei cloud.
#[derive(Debug)]
pub(crate) struct TemporaryState {
    start: SystemTime,
    metadata: Option<HuaweiMetadataConfig>,
    federation: Vec<HuaweiFederationConfig>,
    pod: Option<crate::config::HuaweiPodIdentityConfig>,
    inner: Mutex<Inner>,
    key_requests: AtomicU64,
}

#[derive(Debug, Default)]
struct Inner {
    /// Every key handed out, by AK.
    keys: HashMap<String, TemporaryKey>,
    /// Metadata keys by generation (the AK).
    generations: HashMap<u64, String>,
    /// Session tokens and when they expire.
    session_tokens: HashMap<String, SystemTime>,
    /// IAM tokens: project and expiry.
    iam_tokens: HashMap<String, (String, SystemTime)>,
}

impl TemporaryState {
    pub(crate) fn new(config: &HuaweiConfig, now: SystemTime) -> Self {
        Self {
            start: now,
            metadata: config.metadata.clone(),
            federation: config.federation.clone(),
            pod: config.pod_identity.clone(),
            inner: Mutex::new(Inner::default()),
            key_requests: AtomicU64::new(0),
        }
    }

    /// How many securitykey GETs were answered.
    pub(crate) fn key_requests(&self) -> u64 {
        self.key_requests.load(Ordering::SeqCst)
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn mint(&mut self, project_id: &str, expires_at: SystemTime) -> String {
        let ak = format!("HWTEMP{}", random_hex(14).to_uppercase());
        self.keys.insert(
            ak.clone(),
            TemporaryKey {
                sk: SecretString::new(random_hex(40)),
                security_token: SecretString::new(format!("hwsts-{}", random_hex(64))),
                project_id: project_id.to_owned(),
                expires_at,
            },
        );
        ak
    }
}

/// The key for a temporary AK: `Ok(None)` when `ak` is not a temporary key,
/// [`Refusal::ExpiredAccessKey`] once it has expired.
pub(crate) fn temporary_key(state: &AppState, ak: &str) -> Result<Option<HuaweiKey>, Refusal> {
    let inner = state.huawei_temporary.inner();
    let Some(k) = inner.keys.get(ak) else {
        return Ok(None);
    };
    if state.clock.now() >= k.expires_at {
        return Err(Refusal::ExpiredAccessKey);
    }
    Ok(Some(
        HuaweiKey::new(k.sk.clone()).with_security_token(k.security_token.clone()),
    ))
}

/// The project a temporary AK acts in.
pub(crate) fn temporary_project(state: &AppState, ak: &str) -> Option<String> {
    let inner = state.huawei_temporary.inner();
    inner.keys.get(ak).map(|k| k.project_id.clone())
}

/// Answers the temporary-credentials routes; `None` for any other path.
pub(crate) fn handle(state: &AppState, inc: &Incoming) -> Option<Reply> {
    let reply = match (inc.path.as_str(), &inc.method) {
        (TOKEN_PATH, &Method::PUT) => session_token(state, inc),
        (SECURITY_KEY_PATH, &Method::GET) => security_key(state, inc),
        (POD_PATH, &Method::POST) => pod_identity(state, inc),
        (ID_TOKEN_PATH, &Method::POST) => id_token(state, inc),
        (SECURITY_TOKENS_PATH, &Method::POST) => security_tokens(state, inc),
        (TOKEN_PATH | SECURITY_KEY_PATH | POD_PATH | ID_TOKEN_PATH | SECURITY_TOKENS_PATH, _) => {
            Err(metadata_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method Not Allowed",
            ))
        }
        _ => return None,
    };
    Some(match reply {
        Ok(r) | Err(r) => r,
    })
}

fn metadata_error(status: StatusCode, message: &str) -> Reply {
    json(
        status,
        json!({"error": {"code": status.as_u16().to_string(), "message": message}}),
    )
}

fn iam_error(status: StatusCode, message: &str) -> Reply {
    let title = status.canonical_reason().unwrap_or("Error");
    json(
        status,
        json!({"error": {"code": status.as_u16(), "message": message, "title": title}}),
    )
}

fn session_token(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let ttl = inc
        .header("x-metadata-token-ttl-seconds")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|t| (1..=MAX_SESSION_TTL).contains(t))
        .ok_or_else(|| {
            metadata_error(
                StatusCode::BAD_REQUEST,
                "X-Metadata-Token-Ttl-Seconds must be an integer from 1 to 21600",
            )
        })?;
    let token = random_hex(48);
    let until = state.clock.now() + Duration::from_secs(ttl);
    state
        .huawei_temporary
        .inner()
        .session_tokens
        .insert(token.clone(), until);
    Ok(text(StatusCode::OK, token))
}

fn security_key(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let t = &state.huawei_temporary;
    t.key_requests.fetch_add(1, Ordering::SeqCst);
    let now = state.clock.now();
    let Some(agency) = &t.metadata else {
        return Err(metadata_error(StatusCode::UNAUTHORIZED, NO_AGENCY));
    };
    let mut inner = t.inner();
    let token_ok = |token: &str| {
        inner
            .session_tokens
            .get(token)
            .is_some_and(|until| now < *until)
    };
    match inc.header("x-metadata-token") {
        Some(token) if !token_ok(token) => {
            return Err(metadata_error(
                StatusCode::UNAUTHORIZED,
                "The metadata session token is invalid or expired",
            ));
        }
        None if agency.require_session_token => {
            return Err(metadata_error(
                StatusCode::UNAUTHORIZED,
                "A metadata session token (X-Metadata-Token) is required",
            ))
        }
        _ => {}
    }
    let lifetime = Duration::from_secs(agency.lifetime_seconds);
    let overlap = ROTATION_OVERLAP.min(lifetime / 2);
    let elapsed = now.duration_since(t.start).unwrap_or_default() + overlap;
    let generation = elapsed.as_secs() / lifetime.as_secs();
    let expires_at = t.start + lifetime * (generation as u32 + 1);
    let ak = match inner.generations.get(&generation) {
        Some(ak) => ak.clone(),
        None => {
            let ak = inner.mint(&agency.project_id, expires_at);
            inner.generations.insert(generation, ak.clone());
            ak
        }
    };
    let k = &inner.keys[&ak];
    Ok(json(
        StatusCode::OK,
        json!({"credential": {
            "access": ak,
            "secret": k.sk.expose_secret(),
            "securitytoken": k.security_token.expose_secret(),
            "expires_at": rfc3339(k.expires_at, true),
        }}),
    ))
}

fn pod_identity(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let t = &state.huawei_temporary;
    let Some(pod) = &t.pod else {
        return Err(metadata_error(StatusCode::NOT_FOUND, "Not Found"));
    };
    let authorized = inc
        .header("authorization")
        .is_some_and(|a| a == pod.authorization_token.expose_secret());
    if !authorized {
        return Err(metadata_error(
            StatusCode::UNAUTHORIZED,
            "The Authorization token is not this pod's",
        ));
    }
    if serde_json::from_slice::<Value>(&inc.body).map_or(true, |v| !v.is_object()) {
        return Err(metadata_error(
            StatusCode::BAD_REQUEST,
            "The body must be a JSON object",
        ));
    }
    let expires_at = state.clock.now() + POD_KEY_LIFETIME;
    let mut inner = t.inner();
    let ak = inner.mint(&pod.project_id, expires_at);
    let k = &inner.keys[&ak];
    Ok(json(
        StatusCode::OK,
        json!({"credentials": {
            "accessKeyId": ak,
            "secretAccessKey": k.sk.expose_secret(),
            "securityToken": k.security_token.expose_secret(),
            "expiration": rfc3339(expires_at, false),
        }}),
    ))
}

fn id_token(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let t = &state.huawei_temporary;
    let idp_id = inc.header("x-idp-id").unwrap_or_default();
    let Some(idp) = t.federation.iter().find(|f| f.idp_id == idp_id) else {
        return Err(iam_error(
            StatusCode::NOT_FOUND,
            &format!("Could not find identity provider: {idp_id}"),
        ));
    };
    let body: Value = serde_json::from_slice(&inc.body)
        .map_err(|_| iam_error(StatusCode::BAD_REQUEST, "The request body is not JSON"))?;
    let Some(id) = body.pointer("/auth/id_token/id").and_then(Value::as_str) else {
        return Err(iam_error(
            StatusCode::BAD_REQUEST,
            "auth.id_token.id is required",
        ));
    };
    if id != idp.id_token.expose_secret() {
        return Err(iam_error(
            StatusCode::UNAUTHORIZED,
            "The ID token could not be verified",
        ));
    }
    let now = state.clock.now();
    let expires_at = now + IAM_TOKEN_LIFETIME;
    let token = format!("MIIiam{}", random_hex(64));
    t.inner()
        .iam_tokens
        .insert(token.clone(), (idp.project_id.clone(), expires_at));
    Ok(json(
        StatusCode::CREATED,
        json!({"token": {"expires_at": rfc3339(expires_at, true), "methods": ["mapped"]}}),
    )
    .with_header("x-subject-token", token))
}

fn security_tokens(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let t = &state.huawei_temporary;
    let body: Value = serde_json::from_slice(&inc.body)
        .map_err(|_| iam_error(StatusCode::BAD_REQUEST, "The request body is not JSON"))?;
    let identity = body.pointer("/auth/identity");
    let methods_ok = identity
        .and_then(|i| i.get("methods"))
        .is_some_and(|m| m == &json!(["token"]));
    if !methods_ok {
        return Err(iam_error(
            StatusCode::BAD_REQUEST,
            "auth.identity.methods must be [\"token\"]",
        ));
    }
    let token = identity
        .and_then(|i| i.pointer("/token/id"))
        .and_then(Value::as_str)
        .or_else(|| inc.header("x-auth-token"))
        .unwrap_or_default();
    let duration = match identity.and_then(|i| i.pointer("/token/duration_seconds")) {
        None => 900,
        Some(d) => d
            .as_u64()
            .filter(|d| (900..=86_400).contains(d))
            .ok_or_else(|| {
                iam_error(
                    StatusCode::BAD_REQUEST,
                    "duration_seconds must be an integer from 900 to 86400",
                )
            })?,
    };
    let now = state.clock.now();
    let mut inner = t.inner();
    let project = match inner.iam_tokens.get(token) {
        Some((project, until)) if now < *until => project.clone(),
        _ => {
            return Err(iam_error(
                StatusCode::UNAUTHORIZED,
                "The request you have made requires authentication.",
            ))
        }
    };
    let expires_at = now + Duration::from_secs(duration);
    let ak = inner.mint(&project, expires_at);
    let k = &inner.keys[&ak];
    Ok(json(
        StatusCode::CREATED,
        json!({"credential": {
            "access": ak,
            "secret": k.sk.expose_secret(),
            "securitytoken": k.security_token.expose_secret(),
            "expires_at": rfc3339(expires_at, true),
        }}),
    ))
}

/// `2020-01-08T03:50:07.574000Z` (`fraction`) or `2020-01-08T03:50:07Z`, UTC.
fn rfc3339(t: SystemTime, fraction: bool) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, day) = civil_from_days(days);
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if fraction {
        let micros = d.subsec_micros();
        format!("{y:04}-{m:02}-{day:02}T{h:02}:{mi:02}:{s:02}.{micros:06}Z")
    } else {
        format!("{y:04}-{m:02}-{day:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

// Howard Hinnant's civil-from-days (public domain).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_both_documented_forms() {
        let t = UNIX_EPOCH + Duration::from_millis(1_578_455_407_574);
        assert_eq!(rfc3339(t, true), "2020-01-08T03:50:07.574000Z");
        assert_eq!(rfc3339(t, false), "2020-01-08T03:50:07Z");
    }
}
