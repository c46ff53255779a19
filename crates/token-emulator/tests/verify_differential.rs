//! Differential test: the CLIENTS' signers (token_common::signing) sign thousands of random,
//! odd requests — paths and queries with `+`, `%`, spaces, non-ASCII, duplicate keys, headers
//! with repeated values — and the emulator's independent verifier must accept every one, and
//! refuse each after a one-byte change to any signed part.
//!
//! Deterministic (fixed seeds) and bounded (a fixed number of cases), so a failure replays
//! exactly; the failing case is printed whole.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use token_common::credentials::{HuaweiCredentials, HuaweiScope, NcpCredentials};
use token_common::signing::{HuaweiSigner, NcpSigner, Signer};
use token_common::url::Url;
use token_common::{HttpRequest, SecretString};
use token_emulator::verify::huawei::{self, HuaweiKey};
use token_emulator::verify::{ncp, Refusal, RequestParts};

const CASES: usize = 3000;

/// Characters a path or query part is drawn from: unreserved, sub-delims, `+`, `%`, space,
/// `/`, `?`, `#`, quotes and non-ASCII of two, three and four bytes.
const ALPHABET: &[&str] = &[
    "a", "b", "z", "A", "Z", "0", "9", "-", "_", ".", "~", "+", "%", " ", "/", "?", "#", "&", "=",
    ":", "@", "!", "$", "'", "(", ")", "*", ",", ";", "\"", "é", "ü", "한", "😀", "\u{a0}",
];
/// Query keys come from a small set, so duplicate keys are common.
const KEYS: &[&str] = &["a", "b", "B", "a b", "a+b", "k%", "키", "x.y", "x/y", ""];

struct Gen(fastrand::Rng);

impl Gen {
    fn text(&mut self, max: usize) -> String {
        let n = self.0.usize(0..=max);
        (0..n)
            .map(|_| ALPHABET[self.0.usize(..ALPHABET.len())])
            .collect()
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.0.usize(..from.len())]
    }

    /// `text` as it may travel in a URL: every byte that must be escaped is `%XX` (upper or
    /// lower case hex), and a byte that may travel raw sometimes does. `raw_ok` lists what
    /// may travel raw here besides unreserved characters.
    fn wire(&mut self, text: &str, raw_ok: &[u8]) -> String {
        let mut out = String::new();
        for &b in text.as_bytes() {
            let unreserved = b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
            if (unreserved || raw_ok.contains(&b)) && self.0.u8(..4) != 0 {
                out.push(char::from(b));
            } else if self.0.bool() {
                out.push_str(&format!("%{b:02X}"));
            } else {
                out.push_str(&format!("%{b:02x}"));
            }
        }
        out
    }

    fn method(&mut self) -> Method {
        [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ][self.0.usize(..5)]
        .clone()
    }

    fn path(&mut self) -> String {
        let mut path = String::new();
        for _ in 0..self.0.usize(1..=5) {
            path.push('/');
            let segment = self.text(8);
            path.push_str(&self.wire(&segment, b"!$&'()*+,;=:@"));
        }
        if self.0.u8(..5) == 0 {
            path.push('/');
        }
        path
    }

    /// A wire query in random (unsorted) order, `None` for no `?` at all.
    fn query(&mut self) -> Option<String> {
        if self.0.u8(..4) == 0 {
            return None;
        }
        let mut pieces = Vec::new();
        for _ in 0..self.0.usize(0..=6) {
            let k = self.pick(KEYS);
            let v = self.text(6);
            let k = self.wire(k, b"!$'()*,;:@/?+");
            let v = self.wire(&v, b"!$'()*,;:@/?+=");
            pieces.push(if v.is_empty() && self.0.bool() {
                k
            } else {
                format!("{k}={v}")
            });
        }
        Some(pieces.join("&"))
    }

    /// A visible-ASCII header value, with inner spaces (and sometimes outer ones).
    fn header_value(&mut self) -> String {
        let n = self.0.usize(1..=12);
        let mut v: String = (0..n)
            .map(|_| {
                let c = self.0.u8(0x21..0x7f);
                if self.0.u8(..8) == 0 {
                    ' '
                } else {
                    char::from(c)
                }
            })
            .collect();
        if self.0.u8(..6) == 0 {
            v = format!("  {v} ");
        }
        v
    }

    fn token(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| char::from(CHARS[self.0.usize(..CHARS.len())]))
            .collect()
    }
}

fn url(path: &str, query: Option<&str>) -> Url {
    let mut s = format!("http://127.0.0.1:8080{path}");
    if let Some(q) = query {
        s.push('?');
        s.push_str(q);
    }
    Url::parse(&s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// Replaces one byte of `s` at a position `ok` accepts with another byte `ok` accepts, so
/// the text stays well-formed but says something else; `None` when no position qualifies.
fn change_one_byte(g: &mut Gen, s: &str, ok: impl Fn(&[u8], usize) -> bool) -> Option<String> {
    let b = s.as_bytes();
    let spots: Vec<usize> = (0..b.len()).filter(|&i| ok(b, i)).collect();
    let &i = spots.get(g.0.usize(..spots.len().max(1)))?;
    let mut out = b.to_vec();
    out[i] = if out[i].is_ascii_digit() {
        b'0' + (out[i] - b'0' + 1) % 10
    } else if out[i] == b'z' || out[i] == b'Z' {
        out[i] - 1
    } else if out[i].is_ascii_alphabetic() {
        out[i] + 1
    } else {
        b'q'
    };
    String::from_utf8(out).ok()
}

/// A letter or digit that is not part of a `%XX` escape (changing an escape's hex case
/// would not change what it means).
fn alnum_outside_escape(b: &[u8], i: usize) -> bool {
    let in_escape = (i >= 1 && b[i - 1] == b'%') || (i >= 2 && b[i - 2] == b'%');
    b[i].is_ascii_alphanumeric() && !in_escape
}

// ---------------------------------------------------------------------------------------
// Huawei

struct HuaweiCase {
    request: HttpRequest,
    ak: String,
    key: HuaweiKey,
    now: SystemTime,
}

impl HuaweiCase {
    fn verify(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<String, Refusal> {
        let parts = RequestParts::new(method, path, query, headers, body);
        huawei::verify(&parts, self.now, |ak| {
            if ak == self.ak {
                Ok(self.key.clone())
            } else {
                Err(Refusal::UnknownAccessKey)
            }
        })
    }

    fn verify_as_sent(&self) -> Result<String, Refusal> {
        let r = &self.request;
        self.verify(
            r.method.as_str(),
            r.url.path(),
            r.url.query(),
            &r.headers,
            r.body.as_deref().unwrap_or(b""),
        )
    }

    fn describe(&self) -> String {
        format!(
            "{} {} headers={:?} body={:?}",
            self.request.method,
            self.request.url,
            self.request.headers,
            self.request.body.as_deref().map(String::from_utf8_lossy)
        )
    }
}

fn huawei_case(g: &mut Gen) -> HuaweiCase {
    let ak = g.token(20);
    let sk = g.token(40);
    let mut creds = HuaweiCredentials::new(ak.as_str(), sk.as_str());
    let token =
        g.0.bool()
            .then(|| format!("{}+/={}", g.token(16), g.token(8)));
    if let Some(t) = &token {
        creds = creds.with_security_token(t.as_str());
    }
    let scope = if g.0.bool() {
        HuaweiScope::Project(g.token(32))
    } else {
        HuaweiScope::None
    };
    let path = g.path();
    let query = g.query();
    let mut request = HttpRequest::new(g.method(), url(&path, query.as_deref()), "/differential");
    let content_type = [
        "application/json",
        "application/json;charset=UTF-8",
        "text/plain",
        "application/x-www-form-urlencoded",
    ][g.0.usize(..4)];
    if g.0.u8(..4) != 0 {
        request
            .headers
            .insert("content-type", HeaderValue::from_static(content_type));
    }
    for _ in 0..g.0.usize(0..=4) {
        let name = [
            "x-extra",
            "x-repeated",
            "accept",
            "x_not_signed",
            "user-agent",
        ][g.0.usize(..5)];
        let value = g.header_value();
        request.headers.append(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    if g.0.bool() {
        let body = format!("{{\"v\":\"{}\"}}", g.text(10).replace(['"', '\\'], ""));
        request.body = Some(body.into_bytes());
    }
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000 + g.0.u64(..100_000_000));
    let signed_at = now - Duration::from_secs(14 * 60) + Duration::from_secs(g.0.u64(..28 * 60));
    let signer = HuaweiSigner::new(&creds, scope).unwrap();
    signer.sign(&mut request, signed_at).unwrap();
    let mut key = HuaweiKey::new(SecretString::new(sk));
    if let Some(t) = token {
        key = key.with_security_token(SecretString::new(t));
    }
    HuaweiCase {
        request,
        ak,
        key,
        now,
    }
}

#[test]
fn huawei_client_signatures_are_accepted() {
    let mut g = Gen(fastrand::Rng::with_seed(0x9e37_79b9));
    for i in 0..CASES {
        let case = huawei_case(&mut g);
        assert_eq!(
            case.verify_as_sent(),
            Ok(case.ak.clone()),
            "case {i}: {}",
            case.describe()
        );
    }
}

#[test]
fn huawei_one_byte_change_to_a_signed_part_is_refused() {
    let mut g = Gen(fastrand::Rng::with_seed(0x5eed_0001));
    let mut changed = [0usize; 6];
    for i in 0..CASES {
        let case = huawei_case(&mut g);
        let r = &case.request;
        let (method, path, query) = (r.method.as_str(), r.url.path(), r.url.query());
        let body = r.body.as_deref().unwrap_or(b"");
        let refused = |what: &str, got: Result<String, Refusal>| {
            assert!(
                got.is_err(),
                "case {i}: {what} changed, still accepted: {}",
                case.describe()
            );
        };
        // Method.
        let other = method.replacen(|_| true, "Q", 1);
        refused("method", case.verify(&other, path, query, &r.headers, body));
        changed[0] += 1;
        // Path.
        if let Some(p) = change_one_byte(&mut g, path, alnum_outside_escape) {
            refused("path", case.verify(method, &p, query, &r.headers, body));
            changed[1] += 1;
        }
        // Query.
        if let Some(q) = query.and_then(|q| change_one_byte(&mut g, q, alnum_outside_escape)) {
            refused(
                "query",
                case.verify(method, path, Some(&q), &r.headers, body),
            );
            changed[2] += 1;
        }
        // One value of one signed header (every signed header is tried over the run).
        let auth = r.headers["authorization"].to_str().unwrap();
        let list = auth
            .split("SignedHeaders=")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap();
        let names: Vec<&str> = list.split(';').collect();
        let name = names[g.0.usize(..names.len())];
        let values: Vec<&HeaderValue> = r.headers.get_all(name).iter().collect();
        let which = g.0.usize(..values.len());
        let text = values[which].to_str().unwrap();
        let is_visible = |b: &[u8], i: usize| b[i].is_ascii_graphic();
        if let Some(v) = change_one_byte(&mut g, text, is_visible) {
            let mut headers = HeaderMap::new();
            for (n, value) in r.headers.iter() {
                headers.append(n.clone(), value.clone());
            }
            headers.remove(name);
            for (j, value) in values.iter().enumerate() {
                let value = if j == which {
                    HeaderValue::from_str(&v).unwrap()
                } else {
                    (*value).clone()
                };
                headers.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
            }
            refused(name, case.verify(method, path, query, &headers, body));
            changed[3] += 1;
        }
        // Body, when it is signed.
        if huawei::payload_hash(
            &RequestParts::new(method, path, query, &r.headers, body),
            huawei::Algorithm::Sha256,
        ) != huawei::UNSIGNED_PAYLOAD
        {
            let mut b = body.to_vec();
            match b.len() {
                0 => b.push(b' '),
                n => b[g.0.usize(..n)] ^= 0x01,
            }
            refused("body", case.verify(method, path, query, &r.headers, &b));
            changed[4] += 1;
        }
        // The signature itself.
        let sig_at = auth.rfind("Signature=").unwrap() + "Signature=".len() + g.0.usize(..64);
        let mut a = auth.as_bytes().to_vec();
        a[sig_at] = if a[sig_at] == b'0' { b'1' } else { b'0' };
        let mut headers = r.headers.clone();
        headers.insert("authorization", HeaderValue::from_bytes(&a).unwrap());
        refused(
            "signature",
            case.verify(method, path, query, &headers, body),
        );
        changed[5] += 1;
    }
    // The run really changed every kind of part many times.
    assert!(changed.iter().all(|&n| n > CASES / 10), "{changed:?}");
}

#[test]
fn huawei_unsigned_parts_may_change() {
    let mut g = Gen(fastrand::Rng::with_seed(0x0dd_ba11));
    for i in 0..CASES / 10 {
        let case = huawei_case(&mut g);
        let r = &case.request;
        let mut headers = r.headers.clone();
        headers.append("x_not_signed", HeaderValue::from_static("added later"));
        headers.append(
            "x-added-later",
            HeaderValue::from_static("not in SignedHeaders"),
        );
        let got = case.verify(
            r.method.as_str(),
            r.url.path(),
            r.url.query(),
            &headers,
            r.body.as_deref().unwrap_or(b""),
        );
        assert_eq!(got, Ok(case.ak.clone()), "case {i}: {}", case.describe());
    }
}

// ---------------------------------------------------------------------------------------
// NCP

struct NcpCase {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    ak: String,
    sk: String,
    now: SystemTime,
}

impl NcpCase {
    fn verify(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
    ) -> Result<String, Refusal> {
        let parts = RequestParts::new(method, path, query, headers, b"{}");
        ncp::verify(&parts, self.now, |ak| {
            if ak == self.ak {
                Ok(SecretString::new(self.sk.as_str()))
            } else {
                Err(Refusal::UnknownAccessKey)
            }
        })
    }

    fn describe(&self) -> String {
        format!(
            "{} {}?{:?} {:?}",
            self.method, self.path, self.query, self.headers
        )
    }
}

fn ncp_case(g: &mut Gen) -> NcpCase {
    let ak = g.token(20);
    let sk = g.token(40);
    let signer = NcpSigner::new(&NcpCredentials::new(ak.as_str(), sk.as_str())).unwrap();
    let path = format!("/kms/v1{}", g.path());
    let query = g.query();
    let mut request = HttpRequest::new(g.method(), url(&path, query.as_deref()), "/differential");
    let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + g.0.u64(..100_000_000_000));
    let signed_at =
        now - Duration::from_millis(299_000) + Duration::from_millis(g.0.u64(..598_000));
    signer.sign(&mut request, signed_at).unwrap();
    NcpCase {
        method: request.method.as_str().to_owned(),
        path: request.url.path().to_owned(),
        query: request.url.query().map(str::to_owned),
        headers: request.headers,
        ak,
        sk,
        now,
    }
}

#[test]
fn ncp_client_signatures_are_accepted() {
    let mut g = Gen(fastrand::Rng::with_seed(0x00c0_ffee));
    for i in 0..CASES {
        let case = ncp_case(&mut g);
        let got = case.verify(
            &case.method,
            &case.path,
            case.query.as_deref(),
            &case.headers,
        );
        assert_eq!(got, Ok(case.ak.clone()), "case {i}: {}", case.describe());
    }
}

#[test]
fn ncp_one_byte_change_to_a_signed_part_is_refused() {
    let mut g = Gen(fastrand::Rng::with_seed(0x00ba_dbad));
    // NCP signs the wire request URI byte for byte: even an escape's hex case matters.
    let any_alnum = |b: &[u8], i: usize| b[i].is_ascii_alphanumeric();
    for i in 0..CASES {
        let case = ncp_case(&mut g);
        let (m, p, q, h) = (
            &case.method,
            &case.path,
            case.query.as_deref(),
            &case.headers,
        );
        let refused = |what: &str, got: Result<String, Refusal>| {
            assert!(
                got.is_err(),
                "case {i}: {what} changed, still accepted: {}",
                case.describe()
            );
        };
        refused(
            "method",
            case.verify(&m.replacen(|_| true, "Q", 1), p, q, h),
        );
        let path = change_one_byte(&mut g, p, any_alnum).unwrap();
        refused("path", case.verify(m, &path, q, h));
        if let Some(query) = q.and_then(|q| change_one_byte(&mut g, q, any_alnum)) {
            refused("query", case.verify(m, p, Some(&query), h));
        }
        if q == Some("") {
            refused("query", case.verify(m, p, None, h));
        }
        for name in [ncp::TIMESTAMP_HEADER, ncp::SIGNATURE_HEADER] {
            let value = h[name].to_str().unwrap();
            let changed = change_one_byte(&mut g, value, any_alnum).unwrap();
            let mut headers = h.clone();
            headers.insert(name, HeaderValue::from_str(&changed).unwrap());
            refused(name, case.verify(m, p, q, &headers));
        }
    }
}
