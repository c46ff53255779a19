//! Turning KMS answers into [`Error`]s.
//!
//! Two body shapes reach a client:
//! * the API Gateway's, `{"error":{"errorCode":"200","message":"…","details":"…"}}`, whose
//!   `errorCode` is sometimes a number and which sometimes carries a `requestId`;
//! * KMS's own, `{"code":"INVALID_REQUEST","msg":"…"}`, which may arrive with HTTP 200: a
//!   `code` other than `SUCCESS` is an error whatever the status.
//!
//! Both become [`Error::Service`] with the HTTP status, the code as text, the message and
//! the details. A body in neither shape keeps the status as its code and (truncated) its
//! text as the message: error bodies hold no secrets. Success bodies do (tokens), so they
//! are never quoted.

use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::{Error, HttpResponse, Result, ServiceError};

/// The success code of KMS answers.
pub(crate) const SUCCESS: &str = "SUCCESS";

/// Whether the gateway refused the signature, possibly for its timestamp: 401 with
/// `errorCode` 200 (as text or number). The transport then compares clocks through the
/// `Date` header and re-signs once if they differ enough.
pub(crate) fn is_time_refusal(response: &HttpResponse) -> bool {
    response.status == 401
        && body_object(response)
            .as_ref()
            .and_then(|o| o.get("error"))
            .and_then(|e| e.get("errorCode"))
            .and_then(text_of)
            .is_some_and(|c| c == "200")
}

/// Whether the service refused the token a token-authenticated call carried: any 401, or
/// a KMS body code `UNAUTHORIZED` or `FORBIDDEN` (what an expired or invalid token gets is
/// not documented, FACTS.md §1).
pub(crate) fn is_token_refused(error: &Error) -> bool {
    match error.service_error() {
        Some(e) => e.status == 401 || matches!(e.code.as_str(), "UNAUTHORIZED" | "FORBIDDEN"),
        None => false,
    }
}

/// The error for a non-2xx answer.
pub(crate) fn from_response(response: &HttpResponse, now: SystemTime) -> Error {
    let status = response.status;
    let error = match body_object(response).and_then(|o| from_body(status, &o)) {
        Some(e) => e,
        None => ServiceError::new(
            status,
            status.to_string(),
            response.body_excerpt().unwrap_or_default(),
        ),
    };
    // `with_response`: the wait asked for, and whether the request may be sent again.
    Error::from(error.with_response(response, now))
}

/// For a 2xx answer: an error when its body says so (a `code` other than `SUCCESS`, or a
/// gateway `error` object), and a decode error when it is not a JSON object.
pub(crate) fn check_success(response: &HttpResponse) -> Result<()> {
    let Some(body) = body_object(response) else {
        return Err(Error::decode(
            response.status,
            "expected a JSON object (the body is not quoted: it may hold tokens)",
        ));
    };
    let refused = match body.get("code").and_then(text_of) {
        Some(code) => code != SUCCESS,
        None => body.get("error").is_some_and(Value::is_object),
    };
    if !refused {
        return Ok(());
    }
    let error = from_body(response.status, &body)
        .unwrap_or_else(|| ServiceError::new(response.status, response.status.to_string(), ""));
    Err(error.into())
}

/// A service error from either body shape; `None` when the body has neither.
fn from_body(status: u16, body: &Map<String, Value>) -> Option<ServiceError> {
    let request_id = |o: &Map<String, Value>| o.get("requestId").and_then(text_of);
    if let Some(Value::Object(gw)) = body.get("error") {
        let code = gw
            .get("errorCode")
            .and_then(text_of)
            .unwrap_or_else(|| status.to_string());
        let message = gw.get("message").and_then(text_of).unwrap_or_default();
        return Some(
            ServiceError::new(status, code, message)
                .with_details(gw.get("details").and_then(text_of))
                .with_request_id(request_id(gw).or_else(|| request_id(body))),
        );
    }
    let code = body.get("code").and_then(text_of)?;
    let message = body
        .get("msg")
        .or_else(|| body.get("message"))
        .and_then(text_of)
        .unwrap_or_default();
    Some(
        ServiceError::new(status, code, message)
            .with_details(body.get("details").and_then(text_of))
            .with_request_id(request_id(body)),
    )
}

fn body_object(response: &HttpResponse) -> Option<Map<String, Value>> {
    match serde_json::from_slice(&response.body) {
        Ok(Value::Object(o)) => Some(o),
        _ => None,
    }
}

/// A string or number as text; anything else (null, objects) as nothing.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(status, Default::default(), body.as_bytes().to_vec())
    }

    fn service(e: Error) -> ServiceError {
        e.service_error().cloned().expect("a service error")
    }

    #[test]
    fn gateway_body_with_text_or_number_code() {
        for code in [r#""200""#, "200"] {
            let body = format!(
                r#"{{"error":{{"errorCode":{code},"message":"Authentication Failed","details":"Invalid authentication information.","requestId":"r-1"}}}}"#
            );
            let e = service(from_response(&resp(401, &body), UNIX_EPOCH));
            assert_eq!((e.status, e.code.as_str()), (401, "200"));
            assert_eq!(e.message, "Authentication Failed");
            assert_eq!(
                e.details.as_deref(),
                Some("Invalid authentication information.")
            );
            assert_eq!(e.request_id.as_deref(), Some("r-1"));
            assert!(is_time_refusal(&resp(401, &body)));
        }
    }

    #[test]
    fn kms_body_maps_code_and_msg() {
        let e = service(from_response(
            &resp(400, r#"{"code":"INVALID_REQUEST","msg":"bad hours"}"#),
            UNIX_EPOCH,
        ));
        assert_eq!(
            (e.status, e.code.as_str(), e.message.as_str()),
            (400, "INVALID_REQUEST", "bad hours")
        );
    }

    #[test]
    fn non_json_body_keeps_status_as_code_and_truncates() {
        let long = "x".repeat(1000);
        let e = service(from_response(&resp(502, &long), UNIX_EPOCH));
        assert_eq!(e.code, "502");
        assert_eq!(
            e.message.chars().count(),
            token_common::error::BODY_EXCERPT_CHARS + 1
        );
        let e = service(from_response(
            &resp(500, "<html>\n oops \n</html>"),
            UNIX_EPOCH,
        ));
        assert_eq!(e.message, "<html> oops </html>");
        let e = service(from_response(&resp(500, "\u{ff}\u{fe}"), UNIX_EPOCH));
        assert_eq!(e.code, "500");
    }

    #[test]
    fn success_status_with_other_code_is_an_error() {
        let e = check_success(&resp(200, r#"{"code":"FORBIDDEN","msg":"no"}"#)).unwrap_err();
        assert_eq!(
            (e.status(), e.service_code()),
            (Some(200), Some("FORBIDDEN"))
        );
        assert!(check_success(&resp(200, r#"{"code":"SUCCESS","data":null}"#)).is_ok());
        assert!(check_success(&resp(200, r#"{"code":"SUCCESS","msg":"","data":{}}"#)).is_ok());
        let e = check_success(&resp(200, "eyJ-not-json")).unwrap_err();
        assert!(matches!(e, Error::Decode { status: 200, .. }));
        assert!(!e.to_string().contains("eyJ"));
    }

    #[test]
    fn retry_after_is_kept() {
        let mut r = resp(
            429,
            r#"{"error":{"errorCode":"420","message":"Rate Limited"}}"#,
        );
        r.headers.insert("retry-after", "7".parse().unwrap());
        let e = service(from_response(&r, UNIX_EPOCH));
        assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
        assert!(!is_time_refusal(&r));
    }

    #[test]
    fn only_401_with_code_200_is_a_time_refusal() {
        assert!(!is_time_refusal(&resp(
            401,
            r#"{"error":{"errorCode":"210"}}"#
        )));
        assert!(!is_time_refusal(&resp(
            403,
            r#"{"error":{"errorCode":"200"}}"#
        )));
        assert!(!is_time_refusal(&resp(401, "not json")));
    }
}
