//! End-to-end benchmarks against the in-process emulator.
//!
//! * `create_token_set/client` vs `create_token_set/bare_reqwest`: `KmsClient` (signing,
//!   transport, error mapping, JSON and JWT decoding) against a bare `reqwest::Client` POST
//!   to the same URL with the same body and the same signature headers, computed once.
//!   Both talk to one emulator whose clock is a fixed `ManualClock`, so the precomputed
//!   timestamp stays valid; the client reads the same clock. After criterion's runs, an
//!   interleaved timing loop prints the ratio client/bare (target ≤ 1.10).
//! * `create_token_set/transport_presigned` and `create_token_set/bare_reqwest_with_timeout`
//!   split the difference: the client's transport alone (presigned request, no building or
//!   decoding), and the bare request under the transport's per-attempt `tokio::time::timeout`.
//! * `client_cpu/create_token_set_in_memory`: the client's own CPU per call (validate,
//!   build, sign, transport bookkeeping, check and decode) against an in-memory answer: the
//!   part of the ratio that is ours, free of network and scheduling noise.
//! * `emulator_throughput/*`: batches of concurrent signed requests, each verified by the
//!   emulator (NCP signature v2 and Huawei SDK-HMAC-SHA256); a timing loop prints req/s.
//!
//! `cargo bench --bench e2e -- --warm-up-time 1 --measurement-time 3` (set
//! `E2E_BENCH_NO_REPORT=1` to skip the printed ratio and req/s).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use huawei_identity_client::{HuaweiCredentials, IdentityStoreClient};
use ncp_kms_client::{KmsClient, NcpCredentials, TokenSetOptions};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use token_common::clock::{unix_millis, Clock, ManualClock};
use token_common::signing::ncp::{ACCESS_KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use token_common::signing::{NcpSigner, NoSigning};
use token_common::{HttpRequest, Transport};
use token_emulator::{demo, Emulator, EmulatorHandle};
use tokio::runtime::Runtime;
use tokio::time::Instant;

/// The emulator's (and the client's) fixed time: 2025-06-01T00:00:00Z.
const FIXED_UNIX_SECONDS: u64 = 1_748_736_000;
/// Concurrent requests in one throughput batch.
const BATCH: usize = 64;

/// Everything both sides of the comparison share.
struct Setup {
    client: KmsClient,
    /// The client's own transport, and the request it sends, presigned: the transport's
    /// share of the client's cost without the client's building and decoding.
    transport: Transport,
    presigned: HttpRequest,
    /// A success answer of create-token-set, for the CPU-only decoding benchmark.
    sample_body: Vec<u8>,
    bare: reqwest::Client,
    url: String,
    headers: HeaderMap,
    huawei: IdentityStoreClient,
}

fn setup(rt: &Runtime) -> (EmulatorHandle, Arc<Setup>) {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at_unix_seconds(FIXED_UNIX_SECONDS));
    let emulator = rt
        .block_on(
            Emulator::builder()
                .clock(clock.clone())
                .start("127.0.0.1:0"),
        )
        .expect("the emulator starts");
    let credentials = NcpCredentials::new(demo::NCP_ACCESS_KEY, demo::NCP_SECRET_KEY);
    let transport = Transport::builder()
        .clock(clock.clone())
        .build()
        .expect("transport");
    let client = KmsClient::builder()
        .credentials(credentials.clone())
        .endpoint(&emulator.ncp_base_url())
        .transport(transport)
        .build()
        .expect("client");

    // The same URL, body and headers the client sends, signed once at the fixed time.
    let url = format!(
        "{}/keys/{}/token-set",
        emulator.ncp_base_url(),
        demo::NCP_KEY_TAG
    );
    let path = format!("/kms/v1/keys/{}/token-set", demo::NCP_KEY_TAG);
    let signed = NcpSigner::new(&credentials).expect("signer").headers(
        "POST",
        &path,
        unix_millis(clock.now()),
    );
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in [
        (TIMESTAMP_HEADER, &signed.timestamp),
        (ACCESS_KEY_HEADER, &signed.access_key),
        (SIGNATURE_HEADER, &signed.signature),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    let mut presigned = HttpRequest::new(
        reqwest::Method::POST,
        url.parse().expect("URL"),
        "/keys/{keyTag}/token-set",
    );
    presigned.headers = headers.clone();
    presigned.body = Some(b"{}".to_vec());
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("bare reqwest client");

    let huawei_transport = Transport::builder()
        .clock(clock)
        .build()
        .expect("transport");
    let huawei = IdentityStoreClient::builder()
        .endpoint(emulator.base_url())
        .credentials(
            HuaweiCredentials::new(demo::HUAWEI_AK, demo::HUAWEI_SK)
                .with_project_id(demo::HUAWEI_PROJECT_ID),
        )
        .transport(huawei_transport)
        .build()
        .expect("Huawei client");

    let sample_body = rt.block_on(async {
        bare.post(&url)
            .headers(headers.clone())
            .body("{}")
            .send()
            .await
            .expect("bare POST")
            .bytes()
            .await
            .expect("body")
            .to_vec()
    });
    let setup = Setup {
        sample_body,
        transport: client.transport().clone(),
        presigned,
        client,
        bare,
        url,
        headers,
        huawei,
    };
    // Both paths must succeed before anything is measured.
    rt.block_on(async {
        via_client(&setup).await;
        via_transport(&setup).await;
        via_bare(&setup).await;
        via_huawei(&setup).await;
    });
    (emulator, Arc::new(setup))
}

async fn via_client(s: &Setup) {
    let set = s
        .client
        .create_token_set(demo::NCP_KEY_TAG, TokenSetOptions::new())
        .await
        .expect("create_token_set");
    black_box(set);
}

async fn via_transport(s: &Setup) {
    let response = s
        .transport
        .send(s.presigned.clone(), &NoSigning, None)
        .await
        .expect("transport POST");
    assert!(response.is_success(), "transport POST: {}", response.status);
    black_box(response);
}

async fn via_bare_with_timeout(s: &Setup) {
    tokio::time::timeout(Duration::from_secs(30), via_bare(s))
        .await
        .expect("in time");
}

async fn via_bare(s: &Setup) {
    let response = s
        .bare
        .post(&s.url)
        .headers(s.headers.clone())
        .body("{}")
        .send()
        .await
        .expect("bare POST");
    assert!(
        response.status().is_success(),
        "bare POST: {}",
        response.status()
    );
    black_box(response.bytes().await.expect("body"));
}

async fn via_huawei(s: &Setup) {
    let list = s
        .huawei
        .list_bearer_tokens(demo::HUAWEI_IDENTITY_STORE_ID, demo::HUAWEI_TENANT_ID)
        .await
        .expect("list_bearer_tokens");
    black_box(list);
}

/// The decoding steps the NCP client applies to a create-token-set answer, through public
/// APIs: the body parsed as a JSON object to check `code`, parsed again into the envelope,
/// and both tokens' claims read.
/// Answers every request at once with the same success body: isolates the client's own
/// CPU work (validation, building, signing, transport bookkeeping, decoding) from the
/// network and the emulator.
#[derive(Debug)]
struct Canned(Vec<u8>);

impl token_common::transport::HttpClient for Canned {
    fn execute(
        &self,
        _request: HttpRequest,
        _max_body_bytes: usize,
    ) -> token_common::transport::BoxFuture<'_, token_common::Result<token_common::HttpResponse>>
    {
        let body = self.0.clone();
        Box::pin(async move { Ok(token_common::HttpResponse::new(200, HeaderMap::new(), body)) })
    }
}

/// The NCP client on an in-memory HTTP client that answers with `body`.
fn in_memory_client(body: &[u8]) -> KmsClient {
    let transport = Transport::builder()
        .http_client(Arc::new(Canned(body.to_vec())))
        .clock(Arc::new(ManualClock::at_unix_seconds(FIXED_UNIX_SECONDS)))
        .build()
        .expect("transport");
    KmsClient::builder()
        .credentials(NcpCredentials::new(
            demo::NCP_ACCESS_KEY,
            demo::NCP_SECRET_KEY,
        ))
        .endpoint("http://127.0.0.1:9/kms/v1")
        .transport(transport)
        .build()
        .expect("client")
}

/// Which signed request a throughput batch sends.
#[derive(Clone, Copy)]
enum Kind {
    /// The precomputed NCP signature v2 POST (the emulator verifies it and mints tokens).
    Ncp,
    /// A Huawei SDK-HMAC-SHA256 GET signed by the client (verified by the emulator).
    Huawei,
}

/// `BATCH` requests at once, each in its own task so both sides use every core.
async fn batch(s: &Arc<Setup>, kind: Kind) {
    let tasks: Vec<_> = (0..BATCH)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move {
                match kind {
                    Kind::Ncp => via_bare(&s).await,
                    Kind::Huawei => via_huawei(&s).await,
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("request task");
    }
}

/// Mean time of one call over `n` sequential calls.
fn mean_call<F, Fut>(rt: &Runtime, n: u32, one: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    rt.block_on(async {
        let started = Instant::now();
        for _ in 0..n {
            one().await;
        }
        started.elapsed() / n
    })
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (emulator, s) = setup(&rt);
    let mut c = Criterion::default().configure_from_args();

    let mut group = c.benchmark_group("create_token_set");
    group.bench_function("client", |b| b.iter(|| rt.block_on(via_client(&s))));
    group.bench_function("bare_reqwest", |b| b.iter(|| rt.block_on(via_bare(&s))));
    // Where the difference goes: the transport alone (presigned request, no decoding), and
    // the bare request under the transport's per-attempt `tokio::time::timeout`.
    group.bench_function("transport_presigned", |b| {
        b.iter(|| rt.block_on(via_transport(&s)))
    });
    group.bench_function("bare_reqwest_with_timeout", |b| {
        b.iter(|| rt.block_on(via_bare_with_timeout(&s)))
    });
    group.finish();

    // The client's whole CPU work per call, without the network: validate, build, sign,
    // send through the transport to an in-memory answer, check and decode it (both JWTs'
    // expiry included).
    let in_memory = in_memory_client(&s.sample_body);
    let mut group = c.benchmark_group("client_cpu");
    group.bench_function("create_token_set_in_memory", |b| {
        b.iter(|| {
            rt.block_on(async {
                in_memory
                    .create_token_set(demo::NCP_KEY_TAG, TokenSetOptions::new())
                    .await
                    .expect("in-memory create_token_set")
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("emulator_throughput");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("ncp_signed_create_token_set", |b| {
        b.iter(|| rt.block_on(batch(&s, Kind::Ncp)))
    });
    group.bench_function("huawei_signed_list_bearer_tokens", |b| {
        b.iter(|| rt.block_on(batch(&s, Kind::Huawei)))
    });
    group.finish();

    if !skip_reports() {
        report_ratio(&rt, &s);
        report_throughput(&rt, &s);
    }
    c.final_summary();
    rt.block_on(emulator.shutdown()).expect("clean shutdown");
}

/// Whether to skip the printed ratio and req/s: when criterion only lists (`--list`) or
/// profiles (`--profile-time`), or when `E2E_BENCH_NO_REPORT` is set (to run one
/// criterion benchmark alone).
fn skip_reports() -> bool {
    std::env::var_os("E2E_BENCH_NO_REPORT").is_some()
        || std::env::args().any(|a| a == "--list" || a == "--profile-time")
}

/// Interleaved rounds of sequential calls, client then bare, so drift (CPU frequency, other
/// load) hits both alike; the ratio of the medians is printed.
fn report_ratio(rt: &Runtime, s: &Setup) {
    const ROUNDS: usize = 31;
    const CALLS: u32 = 200;
    let mut client = Vec::with_capacity(ROUNDS);
    let mut bare = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        client.push(mean_call(rt, CALLS, || via_client(s)));
        bare.push(mean_call(rt, CALLS, || via_bare(s)));
    }
    let (c, b) = (median(&mut client), median(&mut bare));
    eprintln!(
        "\ncreate_token_set per call (median of {ROUNDS} rounds x {CALLS}): client {:.1} µs, bare reqwest {:.1} µs, ratio client/bare = {:.3} (target <= 1.10)",
        c.as_secs_f64() * 1e6,
        b.as_secs_f64() * 1e6,
        c.as_secs_f64() / b.as_secs_f64()
    );
}

/// Signed requests per second the emulator serves, `BATCH` in flight at a time.
fn report_throughput(rt: &Runtime, s: &Arc<Setup>) {
    const BATCHES: usize = 60;
    let ncp = rt.block_on(async {
        let started = Instant::now();
        for _ in 0..BATCHES {
            batch(s, Kind::Ncp).await;
        }
        started.elapsed()
    });
    let huawei = rt.block_on(async {
        let started = Instant::now();
        for _ in 0..BATCHES {
            batch(s, Kind::Huawei).await;
        }
        started.elapsed()
    });
    let n = (BATCHES * BATCH) as f64;
    eprintln!(
        "emulator throughput ({BATCH} concurrent, {} requests each): NCP signature v2 create_token_set {:.0} req/s, Huawei SDK-HMAC-SHA256 list_bearer_tokens {:.0} req/s",
        BATCHES * BATCH,
        n / ncp.as_secs_f64(),
        n / huawei.as_secs_f64()
    );
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}
