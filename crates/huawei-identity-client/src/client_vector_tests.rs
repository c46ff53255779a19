//! The client's own request building, signed with the client's signer, compared byte for
//! byte with the official SDK's vectors (a copy in `tests/data/`).

use std::time::{Duration, UNIX_EPOCH};

use reqwest::header::{HeaderValue, USER_AGENT};
use reqwest::Method;
use serde_json::Value;
use token_common::credentials::HuaweiCredentials;
use token_common::signing::Signer;
use token_common::HttpRequest;

use crate::IdentityStoreClient;

const VECTORS: &str = include_str!("../tests/data/huawei-sdk-signing-subset.json");

fn vector(name: &str) -> Value {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
        .clone()
}

fn client_for(v: &Value) -> IdentityStoreClient {
    let input = &v["input"];
    let mut creds =
        HuaweiCredentials::new(input["ak"].as_str().unwrap(), input["sk"].as_str().unwrap())
            .with_project_id(input["project_id"].as_str().unwrap());
    if let Some(t) = input["security_token"].as_str() {
        creds = creds.with_security_token(t);
    }
    assert_eq!(
        input["host"], "identitystore.cn-north-4.myhuaweicloud.com",
        "vectors are for the cn-north-4 endpoint"
    );
    IdentityStoreClient::builder()
        .region("cn-north-4")
        .credentials(creds)
        .environment(token_common::credentials::Environment::from_pairs::<
            &str,
            &str,
        >([]))
        .build()
        .unwrap()
}

/// Signs `req` as the client does, at the vectors' time (2025-01-01T12:00:00Z), after adding
/// the vector's `User-Agent` — the one header the official SDK puts in what it signs that
/// this crate leaves to the HTTP layer (unsigned).
fn sign_and_compare(client: &IdentityStoreClient, mut req: HttpRequest, v: &Value) {
    let out = &v["output"];
    assert_eq!(req.url.as_str(), out["url_sent"].as_str().unwrap());
    assert_eq!(req.url.path(), out["request_uri_sent"].as_str().unwrap());
    assert_eq!(req.method.as_str(), v["input"]["method"].as_str().unwrap());
    assert!(req.body.is_none());
    let ua = v["input"]["headers"]["User-Agent"].as_str().unwrap();
    req.headers
        .insert(USER_AGENT, HeaderValue::from_str(ua).unwrap());
    let at = UNIX_EPOCH + Duration::from_secs(1_735_732_800);
    let prepared = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(client.inner.signers.get())
        .unwrap();
    prepared.signer().sign(&mut req, at).unwrap();
    for (name, value) in out["headers"].as_object().unwrap() {
        let got = req
            .headers
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{}: no {name}", v["name"]));
        assert_eq!(got.to_str().unwrap(), value.as_str().unwrap(), "{name}");
    }
    assert_eq!(
        req.headers["authorization"].to_str().unwrap(),
        out["authorization"].as_str().unwrap(),
        "{}",
        v["name"]
    );
}

#[test]
fn create_bearer_token_matches_official_vector() {
    for name in [
        "create_bearer_token_store_host_basic",
        "create_bearer_token_store_host_basic_sts",
    ] {
        let v = vector(name);
        let c = client_for(&v);
        let req = c
            .bearer_tokens_request(
                Method::POST,
                "d-1234567890",
                "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e",
            )
            .unwrap();
        sign_and_compare(&c, req, &v);
    }
}

#[test]
fn list_bearer_tokens_matches_official_vector() {
    let v = vector("list_bearer_tokens");
    let c = client_for(&v);
    let req = c
        .bearer_tokens_request(
            Method::GET,
            "d-1234567890",
            "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e",
        )
        .unwrap();
    sign_and_compare(&c, req, &v);
}

#[test]
fn odd_token_id_travels_as_one_segment_and_matches_official_vector() {
    let v = vector("delete_bearer_token_odd_token_id");
    let c = client_for(&v);
    let raw = v["input"]["raw_path_param"].as_str().unwrap();
    assert_eq!(raw, "tok en/ü+%~:@!$&'()*,;=");
    let req = c
        .delete_bearer_token_request("d-1234567890", "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e", raw)
        .unwrap();
    assert!(req
        .url
        .path()
        .ends_with("/tok%20en%2F%C3%BC%2B%25~%3A%40%21%24%26%27%28%29%2A%2C%3B%3D"));
    sign_and_compare(&c, req, &v);
}
