#![no_main]
//! The emulator's signature verifiers (NCP v2; Huawei SHA256, SM3, V11) on arbitrary
//! request parts: lines of the input become method, path, query, headers and body.
use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use token_common::reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use token_common::SecretString;
use token_emulator::verify::huawei::{self, HuaweiKey};
use token_emulator::verify::{ncp, RequestParts};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let method = lines.next().unwrap_or("");
    let target = lines.next().unwrap_or("");
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let mut headers = HeaderMap::new();
    let mut body = "";
    for line in lines.by_ref() {
        let Some((name, value)) = line.split_once(':') else {
            body = line;
            break;
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    }
    let parts = RequestParts::new(method, path, query, &headers, body.as_bytes());
    for now in [1_735_732_800u64, 1_700_000_000] {
        let now = UNIX_EPOCH + Duration::from_secs(now);
        let _ = ncp::verify(&parts, now, |_| Ok(SecretString::new("sk")));
        let _ = huawei::verify(&parts, now, |_| {
            Ok(HuaweiKey::new(SecretString::new("sk")).with_security_token(SecretString::new("t")))
        });
    }
});
