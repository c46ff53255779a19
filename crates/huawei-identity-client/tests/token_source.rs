//! `BearerTokenSource` under paused time, with an in-memory HTTP client (a real socket
//! and paused time do not mix).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use huawei_identity_client::{BearerTokenSource, Environment, IdentityStoreClient, Transport};
use support::*;
use token_common::clock::TokioClock;
use token_common::signing::huawei::parse_sdk_date;

const T0_SECS: u64 = 1_754_278_569;
const LIFETIME: Duration = Duration::from_secs(3600);

/// A fake service: POST creates `tok-N` valid for an hour from the request's signing time
/// plus `server_ahead`; DELETE answers `delete_status`.
fn fake_service(server_ahead: Duration, delete_status: u16) -> Arc<FakeHttp> {
    let counter = AtomicUsize::new(0);
    FakeHttp::new(move |req| match req.method.as_str() {
        "POST" => {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let date = req.headers["x-sdk-date"].to_str().unwrap();
            let created = parse_sdk_date(date).unwrap() + server_ahead;
            let ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_millis();
            json_response(
                201,
                &format!(
                    r#"{{"creation_time":{}.0,"expiration_time":{}.0,"token":"{TOKEN_VALUE}-{n}","token_id":"tok-{n}"}}"#,
                    ms(created),
                    ms(created + LIFETIME)
                ),
            )
        }
        "DELETE" if delete_status == 204 => json_response(204, ""),
        "DELETE" => json_response(
            delete_status,
            r#"{"error_code":"IDS.404","error_msg":"token not found"}"#,
        ),
        other => panic!("unexpected {other}"),
    })
}

fn client_over(fake: Arc<FakeHttp>) -> IdentityStoreClient {
    let transport = Transport::builder()
        .http_client(fake)
        .clock(Arc::new(TokioClock::starting_at(
            UNIX_EPOCH + Duration::from_secs(T0_SECS),
        )))
        .build()
        .unwrap();
    IdentityStoreClient::builder()
        .region("cn-north-4")
        .credentials(credentials(false))
        .environment(Environment::from_pairs::<&str, &str>([]))
        .transport(transport)
        .build()
        .unwrap()
}

fn calls(fake: &FakeHttp) -> Vec<(String, String)> {
    fake.requests()
        .iter()
        .map(|r| (r.method.to_string(), r.url.path().to_owned()))
        .collect()
}

const BEARER_PATH: &str =
    "/v1/identity-stores/d-1234567890/tenant/e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e/bearer-token";

#[tokio::test(start_paused = true)]
async fn refreshes_ahead_of_expiry_and_keeps_replaced_token_by_default() {
    let fake = fake_service(Duration::ZERO, 204);
    let cache = BearerTokenSource::new(client_over(fake.clone()), STORE, TENANT)
        .unwrap()
        .into_cache();

    let first = cache.get().await.unwrap();
    assert_eq!(first.value.token_id, "tok-1");
    assert_eq!(
        first.value.token.expose_secret(),
        format!("{TOKEN_VALUE}-1")
    );
    assert_eq!(cache.get().await.unwrap().value.token_id, "tok-1");

    // 54 minutes in: 6 minutes left, more than the 5-minute margin — still served.
    tokio::time::advance(Duration::from_secs(54 * 60)).await;
    assert_eq!(cache.get().await.unwrap().value.token_id, "tok-1");
    assert_eq!(fake.requests().len(), 1);

    // 56 minutes in: inside the margin — a new token is created ahead of expiry.
    tokio::time::advance(Duration::from_secs(2 * 60)).await;
    assert_eq!(cache.get_fresh().await.unwrap().value.token_id, "tok-2");
    assert_eq!(
        calls(&fake),
        vec![
            ("POST".to_owned(), BEARER_PATH.to_owned()),
            ("POST".to_owned(), BEARER_PATH.to_owned()),
        ],
        "the replaced token is not deleted by default"
    );
    assert_eq!(cache.source().current_token_id().as_deref(), Some("tok-2"));
}

#[tokio::test(start_paused = true)]
async fn delete_replaced_deletes_the_old_token_after_creating_the_new_one() {
    let fake = fake_service(Duration::ZERO, 204);
    let cache = BearerTokenSource::new(client_over(fake.clone()), STORE, TENANT)
        .unwrap()
        .delete_replaced(true)
        .into_cache();
    assert_eq!(cache.get().await.unwrap().value.token_id, "tok-1");
    assert_eq!(fake.requests().len(), 1, "nothing to delete the first time");
    tokio::time::advance(Duration::from_secs(56 * 60)).await;
    assert_eq!(cache.get_fresh().await.unwrap().value.token_id, "tok-2");
    assert_eq!(
        calls(&fake),
        vec![
            ("POST".to_owned(), BEARER_PATH.to_owned()),
            ("POST".to_owned(), BEARER_PATH.to_owned()),
            ("DELETE".to_owned(), format!("{BEARER_PATH}/tok-1")),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_delete_does_not_fail_the_refresh() {
    let fake = fake_service(Duration::ZERO, 404);
    let cache = BearerTokenSource::new(client_over(fake.clone()), STORE, TENANT)
        .unwrap()
        .delete_replaced(true)
        .into_cache();
    cache.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(59 * 60)).await;
    assert_eq!(cache.get_fresh().await.unwrap().value.token_id, "tok-2");
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn expiry_is_measured_on_the_local_clock_when_the_server_clock_differs() {
    // The server's clock runs two hours ahead: its expiration_time, read on our clock,
    // would keep the token three hours; its one-hour lifetime is what counts.
    let fake = fake_service(Duration::from_secs(2 * 3600), 204);
    let client = client_over(fake.clone());
    let start = client.transport().clock().now();
    let cache = BearerTokenSource::new(client, STORE, TENANT)
        .unwrap()
        .into_cache();
    let token = cache.get().await.unwrap();
    assert_eq!(token.expires_at, Some(start + LIFETIME));
    tokio::time::advance(Duration::from_secs(56 * 60)).await;
    assert_eq!(cache.get_fresh().await.unwrap().value.token_id, "tok-2");
}

#[tokio::test(start_paused = true)]
async fn bad_ids_are_refused_when_the_source_is_made() {
    let fake = fake_service(Duration::ZERO, 204);
    let e = BearerTokenSource::new(client_over(fake.clone()), "", TENANT).unwrap_err();
    assert_eq!(e.field(), Some("identity_store_id"));
    let e = BearerTokenSource::new(client_over(fake.clone()), STORE, "..").unwrap_err();
    assert_eq!(e.field(), Some("tenant_id"));
    assert!(fake.requests().is_empty());
}
