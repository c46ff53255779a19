//! Turning Cloudforet's error answers into [`Error`]s.
//!
//! console-api-v2 answers `{"detail": {"code": "ERROR_…", "message": "…"}}`, and its own
//! 404/405 FastAPI's `{"detail": "Not Found"}`; a grpc-gateway build answers
//! `{"code": 5, "message": "…"}`. MFA arrives as a 500 `ERROR_MFA_REQUIRED`, mapped to
//! an [`Error::ServiceSpecific`] holding [`MfaRequired`]; read it back with
//! [`mfa_required`].

use std::fmt;
use std::time::SystemTime;

use serde_json::Value;
use token_common::{Error, HttpResponse, ServiceError};

use crate::builder::RouteStyle;

/// The server asks for a multi-factor verification code: the first step of an MFA login.
/// It reaches callers inside an [`Error::ServiceSpecific`]; [`mfa_required`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MfaRequired {
    /// How the code is delivered.
    pub mfa_type: MfaType,
    /// The user, as the server named it (for e-mail MFA, the MFA e-mail address).
    pub user_id: String,
}

impl MfaRequired {
    /// A request for a code of `mfa_type` for `user_id`.
    pub fn new(mfa_type: MfaType, user_id: impl Into<String>) -> Self {
        Self {
            mfa_type,
            user_id: user_id.into(),
        }
    }
}

impl fmt::Display for MfaRequired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "multi-factor authentication required: enter the {} code for {}",
            self.mfa_type, self.user_id
        )
    }
}

impl std::error::Error for MfaRequired {}

impl From<MfaRequired> for Error {
    fn from(e: MfaRequired) -> Self {
        Error::service_specific(e)
    }
}

/// The server's request for an MFA code, when `e` is one.
///
/// ```
/// use cloudforet_identity_client::error::{mfa_required, MfaRequired};
/// use cloudforet_identity_client::{Error, MfaType};
///
/// let e: Error = MfaRequired::new(MfaType::Email, "alice@example.com").into();
/// let mfa = mfa_required(&e).expect("an MFA request");
/// assert_eq!(mfa.mfa_type, MfaType::Email);
/// assert_eq!(mfa.user_id, "alice@example.com");
/// assert!(mfa_required(&Error::invalid_input("user_id", "empty")).is_none());
/// ```
pub fn mfa_required(e: &Error) -> Option<&MfaRequired> {
    e.downcast_ref::<MfaRequired>()
}

/// How a multi-factor verification code reaches the user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MfaType {
    /// A code sent by e-mail.
    Email,
    /// A time-based one-time password from an authenticator app.
    Otp,
    /// A type this library does not know yet, as the server named it.
    Other(String),
}

impl MfaType {
    /// Parses the server's name (`EMAIL`, `OTP`, …).
    pub fn from_name(name: &str) -> Self {
        match name {
            "EMAIL" => Self::Email,
            "OTP" => Self::Otp,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The server's name for the type.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Email => "EMAIL",
            Self::Otp => "OTP",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for MfaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The code of the error that asks for a multi-factor verification code.
pub const ERROR_MFA_REQUIRED: &str = "ERROR_MFA_REQUIRED";
/// The code of every authentication failure (wrong password, bad or expired token, …).
pub const ERROR_AUTHENTICATE_FAILURE: &str = "ERROR_AUTHENTICATE_FAILURE";

/// The code of a wrong MFA verify code (400; the pending login stays usable).
pub const ERROR_INVALID_VERIFY_CODE: &str = "ERROR_INVALID_VERIFY_CODE";

/// Whether the server refused the MFA verify code (`ERROR_INVALID_VERIFY_CODE`): for OTP,
/// a wrong TOTP secret or a clock far off.
///
/// ```
/// use cloudforet_identity_client::{error::is_invalid_verify_code, Error, ServiceError};
/// let e: Error = ServiceError::new(400, "ERROR_INVALID_VERIFY_CODE", "Invalid verify code.").into();
/// assert!(is_invalid_verify_code(&e));
/// ```
pub fn is_invalid_verify_code(e: &Error) -> bool {
    e.service_error()
        .is_some_and(|s| s.code == ERROR_INVALID_VERIFY_CODE)
}

/// Maps a non-2xx answer to an error. `route` lets a 404 from the router (rather than from
/// the identity service) say which route style to try instead.
pub(crate) fn from_response(resp: &HttpResponse, route: RouteStyle, now: SystemTime) -> Error {
    let (code, message, routed) = match serde_json::from_slice::<Value>(&resp.body) {
        Ok(body) => code_and_message(&body, resp.status),
        Err(_) => (
            resp.status.to_string(),
            resp.body_excerpt().unwrap_or_default(),
            false,
        ),
    };
    if code == ERROR_MFA_REQUIRED {
        return parse_mfa_required(&message).into();
    }
    let mut message = message.trim().to_owned();
    if resp.status == 404 && !routed {
        message.push_str(&route_hint(route));
    }
    let request_id = resp.request_id().map(str::to_owned);
    ServiceError::new(resp.status, code, message)
        .with_request_id(request_id)
        .with_response(resp, now)
        .into()
}

/// `(code, message, from_the_service)`: the last is false for the router's own answers
/// (FastAPI's `{"detail": "Not Found"}` and bodies of unknown shape).
fn code_and_message(body: &Value, status: u16) -> (String, String, bool) {
    match body.get("detail") {
        Some(Value::Object(d)) => {
            let code = d
                .get("code")
                .map(scalar_text)
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| status.to_string());
            let message = d.get("message").map(scalar_text).unwrap_or_default();
            return (code, message, true);
        }
        Some(Value::String(text)) => return (fastapi_code(text, status), text.clone(), false),
        _ => {}
    }
    if let Some(message) = body.get("message").and_then(Value::as_str) {
        // grpc-gateway: {"code": <grpc status number>, "message": "…", "details": […]}
        let code = body
            .get("code")
            .map(scalar_text)
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| status.to_string());
        return (code, message.to_owned(), body.get("code").is_some());
    }
    (
        status.to_string(),
        token_common::error::excerpt(&body.to_string()).unwrap_or_default(),
        false,
    )
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `"Not Found"` → `NOT_FOUND`, `"Method Not Allowed"` → `METHOD_NOT_ALLOWED`.
fn fastapi_code(text: &str, status: u16) -> String {
    let code: String = text
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if code.is_empty() || code.len() > 40 {
        status.to_string()
    } else {
        code
    }
}

fn route_hint(route: RouteStyle) -> String {
    match route {
        RouteStyle::Console => " (this server has no such route: if it is a grpc-gateway build serving /identity/v2/…, use RouteStyle::V2Gateway)".to_owned(),
        RouteStyle::V2Gateway => " (this server has no such route: console-api-v2 serves /identity/token/… without /v2/; use RouteStyle::Console)".to_owned(),
    }
}

/// Reads `" MFA is required. (user_id = <id>), (mfa_type = EMAIL|OTP)"`.
fn parse_mfa_required(message: &str) -> MfaRequired {
    let user_id = between(message, "(user_id = ", ")").unwrap_or_default();
    let mfa_type = between(message, "(mfa_type = ", ")")
        .map(|t| MfaType::from_name(&t))
        .unwrap_or_else(|| MfaType::Other("UNKNOWN".to_owned()));
    MfaRequired { mfa_type, user_id }
}

fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(rest[..rest.find(end)?].trim().to_owned())
}

/// Whether an error is the 401 `ERROR_AUTHENTICATE_FAILURE` the server gives after
/// re-sending an MFA code.
pub(crate) fn is_authenticate_failure(e: &Error) -> bool {
    e.service_error()
        .is_some_and(|s| s.status == 401 && s.code == ERROR_AUTHENTICATE_FAILURE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, Default::default(), body.as_bytes().to_vec())
    }

    fn map(status: u16, body: &str, route: RouteStyle) -> Error {
        from_response(&resp(status, body), route, SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn detail_object_gives_code_and_message() {
        let e = map(
            401,
            r#"{"detail":{"code":"ERROR_AUTHENTICATE_FAILURE","message":" A user is not authenticated."}}"#,
            RouteStyle::Console,
        );
        assert_eq!(e.service_code(), Some(ERROR_AUTHENTICATE_FAILURE));
        assert!(e.is_authentication());
        assert!(is_authenticate_failure(&e));
        assert_eq!(
            e.service_error().unwrap().message,
            "A user is not authenticated."
        );
    }

    #[test]
    fn fastapi_not_found_on_console_route_hints_at_v2() {
        let e = map(404, r#"{"detail":"Not Found"}"#, RouteStyle::Console);
        let s = e.service_error().unwrap();
        assert_eq!(s.code, "NOT_FOUND");
        assert!(s.message.starts_with("Not Found"));
        assert!(s.message.contains("RouteStyle::V2Gateway"), "{}", s.message);
    }

    #[test]
    fn not_found_on_v2_route_hints_at_console() {
        let e = map(404, "404 page not found", RouteStyle::V2Gateway);
        let s = e.service_error().unwrap();
        assert_eq!(s.code, "404");
        assert!(s.message.contains("RouteStyle::Console"), "{}", s.message);
    }

    #[test]
    fn service_not_found_has_no_route_hint() {
        let e = map(
            404,
            r#"{"detail":{"code":"ERROR_NOT_FOUND","message":"Not found."}}"#,
            RouteStyle::Console,
        );
        assert!(!e.to_string().contains("RouteStyle"));
    }

    #[test]
    fn mfa_required_gives_type_and_user() {
        let e = map(
            500,
            r#"{"detail":{"code":"ERROR_MFA_REQUIRED","message":" MFA is required. (user_id = a@example.com), (mfa_type = EMAIL)"}}"#,
            RouteStyle::Console,
        );
        match mfa_required(&e) {
            Some(MfaRequired { mfa_type, user_id }) => {
                assert_eq!(*mfa_type, MfaType::Email);
                assert_eq!(user_id, "a@example.com");
            }
            None => panic!("{e:?}"),
        }
        assert_eq!(
            e.to_string(),
            "multi-factor authentication required: enter the EMAIL code for a@example.com"
        );
        assert_eq!(
            e.status(),
            None,
            "MFA is a step of the login, not a failure"
        );
    }

    #[test]
    fn grpc_gateway_body_and_garbage_never_panic() {
        let e = map(
            401,
            r#"{"code":16,"message":"unauthenticated"}"#,
            RouteStyle::V2Gateway,
        );
        assert_eq!(e.service_code(), Some("16"));
        for body in [
            "",
            "[]",
            "null",
            "{\"detail\":null}",
            "\u{fffd}",
            "{\"detail\":{}}",
        ] {
            let e = map(500, body, RouteStyle::Console);
            assert_eq!(e.status(), Some(500), "{body}");
        }
        let long = "x".repeat(10_000);
        let e = map(502, &long, RouteStyle::Console);
        assert!(e.to_string().len() < 1_000);
    }
}
