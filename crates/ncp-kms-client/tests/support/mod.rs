//! Shared test ground: a client pointed at a wiremock server, signature checks recomputed
//! from what arrived on the wire, JWTs with chosen `exp`, and an in-memory HTTP client for
//! paused-time tests.

#![allow(dead_code)]

use std::time::Duration;

use base64::Engine as _;
use ncp_kms_client::{HttpResponse, KmsClient, NcpCredentials, Transport};
use token_common::signing::ncp::{ACCESS_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use token_common::signing::NcpSigner;
use token_common::transport::Backoff;
use wiremock::MockServer;

pub const AK: &str = "ncp_iam_BPAMKR_test_access";
pub const SK: &str = "ncp_iam_BPKMKR_test_SECRET_do_not_print";

/// A transport with a 1–5 ms backoff, so retry tests are quick.
pub fn fast_transport() -> Transport {
    Transport::builder()
        .backoff(Backoff::new(
            Duration::from_millis(1),
            Duration::from_millis(5),
        ))
        .attempt_timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A client of `server` under `/kms/v1`.
pub fn client(server: &MockServer) -> KmsClient {
    client_at(&format!("{}/kms/v1", server.uri()))
}

pub fn client_at(endpoint: &str) -> KmsClient {
    KmsClient::builder()
        .credentials(NcpCredentials::new(AK, SK))
        .endpoint(endpoint)
        .transport(fast_transport())
        .build()
        .unwrap()
}

fn header<'a>(req: &'a wiremock::Request, name: &str) -> Option<&'a str> {
    req.headers.get(name).and_then(|v| v.to_str().ok())
}

/// The path and query exactly as received.
pub fn wire_uri(req: &wiremock::Request) -> String {
    match req.url.query() {
        Some(q) => format!("{}?{q}", req.url.path()),
        None => req.url.path().to_owned(),
    }
}

/// Checks the three signature headers, recomputing the signature with the secret key
/// over the method and the path and query as received.
pub fn assert_signed(req: &wiremock::Request) {
    let ts: u64 = header(req, TIMESTAMP_HEADER)
        .expect("timestamp header")
        .parse()
        .expect("timestamp in ms");
    assert_eq!(header(req, ACCESS_KEY_HEADER), Some(AK));
    let signer = NcpSigner::new(&NcpCredentials::new(AK, SK)).unwrap();
    let expected = signer.signature(req.method.as_str(), &wire_uri(req), ts);
    assert_eq!(header(req, SIGNATURE_HEADER), Some(expected.as_str()));
    assert_eq!(header(req, "x-ncp-ocapi-token"), None);
}

/// Checks a token-authenticated request: the token header, and no signature headers.
pub fn assert_token_auth(req: &wiremock::Request, token: &str) {
    assert_eq!(header(req, "x-ncp-ocapi-token"), Some(token));
    for h in [TIMESTAMP_HEADER, ACCESS_KEY_HEADER, SIGNATURE_HEADER] {
        assert_eq!(header(req, h), None, "{h} must not be sent");
    }
}

/// The body as JSON (panics when it is not JSON).
pub fn body_json(req: &wiremock::Request) -> serde_json::Value {
    serde_json::from_slice(&req.body).expect("a JSON body")
}

/// An unsigned JWT with the given `exp` (none for an unlimited token) and a marker.
pub fn jwt(exp: Option<i64>, marker: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let claims = match exp {
        Some(exp) => format!(r#"{{"sub":"{marker}","iat":1,"exp":{exp}}}"#),
        None => format!(r#"{{"sub":"{marker}","iat":1}}"#),
    };
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(&claims)
    )
}

/// A success body with `data`.
pub fn success(data: serde_json::Value) -> serde_json::Value {
    serde_json::json!({ "code": "SUCCESS", "data": data })
}

/// The in-memory HTTP client of paused-time tests: token-common's shared test double.
#[allow(unused_imports)] // not every test file uses it
pub use token_common::testing::MemoryHttp as FakeHttp;

/// A JSON answer.
pub fn json_response(status: u16, body: serde_json::Value) -> HttpResponse {
    HttpResponse::new(
        status,
        Default::default(),
        serde_json::to_vec(&body).unwrap(),
    )
}
