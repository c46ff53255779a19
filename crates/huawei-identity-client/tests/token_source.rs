//! `BearerTokenSource` under paused time, with an in-memory HTTP client (a real socket
//! and paused time do not mix).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use huawei_identity_client::{
    BearerTokenSource, Environment, IdentityStoreClient, TokenSource, Transport,
};
use support::*;
use token_common::clock::TokioClock;
use token_common::signing::huawei::parse_sdk_date;

const T0_SECS: u64 = 1_754_278_569;
const LIFETIME: Duration = Duration::from_secs(3600);

/// A fake service holding the tenant's tokens: POST creates `tok-N` valid for an hour
/// from the request's signing time plus `server_ahead`, refused (400) when two tokens
/// exist, as the real service does; GET lists them; DELETE removes one (204) or, when
/// `delete_status` is not 204, answers that status and removes nothing.
fn fake_service(server_ahead: Duration, delete_status: u16) -> Arc<FakeHttp> {
    fake_service_holding(server_ahead, delete_status, Vec::new())
}

/// A held token: id, creation and expiration times in ms.
type Held = (String, u128, u128);

fn fake_service_holding(
    server_ahead: Duration,
    delete_status: u16,
    initial: Vec<Held>,
) -> Arc<FakeHttp> {
    let counter = AtomicUsize::new(0);
    let held = Mutex::new(initial);
    FakeHttp::new(move |req| {
        let mut held = held.lock().unwrap();
        match req.method.as_str() {
            "POST" if held.len() >= 2 => json_response(
                400,
                r#"{"error_code":"IdentityCenter.400","error_msg":"Bad Request: too many tokens"}"#,
            ),
            "POST" => {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                let date = req.headers["x-sdk-date"].to_str().unwrap();
                let created = parse_sdk_date(date).unwrap() + server_ahead;
                let ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_millis();
                held.push((format!("tok-{n}"), ms(created), ms(created + LIFETIME)));
                json_response(
                    201,
                    &format!(
                        r#"{{"creation_time":{}.0,"expiration_time":{}.0,"token":"{TOKEN_VALUE}-{n}","token_id":"tok-{n}"}}"#,
                        ms(created),
                        ms(created + LIFETIME)
                    ),
                )
            }
            "GET" => {
                let list: Vec<String> = held
                    .iter()
                    .map(|(id, c, e)| {
                        format!(
                            r#"{{"creation_time":{c},"expiration_time":{e},"token_id":"{id}"}}"#
                        )
                    })
                    .collect();
                json_response(200, &format!(r#"{{"bearer_tokens":[{}]}}"#, list.join(",")))
            }
            "DELETE" if delete_status == 204 => {
                let id = req.url.path().rsplit('/').next().unwrap().to_owned();
                let before = held.len();
                held.retain(|(h, _, _)| *h != id);
                if held.len() == before {
                    json_response(
                        404,
                        r#"{"error_code":"IDS.404","error_msg":"token not found"}"#,
                    )
                } else {
                    json_response(204, "")
                }
            }
            "DELETE" => json_response(
                delete_status,
                r#"{"error_code":"IDS.500","error_msg":"cannot delete"}"#,
            ),
            other => panic!("unexpected {other}"),
        }
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
    assert_eq!(fake.requests().len(), 2, "one list, one create");

    // 56 minutes in: inside the margin — a new token is created ahead of expiry.
    tokio::time::advance(Duration::from_secs(2 * 60)).await;
    assert_eq!(cache.get_fresh().await.unwrap().value.token_id, "tok-2");
    assert_eq!(
        calls(&fake),
        vec![
            ("GET".to_owned(), BEARER_PATH.to_owned()),
            ("POST".to_owned(), BEARER_PATH.to_owned()),
            ("GET".to_owned(), BEARER_PATH.to_owned()),
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
    assert_eq!(fake.requests().len(), 2, "nothing to delete the first time");
    tokio::time::advance(Duration::from_secs(56 * 60)).await;
    assert_eq!(cache.get_fresh().await.unwrap().value.token_id, "tok-2");
    assert_eq!(
        calls(&fake),
        vec![
            ("GET".to_owned(), BEARER_PATH.to_owned()),
            ("POST".to_owned(), BEARER_PATH.to_owned()),
            ("GET".to_owned(), BEARER_PATH.to_owned()),
            ("POST".to_owned(), BEARER_PATH.to_owned()),
            ("DELETE".to_owned(), format!("{BEARER_PATH}/tok-1")),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_delete_does_not_fail_the_refresh() {
    let fake = fake_service(Duration::ZERO, 500);
    let cache = BearerTokenSource::new(client_over(fake.clone()), STORE, TENANT)
        .unwrap()
        .delete_replaced(true)
        .into_cache();
    cache.get().await.unwrap();
    tokio::time::advance(Duration::from_secs(59 * 60)).await;
    assert_eq!(cache.get_fresh().await.unwrap().value.token_id, "tok-2");
    let methods: Vec<String> = calls(&fake).into_iter().map(|(m, _)| m).collect();
    // The failed DELETE (500) is retried by the transport, then only logged.
    assert_eq!(methods[..4], ["GET", "POST", "GET", "POST"]);
    assert!(methods[4..].iter().all(|m| m == "DELETE"), "{methods:?}");
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

fn deleted(fake: &FakeHttp) -> Vec<String> {
    calls(fake)
        .into_iter()
        .filter(|(m, _)| m == "DELETE")
        .map(|(_, p)| p.rsplit('/').next().unwrap().to_owned())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn rotates_five_times_within_the_two_token_limit_never_deleting_the_served_token() {
    let fake = fake_service(Duration::ZERO, 204);
    let cache = BearerTokenSource::new(client_over(fake.clone()), STORE, TENANT)
        .unwrap()
        .into_cache();
    cache.get().await.unwrap();
    for round in 1..=5 {
        let served = cache.get().await.unwrap();
        let serving = served.value.token_id.clone();
        let deletes_before = deleted(&fake).len();
        // Odd rounds: ahead of expiry (the token before the served one has expired by
        // then). Even rounds: the served token was refused by SCIM and invalidated, so the
        // tenant is at the limit with the served token and the one it replaced, both valid.
        let next = if round % 2 == 1 {
            tokio::time::advance(Duration::from_secs(56 * 60)).await;
            cache.get_fresh().await.unwrap()
        } else {
            cache.invalidate(&served);
            cache.get().await.unwrap()
        };
        let next = next.value.token_id.clone();
        assert_eq!(next, format!("tok-{}", round + 1));
        let this_round = deleted(&fake)[deletes_before..].to_vec();
        assert!(
            !this_round.contains(&serving),
            "round {round} deleted the served {serving}"
        );
    }
    // From the second rotation on, the older token (expired, or replaced at the limit)
    // made room each time.
    assert_eq!(deleted(&fake), ["tok-1", "tok-2", "tok-3", "tok-4"]);
    // No create was refused: six POSTs, six tokens.
    let posts = calls(&fake).iter().filter(|(m, _)| m == "POST").count();
    assert_eq!(posts, 6);
}

#[tokio::test(start_paused = true)]
async fn expired_tokens_of_the_tenant_are_deleted_before_creating() {
    let t0_ms = u128::from(T0_SECS) * 1000;
    let fake = fake_service_holding(
        Duration::ZERO,
        204,
        vec![
            ("old-a".into(), t0_ms - 7_200_000, t0_ms - 3_600_000),
            ("old-b".into(), t0_ms - 7_100_000, t0_ms - 1),
        ],
    );
    let cache = BearerTokenSource::new(client_over(fake.clone()), STORE, TENANT)
        .unwrap()
        .into_cache();
    assert_eq!(cache.get().await.unwrap().value.token_id, "tok-1");
    assert_eq!(
        calls(&fake),
        vec![
            ("GET".to_owned(), BEARER_PATH.to_owned()),
            ("DELETE".to_owned(), format!("{BEARER_PATH}/old-a")),
            ("DELETE".to_owned(), format!("{BEARER_PATH}/old-b")),
            ("POST".to_owned(), BEARER_PATH.to_owned()),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn at_the_limit_with_no_token_of_its_own_it_fails_naming_the_limit() {
    let t0_ms = u128::from(T0_SECS) * 1000;
    let valid = t0_ms + 30 * 24 * 3_600_000;
    let fake = fake_service_holding(
        Duration::ZERO,
        204,
        vec![
            ("connector-a".into(), t0_ms - 2000, valid),
            ("connector-b".into(), t0_ms - 1000, valid),
        ],
    );
    let cache = BearerTokenSource::new(client_over(fake.clone()), STORE, TENANT)
        .unwrap()
        .into_cache();
    let e = cache.get().await.unwrap_err();
    assert!(huawei_identity_client::is_bearer_token_limit(&e), "{e}");
    let text = e.to_string();
    assert!(text.contains("at most 2"), "{text}");
    assert!(text.contains(TENANT), "{text}");
    // Nothing was deleted that another connector may use, and no create was sent.
    assert_eq!(
        calls(&fake),
        vec![("GET".to_owned(), BEARER_PATH.to_owned())]
    );
}

#[tokio::test(start_paused = true)]
async fn at_the_limit_with_only_the_served_token_of_its_own_it_keeps_serving_it() {
    // One foreign token, then the source's own: the next rotation may delete neither.
    let t0_ms = u128::from(T0_SECS) * 1000;
    let fake = fake_service_holding(
        Duration::ZERO,
        204,
        vec![(
            "connector-a".into(),
            t0_ms - 1000,
            t0_ms + 30 * 24 * 3_600_000,
        )],
    );
    let cache = BearerTokenSource::new(client_over(fake.clone()), STORE, TENANT)
        .unwrap()
        .into_cache();
    assert_eq!(cache.get().await.unwrap().value.token_id, "tok-1");
    tokio::time::advance(Duration::from_secs(56 * 60)).await;
    // The refresh fails; the cache keeps serving the still-valid token.
    assert_eq!(cache.get_fresh().await.unwrap().value.token_id, "tok-1");
    // What the refresh failed with: the limit, named.
    let e = cache.source().fetch().await.unwrap_err();
    assert!(huawei_identity_client::is_bearer_token_limit(&e), "{e}");
    assert!(
        e.to_string().contains("the token this source serves"),
        "{e}"
    );
    assert!(
        deleted(&fake).is_empty(),
        "neither the served nor a foreign token is deleted"
    );
    let posts = calls(&fake).iter().filter(|(m, _)| m == "POST").count();
    assert_eq!(posts, 1, "no create is sent that the limit would refuse");
}

#[tokio::test(start_paused = true)]
async fn an_expired_token_that_cannot_be_deleted_does_not_block_a_create_below_the_limit() {
    let t0_ms = u128::from(T0_SECS) * 1000;
    let fake = fake_service_holding(
        Duration::ZERO,
        403,
        vec![("old-a".into(), t0_ms - 7_200_000, t0_ms - 3_600_000)],
    );
    let cache = BearerTokenSource::new(client_over(fake.clone()), STORE, TENANT)
        .unwrap()
        .into_cache();
    // The delete is refused (and logged); one token is below the limit, so the create goes.
    assert_eq!(cache.get().await.unwrap().value.token_id, "tok-1");
    let methods: Vec<String> = calls(&fake).into_iter().map(|(m, _)| m).collect();
    assert_eq!(methods, ["GET", "DELETE", "POST"]);
}
