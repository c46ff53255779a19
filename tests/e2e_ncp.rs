//! The NCP KMS client against the in-process emulator: the token-set life cycle, the token
//! generator, the key list, a wrong secret, a client clock 10 minutes off, and a
//! `KmsTokenSource` keeping an access token fresh across expiries on manual time.

mod support;

use std::sync::Arc;
use std::time::Duration;

use ncp_kms_client::{GeneratorStatus, KmsClient, NcpCredentials, TokenSetOptions, TokenValidity};
use token_common::clock::Clock;
use token_emulator::demo;

use support::{unix, OffsetClock};

const TAG: &str = demo::NCP_KEY_TAG;

fn hours(h: u32) -> TokenValidity {
    TokenValidity::hours(h).expect("hours in range")
}

#[tokio::test]
async fn token_set_is_created_refreshed_and_renewed() {
    let emulator = support::start().await;
    let client = support::ncp_client(&emulator);
    let before = unix(client.transport().now());

    let set = client
        .create_token_set(
            TAG,
            TokenSetOptions::new()
                .with_access_token_hours(hours(1))
                .with_refresh_token_hours(hours(24)),
        )
        .await
        .expect("create token set");
    let access_exp = unix(set.access_token_expires_at.expect("access exp"));
    let refresh_exp = unix(set.refresh_token_expires_at.expect("refresh exp"));
    assert!((before + 3600..=before + 3600 + 5).contains(&access_exp));
    assert!((before + 24 * 3600..=before + 24 * 3600 + 5).contains(&refresh_exp));
    assert!(!format!("{set:?}").contains(set.access_token.expose_secret()));

    // Refresh: a new access token with the asked validity, authenticated by the refresh
    // token alone.
    let access = client
        .refresh_access_token(TAG, &set.refresh_token, Some(hours(2)))
        .await
        .expect("refresh access token");
    assert_ne!(
        access.token.expose_secret(),
        set.access_token.expose_secret()
    );
    let refreshed_exp = unix(access.expires_at.expect("refreshed exp"));
    assert!((before + 7200..=before + 7200 + 5).contains(&refreshed_exp));

    // Renew: a whole new set; the old one is not revoked.
    let renewed = client
        .renew_token_set(
            TAG,
            &set.refresh_token,
            TokenSetOptions::new().with_refresh_token_hours(TokenValidity::Unlimited),
        )
        .await
        .expect("renew token set");
    assert_ne!(
        renewed.refresh_token.expose_secret(),
        set.refresh_token.expose_secret()
    );
    assert_eq!(renewed.refresh_token_expires_at, None, "UL has no exp");
    let default_exp = unix(renewed.access_token_expires_at.expect("default access exp"));
    assert!((before + 72 * 3600..=before + 72 * 3600 + 5).contains(&default_exp));
    client
        .refresh_access_token(TAG, &set.refresh_token, None)
        .await
        .expect("the old refresh token still works after a renew");
    client
        .refresh_access_token(TAG, &renewed.refresh_token, None)
        .await
        .expect("the new refresh token works");

    // Only a refresh token is accepted for refresh.
    let err = client
        .refresh_access_token(TAG, &set.access_token, None)
        .await
        .expect_err("an access token is not a refresh token");
    assert!(err.is_authentication(), "{err}");
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.service_code(), Some("UNAUTHORIZED"));
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn token_generator_is_read_replaced_disabled_and_enabled() {
    let emulator = support::start().await;
    let client = support::ncp_client(&emulator);

    let first = client
        .get_token_generator(TAG)
        .await
        .expect("get generator");
    assert_eq!(first.status, GeneratorStatus::Active);
    assert_eq!(first.issued_token_count, Some(0));
    let set = client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect("create token set");
    let counted = client
        .get_token_generator(TAG)
        .await
        .expect("get generator");
    assert_eq!(
        counted.issued_token_count,
        Some(2),
        "one access + one refresh"
    );

    // Replacing discards every token issued so far.
    client.replace_token_generator(TAG).await.expect("replace");
    let replaced = client
        .get_token_generator(TAG)
        .await
        .expect("get generator");
    assert_eq!(replaced.status, GeneratorStatus::Active);
    assert_ne!(replaced.token_generator_id, first.token_generator_id);
    let err = client
        .refresh_access_token(TAG, &set.refresh_token, None)
        .await
        .expect_err("tokens of a replaced generator are refused");
    assert!(err.is_authentication(), "{err}");

    // Disabling refuses token calls the way KMS does; enabling brings issuing back.
    client.disable_token_generator(TAG).await.expect("disable");
    let disabled = client
        .get_token_generator(TAG)
        .await
        .expect("get generator");
    assert_eq!(disabled.status, GeneratorStatus::Inactive);
    let err = client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect_err("a disabled generator issues nothing");
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.service_code(), Some("INVALID_REQUEST"));
    client.enable_token_generator(TAG).await.expect("enable");
    client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect("issuing works again once enabled");

    // The demo's disabled key, likewise.
    let err = client
        .create_token_set(demo::NCP_DISABLED_KEY_TAG, TokenSetOptions::new())
        .await
        .expect_err("the demo disabled key issues nothing");
    assert_eq!(err.service_code(), Some("INVALID_REQUEST"));
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn key_list_pages_hold_the_demo_keys() {
    let emulator = support::start().await;
    let client = support::ncp_client(&emulator);

    let page = client.list_keys(1, 100).await.expect("list keys");
    assert_eq!(page.total_count, Some(3));
    assert_eq!(page.current_page_no, Some(1));
    let mut tags: Vec<String> = page.keys.iter().filter_map(|k| k.key_tag.clone()).collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            demo::NCP_DISABLED_KEY_TAG,
            demo::NCP_ECDSA_KEY_TAG,
            demo::NCP_KEY_TAG
        ]
    );
    let ecdsa = page
        .keys
        .iter()
        .find(|k| k.key_tag.as_deref() == Some(demo::NCP_ECDSA_KEY_TAG))
        .expect("the ECDSA key");
    assert_eq!(ecdsa.key_type, ncp_kms_client::KeyType::Ecdsa);

    // One key a page: the signed query carries both parameters, in order.
    let second = client.list_keys(2, 1).await.expect("second page");
    assert_eq!(second.keys.len(), 1);
    assert_eq!(second.total_page_no, Some(3));
    let all = client.list_all_keys().await.expect("list all keys");
    assert_eq!(all.len(), 3);
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn unknown_key_tag_is_not_found_and_odd_tags_stay_one_segment() {
    let emulator = support::start().await;
    let client = support::ncp_client(&emulator);
    for tag in ["no-such-key", "a/../../keys", "what?x=1#y", "ключ %2F"] {
        let err = client
            .create_token_set(tag, TokenSetOptions::new())
            .await
            .expect_err("unknown key");
        // Signed correctly (not 401) and routed to the key, whatever the tag holds.
        assert_eq!(err.status(), Some(404), "{tag}: {err}");
        assert_eq!(err.service_code(), Some("NOT_FOUND"), "{tag}");
    }
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn wrong_secret_is_an_authentication_error() {
    let emulator = support::start().await;
    let client = KmsClient::builder()
        .credentials(NcpCredentials::new(demo::NCP_ACCESS_KEY, "not-the-secret"))
        .endpoint(&emulator.ncp_base_url())
        .build()
        .expect("client");
    let err = client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect_err("wrong secret");
    assert!(err.is_authentication(), "{err}");
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.service_code(), Some("200"));
    assert!(!err.to_string().contains("not-the-secret"));
    // A refusal that is not about time does not change the clock offset.
    assert_eq!(client.clock_skew_ms(), 0);

    let unknown = KmsClient::builder()
        .credentials(NcpCredentials::new(
            "NO-SUCH-ACCESS-KEY",
            demo::NCP_SECRET_KEY,
        ))
        .endpoint(&emulator.ncp_base_url())
        .build()
        .expect("client");
    let err = unknown.list_keys(1, 10).await.expect_err("unknown key");
    assert!(err.is_authentication(), "{err}");
    assert_eq!(err.service_code(), Some("200"));
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn skew_correction_is_tried_once_then_the_refusal_is_reported() {
    let emulator = support::start().await;
    let transport =
        support::transport_with_clock(Arc::new(OffsetClock::behind(Duration::from_secs(600))))
            .build()
            .expect("transport");
    let client = KmsClient::builder()
        .credentials(NcpCredentials::new(demo::NCP_ACCESS_KEY, "not-the-secret"))
        .endpoint(&emulator.ncp_base_url())
        .transport(transport)
        .build()
        .expect("client");
    // Refused for its time, re-signed once with the server's clock, refused for its
    // signature: an authentication error, not a loop.
    let err = client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect_err("wrong secret");
    assert!(err.is_authentication(), "{err}");
    assert_eq!(err.service_code(), Some("200"));
    let skew = client.clock_skew_ms();
    assert!(
        (598_000..=602_000).contains(&skew),
        "measured skew {skew} ms"
    );
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn client_clock_ten_minutes_behind_is_corrected() {
    let emulator = support::start().await;
    let transport =
        support::transport_with_clock(Arc::new(OffsetClock::behind(Duration::from_secs(600))))
            .build()
            .expect("transport");
    let client = support::ncp_client_with(&emulator, transport);

    let set = client
        .create_token_set(TAG, TokenSetOptions::new())
        .await
        .expect("succeeds after re-signing with the server's clock");
    let skew = client.clock_skew_ms();
    assert!(
        (598_000..=602_000).contains(&skew),
        "measured skew {skew} ms"
    );
    // The offset is kept: later signed calls succeed at once.
    client.list_keys(1, 10).await.expect("list keys");
    client
        .get_token_generator(TAG)
        .await
        .expect("get generator");
    assert!(set.access_token_expires_at.is_some());
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn client_clock_ten_minutes_ahead_is_corrected() {
    let emulator = support::start().await;
    let clock = Arc::new(OffsetClock::ahead(Duration::from_secs(600)));
    let transport = support::transport_with_clock(clock)
        .build()
        .expect("transport");
    let client = support::ncp_client_with(&emulator, transport);
    client.list_keys(1, 10).await.expect("list keys");
    let skew = client.clock_skew_ms();
    assert!(
        (-602_000..=-598_000).contains(&skew),
        "measured skew {skew} ms"
    );
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn token_source_refreshes_then_renews_across_expiry() {
    let (clock, emulator, client, cache) = token_source_on_manual_clock().await;

    // First use: a token set (2 tokens issued).
    let first = cache.get().await.expect("first token");
    let first_exp = first.expires_at.expect("exp");
    assert_eq!(first_exp, clock.now() + Duration::from_secs(3600));
    let again = cache.get().await.expect("cached token");
    assert!(
        Arc::ptr_eq(&first, &again),
        "a fresh token is served from memory"
    );
    assert_eq!(issued(&client).await, 2);

    // Inside the refresh margin (5 minutes before expiry): refreshed with the refresh
    // token, one more token issued.
    clock.advance(Duration::from_secs(3600 - 200));
    let second = cache.get_fresh().await.expect("refreshed token");
    assert_ne!(second.value.expose_secret(), first.value.expose_secret());
    assert!(second.expires_at.expect("exp") > first_exp);
    assert_eq!(issued(&client).await, 3);

    // Past the access token's expiry and within 10 minutes of the refresh token's: the set
    // is renewed with the refresh token rather than refreshing with a token about to die.
    clock.advance(Duration::from_secs(2 * 3600 - 100));
    let third = cache.get().await.expect("token from a renewed set");
    assert_ne!(third.value.expose_secret(), second.value.expose_secret());
    assert_eq!(
        third.expires_at,
        Some(clock.now() + Duration::from_secs(3600))
    );
    assert_eq!(issued(&client).await, 5);
    emulator.shutdown().await.expect("clean shutdown");
}

/// A `TokenReader` over the KMS token source: served from memory while fresh, and past the
/// access token's expiry it waits for the cache's one fetch and then holds the new token.
#[tokio::test]
async fn a_token_reader_over_the_kms_token_source_follows_its_refreshes() {
    let (clock, emulator, client, cache) = token_source_on_manual_clock().await;
    let mut reader: cloud_tokens::ncp::TokenReader<_> = cache.reader();

    let first = reader.get().await.expect("first token").clone();
    for _ in 0..10 {
        assert!(Arc::ptr_eq(reader.get().await.expect("hit"), &first));
    }
    assert_eq!(issued(&client).await, 2, "one token set, nothing more");

    // Past the access token's expiry: the reader's next get waits for the refresh.
    clock.advance(Duration::from_secs(3601));
    let second = reader.get().await.expect("refreshed token").clone();
    assert_ne!(second.value.expose_secret(), first.value.expose_secret());
    assert_eq!(issued(&client).await, 3);
    // The cache's other handles see the same token.
    assert!(Arc::ptr_eq(&cache.get().await.expect("cache"), &second));
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn token_source_recovers_from_a_replaced_generator() {
    let (clock, emulator, client) = support::ncp_on_manual_clock().await;
    let options = TokenSetOptions::new().with_access_token_hours(hours(1));
    let cache = client.token_source(TAG, options).expect("token source");
    let first = cache.get().await.expect("first token");

    // Every token issued so far dies; the refresh is refused (401), so the source creates
    // a new set instead of failing.
    client.replace_token_generator(TAG).await.expect("replace");
    clock.advance(Duration::from_secs(3600 - 60));
    let next = cache.get_fresh().await.expect("token from a new set");
    assert_ne!(next.value.expose_secret(), first.value.expose_secret());
    emulator.shutdown().await.expect("clean shutdown");
}

/// The emulator and a client on one manual clock, and the client's token source for 1-hour
/// access and 3-hour refresh tokens.
async fn token_source_on_manual_clock() -> (
    Arc<token_common::clock::ManualClock>,
    token_emulator::EmulatorHandle,
    KmsClient,
    ncp_kms_client::TokenCache<ncp_kms_client::KmsTokenSource>,
) {
    let (clock, emulator, client) = support::ncp_on_manual_clock().await;
    let options = TokenSetOptions::new()
        .with_access_token_hours(hours(1))
        .with_refresh_token_hours(hours(3));
    let cache = client.token_source(TAG, options).expect("token source");
    (clock, emulator, client, cache)
}

async fn issued(client: &KmsClient) -> u64 {
    client
        .get_token_generator(TAG)
        .await
        .expect("get generator")
        .issued_token_count
        .expect("count")
}

/// Whether the emulator still accepts `access_token` for a crypto call: it answers 400 (no
/// plaintext in the body) to a valid access token and 401 to a dead one.
async fn access_token_is_alive(base: &str, access_token: &str) -> bool {
    let status = reqwest::Client::new()
        .post(format!("{base}/keys/{TAG}/encrypt"))
        .header(ncp_kms_client::TOKEN_HEADER, access_token)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("crypto call")
        .status()
        .as_u16();
    assert!(matches!(status, 401 | 400), "unexpected status {status}");
    status == 400
}

#[tokio::test]
async fn token_source_on_a_skewed_client_never_serves_an_expired_token() {
    // The server's time is `server`; the client's clock is 10 minutes behind it.
    let server = support::manual_clock();
    let emulator = support::start_with_clock(server.clone()).await;
    let client_clock = Arc::new(OffsetClock::behind_of(
        server.clone(),
        Duration::from_secs(600),
    ));
    let transport = support::transport_with_clock(client_clock)
        .build()
        .expect("transport");
    let client = support::ncp_client_with(&emulator, transport);
    let options = TokenSetOptions::new().with_access_token_hours(hours(1));
    let cache = client.token_source(TAG, options).expect("token source");

    let first = cache
        .get()
        .await
        .expect("first token (after skew correction)");
    let skew = client.clock_skew_ms();
    assert!(
        (598_000..=602_000).contains(&skew),
        "measured skew {skew} ms"
    );
    assert!(access_token_is_alive(&emulator.ncp_base_url(), first.value.expose_secret()).await);

    // One minute past the token's expiry on the server's clock.
    server.advance(Duration::from_secs(3600 + 60));
    let next = cache.get().await.expect("token");
    assert!(
        access_token_is_alive(&emulator.ncp_base_url(), next.value.expose_secret()).await,
        "the cache served an access token the service no longer accepts: it judged expiry \
         on the raw client clock, ignoring the {skew} ms skew the transport measured"
    );
    emulator.shutdown().await.expect("clean shutdown");
}
