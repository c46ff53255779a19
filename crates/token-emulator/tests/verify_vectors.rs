//! The emulator's own verifiers against every official signing vector (tests/data/), stage
//! by stage, so a failure says which stage disagrees with the official signer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use token_common::SecretString;
use token_emulator::verify::huawei::{self, Algorithm, HuaweiKey};
use token_emulator::verify::{ncp, Refusal, RequestParts};

fn load(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

fn split_uri(uri: &str) -> (&str, Option<&str>) {
    match uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (uri, None),
    }
}

// ---------------------------------------------------------------------------------------
// Huawei

struct HuaweiCase {
    name: String,
    method: String,
    uri: String,
    headers: HeaderMap,
    body: Vec<u8>,
    ak: String,
    sk: String,
    security_token: Option<String>,
    now: SystemTime,
    v: Value,
}

impl HuaweiCase {
    fn parts(&self) -> RequestParts<'_> {
        let (path, query) = split_uri(&self.uri);
        RequestParts::new(&self.method, path, query, &self.headers, &self.body)
    }

    fn key(&self, sk: &str) -> HuaweiKey {
        let key = HuaweiKey::new(SecretString::new(sk));
        match &self.security_token {
            Some(t) => key.with_security_token(SecretString::new(t.as_str())),
            None => key,
        }
    }

    fn verify_with(&self, headers: &HeaderMap, sk: &str) -> Result<String, Refusal> {
        let (path, query) = split_uri(&self.uri);
        let parts = RequestParts::new(&self.method, path, query, headers, &self.body);
        let expected_ak = self.ak.clone();
        huawei::verify(&parts, self.now, |ak| {
            if ak == expected_ak {
                Ok(self.key(sk))
            } else {
                Err(Refusal::UnknownAccessKey)
            }
        })
    }
}

fn huawei_cases() -> Vec<HuaweiCase> {
    let doc = load("huawei-sdk-signing.json");
    let cases: Vec<HuaweiCase> = doc["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let input = &v["input"];
            let output = &v["output"];
            let mut headers = HeaderMap::new();
            for (name, value) in output["headers"].as_object().unwrap() {
                headers.append(
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value.as_str().unwrap()).unwrap(),
                );
            }
            let date = str_of(input, "x_sdk_date");
            HuaweiCase {
                name: str_of(v, "name").to_owned(),
                method: str_of(input, "method").to_owned(),
                uri: str_of(output, "request_uri_sent").to_owned(),
                headers,
                body: output["body_sent_utf8"]
                    .as_str()
                    .unwrap_or("")
                    .as_bytes()
                    .to_vec(),
                ak: str_of(input, "ak").to_owned(),
                sk: str_of(input, "sk").to_owned(),
                security_token: input["security_token"].as_str().map(str::to_owned),
                now: huawei::parse_sdk_date(date).unwrap(),
                v: v.clone(),
            }
        })
        .collect();
    assert_eq!(cases.len(), 19, "every official Huawei vector is checked");
    cases
}

#[test]
fn huawei_vectors_canonical_request_stage() {
    for case in huawei_cases() {
        let out = &case.v["output"];
        let auth = huawei::parse_authorization(str_of(out, "authorization")).unwrap();
        assert_eq!(auth.access_key, case.ak, "{}", case.name);
        assert_eq!(
            auth.signed_headers,
            str_of(out, "signed_headers"),
            "{}",
            case.name
        );
        let signed = huawei::signed_header_names(auth.signed_headers).unwrap();
        let parts = case.parts();
        let payload = huawei::payload_hash(&parts, auth.algorithm);
        let canonical = huawei::canonical_request(&parts, &signed, &payload).unwrap();
        assert_eq!(
            String::from_utf8(canonical).unwrap(),
            str_of(out, "canonical_request"),
            "canonical request of {}",
            case.name
        );
    }
}

#[test]
fn huawei_vectors_string_to_sign_and_key_stages() {
    let mut seen = [false; 3];
    for case in huawei_cases() {
        let out = &case.v["output"];
        let auth = huawei::parse_authorization(str_of(out, "authorization")).unwrap();
        let expected_algorithm = match str_of(&case.v["input"], "signing_algorithm") {
            "HMAC_SHA256" => Algorithm::Sha256,
            "HMAC_SM3" => Algorithm::Sm3,
            "V11 derived" => Algorithm::V11,
            other => panic!("unknown algorithm {other} in {}", case.name),
        };
        assert_eq!(auth.algorithm, expected_algorithm, "{}", case.name);
        seen[match expected_algorithm {
            Algorithm::Sha256 => 0,
            Algorithm::Sm3 => 1,
            _ => 2,
        }] = true;
        let text = huawei::string_to_sign(
            auth.algorithm,
            str_of(&case.v["input"], "x_sdk_date"),
            auth.info,
            str_of(out, "canonical_request").as_bytes(),
        );
        assert_eq!(
            text,
            str_of(out, "string_to_sign"),
            "string to sign of {}",
            case.name
        );
        let key = match auth.info {
            Some(info) => {
                assert_eq!(Some(info), out["derivation_info"].as_str(), "{}", case.name);
                let derived = huawei::v11_signing_key(&case.ak, &case.sk, info);
                assert_eq!(
                    Some(derived.as_str()),
                    out["derived_signing_key_hex"].as_str(),
                    "derived key of {}",
                    case.name
                );
                derived
            }
            None => {
                assert!(out["derived_signing_key_hex"].is_null(), "{}", case.name);
                case.sk.clone()
            }
        };
        assert_eq!(
            huawei::signature(auth.algorithm, key.as_bytes(), &text),
            auth.signature,
            "signature of {}",
            case.name
        );
    }
    assert_eq!(seen, [true; 3], "vectors cover SHA256, SM3 and V11");
}

#[test]
fn huawei_vectors_verify_end_to_end() {
    for case in huawei_cases() {
        assert_eq!(
            case.verify_with(&case.headers, &case.sk),
            Ok(case.ak.clone()),
            "{}",
            case.name
        );
    }
}

#[test]
fn huawei_vectors_refused_with_a_wrong_secret_or_a_changed_signature() {
    for case in huawei_cases() {
        assert_eq!(
            case.verify_with(&case.headers, &format!("{}x", case.sk)),
            Err(Refusal::SignatureMismatch),
            "{}",
            case.name
        );
        let mut headers = case.headers.clone();
        let auth = headers["authorization"].to_str().unwrap().to_owned();
        let last = auth.chars().last().unwrap();
        let flipped = format!(
            "{}{}",
            &auth[..auth.len() - 1],
            if last == '0' { '1' } else { '0' }
        );
        headers.insert("authorization", HeaderValue::from_str(&flipped).unwrap());
        assert_eq!(
            case.verify_with(&headers, &case.sk),
            Err(Refusal::SignatureMismatch),
            "{}",
            case.name
        );
    }
}

#[test]
fn huawei_vectors_refused_outside_15_minutes() {
    for mut case in huawei_cases() {
        let signed_at = case.now;
        for (at, ok) in [
            (signed_at + Duration::from_secs(15 * 60), true),
            (signed_at - Duration::from_secs(15 * 60), true),
            (signed_at + Duration::from_secs(15 * 60 + 1), false),
            (signed_at - Duration::from_secs(15 * 60 + 1), false),
        ] {
            case.now = at;
            let got = case.verify_with(&case.headers, &case.sk);
            if ok {
                assert!(got.is_ok(), "{}: {got:?}", case.name);
            } else {
                assert_eq!(got, Err(Refusal::Expired), "{}", case.name);
            }
        }
    }
}

#[test]
fn huawei_security_token_must_be_present_signed_and_the_keys_own() {
    let cases = huawei_cases();
    let sts = cases
        .iter()
        .find(|c| c.name == "create_bearer_token_store_host_basic_sts")
        .unwrap();
    let mut without = sts.headers.clone();
    without.remove("x-security-token");
    assert_eq!(
        sts.verify_with(&without, &sts.sk),
        Err(Refusal::SecurityTokenMissing)
    );
    let mut other = sts.headers.clone();
    other.insert("x-security-token", HeaderValue::from_static("another"));
    assert_eq!(
        sts.verify_with(&other, &sts.sk),
        Err(Refusal::SecurityTokenMismatch)
    );

    // A permanent key's request with a security token added after signing: not signed.
    let basic = cases
        .iter()
        .find(|c| c.name == "create_bearer_token_store_host_basic")
        .unwrap();
    let mut added = basic.headers.clone();
    added.insert("x-security-token", HeaderValue::from_static("t"));
    let mut temporary = clone_case(basic);
    temporary.security_token = Some("t".into());
    assert_eq!(
        temporary.verify_with(&added, &basic.sk),
        Err(Refusal::NotSigned("X-Security-Token"))
    );
    // A permanent key must not come with a token at all.
    assert_eq!(
        basic.verify_with(&added, &basic.sk),
        Err(Refusal::SecurityTokenMismatch)
    );
}

fn clone_case(c: &HuaweiCase) -> HuaweiCase {
    HuaweiCase {
        name: c.name.clone(),
        method: c.method.clone(),
        uri: c.uri.clone(),
        headers: c.headers.clone(),
        body: c.body.clone(),
        ak: c.ak.clone(),
        sk: c.sk.clone(),
        security_token: c.security_token.clone(),
        now: c.now,
        v: c.v.clone(),
    }
}

#[test]
fn huawei_unknown_or_expired_keys_are_refused_before_the_signature() {
    let case = &huawei_cases()[0];
    let parts = case.parts();
    for refusal in [Refusal::UnknownAccessKey, Refusal::ExpiredAccessKey] {
        let r = refusal.clone();
        assert_eq!(
            huawei::verify(&parts, case.now, move |_| Err(r)),
            Err(refusal)
        );
    }
}

#[test]
fn refusals_never_show_the_signature_or_secrets() {
    for case in huawei_cases() {
        let mut headers = case.headers.clone();
        headers.insert("x-sdk-date", HeaderValue::from_static("20250101T120001Z"));
        let refusal = case.verify_with(&headers, &case.sk).unwrap_err();
        let auth = huawei::parse_authorization(headers["authorization"].to_str().unwrap()).unwrap();
        for shown in [format!("{refusal}"), format!("{refusal:?}")] {
            assert!(!shown.contains(auth.signature), "{shown}");
            assert!(!shown.contains(&case.sk), "{shown}");
            if let Some(t) = &case.security_token {
                assert!(!shown.contains(t.as_str()), "{shown}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// NCP

#[test]
fn ncp_vectors_string_to_sign_and_signature() {
    let doc = load("ncp-signature-v2.json");
    let vectors = doc["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 18, "every official NCP vector is checked");
    for v in vectors {
        let name = str_of(v, "name");
        let input = &v["input"];
        let uri = str_of(&v["wire"], "request_uri");
        let (path, query) = split_uri(uri);
        assert_eq!(ncp::request_uri(path, query), uri, "{name}");
        let ts = input["timestamp_ms"].as_u64().unwrap().to_string();
        let text = ncp::string_to_sign(
            str_of(&v["wire"], "method"),
            uri,
            &ts,
            str_of(input, "access_key"),
        );
        let sig = ncp::signature(str_of(input, "secret_key").as_bytes(), &text);
        assert_eq!(sig, str_of(v, "signature_over_wire_request_uri"), "{name}");
        if v["python_sdk_signs_wire_uri"].as_bool().unwrap() {
            assert_eq!(text, str_of(v, "string_to_sign"), "{name}");
            assert_eq!(sig, str_of(v, "signature"), "{name}");
        }
    }
}

fn ncp_headers(ts: &str, ak: &str, signature: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(ncp::TIMESTAMP_HEADER, HeaderValue::from_str(ts).unwrap());
    h.insert(ncp::ACCESS_KEY_HEADER, HeaderValue::from_str(ak).unwrap());
    h.insert(
        ncp::SIGNATURE_HEADER,
        HeaderValue::from_str(signature).unwrap(),
    );
    h
}

#[test]
fn ncp_vectors_verify_within_5_minutes_and_only_over_the_wire_uri() {
    let doc = load("ncp-signature-v2.json");
    for v in doc["vectors"].as_array().unwrap() {
        let name = str_of(v, "name");
        let input = &v["input"];
        let (ak, sk) = (str_of(input, "access_key"), str_of(input, "secret_key"));
        let ts_ms = input["timestamp_ms"].as_u64().unwrap();
        let uri = str_of(&v["wire"], "request_uri");
        let (path, query) = split_uri(uri);
        let method = str_of(&v["wire"], "method");
        let lookup = |k: &str| {
            if k == ak {
                Ok(SecretString::new(sk))
            } else {
                Err(Refusal::UnknownAccessKey)
            }
        };
        let signed_at = UNIX_EPOCH + Duration::from_millis(ts_ms);
        let headers = ncp_headers(
            &ts_ms.to_string(),
            ak,
            str_of(v, "signature_over_wire_request_uri"),
        );
        let parts = RequestParts::new(method, path, query, &headers, b"");
        let window = ncp::TIMESTAMP_WINDOW;
        let ms = Duration::from_millis(1);
        for (now, ok) in [
            (signed_at, true),
            (signed_at + window - ms, true),
            (signed_at - window + ms, true),
            (signed_at + window, false),
            (signed_at - window, false),
        ] {
            let got = ncp::verify(&parts, now, lookup);
            if ok {
                assert_eq!(got, Ok(ak.to_owned()), "{name}");
            } else {
                assert_eq!(got, Err(Refusal::Expired), "{name}");
            }
        }
        // The Python SDK's signature over the unencoded query is not what goes on the wire.
        if !v["python_sdk_signs_wire_uri"].as_bool().unwrap() {
            let headers = ncp_headers(&ts_ms.to_string(), ak, str_of(v, "signature"));
            let parts = RequestParts::new(method, path, query, &headers, b"");
            assert_eq!(
                ncp::verify(&parts, signed_at, lookup),
                Err(Refusal::SignatureMismatch),
                "{name}"
            );
        }
        // Another method, another path, or a wrong secret: refused.
        let other_method = if method == "DELETE" {
            "PATCH"
        } else {
            "DELETE"
        };
        let other = RequestParts::new(other_method, path, query, &headers, b"");
        assert_eq!(
            ncp::verify(&other, signed_at, lookup),
            Err(Refusal::SignatureMismatch),
            "{name}"
        );
        let longer = format!("{path}/");
        let other = RequestParts::new(method, &longer, query, &headers, b"");
        assert_eq!(
            ncp::verify(&other, signed_at, lookup),
            Err(Refusal::SignatureMismatch),
            "{name}"
        );
        let wrong = |_: &str| Ok(SecretString::new("wrong"));
        assert_eq!(
            ncp::verify(&parts, signed_at, wrong),
            Err(Refusal::SignatureMismatch),
            "{name}"
        );
    }
}

#[test]
fn ncp_headers_must_each_appear_once_and_be_well_formed() {
    let lookup = |_: &str| Ok(SecretString::new("sk"));
    let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
    let good = ncp_headers("1700000000123", "ak", "AAAA");
    for name in [
        ncp::TIMESTAMP_HEADER,
        ncp::ACCESS_KEY_HEADER,
        ncp::SIGNATURE_HEADER,
    ] {
        let mut h = good.clone();
        h.remove(name);
        let parts = RequestParts::new("GET", "/kms/v1/keys", None, &h, b"");
        assert_eq!(
            ncp::verify(&parts, now, lookup),
            Err(Refusal::MissingHeader(name))
        );
        let mut h = good.clone();
        h.append(name, HeaderValue::from_static("1700000000123"));
        let parts = RequestParts::new("GET", "/kms/v1/keys", None, &h, b"");
        assert_eq!(
            ncp::verify(&parts, now, lookup),
            Err(Refusal::RepeatedHeader(name))
        );
    }
    for ts in [
        "",
        "-1",
        "+1700000000123",
        "1700000000123.0",
        "99999999999999999999999",
    ] {
        let h = ncp_headers(ts, "ak", "AAAA");
        let parts = RequestParts::new("GET", "/kms/v1/keys", None, &h, b"");
        assert_eq!(
            ncp::verify(&parts, now, lookup),
            Err(Refusal::Malformed(ncp::TIMESTAMP_HEADER)),
            "{ts:?}"
        );
    }
}
