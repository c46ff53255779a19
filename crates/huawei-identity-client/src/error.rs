//! Turning IdentityCenterStore error answers into [`Error::Service`].
//!
//! The service (and the API Gateway in front of it) answers errors as
//! `{error_code, error_msg, request_id, encoded_authorization_message?}`; the official SDK
//! also accepts `errorCode`/`errorMsg` and `code`/`message`, possibly nested one level
//! (`{"error": {...}}`). The request id comes from the `X-Request-Id` header first.

use std::time::SystemTime;

use serde_json::{Map, Value};
use token_common::{Error, HttpResponse, ServiceError};

/// The API Gateway's code for a refused signature (bad or expired).
pub const SIGNATURE_REFUSED_CODE: &str = "APIGW.0301";

/// The most bearer tokens a provisioning tenant may hold at once; expired ones count until
/// deleted (FACTS.md §2).
pub const MAX_BEARER_TOKENS_PER_TENANT: usize = 2;

/// The `source_name` of the error [`BearerTokenSource`](crate::BearerTokenSource) gives
/// when the tenant is at the limit and none of its tokens may be deleted.
const LIMIT_SOURCE: &str = "the tenant's bearer tokens";

/// The error for a tenant at the two-token limit with nothing this source may delete.
pub(crate) fn limit_error(tenant_id: &str, held: usize, holds_served: bool) -> Error {
    let which = if holds_served {
        "one is the token this source serves and no other was created by it"
    } else {
        "none was created by this source (or none of its own could be deleted)"
    };
    Error::credentials(
        LIMIT_SOURCE,
        format!(
            "tenant `{tenant_id}` already holds {held} bearer tokens, and Huawei allows at most \
             {MAX_BEARER_TOKENS_PER_TENANT} per tenant (expired ones count until deleted); \
             {which}, so none is deleted: delete one that is no longer used \
             (list_bearer_tokens / delete_bearer_token) and try again"
        ),
    )
}

/// Whether `error` is [`BearerTokenSource`](crate::BearerTokenSource) refusing to create a
/// token because the tenant already holds the most it may
/// ([`MAX_BEARER_TOKENS_PER_TENANT`]) and none of them may be deleted.
pub fn is_bearer_token_limit(error: &Error) -> bool {
    matches!(error, Error::Credentials { source_name, .. } if source_name == LIMIT_SOURCE)
}

const CODE_KEYS: &[&str] = &["error_code", "errorCode", "code"];
const MESSAGE_KEYS: &[&str] = &["error_msg", "errorMsg", "message", "error_message"];
const REQUEST_ID_KEYS: &[&str] = &["request_id", "requestId"];
const DETAILS_KEYS: &[&str] = &[
    "encoded_authorization_message",
    "encodedAuthorizationMessage",
];

/// The fields read from an error body.
#[derive(Debug, Default, PartialEq, Eq)]
struct ErrorFields {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
    details: Option<String>,
}

/// Maps a non-2xx answer to an [`Error::Service`]. Never panics, whatever the body.
pub(crate) fn service_error(response: &HttpResponse, now: SystemTime) -> Error {
    let status = response.status;
    let fields = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| read_fields(&v))
        .unwrap_or_default();
    let code = fields.code.unwrap_or_else(|| status.to_string());
    let message = fields
        .message
        .unwrap_or_else(|| response.body_excerpt().unwrap_or_else(|| reason(status)));
    let request_id = response
        .request_id()
        .map(str::to_owned)
        .or(fields.request_id);
    ServiceError::new(status, code, message)
        .with_request_id(request_id)
        .with_details(fields.details)
        .with_response(response, now)
        .into()
}

/// Whether an answer is a signature refused for its time (`APIGW.0301 … expired`), so the
/// transport's clock-skew correction may re-sign it.
pub(crate) fn is_time_refusal(response: &HttpResponse) -> bool {
    if !matches!(response.status, 401 | 403) {
        return false;
    }
    let Some(fields) = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| read_fields(&v))
    else {
        return false;
    };
    fields.code.as_deref() == Some(SIGNATURE_REFUSED_CODE)
        && fields
            .message
            .is_some_and(|m| m.to_ascii_lowercase().contains("expir"))
}

/// Reads the fields from the top-level object, or from an object nested one level down
/// when the top level has neither a code nor a message.
fn read_fields(value: &Value) -> Option<ErrorFields> {
    let object = value.as_object()?;
    let top = fields_of(object);
    if top.code.is_some() || top.message.is_some() {
        return Some(top);
    }
    let nested = ["error", "Error", "errors"]
        .iter()
        .filter_map(|k| object.get(*k))
        .chain(object.values())
        .filter_map(|v| match v {
            Value::Array(items) => items.first().and_then(Value::as_object),
            other => other.as_object(),
        })
        .map(fields_of)
        .find(|f| f.code.is_some() || f.message.is_some())?;
    Some(ErrorFields {
        request_id: nested.request_id.or(top.request_id),
        details: nested.details.or(top.details),
        ..nested
    })
}

fn fields_of(object: &Map<String, Value>) -> ErrorFields {
    ErrorFields {
        code: first_text(object, CODE_KEYS),
        message: first_text(object, MESSAGE_KEYS),
        request_id: first_text(object, REQUEST_ID_KEYS),
        details: first_text(object, DETAILS_KEYS),
    }
}

/// The first of `keys` holding a non-empty string or a number (codes sometimes arrive as
/// numbers).
fn first_text(object: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match object.get(*k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};
    use std::time::{Duration, UNIX_EPOCH};

    fn response(status: u16, body: &str, request_id: Option<&str>) -> HttpResponse {
        let mut headers = HeaderMap::new();
        if let Some(id) = request_id {
            headers.insert("x-request-id", HeaderValue::from_str(id).unwrap());
        }
        HttpResponse::new(status, headers, body.as_bytes().to_vec())
    }

    fn service(e: Error) -> ServiceError {
        match e {
            Error::Service(s) => *s,
            other => panic!("expected a service error, got {other:?}"),
        }
    }

    const NOW: SystemTime = UNIX_EPOCH;

    #[test]
    fn snake_case_body_with_header_request_id_first() {
        let r = response(
            403,
            r#"{"error_code":"IDS.0403","error_msg":"no permission","request_id":"body-id","encoded_authorization_message":"enc-msg"}"#,
            Some("header-id"),
        );
        let e = service(service_error(&r, NOW));
        assert_eq!(e.status, 403);
        assert_eq!(e.code, "IDS.0403");
        assert_eq!(e.message, "no permission");
        assert_eq!(e.request_id.as_deref(), Some("header-id"));
        assert_eq!(e.details.as_deref(), Some("enc-msg"));
    }

    #[test]
    fn body_request_id_when_no_header() {
        let r = response(
            400,
            r#"{"error_code":"IDS.1000","error_msg":"bad","request_id":"body-id"}"#,
            None,
        );
        assert_eq!(
            service(service_error(&r, NOW)).request_id.as_deref(),
            Some("body-id")
        );
    }

    #[test]
    fn alternate_and_nested_field_names() {
        for body in [
            r#"{"errorCode":"A.1","errorMsg":"m"}"#,
            r#"{"code":"A.1","message":"m"}"#,
            r#"{"error":{"code":"A.1","message":"m"}}"#,
            r#"{"error":{"error_code":"A.1","error_msg":"m"},"request_id":"r"}"#,
            r#"{"anything":{"errorCode":"A.1","errorMsg":"m"}}"#,
        ] {
            let e = service(service_error(&response(400, body, None), NOW));
            assert_eq!(
                (e.code.as_str(), e.message.as_str()),
                ("A.1", "m"),
                "{body}"
            );
        }
        let e = service(service_error(
            &response(
                400,
                r#"{"error":{"code":"A.1","message":"m"},"request_id":"r"}"#,
                None,
            ),
            NOW,
        ));
        assert_eq!(e.request_id.as_deref(), Some("r"));
    }

    #[test]
    fn numeric_code_becomes_text() {
        let e = service(service_error(
            &response(429, r#"{"code":429,"message":"slow down"}"#, None),
            NOW,
        ));
        assert_eq!(e.code, "429");
    }

    #[test]
    fn non_json_body_keeps_text_and_status_as_code() {
        let e = service(service_error(
            &response(502, "<html>Bad Gateway</html>", None),
            NOW,
        ));
        assert_eq!(e.code, "502");
        assert_eq!(e.message, "<html>Bad Gateway</html>");

        let long = "x".repeat(5000);
        let e = service(service_error(&response(500, &long, None), NOW));
        assert_eq!(
            e.message.chars().count(),
            token_common::error::BODY_EXCERPT_CHARS + 1
        );

        let e = service(service_error(&response(404, "", None), NOW));
        assert_eq!((e.code.as_str(), e.message.as_str()), ("404", "Not Found"));

        let e = service(service_error(
            &HttpResponse::new(500, HeaderMap::new(), vec![0xff, 0xfe, b'{']),
            NOW,
        ));
        assert_eq!(e.code, "500");
    }

    #[test]
    fn retry_after_is_kept() {
        let mut r = response(
            429,
            r#"{"error_code":"APIGW.0308","error_msg":"throttled"}"#,
            None,
        );
        r.headers
            .insert("retry-after", HeaderValue::from_static("7"));
        let e = service(service_error(&r, NOW));
        assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
    }

    #[test]
    fn time_refusal_needs_apigw_0301_and_expired() {
        let expired = r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail, signature expired"}"#;
        assert!(is_time_refusal(&response(401, expired, None)));
        assert!(is_time_refusal(&response(403, expired, None)));
        assert!(!is_time_refusal(&response(400, expired, None)));
        let bad_sig = r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}"#;
        assert!(!is_time_refusal(&response(401, bad_sig, None)));
        assert!(!is_time_refusal(&response(401, "signature expired", None)));
    }
}
