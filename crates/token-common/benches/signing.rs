#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

//! Hot paths of token-common: `cargo bench -p token-common`.
//!
//! Targets on the project's 2-core machine (release): NCP signature ≤ 1 µs, Huawei
//! signature of the create-bearer-token request ≤ 3 µs, cache hit ≤ 100 ns uncontended.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use token_common::cache::{Expiring, TokenCache, TokenSource};
use token_common::clock::SystemClock;
use token_common::credentials::{HuaweiCredentials, HuaweiScope, NcpCredentials};
use token_common::signing::{HuaweiSigner, NcpSigner, Signer};
use token_common::transport::BoxFuture;
use token_common::{HttpRequest, SecretString};

fn ncp_signature(c: &mut Criterion) {
    let signer = NcpSigner::new(&NcpCredentials::new(
        "ncp_iam_BPAMKR1aBcDeFgHiJkLm",
        "ncp_iam_BPKMKR9zYxWvUtSrQpOnMlKjIhGfEdCbA0123456789",
    ))
    .unwrap();
    let uri = "/kms/v1/keys/a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6/token-set";
    c.bench_function("ncp_signature_v2", |b| {
        b.iter(|| {
            signer.signature(
                black_box("POST"),
                black_box(uri),
                black_box(1_700_000_000_123),
            )
        })
    });
}

fn huawei_signature(c: &mut Criterion) {
    let creds = HuaweiCredentials::new(
        "AKEXAMPLE0123456789A",
        "SKEXAMPLEsecretKEY0123456789abcdefABCDEF",
    );
    let signer = HuaweiSigner::new(
        &creds,
        HuaweiScope::Project("0a1b2c3d4e5f60718293a4b5c6d7e8f9".into()),
    )
    .unwrap();
    let url = url::Url::parse(
        "https://identitystore.cn-north-4.myhuaweicloud.com/v1/identity-stores/d-1234567890/tenant/e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e/bearer-token",
    )
    .unwrap();
    let mut base = HttpRequest::new(reqwest::Method::POST, url, "/bearer-token");
    base.headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_732_800);
    c.bench_function("huawei_sdk_hmac_sha256_create_bearer_token", |b| {
        b.iter_batched_ref(
            || base.clone(),
            |req| signer.sign(black_box(req), now).unwrap(),
            criterion::BatchSize::SmallInput,
        )
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
                Some(token_common::clock::Clock::now(&SystemClock) + Duration::from_secs(3600)),
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
        b.iter(|| {
            // A fresh token is returned without awaiting anything: poll once.
            let fut = cache.get();
            let out = futures_poll_once(fut);
            black_box(out)
        })
    });
}

/// Polls a future once with a no-op waker; a cache hit completes on the first poll.
fn futures_poll_once<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("a cache hit must not wait"),
    }
}

criterion_group!(
    benches,
    ncp_signature,
    huawei_signature,
    jwt_claims,
    cache_hit
);
criterion_main!(benches);
