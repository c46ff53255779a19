//! Cloudforet's error bodies: `{"detail":{"code","message"}}`, messages in the identity
//! service's own shapes (note the leading space).

use axum::http::StatusCode;
use serde_json::json;

use crate::server::{json, Reply};
pub(super) fn error(status: StatusCode, code: &str, message: &str) -> Reply {
    json(
        status,
        json!({"detail": {"code": code, "message": message}}),
    )
}

pub(super) fn unknown_error(reason: &str) -> Reply {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "ERROR_UNKNOWN",
        &format!(" Unknown error. (message = {reason})"),
    )
}

pub(super) fn required(key: &str) -> Reply {
    error(
        StatusCode::BAD_REQUEST,
        "ERROR_REQUIRED_PARAMETER",
        &format!(" Required parameter. (key = {key})"),
    )
}

pub(super) fn invalid(key: &str, reason: &str) -> Reply {
    error(
        StatusCode::BAD_REQUEST,
        "ERROR_INVALID_PARAMETER",
        &format!(" Parameter is invalid. (key = {key}, reason = {reason})"),
    )
}

pub(super) fn not_found(resource: &str, key: &str, value: &str) -> Reply {
    error(
        StatusCode::NOT_FOUND,
        "ERROR_NOT_FOUND",
        &format!(" Resource not found. (resource_type = {resource}, {key} = {value})"),
    )
}

pub(super) fn authenticate_failure(message: &str) -> Reply {
    error(
        StatusCode::UNAUTHORIZED,
        "ERROR_AUTHENTICATE_FAILURE",
        &format!(" Authenticate failure. (message = {message})"),
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
