//! NCP signature v2 against the official signer's vectors (tests/data/README.md).

use serde_json::Value;
use token_common::credentials::NcpCredentials;
use token_common::signing::ncp::{request_uri, string_to_sign};
use token_common::signing::{NcpSigner, Sha256Backend, Signer};
use token_common::HttpRequest;

fn vectors() -> Vec<Value> {
    let doc: Value = serde_json::from_str(include_str!("data/ncp-signature-v2.json")).unwrap();
    doc["vectors"].as_array().unwrap().clone()
}

/// The vector's signer on every SHA-256 backend of this build.
fn signers(v: &Value) -> Vec<NcpSigner> {
    let input = &v["input"];
    let creds = NcpCredentials::new(
        input["access_key"].as_str().unwrap(),
        input["secret_key"].as_str().unwrap(),
    );
    Sha256Backend::all()
        .iter()
        .map(|&b| {
            let signer = NcpSigner::with_backend(&creds, b).unwrap();
            assert_eq!(signer.backend(), b);
            signer
        })
        .collect()
}

#[test]
fn every_vector_matches_signature_over_wire_request_uri() {
    let vectors = vectors();
    assert!(vectors.len() >= 10, "vector file looks truncated");
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let input = &v["input"];
        let uri = v["wire"]["request_uri"].as_str().unwrap();
        let ts = input["timestamp_ms"].as_u64().unwrap();
        let method = input["method"].as_str().unwrap();
        for signer in signers(v) {
            assert_eq!(
                signer.signature(method, uri, ts),
                v["signature_over_wire_request_uri"].as_str().unwrap(),
                "vector {name} on {signer:?}"
            );
        }
        if v["python_sdk_signs_wire_uri"].as_bool().unwrap() {
            let sts = string_to_sign(method, uri, ts, input["access_key"].as_str().unwrap());
            assert_eq!(sts, v["string_to_sign"].as_str().unwrap(), "vector {name}");
        }
    }
}

#[test]
fn signer_signs_the_url_exactly_as_sent() {
    let mut checked = 0;
    for v in vectors() {
        let name = v["name"].as_str().unwrap();
        let Some(url) = v["wire"]["url"].as_str() else {
            continue;
        };
        let url = url::Url::parse(url).unwrap();
        let uri = v["wire"]["request_uri"].as_str().unwrap();
        if request_uri(&url) != uri {
            // vectors whose request URI deliberately differs from the URL (the WRONG case)
            continue;
        }
        let input = &v["input"];
        let method =
            reqwest::Method::from_bytes(input["method"].as_str().unwrap().as_bytes()).unwrap();
        let ts = input["timestamp_ms"].as_u64().unwrap();
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ts);
        for signer in signers(&v) {
            let mut req = HttpRequest::new(method.clone(), url.clone(), "/test");
            signer.sign(&mut req, now).unwrap();
            let h = |n: &str| req.headers.get(n).unwrap().to_str().unwrap().to_owned();
            assert_eq!(h("x-ncp-apigw-timestamp"), ts.to_string(), "{name}");
            assert_eq!(
                h("x-ncp-iam-access-key"),
                input["access_key"].as_str().unwrap(),
                "{name}"
            );
            assert_eq!(
                h("x-ncp-apigw-signature-v2"),
                v["signature_over_wire_request_uri"].as_str().unwrap(),
                "{name} on {signer:?}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} vectors had a usable URL");
}

#[test]
fn empty_or_multiline_keys_are_refused_by_name() {
    let e = NcpSigner::new(&NcpCredentials::new("", "sk")).unwrap_err();
    assert_eq!(e.field(), Some("access_key"));
    let e = NcpSigner::new(&NcpCredentials::new("ak", "")).unwrap_err();
    assert_eq!(e.field(), Some("secret_key"));
    let e = NcpSigner::new(&NcpCredentials::new("ak\nX-Evil: 1", "sk")).unwrap_err();
    assert_eq!(e.field(), Some("access_key"));
    assert!(e.to_string().contains("line break"), "{e}");
}
