//! Every client against injected faults: 503s retried (and given up after the last
//! attempt), a `Retry-After` beyond the cap not waited for, a delay longer than the
//! per-attempt timeout, a dropped connection and a malformed body — each ending in a clear
//! error or a success, never a panic or a hang.

mod support;

use std::time::Duration;

use cloudforet_identity_client::{Credentials, IssueRequest, RouteStyle};
use ncp_kms_client::{KmsClient, TokenSetOptions};
use token_common::Error;
use token_emulator::{demo, Fault, ServicePrefix};

const TAG: &str = demo::NCP_KEY_TAG;

fn admin_login() -> IssueRequest {
    IssueRequest::new(
        Credentials::local(
            demo::CLOUDFORET_ADMIN_USER_ID,
            demo::CLOUDFORET_ADMIN_PASSWORD,
        ),
        demo::CLOUDFORET_DOMAIN_ID,
    )
}

#[tokio::test]
async fn ncp_two_503s_are_retried_then_succeed() {
    let emulator = support::start().await;
    let client = support::ncp_client(&emulator); // default transport: 3 attempts
    emulator.inject(Fault::status(503).times(2).on(ServicePrefix::Ncp));
    client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect("the third attempt succeeds");
    assert_eq!(emulator.pending_faults(), 0, "both 503s were met");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn ncp_three_503s_give_the_503_error() {
    let emulator = support::start().await;
    let client = support::ncp_client(&emulator);
    emulator.inject(Fault::status(503).times(3).on(ServicePrefix::Ncp));
    let err = client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect_err("three attempts, three 503s");
    assert_eq!(err.status(), Some(503), "{err}");
    assert_eq!(err.service_code(), Some("500"));
    assert!(err.is_retryable());
    assert_eq!(
        emulator.pending_faults(),
        0,
        "exactly three attempts were made"
    );
    // The next call is served normally.
    client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect("served normally after the faults");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn huawei_and_cloudforet_503s_are_retried() {
    let emulator = support::start().await;
    let huawei = support::huawei_client(&emulator, support::huawei_permanent());
    let cloudforet = support::cloudforet_client(&emulator, RouteStyle::Console);
    emulator.inject(Fault::status(503).times(2).on(ServicePrefix::Huawei));
    emulator.inject(Fault::status(503).on(ServicePrefix::Cloudforet));
    emulator.inject(Fault::status(429).on(ServicePrefix::Cloudforet));
    huawei
        .create_bearer_token(demo::HUAWEI_IDENTITY_STORE_ID, demo::HUAWEI_TENANT_ID)
        .await
        .expect("Huawei: the third attempt succeeds");
    cloudforet
        .issue(&admin_login())
        .await
        .expect("Cloudforet: the third attempt succeeds");
    assert_eq!(emulator.pending_faults(), 0);
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_login_answered_502_is_not_sent_again_a_domain_lookup_is() {
    let emulator = support::start().await;
    let cloudforet = support::cloudforet_client(&emulator, RouteStyle::Console);
    // The 502 may come from a gateway that passed the login on: a second login could
    // count as a second failure, or use up an MFA code.
    // (A second attempt would reach the emulator and succeed.)
    emulator.inject(Fault::status(502).on(ServicePrefix::Cloudforet));
    let err = cloudforet
        .issue(&admin_login())
        .await
        .expect_err("the 502 is final for a login");
    assert_eq!(err.status(), Some(502), "{err}");
    assert!(!err.is_retryable(), "{err:?}");
    // The domain lookup only reads: its 502 and 504 are retried.
    emulator.inject(Fault::status(502).on(ServicePrefix::Cloudforet));
    emulator.inject(Fault::status(504).on(ServicePrefix::Cloudforet));
    cloudforet
        .domain_auth_info(demo::CLOUDFORET_DOMAIN_NAME)
        .await
        .expect("the third attempt succeeds");
    assert_eq!(emulator.pending_faults(), 0);
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn faults_hit_only_their_service() {
    let emulator = support::start().await;
    let ncp = KmsClient::builder()
        .credentials(support::ncp_credentials())
        .endpoint(&emulator.ncp_base_url())
        .max_attempts(1)
        .build()
        .expect("client");
    emulator.inject(Fault::status(503).on(ServicePrefix::Huawei));
    ncp.list_keys(1, 10).await.expect("NCP is not disturbed");
    assert_eq!(emulator.pending_faults(), 1);
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn non_retryable_statuses_are_not_retried() {
    let emulator = support::start().await;
    let client = support::huawei_client(&emulator, support::huawei_permanent());
    emulator.inject(Fault::status(500).times(3).on(ServicePrefix::Huawei));
    let err = client
        .list_bearer_tokens(demo::HUAWEI_IDENTITY_STORE_ID, demo::HUAWEI_TENANT_ID)
        .await
        .expect_err("500 is not retried");
    assert_eq!(err.status(), Some(500), "{err}");
    assert_eq!(emulator.pending_faults(), 2, "one attempt only");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_not_waited_for() {
    let emulator = support::start().await;
    let client = support::ncp_client(&emulator);
    emulator.inject(
        Fault::status(429)
            .retry_after_secs(3600)
            .times(3)
            .on(ServicePrefix::Ncp),
    );
    let started = tokio::time::Instant::now();
    let err = client
        .list_keys(1, 10)
        .await
        .expect_err("a one-hour Retry-After ends the retries");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(err.is_throttling(), "{err}");
    assert_eq!(err.service_code(), Some("410"));
    assert_eq!(
        err.service_error().and_then(|e| e.retry_after),
        Some(Duration::from_secs(3600))
    );
    assert_eq!(emulator.pending_faults(), 2, "no retry was made");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn short_retry_after_is_honoured() {
    let emulator = support::start().await;
    let client = support::cloudforet_client(&emulator, RouteStyle::Console);
    emulator.inject(
        Fault::status(429)
            .retry_after_secs(0)
            .on(ServicePrefix::Cloudforet),
    );
    client
        .domain_auth_info(demo::CLOUDFORET_DOMAIN_NAME)
        .await
        .expect("retried after the announced wait");
    assert_eq!(emulator.pending_faults(), 0);
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn delay_longer_than_the_timeout_times_out() {
    let emulator = support::start().await;
    let client = KmsClient::builder()
        .credentials(support::ncp_credentials())
        .endpoint(&emulator.ncp_base_url())
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    emulator.inject(Fault::delay(Duration::from_secs(30)).on(ServicePrefix::Ncp));
    let started = tokio::time::Instant::now();
    let err = client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect_err("the answer comes too late");
    assert!(
        matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(300)),
        "{err:?}"
    );
    // The server may have created the token set: the caller is not told to send it again.
    assert!(err.is_timeout() && !err.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a POST is tried once"
    );
    // Shutdown cuts the injected delay short.
    tokio::time::timeout(Duration::from_secs(5), emulator.shutdown())
        .await
        .expect("shutdown does not wait out the delay")
        .expect("clean shutdown");
}

#[tokio::test]
async fn timed_out_get_is_retried() {
    let emulator = support::start().await;
    let transport = token_common::Transport::builder()
        .attempt_timeout(Duration::from_millis(300))
        .backoff(support::quick_backoff())
        .build()
        .expect("transport");
    let client = support::huawei_client_with(&emulator, support::huawei_permanent(), transport);
    emulator.inject(Fault::delay(Duration::from_secs(30)).on(ServicePrefix::Huawei));
    let tokens = client
        .list_bearer_tokens(demo::HUAWEI_IDENTITY_STORE_ID, demo::HUAWEI_TENANT_ID)
        .await
        .expect("the second attempt is answered in time");
    assert!(tokens.is_empty());
    tokio::time::timeout(Duration::from_secs(5), emulator.shutdown())
        .await
        .expect("shutdown does not wait out the delay")
        .expect("clean shutdown");
}

#[tokio::test]
async fn dropped_connection_is_a_transport_error_for_a_post() {
    let emulator = support::start().await;
    let client = support::ncp_client(&emulator);
    emulator.inject(Fault::drop_connection().on(ServicePrefix::Ncp));
    let err = client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect_err("no answer");
    assert!(
        matches!(err, Error::Transport { connect: false, .. }),
        "a POST that reached the server is not retried: {err:?}"
    );
    assert!(err.status().is_none());
    assert!(err.to_string().starts_with("transport error"), "{err}");
    client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect("the next call is served");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn dropped_connection_is_retried_for_a_get() {
    let emulator = support::start().await;
    let client = support::ncp_client(&emulator);
    emulator.inject(Fault::drop_connection().on(ServicePrefix::Ncp));
    client
        .list_keys(1, 10)
        .await
        .expect("a GET is retried after a reset");
    assert_eq!(emulator.pending_faults(), 0);
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn malformed_body_is_a_decode_error_that_quotes_nothing() {
    let emulator = support::start().await;
    let ncp = support::ncp_client(&emulator);
    let huawei = support::huawei_client(&emulator, support::huawei_permanent());
    let cloudforet = support::cloudforet_client(&emulator, RouteStyle::Console);
    emulator.inject(Fault::malformed_body().times(3));

    let errors = [
        ncp.create_token_set(TAG, TokenSetOptions::new())
            .await
            .expect_err("NCP: malformed body"),
        huawei
            .create_bearer_token(demo::HUAWEI_IDENTITY_STORE_ID, demo::HUAWEI_TENANT_ID)
            .await
            .expect_err("Huawei: malformed body"),
        cloudforet
            .issue(&admin_login())
            .await
            .expect_err("Cloudforet: malformed body"),
    ];
    for err in errors {
        assert!(matches!(err, Error::Decode { status: 200, .. }), "{err:?}");
        assert!(!err.is_retryable());
        // A success body may carry tokens: it is never quoted.
        let text = err.to_string();
        assert!(
            !text.contains("accessToken") && !text.contains("SUCCESS"),
            "{text}"
        );
    }
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn cloudforet_delay_longer_than_the_timeout_times_out() {
    let emulator = support::start().await;
    let client = cloudforet_identity_client::IdentityClient::builder()
        .endpoint(emulator.base_url())
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    emulator.inject(Fault::delay(Duration::from_secs(30)).on(ServicePrefix::Cloudforet));
    let err = client
        .issue(&admin_login())
        .await
        .expect_err("the answer comes too late");
    assert!(err.is_timeout(), "{err:?}");
    tokio::time::timeout(Duration::from_secs(5), emulator.shutdown())
        .await
        .expect("shutdown does not wait out the delay")
        .expect("clean shutdown");
}

#[tokio::test]
async fn token_cache_serves_the_valid_token_while_refreshes_fail() {
    let (clock, emulator, client) = support::ncp_on_manual_clock().await;
    let options = TokenSetOptions::new()
        .with_access_token_hours(ncp_kms_client::TokenValidity::hours(1).expect("hours"));
    let cache = client.token_source(TAG, options).expect("token source");
    let first = cache.get().await.expect("first token");

    // Inside the refresh margin, every attempt of the refresh fails: the old token, still
    // valid for 2 more minutes, is served instead of an error.
    clock.advance(Duration::from_secs(3600 - 120));
    emulator.inject(Fault::status(503).times(3).on(ServicePrefix::Ncp));
    let during = cache.get_fresh().await.expect("the still-valid token");
    assert_eq!(during.value.expose_secret(), first.value.expose_secret());
    assert_eq!(
        emulator.pending_faults(),
        0,
        "the refresh was tried (3 attempts)"
    );

    // Once the service answers again and the failure's backoff (at most 5 s) is over,
    // the next call refreshes.
    clock.advance(Duration::from_secs(5));
    let after = cache.get_fresh().await.expect("refreshed token");
    assert_ne!(after.value.expose_secret(), first.value.expose_secret());

    // Past expiry with the service down: the error, not the dead token.
    clock.advance(Duration::from_secs(3600 + 1));
    emulator.inject(Fault::status(503).times(3).on(ServicePrefix::Ncp));
    let err = cache
        .get()
        .await
        .expect_err("no valid token to fall back on");
    assert_eq!(err.status(), Some(503), "{err}");
    emulator.shutdown().await.expect("clean shutdown");
}
