//! Shared test helpers: JWTs with chosen claims and a client for a mock server.
#![allow(dead_code)]

use std::time::Duration;

use base64::Engine as _;
use cloudforet_identity_client::{Backoff, IdentityClient, RouteStyle, Transport};
use serde_json::Value;

/// An unsigned JWT with `claims` as its payload.
pub fn jwt(claims: Value) -> String {
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
        b64(&claims)
    )
}

/// A token of type `typ` expiring at `exp` (Unix seconds), with a marker in `jti` so tests
/// can search output for it.
pub fn token(typ: &str, exp: i64, marker: &str) -> String {
    issued_token(typ, exp - 1800, exp, marker)
}

/// A token issued at `iat` and expiring at `exp` (Unix seconds), as the server mints them.
pub fn issued_token(typ: &str, iat: i64, exp: i64, marker: &str) -> String {
    jwt(serde_json::json!({
        "iss": "spaceone.identity", "typ": typ, "did": "domain-123", "aud": "alice",
        "jti": marker, "iat": iat, "exp": exp, "ver": "2.0"
    }))
}

/// A client for the mock server at `uri` with a fast backoff.
pub fn client(uri: &str, route: RouteStyle) -> IdentityClient {
    let transport = Transport::builder()
        .backoff(Backoff::new(
            Duration::from_millis(1),
            Duration::from_millis(5),
        ))
        .build()
        .unwrap();
    IdentityClient::builder()
        .endpoint(uri)
        .route_style(route)
        .transport(transport)
        .build()
        .unwrap()
}

/// The JSON body of a received request.
pub fn body(req: &wiremock::Request) -> Value {
    serde_json::from_slice(&req.body).expect("request body is JSON")
}
