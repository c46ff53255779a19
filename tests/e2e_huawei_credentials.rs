//! The Huawei client on instance-metadata credentials (the default chain, no AK/SK
//! anywhere) against the in-process emulator, under tokio's paused time: key rotations,
//! one fetch for many concurrent calls, static stability while metadata is down, and the
//! error when it stays down past expiry.
//!
//! The emulator and the client read the same [`TokioClock`], so advancing tokio's time
//! moves both. Only loopback sockets are used, whose data is ready as soon as it is
//! written, so the paused clock's auto-advance does not fire timeouts early.

mod support;

use std::sync::Arc;
use std::time::Duration;

use huawei_identity_client::{Environment, IdentityStoreClient};
use token_common::clock::{Clock, TokioClock};
use token_common::Transport;
use token_emulator::{demo, Emulator, EmulatorHandle, Fault, ServicePrefix};

const STORE: &str = demo::HUAWEI_IDENTITY_STORE_ID;
const TENANT: &str = demo::HUAWEI_TENANT_ID;
const MINUTE: Duration = Duration::from_secs(60);

async fn setup() -> (EmulatorHandle, IdentityStoreClient) {
    let clock: Arc<dyn Clock> = Arc::new(TokioClock::starting_at(
        std::time::UNIX_EPOCH + Duration::from_secs(support::START_UNIX_SECONDS),
    ));
    setup_with(clock).await
}

async fn setup_with(clock: Arc<dyn Clock>) -> (EmulatorHandle, IdentityStoreClient) {
    let emulator = Emulator::builder()
        .clock(clock.clone())
        .start("127.0.0.1:0")
        .await
        .expect("the emulator starts");
    let home = std::env::temp_dir().join(format!("ct-e2e-meta-{}", std::process::id()));
    let env = Environment::from_pairs([
        ("HOME", home.display().to_string()),
        (
            "HUAWEICLOUD_SDK_METADATA_ENDPOINT",
            emulator.base_url().to_owned(),
        ),
        (
            "HUAWEICLOUD_SDK_PROJECT_ID",
            demo::HUAWEI_PROJECT_ID.to_owned(),
        ),
    ]);
    let transport = Transport::builder()
        .clock(clock)
        .backoff(support::quick_backoff())
        .build()
        .unwrap();
    let client = IdentityStoreClient::builder()
        .endpoint(emulator.base_url())
        .environment(env)
        .transport(transport)
        .build()
        .expect("the client builds without credentials: they are loaded at the first call");
    (emulator, client)
}

async fn call(client: &IdentityStoreClient) -> huawei_identity_client::Result<usize> {
    client
        .list_bearer_tokens(STORE, TENANT)
        .await
        .map(|l| l.len())
}

#[tokio::test(start_paused = true)]
async fn calls_across_three_rotations_fetch_the_keys_once_per_rotation() {
    let (emulator, client) = setup().await;
    call(&client).await.expect("first call on metadata keys");
    assert_eq!(emulator.huawei_metadata_key_requests(), 1);
    assert!(client.credentials_source().starts_with("instance metadata"));
    // 3 h 30 min, a call a minute: the keys rotate at 50, 110 and 170 minutes and the
    // client reloads 5 to 9 minutes before each expiry.
    for minute in 1..=210 {
        tokio::time::advance(MINUTE).await;
        call(&client)
            .await
            .unwrap_or_else(|e| panic!("minute {minute}: {e}"));
    }
    // Let a refresh started by the last call finish before counting.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(emulator.huawei_metadata_key_requests(), 4);
    emulator.shutdown().await.unwrap();
}

/// On a manual clock rather than paused time: 200 loopback connections opened at once
/// leave the paused runtime idle long enough for its auto-advance to fire the metadata
/// request's 3 s connect timeout, which real time never does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_calls_at_the_moment_of_refresh_cause_one_fetch() {
    let clock = support::manual_clock();
    let (emulator, client) = setup_with(clock.clone()).await;
    call(&client).await.unwrap();
    assert_eq!(emulator.huawei_metadata_key_requests(), 1);
    // 56 minutes in: inside every jittered refresh window, the keys still valid.
    clock.advance(56 * MINUTE);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let c = client.clone();
        calls.spawn(async move { call(&c).await });
    }
    while let Some(r) = calls.join_next().await {
        r.unwrap().expect("every concurrent call succeeds");
    }
    // Past the old keys' expiry: this call has the new keys (or joins the one load
    // still running), so the count is final.
    clock.advance(5 * MINUTE);
    call(&client).await.expect("on the new keys");
    assert_eq!(emulator.huawei_metadata_key_requests(), 2);
    emulator.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn metadata_down_during_refresh_keeps_the_valid_keys_then_recovers() {
    let (emulator, client) = setup().await;
    call(&client).await.unwrap();
    emulator.inject(
        Fault::status(500)
            .times(10_000)
            .on(ServicePrefix::Path("/openstack/".into())),
    );
    // From 52 to 59 minutes every refresh fails; calls go on with the old keys.
    tokio::time::advance(52 * MINUTE).await;
    for minute in 52..60 {
        call(&client)
            .await
            .unwrap_or_else(|e| panic!("minute {minute}, metadata down: {e}"));
        tokio::time::advance(MINUTE).await;
    }
    assert!(emulator.pending_faults() < 10_000, "refreshes were tried");
    emulator.clear_faults();
    // Metadata is back before the old keys expire: the next refresh gets new ones.
    let before = emulator.huawei_metadata_key_requests();
    for _ in 0..3 {
        call(&client).await.expect("recovered");
        tokio::time::advance(Duration::from_secs(20)).await;
    }
    assert!(emulator.huawei_metadata_key_requests() > before);
    // And past the old keys' expiry, calls still work: the new keys are in use.
    tokio::time::advance(10 * MINUTE).await;
    call(&client).await.expect("on the new keys");
    emulator.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn metadata_down_and_keys_expired_is_a_clear_error_and_nothing_is_sent() {
    let (emulator, client) = setup().await;
    call(&client).await.unwrap();
    emulator.inject(
        Fault::status(500)
            .times(10_000)
            .on(ServicePrefix::Path("/openstack/".into())),
    );
    tokio::time::advance(61 * MINUTE).await;
    let e = client
        .create_bearer_token(STORE, TENANT)
        .await
        .expect_err("no valid keys");
    let text = e.to_string();
    assert!(text.contains("instance metadata"), "{text}");
    assert!(text.contains("HTTP 500"), "{text}");
    // Not an answer of the service: the request was never sent (a create signed with
    // expired keys would have been refused with APIGW.0301).
    assert_eq!(e.status(), None, "{e:?}");
    assert!(e.service_code().is_none());
    emulator.clear_faults();
    assert_eq!(
        call(&client).await.expect("metadata is back"),
        0,
        "nothing was created"
    );
    emulator.shutdown().await.unwrap();
}
