#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

//! Hot paths of token-common: `cargo bench -p token-common`.
//!
//! First a ratio report: each signer is timed against its own floor — the hash, the HMAC
//! and the encoding of the very same bytes, nothing else — in interleaved rounds of one
//! run, so the ratios do not depend on the machine (or on what else it is doing). ring is
//! timed on the same floors, which is how the HMAC/SHA-256 backend was chosen. Then
//! criterion's usual per-benchmark statistics.
//!
//! Targets (issue 11): NCP ≤ 1.15× floor; Huawei SDK-HMAC-SHA256 of the
//! create-bearer-token request ≤ 1.5× floor; SDK-HMAC-SM3 ≤ 1.5× its floor; token-cache hit
//! (through a `TokenReader`) ≤ 1.2× a bare atomic load plus clock read.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use criterion::Criterion;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use sha2::{Digest, Sha256};
use sm3::Sm3;
use token_common::cache::{Expiring, TokenCache, TokenSource};
use token_common::clock::{Clock, SystemClock};
use token_common::credentials::{HuaweiCredentials, HuaweiScope, NcpCredentials};
use token_common::signing::huawei::{
    canonical_request, canonical_uri, payload_hash, sm3 as sm3_stages, HuaweiAlgorithm,
    HuaweiSigner,
};
use token_common::signing::{NcpSigner, Sha256Backend, Signer};
use token_common::transport::BoxFuture;
use token_common::{HttpRequest, SecretString};

const NCP_AK: &str = "ncp_iam_BPAMKR1aBcDeFgHiJkLm";
const NCP_SK: &str = "ncp_iam_BPKMKR9zYxWvUtSrQpOnMlKjIhGfEdCbA0123456789";
const NCP_URI: &str = "/kms/v1/keys/a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6/token-set";
const NCP_TS: u64 = 1_700_000_000_123;
const HW_AK: &str = "AKEXAMPLE0123456789A";
const HW_SK: &str = "SKEXAMPLEsecretKEY0123456789abcdefABCDEF";
const HW_PROJECT: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const HW_URL: &str = "https://identitystore.cn-north-4.myhuaweicloud.com/v1/identity-stores/d-1234567890/tenant/e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e/bearer-token";
/// Header names as the signer holds them (built once, not parsed per insert).
const DATE_NAME: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static("x-sdk-date");
const PROJECT_NAME: reqwest::header::HeaderName =
    reqwest::header::HeaderName::from_static("x-project-id");
const SDK_DATE: &str = "20250101T120000Z";

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_732_800)
}

fn hex(bytes: &[u8]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in bytes.iter().take(32).enumerate() {
        out[2 * i] = DIGITS[(b >> 4) as usize];
        out[2 * i + 1] = DIGITS[(b & 0xf) as usize];
    }
    out
}

fn ncp_signer() -> NcpSigner {
    NcpSigner::new(&NcpCredentials::new(NCP_AK, NCP_SK)).unwrap()
}

fn ncp_string_to_sign() -> String {
    token_common::signing::ncp::string_to_sign("POST", NCP_URI, NCP_TS, NCP_AK)
}

fn huawei_signer(algorithm: HuaweiAlgorithm) -> HuaweiSigner {
    HuaweiSigner::with_algorithm(
        &HuaweiCredentials::new(HW_AK, HW_SK),
        HuaweiScope::Project(HW_PROJECT.into()),
        algorithm,
    )
    .unwrap()
}

/// The create-bearer-token request as the client builds it (before signing).
fn bearer_token_request() -> HttpRequest {
    let mut req = HttpRequest::new(
        reqwest::Method::POST,
        url::Url::parse(HW_URL).unwrap(),
        "/bearer-token",
    );
    req.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    req
}

/// The canonical request the signer hashes for that request (from the pure stages).
fn bearer_token_canonical(sm3: bool) -> Vec<u8> {
    let host = url::Url::parse(HW_URL)
        .unwrap()
        .host_str()
        .unwrap()
        .to_owned();
    let headers = [
        ("content-type", "application/json"),
        ("host", host.as_str()),
        ("x-project-id", HW_PROJECT),
        ("x-sdk-date", SDK_DATE),
    ];
    let payload = if sm3 {
        sm3_stages::payload_hash(Some("application/json"), None)
    } else {
        payload_hash(Some("application/json"), None)
    };
    let path = url::Url::parse(HW_URL).unwrap().path().to_owned();
    canonical_request("POST", &canonical_uri(&path), "", &headers, &payload)
        .text
        .into_bytes()
}

/// A floor of Huawei signing: hash the canonical request, hex it, HMAC the string to sign
/// (key prepared), hex the result. Nothing else.
fn huawei_floor<D: Digest, M: Mac + Clone>(key: &M, prefix: &[u8], canonical: &[u8]) -> [u8; 64] {
    let h = hex(&D::digest(canonical));
    let mut mac = key.clone();
    mac.update(prefix);
    mac.update(&h);
    hex(&mac.finalize().into_bytes())
}

/// The NCP floor: one HMAC-SHA256 of `sts` (key prepared), + base64, on RustCrypto or
/// (`on_ring`) ring.
fn ncp_floor(on_ring: bool, sts: &[u8]) -> Box<dyn FnMut() + '_> {
    let b64 = base64::engine::general_purpose::STANDARD;
    if !on_ring {
        let key = Hmac::<Sha256>::new_from_slice(NCP_SK.as_bytes()).unwrap();
        Box::new(move || {
            let mut m = key.clone();
            m.update(black_box(sts));
            black_box(b64.encode(m.finalize().into_bytes()));
        })
    } else {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, NCP_SK.as_bytes());
        Box::new(move || {
            let t = ring::hmac::sign(&key, black_box(sts));
            black_box(b64.encode(t.as_ref()));
        })
    }
}

/// [`huawei_floor`] for SHA-256 on RustCrypto or (`on_ring`) ring: HMAC key `key`, the
/// string to sign's lines before the hash `prefix`.
fn huawei_sha256_floor<'a>(
    on_ring: bool,
    key: &[u8],
    prefix: String,
    canonical: &'a [u8],
) -> Box<dyn FnMut() + 'a> {
    if !on_ring {
        let key = Hmac::<Sha256>::new_from_slice(key).unwrap();
        Box::new(move || {
            black_box(huawei_floor::<Sha256, _>(
                &key,
                prefix.as_bytes(),
                black_box(canonical),
            ));
        })
    } else {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
        Box::new(move || {
            let h = hex(ring::digest::digest(&ring::digest::SHA256, black_box(canonical)).as_ref());
            let mut ctx = ring::hmac::Context::with_key(&key);
            ctx.update(prefix.as_bytes());
            ctx.update(&h);
            black_box(hex(ctx.sign().as_ref()));
        })
    }
}

mod report {
    //! Interleaved timing for the ratio report (criterion does not expose its estimates
    //! to the program, so the ratios are measured here).

    use std::hint::black_box;

    /// One measured comparison.
    pub struct Row {
        pub name: &'static str,
        pub floor_ns: f64,
        pub ours_ns: f64,
        pub ratios: Vec<f64>,
        pub target: Option<f64>,
    }

    #[allow(clippy::disallowed_methods)] // a benchmark measures wall time
    fn time<F: FnMut() + ?Sized>(iters: u32, f: &mut F) -> f64 {
        let start = std::time::Instant::now();
        for _ in 0..iters {
            f();
        }
        start.elapsed().as_nanos() as f64 / f64::from(iters)
    }

    fn median(v: &mut [f64]) -> f64 {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    }

    /// Rounds of `iters` calls of each, alternating which goes first; `overhead` (say, a
    /// per-attempt request copy the signer needs) is timed in the same rounds and subtracted from
    /// `ours`.
    pub fn compare(
        name: &'static str,
        target: Option<f64>,
        iters: u32,
        mut floor: impl FnMut(),
        mut ours: impl FnMut(),
        mut overhead: Option<&mut dyn FnMut()>,
    ) -> Row {
        const ROUNDS: usize = 31;
        // Warm up caches, branch predictors and the CPU's clock.
        time(iters, &mut floor);
        time(iters, &mut ours);
        let (mut f, mut o, mut r) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let (a, b) = if round % 2 == 0 {
                let a = time(iters, &mut floor);
                (a, time(iters, &mut ours))
            } else {
                let b = time(iters, &mut ours);
                (time(iters, &mut floor), b)
            };
            let c = match overhead.as_mut() {
                Some(g) => time(iters, &mut **g),
                None => 0.0,
            };
            let b = (b - c).max(0.0);
            f.push(a);
            o.push(b);
            r.push(b / a);
        }
        black_box(&r);
        Row {
            name,
            floor_ns: median(&mut f),
            ours_ns: median(&mut o),
            ratios: r,
            target,
        }
    }

    pub fn print(rows: &mut [Row]) {
        println!();
        println!("ratio report (median of 31 interleaved rounds; ratio = ours / floor per round)");
        println!(
            "{:<58} {:>10} {:>10} {:>7} {:>15} {:>8}",
            "what", "floor ns", "ours ns", "ratio", "ratio range", "target"
        );
        for row in rows.iter_mut() {
            let mut r = row.ratios.clone();
            let med = median(&mut r);
            let (lo, hi) = (r[r.len() / 10], r[r.len() - 1 - r.len() / 10]);
            let target = match row.target {
                Some(t) if med <= t => format!("≤{t} ok"),
                Some(t) => format!("≤{t} MISS"),
                None => "-".to_owned(),
            };
            println!(
                "{:<58} {:>10.1} {:>10.1} {:>6.2}× {:>6.2}–{:<6.2}× {:>8}",
                row.name, row.floor_ns, row.ours_ns, med, lo, hi, target
            );
        }
        println!("(ratio range: 10th–90th percentile of the rounds)");
        println!();
    }
}

fn ratio_report() {
    let cpu_sha = std::fs::read_to_string("/proc/cpuinfo")
        .map(|c| {
            if c.contains(" sha_ni") {
                "yes (sha_ni)"
            } else {
                "no"
            }
        })
        .unwrap_or("unknown");
    println!("CPU SHA extensions: {cpu_sha}");
    println!(
        "signing backend detected for this CPU: {}",
        Sha256Backend::detected().name()
    );
    let mut rows = Vec::new();

    // NCP: one HMAC-SHA256 over the string to sign, + base64, on the backend the signer
    // chose for this CPU.
    let backend = Sha256Backend::detected();
    let on_ring = backend != Sha256Backend::RustCrypto;
    let ncp = ncp_signer();
    assert_eq!(ncp.backend(), backend);
    let sts = ncp_string_to_sign();
    rows.push(report::compare(
        "NCP signature v2 vs HMAC-SHA256 + base64",
        Some(1.15),
        2000,
        ncp_floor(on_ring, sts.as_bytes()),
        || {
            black_box(ncp.signature(black_box("POST"), black_box(NCP_URI), black_box(NCP_TS)));
        },
        None,
    ));
    rows.push(report::compare(
        "backend: NCP floor on ring vs on sha2",
        None,
        2000,
        ncp_floor(false, sts.as_bytes()),
        ncp_floor(true, sts.as_bytes()),
        None,
    ));

    // Huawei, the create-bearer-token request: the transport's per-attempt copy + sign, the
    // copy subtracted.
    let base = bearer_token_request();
    for (name, alg, sm3, target) in [
        (
            "Huawei SDK-HMAC-SHA256 create-bearer-token vs floor",
            HuaweiAlgorithm::HmacSha256,
            false,
            Some(1.5),
        ),
        (
            "Huawei SDK-HMAC-SM3 create-bearer-token vs SM3 floor",
            HuaweiAlgorithm::HmacSm3,
            true,
            Some(1.5),
        ),
        (
            "Huawei V11-HMAC-SHA256 create-bearer-token vs floor",
            HuaweiAlgorithm::v11("cn-north-4", "identitystore"),
            false,
            None,
        ),
    ] {
        let signer = huawei_signer(alg.clone());
        let canonical = bearer_token_canonical(sm3);
        let mut copy_only = || {
            black_box(black_box(&base).for_attempt());
        };
        // The time is the transport's, read before signing.
        let t = now();
        let ours = || {
            let mut req = black_box(&base).for_attempt();
            signer.sign(&mut req, black_box(t)).unwrap();
            black_box(req);
        };
        let row = match alg {
            HuaweiAlgorithm::HmacSm3 => {
                let key = Hmac::<Sm3>::new_from_slice(HW_SK.as_bytes()).unwrap();
                let prefix = format!("SDK-HMAC-SM3\n{SDK_DATE}\n");
                report::compare(
                    name,
                    target,
                    500,
                    || {
                        black_box(huawei_floor::<Sm3, _>(
                            &key,
                            prefix.as_bytes(),
                            black_box(&canonical),
                        ));
                    },
                    ours,
                    Some(&mut copy_only),
                )
            }
            HuaweiAlgorithm::HmacSha256 => report::compare(
                name,
                target,
                500,
                huawei_sha256_floor(
                    on_ring,
                    HW_SK.as_bytes(),
                    format!("SDK-HMAC-SHA256\n{SDK_DATE}\n"),
                    &canonical,
                ),
                ours,
                Some(&mut copy_only),
            ),
            _ => {
                let info = "20250101/cn-north-4/identitystore";
                let derived = token_common::signing::huawei::v11::derived_key_hex(
                    HW_AK,
                    &SecretString::new(HW_SK),
                    info,
                );
                report::compare(
                    name,
                    target,
                    500,
                    huawei_sha256_floor(
                        on_ring,
                        derived.expose_secret().as_bytes(),
                        format!("V11-HMAC-SHA256\n{SDK_DATE}\n{info}\n"),
                        &canonical,
                    ),
                    ours,
                    Some(&mut copy_only),
                )
            }
        };
        rows.push(row);
    }
    // Diagnostics, no target: what the Huawei signer must do to the request's `HeaderMap`
    // besides hashing (make the values of X-Sdk-Date, Host and Authorization, and write
    // those and X-Project-Id), timed on the same copies and against the same floor, to
    // show how much of the gap to the floor is the header map rather than the signer.
    {
        let canonical = bearer_token_canonical(false);
        let key = Hmac::<Sha256>::new_from_slice(HW_SK.as_bytes()).unwrap();
        let prefix = format!("SDK-HMAC-SHA256\n{SDK_DATE}\n");
        let floor = || {
            black_box(huawei_floor::<Sha256, _>(
                &key,
                prefix.as_bytes(),
                black_box(&canonical),
            ));
        };
        // As the signer holds it: made once, shared by every request.
        let project = HeaderValue::from_str(HW_PROJECT).unwrap();
        let auth = format!(
            "SDK-HMAC-SHA256 Access={HW_AK}, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature={}",
            "0".repeat(64)
        );
        let host = url::Url::parse(HW_URL)
            .unwrap()
            .host_str()
            .unwrap()
            .to_owned();
        let mut copy_only = || {
            black_box(black_box(&base).for_attempt());
        };
        rows.push(report::compare(
            "diagnostic: its 3 header values and 4 writes vs the floor",
            None,
            500,
            floor,
            || {
                let mut req = black_box(&base).for_attempt();
                let h = &mut req.headers;
                h.insert(
                    DATE_NAME,
                    HeaderValue::from_bytes(SDK_DATE.as_bytes()).unwrap(),
                );
                h.insert(PROJECT_NAME, project.clone());
                h.insert(
                    reqwest::header::HOST,
                    HeaderValue::from_str(black_box(&host)).unwrap(),
                );
                h.insert(
                    reqwest::header::AUTHORIZATION,
                    HeaderValue::try_from(black_box(auth.as_bytes()).to_vec()).unwrap(),
                );
                black_box(req);
            },
            Some(&mut copy_only),
        ));
        // The least a Huawei signer writing an `http::HeaderMap` can do: format the date,
        // assemble the canonical request from its pieces on the stack (the request's one
        // header, the path and the signed-headers list already known: no collecting,
        // checking or sorting), hash and sign it as the floor does, build the
        // `Authorization` value, make the header values and write the four headers.
        let path = url::Url::parse(HW_URL).unwrap().path().to_owned();
        let signed_names = "content-type;host;x-project-id;x-sdk-date";
        let auth_prefix =
            format!("SDK-HMAC-SHA256 Access={HW_AK}, SignedHeaders={signed_names}, Signature=");
        let minimal = || {
            let mut req = black_box(&base).for_attempt();
            let date = token_common::signing::huawei::SdkDate::new(black_box(now()));
            let mut buf = [0u8; 512];
            let mut n = 0;
            for piece in [
                b"POST\n".as_slice(),
                black_box(path.as_bytes()),
                b"/\n\ncontent-type:application/json\nhost:",
                host.as_bytes(),
                b"\nx-project-id:",
                HW_PROJECT.as_bytes(),
                b"\nx-sdk-date:",
                date.as_bytes(),
                b"\n\n",
                signed_names.as_bytes(),
                b"\n",
                token_common::signing::huawei::EMPTY_BODY_SHA256.as_bytes(),
            ] {
                buf[n..n + piece.len()].copy_from_slice(piece);
                n += piece.len();
            }
            let signature = huawei_floor::<Sha256, _>(&key, prefix.as_bytes(), &buf[..n]);
            let mut auth = Vec::with_capacity(auth_prefix.len() + 64);
            auth.extend_from_slice(auth_prefix.as_bytes());
            auth.extend_from_slice(&signature);
            let h = &mut req.headers;
            h.insert(DATE_NAME, HeaderValue::from_bytes(date.as_bytes()).unwrap());
            h.insert(PROJECT_NAME, project.clone());
            h.insert(reqwest::header::HOST, HeaderValue::from_str(&host).unwrap());
            h.insert(
                reqwest::header::AUTHORIZATION,
                HeaderValue::try_from(auth).unwrap(),
            );
            req
        };
        // It must do the signer's whole job: the same headers, the same signature.
        let mut signed = base.for_attempt();
        huawei_signer(HuaweiAlgorithm::HmacSha256)
            .sign(&mut signed, now())
            .unwrap();
        assert_eq!(
            minimal().headers,
            signed.headers,
            "the minimal signer signs as ours does"
        );
        rows.push(report::compare(
            "diagnostic: the least a HeaderMap signer does vs the floor",
            None,
            500,
            floor,
            || {
                black_box(minimal());
            },
            Some(&mut copy_only),
        ));
        // The same gap measured directly: what ours costs beyond the least a HeaderMap
        // signer must do (both copy the request; the ratio is of the totals).
        let signer = huawei_signer(HuaweiAlgorithm::HmacSha256);
        rows.push(report::compare(
            "diagnostic: ours vs the least a HeaderMap signer does",
            None,
            500,
            || {
                black_box(minimal());
            },
            || {
                let mut req = black_box(&base).for_attempt();
                signer.sign(&mut req, black_box(now())).unwrap();
                black_box(req);
            },
            None,
        ));
        let values = [
            HeaderValue::from_static(SDK_DATE),
            HeaderValue::from_static("identitystore.cn-north-4.myhuaweicloud.com"),
            HeaderValue::from_str(&auth).unwrap(),
        ];
        rows.push(report::compare(
            "diagnostic: the 4 writes alone (values ready) vs the floor",
            None,
            500,
            floor,
            || {
                let mut req = black_box(&base).for_attempt();
                let h = &mut req.headers;
                h.insert(DATE_NAME, values[0].clone());
                h.insert(PROJECT_NAME, project.clone());
                h.insert(reqwest::header::HOST, values[1].clone());
                h.insert(reqwest::header::AUTHORIZATION, values[2].clone());
                black_box(req);
            },
            Some(&mut copy_only),
        ));
    }
    let canonical = bearer_token_canonical(false);
    let prefix = format!("SDK-HMAC-SHA256\n{SDK_DATE}\n");
    rows.push(report::compare(
        "backend: Huawei floor on ring vs on sha2",
        None,
        500,
        huawei_sha256_floor(false, HW_SK.as_bytes(), prefix.clone(), &canonical),
        huawei_sha256_floor(true, HW_SK.as_bytes(), prefix, &canonical),
        None,
    ));
    // The signers themselves on each backend: what `Sha256Backend::detected` chooses
    // between (the first is the floor here, the second "ours").
    #[cfg(feature = "ring")]
    {
        let on = |b| NcpSigner::with_backend(&NcpCredentials::new(NCP_AK, NCP_SK), b).unwrap();
        let (rc, rg) = (on(Sha256Backend::RustCrypto), on(Sha256Backend::Ring));
        rows.push(report::compare(
            "backend: NCP signer on ring vs on sha2",
            None,
            2000,
            || {
                black_box(rc.signature(black_box("POST"), black_box(NCP_URI), black_box(NCP_TS)));
            },
            || {
                black_box(rg.signature(black_box("POST"), black_box(NCP_URI), black_box(NCP_TS)));
            },
            None,
        ));
        let on = |b| {
            HuaweiSigner::with_backend(
                &HuaweiCredentials::new(HW_AK, HW_SK),
                HuaweiScope::Project(HW_PROJECT.into()),
                HuaweiAlgorithm::HmacSha256,
                b,
            )
            .unwrap()
        };
        let (rc, rg) = (on(Sha256Backend::RustCrypto), on(Sha256Backend::Ring));
        let t = now();
        rows.push(report::compare(
            "backend: Huawei signer on ring vs on sha2",
            None,
            500,
            || {
                let mut req = black_box(&base).for_attempt();
                rc.sign(&mut req, black_box(t)).unwrap();
                black_box(req);
            },
            || {
                let mut req = black_box(&base).for_attempt();
                rg.sign(&mut req, black_box(t)).unwrap();
                black_box(req);
            },
            None,
        ));
    }

    // Token cache hit vs a bare atomic load plus a clock read.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let cache = Arc::new(TokenCache::new(Fixed));
    rt.block_on(cache.get()).unwrap();
    let atomic = AtomicU64::new(42);
    let floor = || {
        black_box(atomic.load(Ordering::Acquire));
        black_box(SystemClock.now());
    };
    let mut reader = cache.reader();
    rows.push(report::compare(
        "token cache hit, TokenReader vs atomic load + clock read",
        Some(1.2),
        5000,
        floor,
        || {
            black_box(poll_once(reader.get()).unwrap());
        },
        None,
    ));
    rows.push(report::compare(
        "token cache hit, get() (owned Arc) vs the same floor",
        None,
        5000,
        floor,
        || {
            black_box(poll_once(cache.get()).unwrap());
        },
        None,
    ));
    report::print(&mut rows);
}

fn ncp_signature(c: &mut Criterion) {
    let signer = ncp_signer();
    c.bench_function("ncp_signature_v2", |b| {
        b.iter(|| signer.signature(black_box("POST"), black_box(NCP_URI), black_box(NCP_TS)))
    });
    let sts = ncp_string_to_sign();
    let key = Hmac::<Sha256>::new_from_slice(NCP_SK.as_bytes()).unwrap();
    c.bench_function("ncp_floor_hmac_sha256_base64", |b| {
        b.iter(|| {
            let mut m = key.clone();
            m.update(black_box(sts.as_bytes()));
            base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
        })
    });
}

fn huawei_signature(c: &mut Criterion) {
    let base = bearer_token_request();
    for (name, alg) in [
        (
            "huawei_sdk_hmac_sha256_create_bearer_token",
            HuaweiAlgorithm::HmacSha256,
        ),
        (
            "huawei_sdk_hmac_sm3_create_bearer_token",
            HuaweiAlgorithm::HmacSm3,
        ),
        (
            "huawei_v11_hmac_sha256_create_bearer_token",
            HuaweiAlgorithm::v11("cn-north-4", "identitystore"),
        ),
    ] {
        let signer = huawei_signer(alg);
        c.bench_function(name, |b| {
            b.iter_batched_ref(
                || base.for_attempt(),
                |req| signer.sign(black_box(req), now()).unwrap(),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    // What the transport does on each attempt: copy the request, sign the copy (and drop
    // it). Allocation as in real use, which the batched form above distorts.
    let signer = huawei_signer(HuaweiAlgorithm::HmacSha256);
    c.bench_function("huawei_copy_and_sign_sha256_create_bearer_token", |b| {
        b.iter(|| {
            let mut req = black_box(&base).for_attempt();
            signer.sign(&mut req, black_box(now())).unwrap();
            req
        })
    });
    let canonical = bearer_token_canonical(false);
    let key = Hmac::<Sha256>::new_from_slice(HW_SK.as_bytes()).unwrap();
    let prefix = format!("SDK-HMAC-SHA256\n{SDK_DATE}\n");
    c.bench_function("huawei_floor_sha256_hmac_hex", |b| {
        b.iter(|| huawei_floor::<Sha256, _>(&key, prefix.as_bytes(), black_box(&canonical)))
    });
}

fn jwt_claims(c: &mut Criterion) {
    // A Cloudforet-shaped access token.
    let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJzcGFjZW9uZS5pZGVudGl0eSIsInJvbCI6IkRPTUFJTl9BRE1JTiIsInR5cCI6IkFDQ0VTU19UT0tFTiIsIm93biI6IlVTRVIiLCJkaWQiOiJkb21haW4tMTIzIiwiYXVkIjoiYWxpY2VAZXhhbXBsZS5jb20iLCJleHAiOjE3MzU3MzQ2MDAsImlhdCI6MTczNTczMjgwMCwianRpIjoiYWJjIiwidmVyIjoiMi4wIn0.c2ln";
    c.bench_function("jwt_read_claims", |b| {
        b.iter(|| token_common::jwt::read_claims(black_box(token)).unwrap())
    });
}

struct Fixed;

impl TokenSource for Fixed {
    type Token = SecretString;
    fn fetch(&self) -> BoxFuture<'_, token_common::Result<Expiring<SecretString>>> {
        Box::pin(async {
            Ok(Expiring::new(
                SecretString::new("token"),
                Some(SystemClock.now() + Duration::from_secs(3600)),
            ))
        })
    }
}

fn cache_hit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let cache = Arc::new(TokenCache::new(Fixed));
    rt.block_on(cache.get()).unwrap();
    c.bench_function("token_cache_hit", |b| {
        b.iter(|| black_box(poll_once(cache.get())))
    });
    let mut reader = cache.reader();
    c.bench_function("token_reader_hit", |b| {
        b.iter(|| {
            black_box(poll_once(reader.get()).is_ok());
        })
    });
    let atomic = AtomicU64::new(42);
    c.bench_function("atomic_load_plus_clock_read", |b| {
        b.iter(|| (black_box(atomic.load(Ordering::Acquire)), SystemClock.now()))
    });
}

/// Polls a future once with a no-op waker; a cache hit completes on the first poll. Inlined
/// as an `.await` in the caller's own future would be, so the harness adds no call of its own.
#[inline(always)]
fn poll_once<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("a cache hit must not wait"),
    }
}

fn main() {
    // `cargo bench -p token-common -- <filter>` runs only criterion's matching benchmarks;
    // the ratio report runs when no filter names a benchmark (or the filter is `ratio`).
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if filter.as_deref().is_none_or(|f| f == "ratio") {
        ratio_report();
    }
    if filter.as_deref() == Some("ratio") {
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    ncp_signature(&mut c);
    huawei_signature(&mut c);
    jwt_claims(&mut c);
    cache_hit(&mut c);
    c.final_summary();
}
