//! Cloudforet's error bodies, byte for byte (FACTS.md §3 "Exact error messages").
//!
//! The identity service raises `ERROR_X` with a message; over gRPC the detail is
//! `"ERROR_X: <message>"`, and console-api-v2 splits it at the first `:` and re-raises:
//! - UNAUTHENTICATED → 401 `ERROR_AUTHENTICATE_FAILURE`,
//!   `"Authenticate failure. (message = " + " <message>" + ")"` (two spaces after `=`);
//! - PERMISSION_DENIED → 403 `ERROR_PERMISSION_DENIED`, `Permission denied.`;
//! - anything else keeps its code and status, message `" <message>"` (a leading space).
//!
//! Errors console-api-v2 raises itself (a body that is not JSON, protobuf's parse
//! failures) are 500 `ERROR_UNKNOWN` with their message as is.

use axum::http::StatusCode;
use serde_json::json;

use crate::server::{json, Reply};

/// The gRPC status the identity service raises an error with.
#[derive(Debug, Clone, Copy)]
pub(super) enum Grpc {
    Unauthenticated,
    PermissionDenied,
    InvalidArgument,
    NotFound,
    Internal,
}

pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    json(
        status,
        json!({"detail": {"code": code, "message": message}}),
    )
}

/// An error the identity service raised, as console-api-v2 relays it to REST clients.
pub(super) fn relayed(grpc: Grpc, code: &str, message: &str) -> Reply {
    // The gRPC detail, split at its first colon: the rest starts with a space.
    let detail = format!("{code}: {message}");
    let after_colon = detail.split_once(':').map_or("", |(_, rest)| rest);
    match grpc {
        Grpc::Unauthenticated => error(
            StatusCode::UNAUTHORIZED,
            "ERROR_AUTHENTICATE_FAILURE",
            &format!("Authenticate failure. (message = {after_colon})"),
        ),
        Grpc::PermissionDenied => error(
            StatusCode::FORBIDDEN,
            "ERROR_PERMISSION_DENIED",
            "Permission denied.",
        ),
        Grpc::InvalidArgument => error(StatusCode::BAD_REQUEST, code, after_colon),
        Grpc::NotFound => error(StatusCode::NOT_FOUND, code, after_colon),
        Grpc::Internal => error(StatusCode::INTERNAL_SERVER_ERROR, code, after_colon),
    }
}

/// Raised by console-api-v2 itself: no relay, no leading space.
pub(super) fn unknown_error(message: &str) -> Reply {
    error(StatusCode::INTERNAL_SERVER_ERROR, "ERROR_UNKNOWN", message)
}

pub(super) fn not_json() -> Reply {
    unknown_error("JSON Parsing Error: Request body requires JSON format.")
}

pub(super) fn required(key: &str) -> Reply {
    relayed(
        Grpc::InvalidArgument,
        "ERROR_REQUIRED_PARAMETER",
        &format!("Required parameter. (key = {key})"),
    )
}

pub(super) fn invalid(key: &str, reason: &str) -> Reply {
    relayed(
        Grpc::InvalidArgument,
        "ERROR_INVALID_PARAMETER",
        &format!("Parameter is invalid. (key = {key}, reason = {reason})"),
    )
}

pub(super) fn wrong_password(user_id: &str) -> Reply {
    relayed(
        Grpc::Unauthenticated,
        "ERROR_AUTHENTICATION_FAILURE",
        &format!("A user \"{user_id}\" is not exist or password is not correct."),
    )
}

/// Credentials without `user_id`/`password`, or an MFA code with nothing pending.
pub(super) fn invalid_credentials() -> Reply {
    relayed(
        Grpc::Unauthenticated,
        "ERROR_INVALID_CREDENTIALS",
        "Invalid credentials provided.",
    )
}

/// MFA without a code: the code was (re-)sent.
pub(super) fn not_authenticated() -> Reply {
    relayed(
        Grpc::Unauthenticated,
        "ERROR_NOT_AUTHENTICATED",
        "A user is not authenticated.",
    )
}

pub(super) fn login_blocked() -> Reply {
    relayed(
        Grpc::Unauthenticated,
        "ERROR_LOGIN_BLOCKED",
        "Login is blocked. Please try again later.",
    )
}

/// A refresh token that is bad, tampered, expired, or an access token.
pub(super) fn token_validation_failed() -> Reply {
    relayed(
        Grpc::Unauthenticated,
        "ERROR_AUTHENTICATE_FAILURE",
        "Authenticate failure. (message = Token validation failed.)",
    )
}

fn not_found(what: &str) -> Reply {
    relayed(
        Grpc::NotFound,
        "ERROR_NOT_FOUND",
        &format!("Resource cannot be found or access is denied. ({what})"),
    )
}

pub(super) fn domain_not_found(domain_id: &str) -> Reply {
    not_found(&format!("domain_id = {domain_id}"))
}

pub(super) fn user_not_found(user_id: &str, domain_id: &str) -> Reply {
    not_found(&format!(
        "('user_id', 'domain_id') = ('{user_id}', '{domain_id}')"
    ))
}

pub(super) fn workspace_not_found(domain_id: &str, workspace_id: &str) -> Reply {
    not_found(&format!(
        "('domain_id', 'workspace_id') = ('{domain_id}', '{workspace_id}')"
    ))
}

pub(super) fn name_not_found(name: &str) -> Reply {
    not_found(&format!("name = {name}"))
}

pub(super) fn user_disabled(user_id: &str) -> Reply {
    relayed(
        Grpc::InvalidArgument,
        "ERROR_USER_STATE_DISABLED",
        &format!("A user \"{user_id}\" state is DISABLED."),
    )
}

pub(super) fn mfa_required(user_id: &str, mfa_type: &str) -> Reply {
    relayed(
        Grpc::Internal,
        "ERROR_MFA_REQUIRED",
        &format!("MFA is required. (user_id = {user_id}), (mfa_type = {mfa_type})"),
    )
}

pub(super) fn mfa_not_activated(user_id: &str) -> Reply {
    relayed(
        Grpc::InvalidArgument,
        "ERROR_MFA_NOT_ACTIVATED",
        &format!("MFA is not activated. (user_id = {user_id})"),
    )
}

pub(super) fn invalid_verify_code(code: &str) -> Reply {
    relayed(
        Grpc::InvalidArgument,
        "ERROR_INVALID_VERIFY_CODE",
        &format!("Invalid verify code. (verify_code = {code})"),
    )
}

pub(super) fn invalid_grant_type(grant_type: &str) -> Reply {
    relayed(
        Grpc::InvalidArgument,
        "ERROR_INVALID_GRANT_TYPE",
        &format!("Invalid grant type. (grant_type = {grant_type})"),
    )
}

pub(super) fn permission_denied() -> Reply {
    relayed(
        Grpc::PermissionDenied,
        "ERROR_PERMISSION_DENIED",
        "Permission denied.",
    )
}

/// The answer for an injected status.
pub(crate) fn error_for_status(status: StatusCode) -> Reply {
    let code = match status.as_u16() {
        400 => "ERROR_INVALID_ARGUMENT",
        401 => "ERROR_AUTHENTICATE_FAILURE",
        403 => "ERROR_PERMISSION_DENIED",
        404 => "ERROR_NOT_FOUND",
        429 => "ERROR_TOO_MANY_REQUESTS",
        503 => "ERROR_SERVICE_UNAVAILABLE",
        _ => "ERROR_UNKNOWN",
    };
    error(status, code, " Injected by token-emulator.")
}
