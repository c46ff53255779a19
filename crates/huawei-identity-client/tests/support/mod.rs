//! Shared test helpers: clients pointed at a mock server, a signature checker that
//! recomputes `Authorization` from the request as received, and an in-memory HTTP client.

#![allow(dead_code)]

use std::time::Duration;

use huawei_identity_client::{HuaweiCredentials, IdentityStoreClient, SecretString, Transport};
use token_common::signing::huawei::{
    authorization, canonical_query_from_raw, canonical_request, canonical_uri, payload_hash,
    signature, string_to_sign,
};
use token_common::transport::Backoff;
use token_common::HttpResponse;

pub const AK: &str = "AKTEST0123456789ABCD";
pub const SK: &str = "SK-super-secret-value-0123456789";
pub const PROJECT_ID: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
pub const SECURITY_TOKEN: &str = "sts-security-token+with/odd=chars";
pub const STORE: &str = "d-1234567890";
pub const TENANT: &str = "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e";
pub const TOKEN_VALUE: &str = "scim-bearer-token-VALUE-must-not-leak";

pub fn credentials(with_security_token: bool) -> HuaweiCredentials {
    let c = HuaweiCredentials::new(AK, SK).with_project_id(PROJECT_ID);
    if with_security_token {
        c.with_security_token(SECURITY_TOKEN)
    } else {
        c
    }
}

/// A transport that retries fast.
pub fn fast_transport() -> Transport {
    Transport::builder()
        .backoff(Backoff::new(
            Duration::from_millis(1),
            Duration::from_millis(5),
        ))
        .build()
        .unwrap()
}

pub fn client(endpoint: &str, with_security_token: bool) -> IdentityStoreClient {
    IdentityStoreClient::builder()
        .endpoint(endpoint)
        .credentials(credentials(with_security_token))
        .transport(fast_transport())
        .build()
        .unwrap()
}

pub fn header<'a>(req: &'a wiremock::Request, name: &str) -> &'a str {
    req.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Recomputes the `Authorization` header from the request as received, with
/// token-common's pure signing stages over the headers it lists as signed, and compares.
/// Returns the signed-headers list.
pub fn assert_signed(req: &wiremock::Request, ak: &str, sk: &str) -> String {
    let auth = header(req, "authorization");
    let rest = auth
        .strip_prefix("SDK-HMAC-SHA256 ")
        .expect("SDK-HMAC-SHA256 authorization");
    let mut signed_headers = None;
    for part in rest.split(", ") {
        if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        }
    }
    let signed_headers = signed_headers.expect("SignedHeaders");
    let pairs: Vec<(&str, &str)> = signed_headers
        .split(';')
        .map(|name| (name, header(req, name)))
        .collect();
    let content_type = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    let canonical = canonical_request(
        req.method.as_str(),
        &canonical_uri(req.url.path()),
        &canonical_query_from_raw(req.url.query().unwrap_or("")),
        &pairs,
        &payload_hash(content_type, Some(&req.body)),
    );
    assert_eq!(canonical.signed_headers, signed_headers);
    let sts = string_to_sign(header(req, "x-sdk-date"), &canonical.text);
    let expected = authorization(
        ak,
        &canonical.signed_headers,
        &signature(&SecretString::new(sk), &sts),
    );
    assert_eq!(
        auth, expected,
        "Authorization recomputed from the wire differs"
    );
    signed_headers.to_owned()
}

/// Checks the headers every request carries, and its signature; `with_security_token`
/// says whether `X-Security-Token` must be present (and signed) or absent.
pub fn assert_common_headers(req: &wiremock::Request, with_security_token: bool) {
    assert_eq!(header(req, "x-project-id"), PROJECT_ID);
    assert_eq!(header(req, "content-type"), "application/json");
    let date = header(req, "x-sdk-date");
    assert!(
        token_common::signing::huawei::parse_sdk_date(date).is_some(),
        "{date}"
    );
    let host = header(req, "host");
    let port = host
        .strip_prefix("127.0.0.1:")
        .expect("Host names the mock server");
    assert!(port.parse::<u16>().is_ok(), "{host}");
    let signed = assert_signed(req, AK, SK);
    if with_security_token {
        assert_eq!(header(req, "x-security-token"), SECURITY_TOKEN);
        assert_eq!(
            signed,
            "content-type;host;x-project-id;x-sdk-date;x-security-token"
        );
    } else {
        assert!(req.headers.get("x-security-token").is_none());
        assert_eq!(signed, "content-type;host;x-project-id;x-sdk-date");
    }
    assert!(req.body.is_empty(), "no body is sent");
}

/// The in-memory HTTP client of paused-time tests: token-common's shared test double.
#[allow(unused_imports)] // not every test file uses it
pub use token_common::testing::MemoryHttp as FakeHttp;

pub fn json_response(status: u16, body: &str) -> HttpResponse {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "content-type",
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    HttpResponse::new(status, headers, body.as_bytes().to_vec())
}
