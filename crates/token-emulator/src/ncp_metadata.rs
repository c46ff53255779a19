//! NCP instance metadata for a server with a role attached (FACTS.md §1 "Temporary
//! credentials"; the NCP "compute-vmetadata-roledata" pages):
//!
//! | request | answer |
//! |---|---|
//! | `PUT /latest/api/token` with `X-NCP-METADATA-TOKEN-TTL-SECONDS: 1..=21600` | a v2 session token (text) |
//! | `GET /latest/meta-data/iam/security-credentials/` | the role id (text) |
//! | `GET /latest/meta-data/iam/security-credentials/{roleId}` | `{"AccessKeyId","SecretAccessKey","Expiration","Code","Message"}` |
//!
//! A GET carrying `X-NCP-METADATA-TOKEN` must carry a valid, unexpired session token;
//! without one it is answered only when `require_metadata_v2` is false (v1). Each
//! credentials GET hands out a new temporary key living `lifetime_seconds`, which signs
//! NCP calls until `Expiration` ([`crate::ncp_temporary`]). `Expiration` is RFC 3339 in
//! UTC with a `Z`, formatted here (the emulator shares no date code with the clients).

use std::time::{Duration, SystemTime};

use axum::http::{Method, StatusCode};
use serde_json::json;
use token_common::clock::unix_seconds;

use crate::jwt::random_hex;
use crate::server::{json, text, AppState, Incoming, Reply};

/// Path of the v2 session-token call.
const TOKEN_PATH: &str = "/latest/api/token";
/// Path listing the role (and, with the role id appended, its keys).
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";
/// The session token's lifetime header (on the PUT).
const TTL_HEADER: &str = "x-ncp-metadata-token-ttl-seconds";
/// The session token header (on GETs).
const TOKEN_HEADER: &str = "x-ncp-metadata-token";
/// The longest session token.
const MAX_TTL_SECONDS: u64 = 21_600;

/// Whether `path` belongs to the metadata service.
pub(crate) fn serves(path: &str) -> bool {
    path.starts_with("/latest/")
}

/// Answers one metadata request.
pub(crate) fn handle(state: &AppState, inc: &Incoming) -> Reply {
    match respond(state, inc) {
        Ok(r) | Err(r) => r,
    }
}

fn respond(state: &AppState, inc: &Incoming) -> Result<Reply, Reply> {
    let path = inc.path.as_str();
    let now = state.clock.now();
    if path == TOKEN_PATH {
        return if inc.method == Method::PUT {
            session_token(state, inc, now)
        } else {
            Err(text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"))
        };
    }
    let rest = path.strip_prefix(CREDENTIALS_PATH).ok_or_else(not_found)?;
    if inc.method != Method::GET {
        return Err(text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"));
    }
    check_session(state, inc, now)?;
    let role = state.ncp.server_role.as_ref().ok_or_else(not_found)?;
    if rest.is_empty() {
        return Ok(text(StatusCode::OK, role.role_id.clone()));
    }
    if rest != role.role_id {
        return Err(not_found());
    }
    let lifetime = Duration::from_secs(role.lifetime_seconds);
    let key = state.ncp.temporary.mint(now, lifetime, false);
    Ok(json(
        StatusCode::OK,
        json!({
            "AccessKeyId": key.access_key,
            "SecretAccessKey": key.secret_key.expose_secret(),
            "Expiration": rfc3339(key.expires),
            "Code": "Success",
            "Message": "",
        }),
    ))
}

/// `PUT /latest/api/token`: a session token for `X-NCP-METADATA-TOKEN-TTL-SECONDS`.
fn session_token(state: &AppState, inc: &Incoming, now: SystemTime) -> Result<Reply, Reply> {
    let ttl = inc
        .header(TTL_HEADER)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ttl| (1..=MAX_TTL_SECONDS).contains(ttl))
        .ok_or_else(|| {
            text(
                StatusCode::BAD_REQUEST,
                format!(
                    "{TTL_HEADER} must be a whole number of seconds from 1 to {MAX_TTL_SECONDS}"
                ),
            )
        })?;
    let token = random_hex(56);
    let mut tokens = state
        .ncp
        .metadata_tokens
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    tokens.retain(|_, expires| *expires > now);
    tokens.insert(token.clone(), now + Duration::from_secs(ttl));
    Ok(text(StatusCode::OK, token))
}

/// A GET's session token: valid when sent; required when the role requires v2.
fn check_session(state: &AppState, inc: &Incoming, now: SystemTime) -> Result<(), Reply> {
    let unauthorized = || text(StatusCode::UNAUTHORIZED, "Unauthorized");
    match inc.header(TOKEN_HEADER) {
        Some(token) => {
            let tokens = state
                .ncp
                .metadata_tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match tokens.get(token) {
                Some(expires) if *expires > now => Ok(()),
                _ => Err(unauthorized()),
            }
        }
        None if state
            .ncp
            .server_role
            .as_ref()
            .is_some_and(|r| r.require_metadata_v2) =>
        {
            Err(unauthorized())
        }
        None => Ok(()),
    }
}

fn not_found() -> Reply {
    text(StatusCode::NOT_FOUND, "Not Found")
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let secs = unix_seconds(t);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days to a civil date (Howard Hinnant's algorithm, public domain).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn formats_rfc3339_in_utc() {
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(1_728_583_108)), "2024-10-10T17:58:28Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(4_102_444_799)), "2099-12-31T23:59:59Z");
    }
}
