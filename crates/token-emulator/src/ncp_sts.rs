//! NCP Secure Token Service (FACTS.md §1; NCP docs "management-sts", "creatests",
//! "getsts"): `POST /api/v1/credentials` creates a temporary key, `GET /api/v1/credentials`
//! describes the key the request is signed with.
//!
//! Both are signed with signature v2 by an account key or an STS key still valid
//! ([`crate::ncp::authenticate`]); a key past its expiry is refused by the gateway (401,
//! `errorCode` 200). `durationSec` (an integer, or digits in a string as the docs' example
//! sends it) must be 600..=43200 (400 otherwise, default 3600). `serialNumber` and
//! `tokenCode` go together and mark the key `useMfa`; the emulator has no OTP devices, so it
//! checks their shape only. Times are ISO 8601 in UTC (`2024-10-10T17:58:28Z`).

use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use crate::ncp::{authenticate, gateway_error};
use crate::ncp_metadata::rfc3339;
use crate::server::{json, AppState, Incoming, Reply};

const PATH: &str = "/api/v1/credentials";
const MIN_DURATION: u64 = 600;
const MAX_DURATION: u64 = 43_200;
const DEFAULT_DURATION: u64 = 3600;

/// Whether `path` belongs to STS.
pub(crate) fn serves(path: &str) -> bool {
    path == PATH
}

/// Answers one STS request.
pub(crate) fn handle(state: &AppState, inc: &Incoming) -> Reply {
    match respond(state, inc) {
        Ok(r) | Err(r) => r,
    }
}

fn respond(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    if inc.path != PATH || ![Method::GET, Method::POST].contains(&inc.method) {
        return Err(gateway_error(
            StatusCode::NOT_FOUND,
            "300",
            "Not Found",
            "No API matches this method and path.",
        ));
    }
    let access_key = authenticate(state, inc)?;
    let now = state.clock.now();
    if inc.method == Method::GET {
        return Ok(json(StatusCode::OK, describe(state, &access_key, now)));
    }
    let body = body_object(inc)?;
    let duration = match body.get("durationSec") {
        None | Some(Value::Null) => DEFAULT_DURATION,
        Some(v) => {
            let secs = match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            };
            secs.filter(|s| (MIN_DURATION..=MAX_DURATION).contains(s))
                .ok_or_else(|| {
                    sts_error(
                        StatusCode::BAD_REQUEST,
                        "durationSec can be used only in the following scope",
                        &format!("valid range: {MIN_DURATION} - {MAX_DURATION}"),
                    )
                })?
        }
    };
    let serial = body.get("serialNumber").filter(|v| !v.is_null());
    let code = body.get("tokenCode").filter(|v| !v.is_null());
    let use_mfa = match (serial, code) {
        (None, None) => false,
        (Some(Value::String(s)), Some(Value::Number(n))) if !s.is_empty() && n.is_u64() => true,
        _ => {
            return Err(sts_error(
                StatusCode::UNAUTHORIZED,
                "Invalid OTP",
                "serialNumber (a string) and tokenCode (an integer) go together",
            ))
        }
    };
    let key = state
        .ncp
        .temporary
        .mint(now, Duration::from_secs(duration), use_mfa);
    Ok(json(
        StatusCode::OK,
        json!({
            "accessKey": key.access_key,
            "keySecret": key.secret_key.expose_secret(),
            "createTime": rfc3339(key.created),
            "expireTime": rfc3339(key.expires),
            "useMfa": key.use_mfa,
        }),
    ))
}

/// `GET`: everything about a temporary key; an account key's id and creation time only.
fn describe(state: &AppState, access_key: &str, now: std::time::SystemTime) -> Value {
    match state.ncp.temporary.lookup(access_key, now) {
        Some(Ok(key)) => json!({
            "accessKey": key.access_key,
            "keySecret": key.secret_key.expose_secret(),
            "createTime": rfc3339(key.created),
            "expireTime": rfc3339(key.expires),
            "useMfa": key.use_mfa,
        }),
        _ => json!({
            "accessKey": access_key,
            "createTime": rfc3339(state.ncp.accounts_created),
        }),
    }
}

fn body_object(inc: &Incoming) -> Result<Map<String, Value>, Reply> {
    if inc.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(&inc.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(sts_error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "The request body must be a JSON object.",
        )),
    }
}

/// STS's refusals, in the gateway's error shape with the HTTP status as `errorCode`.
fn sts_error(status: StatusCode, message: &str, details: &str) -> Reply {
    gateway_error(status, status.as_str(), message, details)
}
