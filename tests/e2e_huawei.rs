//! The Huawei IdentityCenterStore client against the in-process emulator: bearer tokens
//! and provisioning tenants with permanent and temporary (STS) credentials, refused
//! credentials, a client clock 20 minutes off, and a `BearerTokenSource` rotating its token
//! across expiry on manual time.

mod support;

use std::sync::Arc;
use std::time::Duration;

use huawei_identity_client::{BearerTokenSource, HuaweiCredentials, IdentityStoreClient};
use token_common::clock::{Clock, ManualClock};
use token_emulator::{demo, EmulatorHandle};

use support::{unix, OffsetClock};

const STORE: &str = demo::HUAWEI_IDENTITY_STORE_ID;
const TENANT: &str = demo::HUAWEI_TENANT_ID;

/// Creates, lists and deletes a bearer token, then does the same for a provisioning tenant
/// of its own, with whatever credentials `client` holds.
async fn bearer_token_and_tenant_round_trip(client: &IdentityStoreClient) {
    let before_ms = client.transport().now();
    let token = client
        .create_bearer_token(STORE, TENANT)
        .await
        .expect("create bearer token");
    assert!(!token.token.expose_secret().is_empty());
    assert!(!format!("{token:?}").contains(token.token.expose_secret()));
    assert!(token.expiration_time > token.creation_time);
    assert!(unix(token.creation_time.as_system_time()) + 1 >= unix(before_ms));
    assert!(token.time_to_expiry(client.transport().now()) > Duration::from_secs(3600));

    let listed = client
        .list_bearer_tokens(STORE, TENANT)
        .await
        .expect("list bearer tokens");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].token_id, token.token_id);
    assert_eq!(listed[0].expiration_time, token.expiration_time);

    client
        .delete_bearer_token(STORE, TENANT, &token.token_id)
        .await
        .expect("delete bearer token (204)");
    assert!(client
        .list_bearer_tokens(STORE, TENANT)
        .await
        .expect("list bearer tokens")
        .is_empty());
    let err = client
        .delete_bearer_token(STORE, TENANT, &token.token_id)
        .await
        .expect_err("deleted twice");
    assert_eq!(err.status(), Some(404), "{err}");
    assert_eq!(err.service_code(), Some("IdentityStore.0404"));
    assert!(err.request_id().is_some_and(|id| !id.is_empty()));

    // Provisioning tenants: create, use, list, delete.
    let tenant = client
        .create_provisioning_tenant(STORE)
        .await
        .expect("create provisioning tenant");
    assert!(!tenant.tenant_id.is_empty());
    assert!(
        tenant.scim_endpoint.contains(&tenant.tenant_id),
        "{}",
        tenant.scim_endpoint
    );
    let ids: Vec<String> = client
        .list_provisioning_tenants(STORE)
        .await
        .expect("list provisioning tenants")
        .into_iter()
        .map(|t| t.tenant_id)
        .collect();
    assert!(
        ids.contains(&tenant.tenant_id) && ids.iter().any(|id| id == TENANT),
        "{ids:?}"
    );
    client
        .create_bearer_token(STORE, &tenant.tenant_id)
        .await
        .expect("a bearer token in the new tenant");
    client
        .delete_provisioning_tenant(STORE, &tenant.tenant_id)
        .await
        .expect("delete provisioning tenant (204)");
    let ids: Vec<String> = client
        .list_provisioning_tenants(STORE)
        .await
        .expect("list provisioning tenants")
        .into_iter()
        .map(|t| t.tenant_id)
        .collect();
    assert!(!ids.contains(&tenant.tenant_id));
    let err = client
        .create_bearer_token(STORE, &tenant.tenant_id)
        .await
        .expect_err("the tenant is gone");
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn permanent_credentials_round_trip() {
    let emulator = support::start().await;
    let client = support::huawei_client(&emulator, support::huawei_permanent());
    bearer_token_and_tenant_round_trip(&client).await;
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn temporary_credentials_round_trip() {
    let emulator = support::start().await;
    let client = support::huawei_client(&emulator, support::huawei_temporary());
    bearer_token_and_tenant_round_trip(&client).await;
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn unknown_store_and_odd_ids_are_not_found() {
    let emulator = support::start().await;
    let client = support::huawei_client(&emulator, support::huawei_permanent());
    for store in ["d-0000000000", "d-1234567890/tenant/x", "..%2F", "ü ?#"] {
        let err = client
            .list_bearer_tokens(store, TENANT)
            .await
            .expect_err("unknown store");
        // Signed correctly (not 401) whatever the id holds, and refused as not found.
        assert_eq!(err.status(), Some(404), "{store}: {err}");
    }
    emulator.shutdown().await.expect("clean shutdown");
}

async fn refused(emulator: &EmulatorHandle, credentials: HuaweiCredentials) -> token_common::Error {
    support::huawei_client(emulator, credentials)
        .create_bearer_token(STORE, TENANT)
        .await
        .expect_err("refused credentials")
}

#[tokio::test]
async fn wrong_secret_is_an_authentication_error() {
    let emulator = support::start().await;
    let err = refused(
        &emulator,
        HuaweiCredentials::new(demo::HUAWEI_AK, "not-the-secret")
            .with_project_id(demo::HUAWEI_PROJECT_ID),
    )
    .await;
    assert!(err.is_authentication(), "{err}");
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.service_code(), Some("APIGW.0301"));
    assert!(err.request_id().is_some_and(|id| !id.is_empty()));
    assert!(!err.to_string().contains("not-the-secret"));
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn security_token_rules_are_enforced() {
    let emulator = support::start().await;
    // Temporary keys without their security token.
    let err = refused(
        &emulator,
        HuaweiCredentials::new(demo::HUAWEI_STS_AK, demo::HUAWEI_STS_SK)
            .with_project_id(demo::HUAWEI_PROJECT_ID),
    )
    .await;
    assert!(err.is_authentication(), "{err}");
    assert_eq!(err.service_code(), Some("APIGW.0301"));
    // Temporary keys with another security token.
    let err = refused(
        &emulator,
        HuaweiCredentials::new(demo::HUAWEI_STS_AK, demo::HUAWEI_STS_SK)
            .with_security_token("not-the-security-token")
            .with_project_id(demo::HUAWEI_PROJECT_ID),
    )
    .await;
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(!err.to_string().contains("not-the-security-token"));
    // Permanent keys with a security token they do not have.
    let err = refused(
        &emulator,
        support::huawei_permanent().with_security_token(demo::HUAWEI_STS_SECURITY_TOKEN),
    )
    .await;
    assert_eq!(err.status(), Some(401), "{err}");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn project_id_must_match_the_credentials() {
    let emulator = support::start().await;
    let err = refused(
        &emulator,
        HuaweiCredentials::new(demo::HUAWEI_AK, demo::HUAWEI_SK)
            .with_project_id("ffffffffffffffffffffffffffffffff"),
    )
    .await;
    assert!(err.is_authentication(), "{err}");
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.service_code(), Some("APIGW.0302"));
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn client_clock_twenty_minutes_off_is_corrected() {
    let emulator = support::start().await;
    for (clock, expected_ms) in [
        (
            OffsetClock::behind(Duration::from_secs(1200)),
            1_200_000_i64,
        ),
        (
            OffsetClock::ahead(Duration::from_secs(1200)),
            -1_200_000_i64,
        ),
    ] {
        let transport = support::transport_with_clock(Arc::new(clock))
            .build()
            .expect("transport");
        let client = support::huawei_client_with(&emulator, support::huawei_temporary(), transport);
        let token = client
            .create_bearer_token(STORE, TENANT)
            .await
            .expect("succeeds after re-signing with the server's clock");
        let skew = client.clock_skew_ms();
        assert!(
            (skew - expected_ms).abs() <= 2_000,
            "measured skew {skew} ms"
        );
        // The offset is kept for later calls.
        client
            .delete_bearer_token(STORE, TENANT, &token.token_id)
            .await
            .expect("delete with the kept offset");
    }
    emulator.shutdown().await.expect("clean shutdown");
}

/// The emulator and a client with permanent credentials, both on one manual clock.
async fn on_manual_clock() -> (Arc<ManualClock>, EmulatorHandle, IdentityStoreClient) {
    let clock = support::manual_clock();
    let emulator = support::start_with_clock(clock.clone()).await;
    let transport = support::transport_with_clock(clock.clone())
        .build()
        .expect("transport");
    let client = support::huawei_client_with(&emulator, support::huawei_permanent(), transport);
    (clock, emulator, client)
}

/// `store.token_source(..)`, the one-method entry point, against the emulator: one token
/// created and served from memory, the one the emulator lists, a new one ahead of expiry.
#[tokio::test]
async fn client_token_source_creates_once_and_rotates_ahead_of_expiry() {
    let (clock, emulator, client) = on_manual_clock().await;
    let cache = client.token_source(STORE, TENANT).expect("token source");

    let first = cache.get().await.expect("first token");
    let again = cache.get().await.expect("cached");
    assert!(Arc::ptr_eq(&first, &again), "served from memory");
    let listed = client
        .list_bearer_tokens(STORE, TENANT)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1, "one create for two gets");
    assert_eq!(listed[0].token_id, first.value.token_id);

    clock.advance(first.value.lifetime() - Duration::from_secs(120));
    let second = cache.get_fresh().await.expect("rotated token");
    assert_ne!(second.value.token_id, first.value.token_id);
    assert!(client
        .list_bearer_tokens(STORE, TENANT)
        .await
        .expect("list")
        .iter()
        .any(|t| t.token_id == second.value.token_id));

    // Bad ids are refused before anything is sent.
    let err = client
        .token_source(STORE, "..")
        .expect_err("`..` is no tenant id");
    assert!(err.to_string().contains("tenant_id"), "{err}");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn bearer_token_source_rotates_before_expiry() {
    let (clock, emulator, client) = on_manual_clock().await;
    let source = BearerTokenSource::new(client.clone(), STORE, TENANT)
        .expect("source")
        .delete_replaced(true);
    let cache = source.into_cache();

    let first = cache.get().await.expect("first token");
    let lifetime = first.value.lifetime();
    assert!(lifetime > Duration::from_secs(3600), "{lifetime:?}");
    assert_eq!(first.expires_at, Some(clock.now() + lifetime));
    let again = cache.get().await.expect("cached");
    assert!(
        Arc::ptr_eq(&first, &again),
        "a fresh token is served from memory"
    );
    assert_eq!(
        cache.source().current_token_id().as_deref(),
        Some(first.value.token_id.as_str())
    );

    // Within the refresh margin: a new token, and the replaced one is deleted.
    clock.advance(lifetime - Duration::from_secs(120));
    let second = cache.get_fresh().await.expect("rotated token");
    assert_ne!(second.value.token_id, first.value.token_id);
    assert_ne!(
        second.value.token.expose_secret(),
        first.value.token.expose_secret()
    );
    let listed = client
        .list_bearer_tokens(STORE, TENANT)
        .await
        .expect("list");
    let ids: Vec<&str> = listed.iter().map(|t| t.token_id.as_str()).collect();
    assert_eq!(ids, [second.value.token_id.as_str()]);
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn the_emulator_refuses_a_third_bearer_token_and_counts_expired_ones() {
    let (clock, emulator, client) = on_manual_clock().await;
    let first = client
        .create_bearer_token(STORE, TENANT)
        .await
        .expect("first");
    client
        .create_bearer_token(STORE, TENANT)
        .await
        .expect("second");
    // A year and a day later both have expired, and still count.
    clock.advance(Duration::from_secs(366 * 24 * 3600));
    let err = client
        .create_bearer_token(STORE, TENANT)
        .await
        .expect_err("a third token on the tenant");
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(err.service_code(), Some("IdentityCenter.400"));
    assert!(err.to_string().contains("2 bearer tokens"), "{err}");
    // Refused before anything was made, and a POST 400 is never retried.
    assert_eq!(
        client
            .list_bearer_tokens(STORE, TENANT)
            .await
            .expect("list")
            .len(),
        2
    );
    // Deleting one frees a place.
    client
        .delete_bearer_token(STORE, TENANT, &first.token_id)
        .await
        .expect("delete");
    client
        .create_bearer_token(STORE, TENANT)
        .await
        .expect("a place was freed");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn bearer_token_source_rotates_five_times_within_the_emulators_limit() {
    let (clock, emulator, client) = on_manual_clock().await;
    // Replaced tokens are kept (the default): only the two-token limit makes the source
    // delete, and then only the older replaced one.
    let cache = BearerTokenSource::new(client.clone(), STORE, TENANT)
        .expect("source")
        .into_cache();
    let mut served = cache.get().await.expect("first token");
    for round in 1..=5 {
        // Odd rounds: ahead of expiry, when the token before the served one has expired
        // (deleted as expired). Even rounds: the served token was refused and invalidated,
        // so the tenant is at the limit with two valid tokens (the older replaced one goes).
        let next = if round % 2 == 1 {
            clock.advance(served.value.lifetime() - Duration::from_secs(120));
            cache.get_fresh().await
        } else {
            cache.invalidate(&served);
            cache.get().await
        };
        let next = next.expect("rotation within the limit");
        assert_ne!(next.value.token_id, served.value.token_id, "round {round}");
        let ids: Vec<String> = client
            .list_bearer_tokens(STORE, TENANT)
            .await
            .expect("list")
            .into_iter()
            .map(|t| t.token_id)
            .collect();
        // The token served until now was never deleted: it is still on the tenant, next
        // to the new one, and nothing else is.
        assert_eq!(ids.len(), 2, "round {round}: {ids:?}");
        assert!(
            ids.contains(&served.value.token_id),
            "round {round}: {ids:?}"
        );
        assert!(ids.contains(&next.value.token_id), "round {round}: {ids:?}");
        served = next;
    }
    emulator.shutdown().await.expect("clean shutdown");
}
