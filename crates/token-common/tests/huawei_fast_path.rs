//! The Huawei signer's fast path (canonical request streamed into the hash, keys prepared
//! once, V11 keys cached per day) against the pure stages, on 10,000 random requests per
//! run: each is signed by one of nine signers (three algorithms × three credential and
//! scope shapes), and the `Authorization` it got must be what the stages compute from the
//! headers it was sent with.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use reqwest::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use token_common::credentials::{HuaweiCredentials, HuaweiScope};
use token_common::signing::huawei::{authorization_by_stages, HuaweiAlgorithm, HuaweiSigner};
use token_common::signing::{Sha256Backend, Signer};
use token_common::HttpRequest;

const AK: &str = "AKEXAMPLE0123456789A";
const SK: &str = "SKEXAMPLEsecretKEY0123456789abcdefABCDEF";
const TOKEN: &str = "gQpjbi1ub3J0aC00EXAMPLE+security/token==_with-odd.chars";
const REGION: &str = "cn-north-4";
const SERVICE: &str = "identitystore";

fn algorithms() -> [HuaweiAlgorithm; 3] {
    [
        HuaweiAlgorithm::HmacSha256,
        HuaweiAlgorithm::HmacSm3,
        HuaweiAlgorithm::v11(REGION, SERVICE),
    ]
}

/// What the pure stages say the `Authorization` of a signed request must be.
fn by_stages(alg: &HuaweiAlgorithm, with_token: bool, req: &HttpRequest) -> String {
    authorization_by_stages(alg, &credentials(with_token), req).unwrap()
}

fn credentials(with_token: bool) -> HuaweiCredentials {
    let creds = HuaweiCredentials::new(AK, SK);
    if with_token {
        creds.with_security_token(TOKEN)
    } else {
        creds
    }
}

/// Signers built once and shared by every case, so V11's per-day key cache sees the
/// days of many requests in random order: every algorithm, scope and SHA-256 backend.
fn signers() -> &'static [(HuaweiAlgorithm, bool, HuaweiSigner)] {
    static SIGNERS: OnceLock<Vec<(HuaweiAlgorithm, bool, HuaweiSigner)>> = OnceLock::new();
    SIGNERS.get_or_init(|| {
        let mut out = Vec::new();
        for alg in algorithms() {
            for (with_token, scope) in [
                (
                    false,
                    HuaweiScope::Project("0a1b2c3d4e5f60718293a4b5c6d7e8f9".into()),
                ),
                (
                    true,
                    HuaweiScope::Domain("f9e8d7c6b5a4938271605f4e3d2c1b0a".into()),
                ),
                (false, HuaweiScope::None),
            ] {
                for &backend in Sha256Backend::all() {
                    let signer = HuaweiSigner::with_backend(
                        &credentials(with_token),
                        scope.clone(),
                        alg.clone(),
                        backend,
                    )
                    .unwrap();
                    out.push((alg.clone(), with_token, signer));
                }
            }
        }
        out
    })
}

/// One path segment: plain, needing encoding, already percent-encoded (valid or not,
/// UTF-8 or not), or empty.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9._~-]{1,12}",
        "[A-Za-z0-9 !$&'()*+,;=:@ü~-]{0,10}",
        "(%2F|%41|%20|%C3%BC|%FF|%zz|%|%2|[a-z]){1,5}",
    ]
}

fn query() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.3,
        prop::collection::vec(
            ("[a-zA-Z0-9 +%=_.~-]{0,6}", "[a-zA-Z0-9 +%/&_.~-]{0,6}"),
            0..4,
        )
        .prop_map(|pairs| {
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        }),
    )
}

fn header() -> impl Strategy<Value = (String, String)> {
    (
        prop_oneof![
            Just("User-Agent".to_owned()),
            Just("content-type".to_owned()),
            Just("X-Custom".to_owned()),
            Just("x_under_score".to_owned()),
            Just("accept".to_owned()),
            Just("Host".to_owned()),
            Just("x-sdk-date".to_owned()),
            Just("x-project-id".to_owned()),
            // Headers the signer writes or replaces: whatever the request held before
            // must not leak into what is signed.
            Just("Authorization".to_owned()),
            Just("X-Security-Token".to_owned()),
            Just("x-domain-id".to_owned()),
            Just("x-sdk-content-sha256".to_owned()),
            Just("x-sdk-content-sm3".to_owned()),
            "[a-z][a-z0-9_-]{0,8}",
        ],
        "[ \t]{0,2}[!-~]{0,12}( [!-~]{1,5})?[ \t]{0,2}",
    )
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        Just(None),
        Just(Some("application/json")),
        Just(Some("application/json;charset=UTF-8")),
        Just(Some("application/bson")),
        Just(Some("text/plain")),
        Just(Some("application/x-www-form-urlencoded")),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    port: Option<u16>,
    segments: Vec<String>,
    trailing_slash: bool,
    query: Option<String>,
    content_type: Option<&'static str>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    seconds: u64,
    signer: prop::sample::Index,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"]),
        prop::option::of(prop_oneof![Just(443u16), 1u16..=65535]),
        prop::collection::vec(segment(), 0..6),
        any::<bool>(),
        query(),
        content_type(),
        // Up to 16, beyond the 12 signed headers the signer keeps on the stack.
        prop::collection::vec(header(), 0..16),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..200)),
        // 2000-01-01 .. 2040-01-01, so days (and V11's derived keys) vary.
        946_684_800u64..2_208_988_800,
        any::<prop::sample::Index>(),
    )
        .prop_map(
            |(
                method,
                port,
                segments,
                trailing_slash,
                query,
                content_type,
                headers,
                body,
                seconds,
                signer,
            )| Case {
                method,
                port,
                segments,
                trailing_slash,
                query,
                content_type,
                headers,
                body,
                seconds,
                signer,
            },
        )
}

fn request(c: &Case) -> HttpRequest {
    let base = match c.port {
        Some(p) => format!("https://identitystore.cn-north-4.myhuaweicloud.com:{p}/"),
        None => "https://identitystore.cn-north-4.myhuaweicloud.com/".to_owned(),
    };
    let mut url = url::Url::parse(&base).unwrap();
    let mut path = format!("/{}", c.segments.join("/"));
    if c.trailing_slash {
        path.push('/');
    }
    url.set_path(&path);
    url.set_query(c.query.as_deref());
    let method = reqwest::Method::from_bytes(c.method.as_bytes()).unwrap();
    let mut req = HttpRequest::new(method, url, "/random");
    if let Some(ct) = c.content_type {
        req.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    for (name, value) in &c.headers {
        // Repeated names keep every value (`append`): each is signed.
        req.headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    req.body = c.body.clone();
    req
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn fast_path_equals_the_pure_stages(c in case()) {
        let now = UNIX_EPOCH + Duration::from_secs(c.seconds);
        let mut req = request(&c);
        let (alg, with_token, signer) = c.signer.get(signers());
        signer.sign(&mut req, now).unwrap();
        let got = req.headers[AUTHORIZATION].to_str().unwrap().to_owned();
        prop_assert_eq!(&got, &by_stages(alg, *with_token, &req), "{:?} on {}", signer, req.url);
    }
}

#[test]
fn v11_derives_a_new_key_each_day_and_returns_to_earlier_days() {
    let (_, with_token, signer) = signers()
        .iter()
        .find(|(a, _, _)| matches!(a, HuaweiAlgorithm::V11HmacSha256 { .. }))
        .unwrap();
    let day = |d: u64| UNIX_EPOCH + Duration::from_secs(1_735_732_800 + d * 86_400);
    let mut seen = Vec::new();
    for t in [day(0), day(1), day(0), day(2), day(2), day(0)] {
        let mut req = HttpRequest::new(
            reqwest::Method::POST,
            "https://h.example.com/v1/x".parse().unwrap(),
            "/v1/x",
        );
        req.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        signer.sign(&mut req, t).unwrap();
        let got = req.headers[AUTHORIZATION].to_str().unwrap().to_owned();
        assert_eq!(got, by_stages(signer.algorithm(), *with_token, &req));
        seen.push(got);
    }
    assert_eq!(seen[0], seen[2]);
    assert_eq!(seen[3], seen[4]);
    assert_ne!(seen[0], seen[1]);
    assert!(seen[1].contains("Credential=AKEXAMPLE0123456789A/20250102/cn-north-4/identitystore,"));
}

#[test]
fn sm3_announces_an_unsigned_payload_with_its_own_header() {
    for (alg, with_token, signer) in signers() {
        let mut req = HttpRequest::new(
            reqwest::Method::POST,
            "https://h.example.com/v1/upload".parse().unwrap(),
            "/v1/upload",
        );
        req.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        req.body = Some(b"not signed".to_vec());
        signer
            .sign(
                &mut req,
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_732_800),
            )
            .unwrap();
        let (want, not) = match alg {
            HuaweiAlgorithm::HmacSm3 => ("x-sdk-content-sm3", "x-sdk-content-sha256"),
            _ => ("x-sdk-content-sha256", "x-sdk-content-sm3"),
        };
        assert_eq!(req.headers[want], "UNSIGNED-PAYLOAD", "{alg:?}");
        assert!(!req.headers.contains_key(not), "{alg:?}");
        let auth = req.headers[AUTHORIZATION].to_str().unwrap();
        assert!(auth.contains(want), "{alg:?}: {auth}");
        assert_eq!(auth, by_stages(alg, *with_token, &req));
    }
}

#[test]
fn a_header_value_that_is_not_visible_ascii_is_refused_by_name() {
    for (_, _, signer) in signers() {
        let mut req = HttpRequest::new(
            reqwest::Method::GET,
            "https://h.example.com/v1".parse().unwrap(),
            "/v1",
        );
        req.headers
            .insert("x-odd", HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap());
        let e = signer.sign(&mut req, UNIX_EPOCH).unwrap_err();
        assert_eq!(e.field(), Some("x-odd"));
    }
}

#[test]
fn debug_output_never_contains_a_key() {
    for (_, _, signer) in signers() {
        let shown = format!("{signer:?}");
        assert!(!shown.contains(SK) && !shown.contains(TOKEN), "{shown}");
    }
    let mut req = HttpRequest::new(
        reqwest::Method::GET,
        "https://h.example.com/v1".parse().unwrap(),
        "/v1",
    );
    let (_, _, signer) = &signers()[0];
    signer.sign(&mut req, UNIX_EPOCH).unwrap();
    assert!(req.headers[AUTHORIZATION].is_sensitive());
}
