//! Whole calls, sent through the transport with a `ManualClock` at the vectors' time
//! (2025-01-01T12:00:00Z) and an in-memory HTTP client, compared with the official SDK
//! signer's vectors (copied into `tests/data/`, see its README).
//!
//! The official SDK also signs its `User-Agent`; this crate leaves the user agent to the
//! HTTP layer, unsigned. So the canonical request is rebuilt from the headers the client
//! sent plus the vector's `User-Agent`, and must then equal the vector's byte for byte —
//! as must the `Authorization` computed from it.

mod support;

use std::sync::Arc;

use huawei_identity_client::{Environment, HuaweiCredentials, IdentityStoreClient, Transport};
use serde_json::Value;
use support::{json_response, FakeHttp};
use token_common::clock::ManualClock;
use token_common::signing::huawei::{
    authorization, canonical_query_from_raw, canonical_request, canonical_uri, payload_hash,
    signature, string_to_sign,
};
use token_common::{HttpRequest, SecretString};

const VECTORS: &str = include_str!("data/huawei-sdk-signing-subset.json");

fn vector(name: &str) -> Value {
    let all: Value = serde_json::from_str(VECTORS).unwrap();
    all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap()
        .clone()
}

fn client_for(v: &Value, fake: Arc<FakeHttp>) -> IdentityStoreClient {
    let input = &v["input"];
    let mut creds =
        HuaweiCredentials::new(input["ak"].as_str().unwrap(), input["sk"].as_str().unwrap())
            .with_project_id(input["project_id"].as_str().unwrap());
    if let Some(t) = input["security_token"].as_str() {
        creds = creds.with_security_token(t);
    }
    let transport = Transport::builder()
        .http_client(fake)
        .clock(Arc::new(ManualClock::at_unix_seconds(1_735_732_800)))
        .build()
        .unwrap();
    IdentityStoreClient::builder()
        .region("cn-north-4")
        .credentials(creds)
        .environment(Environment::from_pairs::<&str, &str>([]))
        .transport(transport)
        .build()
        .unwrap()
}

fn check(sent: &HttpRequest, v: &Value) {
    let input = &v["input"];
    let out = &v["output"];
    assert_eq!(sent.url.as_str(), out["url_sent"].as_str().unwrap());
    assert_eq!(sent.method.as_str(), input["method"].as_str().unwrap());
    assert!(sent.body.is_none());
    // Every header the official signer produced, except the user agent, is on the request
    // with the same value.
    for (name, want) in out["headers"].as_object().unwrap() {
        if name == "User-Agent" || name == "Authorization" {
            continue;
        }
        let got = sent.headers.get(name.as_str()).unwrap().to_str().unwrap();
        assert_eq!(got, want.as_str().unwrap(), "{name}");
    }
    let ua = input["headers"]["User-Agent"].as_str().unwrap();
    let mut pairs: Vec<(&str, &str)> = sent
        .headers
        .iter()
        .filter(|(n, _)| *n != "authorization")
        .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
        .collect();
    pairs.push(("user-agent", ua));
    let canonical = canonical_request(
        sent.method.as_str(),
        &canonical_uri(sent.url.path()),
        &canonical_query_from_raw(sent.url.query().unwrap_or("")),
        &pairs,
        &payload_hash(Some("application/json"), None),
    );
    assert_eq!(canonical.text, out["canonical_request"].as_str().unwrap());
    let sts = string_to_sign("20250101T120000Z", &canonical.text);
    assert_eq!(sts, out["string_to_sign"].as_str().unwrap());
    let auth = authorization(
        input["ak"].as_str().unwrap(),
        &canonical.signed_headers,
        &signature(&SecretString::new(input["sk"].as_str().unwrap()), &sts),
    );
    assert_eq!(auth, out["authorization"].as_str().unwrap());
    // And the client's own signature, over the same headers minus the user agent, checks
    // out with the same pure functions.
    pairs.pop();
    let own = canonical_request(
        sent.method.as_str(),
        &canonical_uri(sent.url.path()),
        "",
        &pairs,
        &payload_hash(Some("application/json"), None),
    );
    let own_auth = authorization(
        input["ak"].as_str().unwrap(),
        &own.signed_headers,
        &signature(
            &SecretString::new(input["sk"].as_str().unwrap()),
            &string_to_sign("20250101T120000Z", &own.text),
        ),
    );
    assert_eq!(sent.headers["authorization"].to_str().unwrap(), own_auth);
}

#[tokio::test]
async fn delete_bearer_token_with_odd_id_matches_official_vector() {
    let v = vector("delete_bearer_token_odd_token_id");
    let fake = FakeHttp::sequence(vec![json_response(204, "")]);
    let client = client_for(&v, fake.clone());
    client
        .delete_bearer_token(
            "d-1234567890",
            "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e",
            v["input"]["raw_path_param"].as_str().unwrap(),
        )
        .await
        .unwrap();
    let sent = fake.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].url.path(),
        v["output"]["request_uri_sent"].as_str().unwrap()
    );
    check(&sent[0], &v);
}

#[tokio::test]
async fn create_and_list_bearer_tokens_match_official_vectors() {
    let created = r#"{"creation_time":1,"expiration_time":2,"token":"x","token_id":"t"}"#;
    for name in [
        "create_bearer_token_store_host_basic",
        "create_bearer_token_store_host_basic_sts",
    ] {
        let v = vector(name);
        let fake = FakeHttp::sequence(vec![json_response(201, created)]);
        client_for(&v, fake.clone())
            .create_bearer_token("d-1234567890", "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e")
            .await
            .unwrap();
        check(&fake.requests()[0], &v);
    }
    let v = vector("list_bearer_tokens");
    let fake = FakeHttp::sequence(vec![json_response(200, r#"{"bearer_tokens":[]}"#)]);
    client_for(&v, fake.clone())
        .list_bearer_tokens("d-1234567890", "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e")
        .await
        .unwrap();
    check(&fake.requests()[0], &v);
}
