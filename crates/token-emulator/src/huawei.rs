//! Huawei IdentityCenterStore calls under `/v1/identity-stores` (FACTS.md §2).
//!
//! Every request is verified the way the API Gateway does, by the emulator's own verifier
//! ([`crate::verify::huawei`]): the signature (`SDK-HMAC-SHA256`, `SDK-HMAC-SM3` or
//! `V11-HMAC-SHA256`) is recomputed from the request as received (wire path, query, the
//! headers listed in `SignedHeaders`, the body); `X-Sdk-Date` must be within 15 minutes; a
//! temporary credential's `X-Security-Token` must be present, signed and equal;
//! `X-Project-Id` must be the credential's project.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};
use token_common::clock::{unix_millis, unix_seconds};
use token_common::SecretString;

use crate::config::HuaweiConfig;
use crate::jwt::{self, random_uuid, JwtKey};
use crate::server::{empty, json, AppState, Incoming, Reply};
use crate::verify::huawei::HuaweiKey;
use crate::verify::{self, Refusal};

/// Header naming the project a regional call acts in.
const PROJECT_ID_HEADER: &str = "x-project-id";
/// SCIM bearer tokens live one year (the documented example: 1754278569275 → 1785814569000).
const BEARER_TOKEN_LIFETIME_SECS: u64 = 365 * 24 * 3600;
const NOT_FOUND_CODE: &str = "IdentityStore.0404";
/// At most this many bearer tokens exist on a tenant at once; expired ones count until
/// deleted (FACTS.md §2).
pub(crate) const MAX_BEARER_TOKENS_PER_TENANT: usize = 2;
/// The code a create past the limit gets. The service documents the limit but not its
/// error; this is the generic "Bad Request" of the IAM Identity Center error-code table
/// (`IdentityCenter.400`, `IIC.400` on some sites). See the crate README.
pub(crate) const TOKEN_LIMIT_CODE: &str = "IdentityCenter.400";

/// Huawei accounts, identity stores, tenants and their bearer tokens.
#[derive(Debug)]
pub(crate) struct HuaweiState {
    accounts: HashMap<String, Account>,
    stores: Mutex<HashMap<String, Vec<Tenant>>>,
    jwt_key: JwtKey,
}

#[derive(Debug)]
struct Account {
    sk: SecretString,
    project_id: String,
    security_token: Option<SecretString>,
}

#[derive(Debug)]
struct Tenant {
    id: String,
    created_ms: u64,
    tokens: Vec<BearerToken>,
}

#[derive(Debug)]
struct BearerToken {
    id: String,
    created_ms: u64,
    expires_ms: u64,
}

impl HuaweiState {
    pub(crate) fn new(config: &HuaweiConfig, now: SystemTime) -> Self {
        let now_ms = unix_millis(now);
        let accounts = config
            .accounts
            .iter()
            .map(|a| {
                let account = Account {
                    sk: a.sk.clone(),
                    project_id: a.project_id.clone(),
                    security_token: a.security_token.clone(),
                };
                (a.ak.clone(), account)
            })
            .collect();
        let stores = config
            .identity_stores
            .iter()
            .map(|s| {
                let tenants = s
                    .tenants
                    .iter()
                    .map(|id| Tenant {
                        id: id.clone(),
                        created_ms: now_ms,
                        tokens: Vec::new(),
                    })
                    .collect();
                (s.id.clone(), tenants)
            })
            .collect();
        Self {
            accounts,
            stores: Mutex::new(stores),
            jwt_key: JwtKey::random(),
        }
    }

    fn stores(&self) -> MutexGuard<'_, HashMap<String, Vec<Tenant>>> {
        self.stores.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Answers one request under `/v1/identity-stores`.
pub(crate) fn handle(state: &AppState, inc: &Incoming) -> Reply {
    match respond(state, inc) {
        Ok(r) | Err(r) => r,
    }
}

enum Call<'a> {
    CreateToken(&'a str, &'a str),
    ListTokens(&'a str, &'a str),
    DeleteToken(&'a str, &'a str, &'a str),
    CreateTenant(&'a str),
    ListTenants(&'a str),
    DeleteTenant(&'a str, &'a str),
}

fn respond(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let segments = inc.segments("/v1/identity-stores/").unwrap_or_default();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = &inc.method;
    let call = match segs.as_slice() {
        [s, "tenant", t, "bearer-token"] if m == Method::POST => Call::CreateToken(s, t),
        [s, "tenant", t, "bearer-token"] if m == Method::GET => Call::ListTokens(s, t),
        [s, "tenant", t, "bearer-token", id] if m == Method::DELETE => Call::DeleteToken(s, t, id),
        [s, "provision-tenant"] if m == Method::POST => Call::CreateTenant(s),
        [s, "provision-tenant"] if m == Method::GET => Call::ListTenants(s),
        [s, "tenant", t] if m == Method::DELETE => Call::DeleteTenant(s, t),
        _ => {
            return Err(error(
                StatusCode::NOT_FOUND,
                "APIGW.0101",
                "The API does not exist or has not been published in the environment.",
                inc,
            ))
        }
    };
    authenticate(state, inc)?;
    let now_ms = unix_millis(state.clock.now());
    let mut stores = state.huawei.stores();
    match call {
        Call::CreateToken(s, t) => {
            let tenant = find_tenant(&mut stores, s, t, inc)?;
            // Expired tokens still count: only a delete frees a place.
            if tenant.tokens.len() >= MAX_BEARER_TOKENS_PER_TENANT {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    TOKEN_LIMIT_CODE,
                    &format!(
                        "Bad Request: tenant {t} already has {MAX_BEARER_TOKENS_PER_TENANT} bearer tokens, the most allowed at once (expired ones count until deleted); delete one first."
                    ),
                    inc,
                ));
            }
            let token_id = random_uuid();
            let created_ms = now_ms;
            let expires_ms = (created_ms / 1000 + BEARER_TOKEN_LIFETIME_SECS) * 1000;
            let mut claims = Map::new();
            claims.insert("iss".into(), json!("identitystore-emulator"));
            claims.insert("sub".into(), json!(t));
            claims.insert("jti".into(), json!(token_id));
            claims.insert("iat".into(), json!(unix_seconds(state.clock.now())));
            claims.insert("exp".into(), json!(expires_ms / 1000));
            let token = jwt::encode(&claims, &state.huawei.jwt_key);
            tenant.tokens.push(BearerToken {
                id: token_id.clone(),
                created_ms,
                expires_ms,
            });
            Ok(json(
                StatusCode::CREATED,
                json!({"creation_time": created_ms, "expiration_time": expires_ms,
                       "token": token, "token_id": token_id}),
            ))
        }
        Call::ListTokens(s, t) => {
            let tenant = find_tenant(&mut stores, s, t, inc)?;
            let list: Vec<Value> = tenant
                .tokens
                .iter()
                .map(|b| json!({"creation_time": b.created_ms, "expiration_time": b.expires_ms, "token_id": b.id}))
                .collect();
            Ok(json(StatusCode::OK, json!({ "bearer_tokens": list })))
        }
        Call::DeleteToken(s, t, id) => {
            let tenant = find_tenant(&mut stores, s, t, inc)?;
            let before = tenant.tokens.len();
            tenant.tokens.retain(|b| b.id != id);
            if tenant.tokens.len() == before {
                return Err(not_found("bearer token", id, inc));
            }
            Ok(empty(StatusCode::NO_CONTENT))
        }
        Call::CreateTenant(s) => {
            let tenants = find_store(&mut stores, s, inc)?;
            let id = random_uuid();
            let answer = tenant_json(&id, now_ms);
            tenants.push(Tenant {
                id,
                created_ms: now_ms,
                tokens: Vec::new(),
            });
            Ok(json(StatusCode::CREATED, answer))
        }
        Call::ListTenants(s) => {
            let tenants = find_store(&mut stores, s, inc)?;
            let list: Vec<Value> = tenants
                .iter()
                .map(|t| tenant_json(&t.id, t.created_ms))
                .collect();
            Ok(json(
                StatusCode::OK,
                json!({ "provisioning_tenants": list }),
            ))
        }
        Call::DeleteTenant(s, t) => {
            let tenants = find_store(&mut stores, s, inc)?;
            let before = tenants.len();
            tenants.retain(|x| x.id != t);
            if tenants.len() == before {
                return Err(not_found("provisioning tenant", t, inc));
            }
            Ok(empty(StatusCode::NO_CONTENT))
        }
    }
}

fn tenant_json(id: &str, created_ms: u64) -> Value {
    json!({
        "creation_time": created_ms,
        "scim_endpoint": format!("https://scim.cn-north-4.myhuaweicloud.com/{id}/scim/v2"),
        "tenant_id": id,
    })
}

fn find_store<'a>(
    stores: &'a mut HashMap<String, Vec<Tenant>>,
    store: &str,
    inc: &Incoming,
) -> Result<&'a mut Vec<Tenant>, Reply> {
    stores
        .get_mut(store)
        .ok_or_else(|| not_found("identity store", store, inc))
}

fn find_tenant<'a>(
    stores: &'a mut HashMap<String, Vec<Tenant>>,
    store: &str,
    tenant: &str,
    inc: &Incoming,
) -> Result<&'a mut Tenant, Reply> {
    find_store(stores, store, inc)?
        .iter_mut()
        .find(|t| t.id == tenant)
        .ok_or_else(|| not_found("provisioning tenant", tenant, inc))
}

/// Verifies the request's AK/SK signature, date window and security token with the
/// emulator's own verifier ([`crate::verify::huawei`]), then the project.
fn authenticate(state: &AppState, inc: &Incoming) -> Result<(), Reply> {
    let lookup = |ak: &str| {
        let account = state
            .huawei
            .accounts
            .get(ak)
            .ok_or(Refusal::UnknownAccessKey)?;
        let key = HuaweiKey::new(account.sk.clone());
        Ok(match &account.security_token {
            Some(token) => key.with_security_token(token.clone()),
            None => key,
        })
    };
    let ak =
        verify::huawei::verify(&inc.parts(), state.clock.now(), lookup).map_err(|refusal| {
            error(
                StatusCode::UNAUTHORIZED,
                "APIGW.0301",
                &format!("Incorrect IAM authentication information: {refusal}"),
                inc,
            )
        })?;
    let project = state
        .huawei
        .accounts
        .get(&ak)
        .map(|a| a.project_id.as_str());
    if project.is_none() || inc.header(PROJECT_ID_HEADER) != project {
        return Err(error(
            StatusCode::FORBIDDEN,
            "APIGW.0302",
            "The IAM user is not authorized to access the API: X-Project-Id does not match the credential's project.",
            inc,
        ));
    }
    Ok(())
}

fn not_found(what: &str, id: &str, inc: &Incoming) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        NOT_FOUND_CODE,
        &format!("The {what} does not exist: {id}"),
        inc,
    )
}

fn error(status: StatusCode, code: &str, msg: &str, inc: &Incoming) -> Reply {
    json(
        status,
        json!({"error_code": code, "error_msg": msg, "request_id": inc.request_id}),
    )
}

/// The gateway's answer for an injected status.
pub(crate) fn error_for_status(status: StatusCode, request_id: &str) -> Reply {
    let code = match status.as_u16() {
        429 => "APIGW.0308".to_owned(),
        s => format!("APIGW.{s:04}"),
    };
    let msg = format!(
        "{} (injected by token-emulator)",
        status.canonical_reason().unwrap_or("error")
    );
    json(
        status,
        json!({"error_code": code, "error_msg": msg, "request_id": request_id}),
    )
}
