//! Cloudforet identity v2 token issue / grant and `get-auth-info` (FACTS.md §3), on both the
//! console-api-v2 routes (`/identity/token/…`) and the grpc-gateway routes
//! (`/identity/v2/token/…`).
//!
//! Requests are read the way protobuf's JSON parser reads them (unknown fields and unknown
//! enum names are a 500 `ERROR_UNKNOWN`, unknown enum numbers a 400, `null` is absent);
//! answers leave out default values. Errors carry the identity service's exact messages as
//! console-api-v2 relays them ([`errors`]). Tokens are RS256 JWTs with the real claim
//! names; access and refresh tokens are signed under different key ids, so one cannot pass
//! for the other. OTP users are checked against the current TOTP step on the emulator's
//! clock ([`totp`]). `GET /config/production.json` answers what a console web server does,
//! naming the emulator itself as `CONSOLE_API_V2.ENDPOINT` (cfctl's way to the REST base).

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};
use token_common::clock::unix_seconds;

mod errors;
mod message;
mod totp;

use errors::{
    domain_not_found, invalid, invalid_credentials, invalid_grant_type, invalid_verify_code,
    login_blocked, mfa_not_activated, mfa_required, name_not_found, not_authenticated,
    permission_denied, required, token_validation_failed, user_disabled, user_not_found,
    workspace_not_found, wrong_password,
};
use message::{
    enum_field, parse_message, permissions_field, string_field, struct_field, timeout_field,
};

pub(crate) use errors::error_for_status;
pub(crate) use totp::totp_secret;

use crate::config::{CloudforetConfig, CloudforetDomain, CloudforetUser, MfaType, RoleType};
use crate::jwt::{self, random_hex, JwtKey};
use crate::server::{json, AppState, Incoming, Reply};

const DEFAULT_TIMEOUT: i64 = 1800;
const MAX_TIMEOUT: i64 = 604_800;
const REFRESH_LIFETIME: i64 = 10_800;
/// A refresh token is still accepted this long after its `exp`.
const REFRESH_LEEWAY: i64 = 60;
/// An MFA code is valid this long after it was "sent".
const MFA_CODE_LIFETIME: i64 = 300;
/// This many failed logins within [`FAILURE_WINDOW`] seconds block further failures.
const MAX_FAILURES: usize = 10;
const FAILURE_WINDOW: i64 = 300;

const AUTH_TYPES: &[(&str, i64)] = &[("NONE", 0), ("LOCAL", 1), ("EXTERNAL", 2), ("MFA", 3)];
const GRANT_TYPES: &[(&str, i64)] = &[
    ("GRANT_TYPE_NONE", 0),
    ("REFRESH_TOKEN", 1),
    ("SYSTEM_TOKEN", 2),
];
const SCOPES: &[(&str, i64)] = &[
    ("SCOPE_NONE", 0),
    ("SYSTEM", 1),
    ("DOMAIN", 2),
    ("WORKSPACE", 3),
    ("PROJECT", 4),
    ("USER", 5),
];

/// Domains, users, pending MFA codes and the token keys.
#[derive(Debug)]
pub(crate) struct CloudforetState {
    domains: Vec<CloudforetDomain>,
    /// (domain id, user id) → when the pending code stops working (unix seconds).
    pending_mfa: Mutex<HashMap<(String, String), i64>>,
    /// (domain id, user id) → times of recent failed logins (unix seconds).
    failures: Mutex<HashMap<(String, String), Vec<i64>>>,
    access_key: JwtKey,
    refresh_key: JwtKey,
}

impl CloudforetState {
    pub(crate) fn new(config: &CloudforetConfig) -> Self {
        Self {
            domains: config.domains.clone(),
            pending_mfa: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            access_key: JwtKey::random(),
            refresh_key: JwtKey::random(),
        }
    }

    fn domain(&self, id: &str) -> Option<&CloudforetDomain> {
        self.domains.iter().find(|d| d.domain_id == id)
    }

    /// Records a failed login and tells whether the user was already blocked.
    fn record_failure(&self, key: (String, String), now: i64) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let times = failures.entry(key).or_default();
        times.retain(|t| now - t < FAILURE_WINDOW);
        let blocked = times.len() >= MAX_FAILURES;
        times.push(now);
        blocked
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), i64>> {
        self.pending_mfa.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Answers every request outside the NCP and Huawei prefixes, as console-api-v2 would.
pub(crate) fn handle(state: &AppState, inc: &Incoming) -> Reply {
    type Call = fn(&AppState, &Incoming) -> Result<Reply, Reply>;
    let call: Call = match inc.path.as_str() {
        "/identity/token/issue" | "/identity/v2/token/issue" => issue,
        "/identity/token/grant" | "/identity/v2/token/grant" => grant,
        "/identity/domain/get-auth-info" | "/identity/v2/domain/get-auth-info" => get_auth_info,
        "/config/production.json" if inc.method == Method::GET => return console_config(inc),
        _ => return json(StatusCode::NOT_FOUND, json!({"detail": "Not Found"})),
    };
    if inc.method != Method::POST {
        return json(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"detail": "Method Not Allowed"}),
        );
    }
    match call(state, inc) {
        Ok(r) | Err(r) => r,
    }
}

fn issue(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let fields = [
        "credentials",
        "auth_type",
        "timeout",
        "verify_code",
        "domain_id",
    ];
    let body = parse_message(inc, "IssueTokenRequest", &fields)?;
    let credentials = struct_field(&body, "credentials")?;
    let auth_type = enum_field(&body, "auth_type", AUTH_TYPES)?;
    let timeout = timeout_field(&body)?;
    let verify_code = string_field(&body, "verify_code")?;
    let domain_id = string_field(&body, "domain_id")?;
    let credentials = credentials.ok_or_else(|| required("credentials"))?;
    let domain_id = domain_id.ok_or_else(|| required("domain_id"))?;
    let auth_type = auth_type.ok_or_else(|| required("auth_type"))?;
    let domain = state
        .cloudforet
        .domain(&domain_id)
        .ok_or_else(|| domain_not_found(&domain_id))?;
    if auth_type == 2 {
        return Err(invalid(
            "auth_type",
            "the emulator has no external auth plugin",
        ));
    }
    let text = |key: &str| match credentials.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(invalid_credentials()),
    };
    let user_id = text("user_id")?;
    let password = text("password")?;
    let user = domain
        .users
        .iter()
        .find(|u| u.user_id == user_id)
        .ok_or_else(|| user_not_found(&user_id, &domain.domain_id))?;
    if user.disabled {
        return Err(user_disabled(&user.user_id));
    }
    let now = unix_seconds(state.clock.now());
    let key = (domain.domain_id.clone(), user.user_id.clone());
    if !constant_time_eq(user.password.expose_secret(), &password) {
        // The right password still works while blocked; only failures say so.
        return Err(if state.cloudforet.record_failure(key, now) {
            login_blocked()
        } else {
            wrong_password(&user_id)
        });
    }
    match (auth_type, &user.mfa) {
        (1, None) => {}
        (1, Some(mfa)) => {
            state
                .cloudforet
                .pending()
                .insert(key, now + MFA_CODE_LIFETIME);
            // For EMAIL the message names the MFA e-mail address.
            let named = match mfa.mfa_type {
                MfaType::Email => mfa.email.as_deref().unwrap_or(&user.user_id),
                MfaType::Otp => &user.user_id,
            };
            return Err(mfa_required(named, mfa.mfa_type.as_str()));
        }
        (3, None) => return Err(mfa_not_activated(&user.user_id)),
        (3, Some(mfa)) => {
            let mut pending = state.cloudforet.pending();
            let Some(code) = verify_code else {
                // No code: "send" a new one, and answer that the user is not authenticated.
                pending.insert(key, now + MFA_CODE_LIFETIME);
                return Err(not_authenticated());
            };
            match pending.get(&key) {
                Some(&until) if now < until => {}
                _ => return Err(invalid_credentials()),
            }
            if !mfa_code_matches(mfa, &code, now) {
                // The pending login stays usable for another try.
                return Err(invalid_verify_code(&code));
            }
            pending.remove(&key);
        }
        _ => return Err(invalid("auth_type", "LOCAL, EXTERNAL or MFA is expected")),
    }
    let c = &state.cloudforet;
    let mut access = base_claims("ACCESS_TOKEN", domain, user, now, now + timeout);
    access.insert("rol".into(), json!("USER"));
    let refresh = base_claims("REFRESH_TOKEN", domain, user, now, now + REFRESH_LIFETIME);
    Ok(json(
        StatusCode::OK,
        json!({
            "access_token": jwt::encode(&access, &c.access_key),
            "refresh_token": jwt::encode(&refresh, &c.refresh_key),
        }),
    ))
}

fn grant(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let fields = [
        "grant_type",
        "token",
        "scope",
        "timeout",
        "permissions",
        "domain_id",
        "workspace_id",
    ];
    let body = parse_message(inc, "GrantTokenRequest", &fields)?;
    let grant_type = enum_field(&body, "grant_type", GRANT_TYPES)?;
    let token = string_field(&body, "token")?;
    let scope = enum_field(&body, "scope", SCOPES)?;
    let timeout = timeout_field(&body)?;
    let permissions = permissions_field(&body)?;
    let domain_id = string_field(&body, "domain_id")?;
    let workspace_id = string_field(&body, "workspace_id")?;
    let grant_type = grant_type.ok_or_else(|| required("grant_type"))?;
    let token = token.ok_or_else(|| required("token"))?;
    let scope = scope.ok_or_else(|| required("scope"))?;
    if scope == 4 {
        return Err(invalid("scope", "PROJECT scope is not supported"));
    }
    // WORKSPACE is checked before the token is verified, as the real service does.
    if scope == 3 {
        let workspace = workspace_id
            .as_deref()
            .ok_or_else(|| required("workspace_id"))?;
        let did = jwt::peek(&token)
            .and_then(|c| c.get("did").and_then(Value::as_str).map(str::to_owned))
            .or(domain_id);
        let known = did
            .as_deref()
            .and_then(|d| state.cloudforet.domain(d))
            .is_some_and(|d| d.workspaces.iter().any(|w| w == workspace));
        if !known {
            return Err(workspace_not_found(
                did.as_deref().unwrap_or_default(),
                workspace,
            ));
        }
    }
    // The emulator has no system tokens: whatever the grant type, the token must be one of
    // its refresh tokens, and then its `typ` must match the grant type.
    let claims =
        jwt::decode(&token, &state.cloudforet.refresh_key).ok_or_else(token_validation_failed)?;
    let grant_type_name = GRANT_TYPES
        .iter()
        .find(|(_, v)| *v == grant_type)
        .map_or("GRANT_TYPE_NONE", |(n, _)| n);
    if claims.get("typ").and_then(Value::as_str) != Some(grant_type_name) {
        return Err(invalid_grant_type(grant_type_name));
    }
    let now = unix_seconds(state.clock.now());
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    if now > exp.saturating_add(REFRESH_LEEWAY) {
        return Err(token_validation_failed());
    }
    let claim = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let domain = state
        .cloudforet
        .domain(&claim("did"))
        .ok_or_else(token_validation_failed)?;
    let user = domain
        .users
        .iter()
        .find(|u| u.user_id == claim("aud"))
        .ok_or_else(token_validation_failed)?;
    if user.disabled {
        return Err(user_disabled(&user.user_id));
    }
    let denied = permission_denied;
    // (role type answered, role id, `rol` claim)
    let (role_type, role_id, rol) = match (scope, user.role_type) {
        (2, RoleType::DomainAdmin) => (
            RoleType::DomainAdmin,
            Some("managed-domain-admin"),
            RoleType::DomainAdmin,
        ),
        (3, RoleType::DomainAdmin) => (
            RoleType::DomainAdmin,
            Some("managed-domain-admin"),
            RoleType::WorkspaceOwner,
        ),
        (3, RoleType::WorkspaceOwner) => (
            RoleType::WorkspaceOwner,
            Some("managed-workspace-owner"),
            RoleType::WorkspaceOwner,
        ),
        (3, RoleType::WorkspaceMember) => (
            RoleType::WorkspaceMember,
            Some("managed-workspace-member"),
            RoleType::WorkspaceMember,
        ),
        (5, RoleType::DomainAdmin) => (
            RoleType::DomainAdmin,
            Some("managed-domain-admin"),
            RoleType::User,
        ),
        (5, _) => (RoleType::User, None, RoleType::User),
        _ => return Err(denied()),
    };
    let mut access = base_claims("ACCESS_TOKEN", domain, user, now, now + timeout);
    access.insert("rol".into(), json!(rol.as_str()));
    let mut answer = Map::new();
    if scope == 3 {
        access.insert("wid".into(), json!(workspace_id));
    }
    if !permissions.is_empty() {
        access.insert("permissions".into(), json!(permissions));
    }
    answer.insert(
        "access_token".into(),
        json!(jwt::encode(&access, &state.cloudforet.access_key)),
    );
    answer.insert("role_type".into(), json!(role_type.as_str()));
    answer.insert("domain_id".into(), json!(domain.domain_id));
    if scope == 3 {
        answer.insert("workspace_id".into(), json!(workspace_id));
    }
    if let Some(role_id) = role_id {
        answer.insert("role_id".into(), json!(role_id));
    }
    Ok(json(StatusCode::OK, Value::Object(answer)))
}

fn get_auth_info(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let body = parse_message(inc, "GetDomainAuthInfoRequest", &["name"])?;
    let name = string_field(&body, "name")?.ok_or_else(|| required("name"))?;
    let domain = state
        .cloudforet
        .domains
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| name_not_found(&name))?;
    Ok(json(
        StatusCode::OK,
        json!({
            "domain_id": domain.domain_id,
            "name": domain.name,
            "external_auth_state": "DISABLED",
            "metadata": {},
            "config": {},
        }),
    ))
}

/// What a console web server serves as `config/production.json`, reduced to the one entry
/// cfctl reads: the REST base, here the emulator itself (from the `Host` it was reached at).
fn console_config(inc: &Incoming) -> Reply {
    let host = inc.header("host").unwrap_or("127.0.0.1");
    json(
        StatusCode::OK,
        json!({"CONSOLE_API_V2": {"ENDPOINT": format!("http://{host}")}}),
    )
}

/// EMAIL: the configured code. OTP: the current TOTP step only, on the emulator's clock.
fn mfa_code_matches(mfa: &crate::config::MfaConfig, code: &str, now: i64) -> bool {
    match mfa.mfa_type {
        MfaType::Email => mfa
            .code
            .as_ref()
            .is_some_and(|c| constant_time_eq(c.expose_secret(), code)),
        MfaType::Otp => mfa
            .secret
            .as_ref()
            .and_then(|s| totp_secret(s.expose_secret()))
            .is_some_and(|key| constant_time_eq(&totp::code_at(&key, now), code)),
    }
}

fn base_claims(
    typ: &str,
    domain: &CloudforetDomain,
    user: &CloudforetUser,
    iat: i64,
    exp: i64,
) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("iss".into(), json!("spaceone.identity"));
    c.insert("typ".into(), json!(typ));
    c.insert("own".into(), json!("USER"));
    c.insert("did".into(), json!(domain.domain_id));
    c.insert("aud".into(), json!(user.user_id));
    c.insert("jti".into(), json!(random_hex(32)));
    c.insert("iat".into(), json!(iat));
    c.insert("exp".into(), json!(exp));
    c.insert("ver".into(), json!("2.0"));
    c
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
