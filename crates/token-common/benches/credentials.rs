#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn

//! The credentials cache on a hit: `cargo bench -p token-common --bench credentials`.
//!
//! What every signed request pays before signing when its client has refreshing
//! credentials: `SignerCache::get` on a hit (the cached credentials' entry, one clock read,
//! one pointer comparison with the prepared signer), next to `CredentialsCache::get` alone
//! and a bare clock read. The signing benchmark (`--bench signing`) is unchanged: the
//! prepared signer is the same `HuaweiSigner`.

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use token_common::cache::Expiring;
use token_common::clock::{Clock, SystemClock};
use token_common::credentials::{
    CredentialsCache, HuaweiCredentials, HuaweiScope, LoadCredentials, SignerCache,
};
use token_common::signing::HuaweiSigner;
use token_common::transport::BoxFuture;
use token_common::Result;

/// Hour-long temporary keys, as instance metadata gives them.
#[derive(Debug)]
struct Metadata;

impl LoadCredentials<HuaweiCredentials> for Metadata {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<HuaweiCredentials>>> {
        let c =
            HuaweiCredentials::new("AKEXAMPLE0123456789A", "SKEXAMPLEsecretKEY0123456789abcdef")
                .with_security_token("security-token-example");
        let expires = SystemClock.now() + Duration::from_secs(3600);
        Box::pin(std::future::ready(Ok(Expiring::new(c, Some(expires)))))
    }

    fn describe(&self) -> String {
        "bench metadata".into()
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let cache = CredentialsCache::new(Metadata);
    let signers = SignerCache::new(cache.clone(), |c: &HuaweiCredentials| {
        HuaweiSigner::new(
            c,
            HuaweiScope::Project("0a1b2c3d4e5f60718293a4b5c6d7e8f9".into()),
        )
    });
    // Warm: the first get loads and prepares.
    rt.block_on(signers.get()).unwrap();

    let mut g = c.benchmark_group("credentials_cache_hit");
    g.bench_function("clock_read", |b| b.iter(|| black_box(SystemClock.now())));
    // What driving a ready future costs, so the two gets below can be read against it.
    g.bench_function("block_on_ready_baseline", |b| {
        b.iter(|| black_box(rt.block_on(std::future::ready(1u8))))
    });
    g.bench_function("credentials_cache_get", |b| {
        b.iter(|| black_box(rt.block_on(cache.get()).unwrap()))
    });
    g.bench_function("signer_cache_get", |b| {
        b.iter(|| black_box(rt.block_on(signers.get()).unwrap()))
    });
    g.finish();
}

criterion::criterion_group!(benches, bench);
criterion::criterion_main!(benches);
