#![no_main]
//! The Huawei signer's fast path against the pure stages on arbitrary requests: lines of
//! the input become method, path and query, headers (as many as it holds, so past the
//! signer's 12 on the stack) and body; the first byte picks the algorithm, whether the
//! credentials carry a security token, the scope and the SHA-256 backend. Signing must not panic, and what it writes must be
//! what `authorization_by_stages` computes from the signed request.
use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use token_common::credentials::{HuaweiCredentials, HuaweiScope};
use token_common::reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION};
use token_common::reqwest::Method;
use token_common::signing::huawei::{authorization_by_stages, HuaweiAlgorithm, HuaweiSigner};
use token_common::signing::{Sha256Backend, Signer};
use token_common::HttpRequest;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let algorithm = match choice % 3 {
        0 => HuaweiAlgorithm::HmacSha256,
        1 => HuaweiAlgorithm::HmacSm3,
        _ => HuaweiAlgorithm::v11("cn-north-4", "identitystore"),
    };
    let mut credentials = HuaweiCredentials::new("AKEXAMPLE", "SKEXAMPLEsecret");
    if choice & 4 != 0 {
        credentials = credentials.with_security_token("security/token+==");
    }
    let scope = if choice & 8 != 0 {
        HuaweiScope::Domain("d0".into())
    } else {
        HuaweiScope::Project("p0".into())
    };
    let backends = Sha256Backend::all();
    let backend = backends[usize::from(choice >> 4) % backends.len()];
    let signer = HuaweiSigner::with_backend(&credentials, scope, algorithm.clone(), backend)
        .expect("fixed, valid credentials");

    let mut lines = text.split('\n');
    let Ok(method) = Method::from_bytes(lines.next().unwrap_or("").as_bytes()) else {
        return;
    };
    let Ok(url) = token_common::url::Url::parse(&format!(
        "https://identitystore.cn-north-4.myhuaweicloud.com{}",
        lines.next().unwrap_or("")
    )) else {
        return;
    };
    let mut request = HttpRequest::new(method, url, "/fuzz");
    for line in lines.by_ref() {
        let Some((name, value)) = line.split_once(':') else {
            request.body = Some(line.as_bytes().to_vec());
            break;
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            request.headers.append(n, v);
        }
    }
    let now = UNIX_EPOCH + Duration::from_secs(1_735_732_800 + u64::from(choice) * 86_399);
    let before = request.headers.clone();
    if signer.sign(&mut request, now).is_err() {
        // Refused (a header that is not visible ASCII): the request is left as it was.
        assert_eq!(request.headers, before);
        return;
    }
    let written = request.headers[AUTHORIZATION].to_str().expect("ASCII");
    let expected = authorization_by_stages(&algorithm, &credentials, &request)
        .expect("a request the signer signed is one the stages can sign");
    assert_eq!(written, expected, "{algorithm:?} on {}", request.url);
});
