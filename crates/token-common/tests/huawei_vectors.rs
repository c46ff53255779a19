//! Huawei SDK-HMAC-SHA256, SDK-HMAC-SM3 and V11-HMAC-SHA256 against the official signer's
//! vectors, stage by stage, and the signer (its fast path) on every vector
//! (tests/data/README.md).

use std::time::SystemTime;

use reqwest::header::{HeaderName, HeaderValue};
use serde_json::Value;
use token_common::credentials::{HuaweiCredentials, HuaweiScope};
use token_common::signing::huawei::{
    authorization, canonical_query_from_raw, canonical_request, canonical_uri, parse_sdk_date,
    payload_hash, signature, sm3, string_to_sign, v11, CanonicalRequest, HuaweiAlgorithm,
};
use token_common::signing::{HuaweiSigner, Sha256Backend, Signer};
use token_common::{HttpRequest, SecretString};

fn all_vectors() -> Vec<Value> {
    let doc: Value = serde_json::from_str(include_str!("data/huawei-sdk-signing.json")).unwrap();
    doc["vectors"].as_array().unwrap().clone()
}

fn vectors_of(algorithm: &str, at_least: usize) -> Vec<Value> {
    let v: Vec<Value> = all_vectors()
        .into_iter()
        .filter(|v| v["input"]["signing_algorithm"] == algorithm)
        .collect();
    assert!(v.len() >= at_least, "vector file looks truncated");
    v
}

fn hmac_sha256_vectors() -> Vec<Value> {
    vectors_of("HMAC_SHA256", 15)
}

/// The algorithm a vector was signed with, as this crate names it.
fn algorithm_of(v: &Value) -> HuaweiAlgorithm {
    let input = &v["input"];
    match s(&input["signing_algorithm"]) {
        "HMAC_SHA256" => HuaweiAlgorithm::HmacSha256,
        "HMAC_SM3" => HuaweiAlgorithm::HmacSm3,
        "V11 derived" => {
            // The SDK's `derived_auth` is (service, region).
            let d = input["derived_auth"].as_array().unwrap();
            HuaweiAlgorithm::v11(s(&d[1]), s(&d[0]))
        }
        other => panic!("unknown algorithm {other}"),
    }
}

/// An algorithm's payload-hash stage.
type PayloadHash = fn(Option<&str>, Option<&[u8]>) -> String;

/// Stage 1 for any algorithm: the canonical request from the headers the SDK sent.
fn canonical_of(v: &Value, payload: PayloadHash) -> CanonicalRequest {
    let url = wire_url(v);
    let headers: Vec<(&str, &str)> = v["output"]["headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "Authorization")
        .map(|(k, v)| (k.as_str(), s(v)))
        .collect();
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| *v);
    let body = v["input"]["body"].as_str().map(str::as_bytes);
    canonical_request(
        s(&v["input"]["method"]),
        &canonical_uri(url.path()),
        &url.query()
            .map(canonical_query_from_raw)
            .unwrap_or_default(),
        &headers,
        &payload(content_type, body),
    )
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap()
}

/// The URL the SDK sent, as the `url` crate holds it (raw spaces become `%20`).
fn wire_url(v: &Value) -> url::Url {
    url::Url::parse(s(&v["output"]["url_sent"])).unwrap()
}

#[test]
fn canonical_request_string_to_sign_and_authorization_match_stage_by_stage() {
    for v in hmac_sha256_vectors() {
        let name = s(&v["name"]);
        let input = &v["input"];
        let out = &v["output"];
        let url = wire_url(&v);
        // Stage 1: canonical request from the headers the SDK ended up sending.
        let headers: Vec<(&str, &str)> = out["headers"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k != "Authorization")
            .map(|(k, v)| (k.as_str(), s(v)))
            .collect();
        let content_type = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| *v);
        let body = input["body"].as_str().map(str::as_bytes);
        let canonical = canonical_request(
            s(&input["method"]),
            &canonical_uri(url.path()),
            &url.query()
                .map(canonical_query_from_raw)
                .unwrap_or_default(),
            &headers,
            &payload_hash(content_type, body),
        );
        assert_eq!(
            canonical.text,
            s(&out["canonical_request"]),
            "{name}: canonical request"
        );
        assert_eq!(
            canonical.signed_headers,
            s(&out["signed_headers"]),
            "{name}: signed headers"
        );
        // Stage 2: string to sign.
        let sts = string_to_sign(s(&input["x_sdk_date"]), &canonical.text);
        assert_eq!(sts, s(&out["string_to_sign"]), "{name}: string to sign");
        // Stage 3: signature and Authorization.
        let sig = signature(&SecretString::new(s(&input["sk"])), &sts);
        let auth = authorization(s(&input["ak"]), &canonical.signed_headers, &sig);
        assert_eq!(auth, s(&out["authorization"]), "{name}: authorization");
    }
}

#[test]
fn sm3_vectors_match_stage_by_stage() {
    for v in vectors_of("HMAC_SM3", 2) {
        let name = s(&v["name"]);
        let (input, out) = (&v["input"], &v["output"]);
        let canonical = canonical_of(&v, sm3::payload_hash);
        assert_eq!(
            canonical.text,
            s(&out["canonical_request"]),
            "{name}: canonical request"
        );
        assert_eq!(
            canonical.signed_headers,
            s(&out["signed_headers"]),
            "{name}: signed headers"
        );
        let sts = sm3::string_to_sign(s(&input["x_sdk_date"]), &canonical.text);
        assert_eq!(sts, s(&out["string_to_sign"]), "{name}: string to sign");
        let sig = sm3::signature(&SecretString::new(s(&input["sk"])), &sts);
        let auth = sm3::authorization(s(&input["ak"]), &canonical.signed_headers, &sig);
        assert_eq!(auth, s(&out["authorization"]), "{name}: authorization");
    }
}

#[test]
fn sm3_of_the_empty_body_is_the_documented_constant() {
    let doc: Value = serde_json::from_str(include_str!("data/huawei-sdk-signing.json")).unwrap();
    assert_eq!(sm3::EMPTY_BODY_SM3, s(&doc["constants"]["empty_sm3"]));
    assert_eq!(
        sm3::payload_hash(Some("application/json"), Some(b"")),
        sm3::EMPTY_BODY_SM3
    );
}

#[test]
fn v11_vector_matches_stage_by_stage() {
    for v in vectors_of("V11 derived", 1) {
        let name = s(&v["name"]);
        let (input, out) = (&v["input"], &v["output"]);
        let HuaweiAlgorithm::V11HmacSha256 { region, service } = algorithm_of(&v) else {
            unreachable!()
        };
        let canonical = canonical_of(&v, payload_hash);
        assert_eq!(
            canonical.text,
            s(&out["canonical_request"]),
            "{name}: canonical request"
        );
        let date = s(&input["x_sdk_date"]);
        let info = v11::derivation_info(date, &region, &service);
        assert_eq!(info, s(&out["derivation_info"]), "{name}: derivation info");
        let key = v11::derived_key_hex(s(&input["ak"]), &SecretString::new(s(&input["sk"])), &info);
        assert_eq!(
            key.expose_secret(),
            s(&out["derived_signing_key_hex"]),
            "{name}: derived key"
        );
        let sts = v11::string_to_sign(date, &info, &canonical.text);
        assert_eq!(sts, s(&out["string_to_sign"]), "{name}: string to sign");
        let sig = v11::signature(&key, &sts);
        let auth = v11::authorization(s(&input["ak"]), &info, &canonical.signed_headers, &sig);
        assert_eq!(auth, s(&out["authorization"]), "{name}: authorization");
    }
}

#[test]
fn signer_adds_the_headers_the_sdk_adds_and_the_same_authorization() {
    let vectors = all_vectors();
    assert!(vectors.len() >= 19, "vector file looks truncated");
    for v in vectors {
        let name = s(&v["name"]);
        let input = &v["input"];
        let out = &v["output"];
        let mut creds = HuaweiCredentials::new(s(&input["ak"]), s(&input["sk"]));
        if let Some(t) = input["security_token"].as_str() {
            creds = creds.with_security_token(t);
        }
        let scope = match (input["project_id"].as_str(), input["domain_id"].as_str()) {
            (Some(p), _) => HuaweiScope::Project(p.to_owned()),
            (None, Some(d)) => HuaweiScope::Domain(d.to_owned()),
            _ => HuaweiScope::None,
        };
        // Every SHA-256 backend of this build signs every vector.
        for &backend in Sha256Backend::all() {
            let signer =
                HuaweiSigner::with_backend(&creds, scope.clone(), algorithm_of(&v), backend)
                    .unwrap();
            assert_eq!(signer.backend(), backend);
            let method = reqwest::Method::from_bytes(s(&input["method"]).as_bytes()).unwrap();
            let mut req = HttpRequest::new(method, wire_url(&v), "/test");
            for (k, val) in input["headers"].as_object().unwrap() {
                if k == "X-Sdk-Date" {
                    continue; // the signer writes it from the signing time
                }
                req.headers.insert(
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(s(val)).unwrap(),
                );
            }
            req.body = input["body"].as_str().map(|b| b.as_bytes().to_vec());
            let now: SystemTime = parse_sdk_date(s(&input["x_sdk_date"])).unwrap();
            signer.sign(&mut req, now).unwrap();

            for (k, want) in out["headers"].as_object().unwrap() {
                let got = req
                    .headers
                    .get(k.as_str())
                    .unwrap_or_else(|| panic!("{name} ({backend:?}): header {k} missing"))
                    .to_str()
                    .unwrap();
                // The SDK strips header values before sending; we sign them trimmed and
                // send them as given, which the gateway trims the same way.
                assert_eq!(
                    got.trim(),
                    s(want).trim(),
                    "{name} ({backend:?}): header {k}"
                );
            }
        }
    }
}

#[test]
fn percent_encoded_slash_in_a_path_parameter_is_signed_as_a_real_slash() {
    // What the official signer does (vector delete_bearer_token_odd_token_id).
    assert_eq!(
        canonical_uri("/v1/bearer-token/tok%20en%2F%C3%BC%2B%25~%3A"),
        "/v1/bearer-token/tok%20en/%C3%BC%2B%25~%3A/"
    );
}

#[test]
fn bad_credentials_are_refused_by_name_without_echoing_them() {
    let secret = "SKsecretNEVERshown";
    let cases = [
        (HuaweiCredentials::new("", secret), "ak"),
        (HuaweiCredentials::new("AK", ""), "sk"),
        (HuaweiCredentials::new("AK\r\n", secret), "ak"),
        (
            HuaweiCredentials::new("AK", secret).with_security_token("tok\nX-Injected: 1"),
            "security_token",
        ),
    ];
    for (creds, field) in cases {
        let e = HuaweiSigner::new(&creds, HuaweiScope::None).unwrap_err();
        assert_eq!(e.field(), Some(field));
        for shown in [e.to_string(), format!("{e:?}")] {
            assert!(
                !shown.contains(secret) && !shown.contains("X-Injected"),
                "{shown}"
            );
        }
    }
    let e = HuaweiSigner::new(
        &HuaweiCredentials::new("AK", "SK"),
        HuaweiScope::Project(String::new()),
    )
    .unwrap_err();
    assert_eq!(e.field(), Some("project_id"));
}
