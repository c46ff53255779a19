//! Our `SDK-HMAC-SHA256` signer against `aws-sigv4` (the Rust peer) on comparable requests:
//! the same method, URL, `Content-Type` and empty body; each side writes its signature
//! headers into its own request type. Timed in interleaved rounds in one process, so the
//! ratio does not depend on the machine. Run: `cargo run --release` in this directory.

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use token_common::credentials::{HuaweiCredentials, HuaweiScope};
use token_common::signing::huawei::HuaweiSigner;
use token_common::signing::Signer;
use token_common::HttpRequest;

const URL: &str = "https://identitystore.cn-north-4.myhuaweicloud.com/v1/identity-stores/d-1234567890/tenant/e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e/bearer-token";
const AK: &str = "AKEXAMPLE0123456789A";
const SK: &str = "SKEXAMPLEsecretKEY0123456789abcdefABCDEF";

fn time(iters: u32, f: &mut dyn FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(iters)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_732_800);

    // Ours: the create-bearer-token request as the Huawei client builds it, copied as the
    // transport copies it for each attempt (`for_attempt`), the copy timed and subtracted.
    let signer = HuaweiSigner::new(
        &HuaweiCredentials::new(AK, SK),
        HuaweiScope::Project("0a1b2c3d4e5f60718293a4b5c6d7e8f9".into()),
    )
    .unwrap();
    let mut base = HttpRequest::new(reqwest::Method::POST, url::Url::parse(URL).unwrap(), "/bearer-token");
    base.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut ours = || {
        let mut req = black_box(&base).for_attempt();
        signer.sign(&mut req, now).unwrap();
        black_box(req);
    };
    let mut ours_clone = || {
        black_box(black_box(&base).for_attempt());
    };

    // aws-sigv4: the same request as an `http::Request`, signed and the instructions applied.
    let identity: Identity = Credentials::new(AK, SK, None, None, "bench").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("cn-north-4")
        .name("identitystore")
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let aws_base = http::Request::builder()
        .method("POST")
        .uri(URL)
        .header("content-type", "application/json")
        .body(())
        .unwrap();
    let mut aws = || {
        let mut req = black_box(&aws_base).clone();
        let signable = SignableRequest::new(
            req.method().as_str(),
            URL,
            req.headers().iter().map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
            SignableBody::Bytes(&[]),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions.apply_to_request_http1x(&mut req);
        black_box(req);
    };
    let mut aws_clone = || {
        black_box(black_box(&aws_base).clone());
    };

    const ROUNDS: usize = 31;
    const ITERS: u32 = 500;
    for f in [&mut ours as &mut dyn FnMut(), &mut aws, &mut ours_clone, &mut aws_clone] {
        time(ITERS, f);
    }
    let (mut o, mut a, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let (x, y) = if round % 2 == 0 {
            let x = time(ITERS, &mut ours);
            (x, time(ITERS, &mut aws))
        } else {
            let y = time(ITERS, &mut aws);
            (time(ITERS, &mut ours), y)
        };
        let x = (x - time(ITERS, &mut ours_clone)).max(1.0);
        let y = (y - time(ITERS, &mut aws_clone)).max(1.0);
        o.push(x);
        a.push(y);
        r.push(y / x);
    }
    let sha = std::fs::read_to_string("/proc/cpuinfo")
        .map(|c| if c.contains(" sha_ni") { "yes (sha_ni)" } else { "no" })
        .unwrap_or("unknown");
    println!("CPU SHA extensions: {sha}");
    println!("ours (SDK-HMAC-SHA256, create-bearer-token request): {:8.1} ns", median(&mut o));
    println!("aws-sigv4 (comparable request):                      {:8.1} ns", median(&mut a));
    let mut sorted = r.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    println!(
        "aws-sigv4 / ours: {:.2}x (10th-90th percentile of rounds {:.2}-{:.2}); target >= 5x",
        median(&mut r),
        sorted[ROUNDS / 10],
        sorted[ROUNDS * 9 / 10]
    );
}
