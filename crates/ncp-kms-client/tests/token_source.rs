//! The token source under paused time, against an in-memory KMS.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ncp_kms_client::{
    HttpRequest, KmsClient, NcpCredentials, SecretString, TokenSet, TokenSetOptions, TokenValidity,
    Transport,
};
use serde_json::json;
use support::*;
use token_common::clock::{unix_seconds, Clock, TokioClock};

const HOUR: u64 = 3600;

/// An in-memory KMS: sets live `access_h` / `refresh_h` hours, refreshed access tokens
/// `access_h`; refreshes are refused (401) once `refuse_refresh` is set.
struct Kms {
    clock: TokioClock,
    access_h: u64,
    refresh_h: u64,
    minted: AtomicUsize,
    refuse_refresh: std::sync::atomic::AtomicBool,
}

impl Kms {
    fn token(&self, kind: &str, hours: Option<u64>) -> String {
        let n = self.minted.fetch_add(1, Ordering::SeqCst);
        let exp = hours.map(|h| unix_seconds(self.clock.now()) + (h * HOUR) as i64);
        jwt(exp, &format!("{kind}-{n}"))
    }

    /// The hours asked for in the body (`None`: "UL"), else `default`.
    fn hours(req: &HttpRequest, field: &str, default: u64) -> Option<u64> {
        let body: serde_json::Value =
            serde_json::from_slice(req.body.as_deref().unwrap_or(b"{}")).unwrap();
        match &body[field] {
            serde_json::Value::Null => Some(default),
            v if v == "UL" => None,
            v => Some(v.as_u64().unwrap()),
        }
    }

    fn answer(&self, req: &HttpRequest) -> ncp_kms_client::HttpResponse {
        let access_h = Self::hours(req, "accessTokenHours", self.access_h);
        if req.url.path().ends_with("/access-token") {
            if self.refuse_refresh.load(Ordering::SeqCst) {
                return json_response(
                    401,
                    json!({"code": "UNAUTHORIZED", "msg": "The token is invalid"}),
                );
            }
            return json_response(
                200,
                success(json!({"accessToken": self.token("access", access_h)})),
            );
        }
        json_response(
            200,
            success(json!({
                "accessToken": self.token("access", access_h),
                "refreshToken": self.token(
                    "refresh",
                    Self::hours(req, "refreshTokenHours", self.refresh_h)
                ),
            })),
        )
    }
}

fn setup(access_h: u64, refresh_h: u64) -> (Arc<Kms>, Arc<FakeHttp>, KmsClient) {
    let clock = TokioClock::new();
    let kms = Arc::new(Kms {
        clock,
        access_h,
        refresh_h,
        minted: AtomicUsize::new(0),
        refuse_refresh: Default::default(),
    });
    let k = kms.clone();
    let fake = FakeHttp::new(move |req| k.answer(req));
    let transport = Transport::builder()
        .http_client(fake.clone())
        .clock(Arc::new(clock))
        .build()
        .unwrap();
    let client = KmsClient::builder()
        .credentials(NcpCredentials::new(AK, SK))
        .endpoint("https://kms.test/kms/v1")
        .transport(transport)
        .build()
        .unwrap();
    (kms, fake, client)
}

fn options(access_h: u16, refresh_h: u16) -> TokenSetOptions {
    TokenSetOptions::new()
        .with_access_token_hours(TokenValidity::hours(access_h.into()).unwrap())
        .with_refresh_token_hours(TokenValidity::hours(refresh_h.into()).unwrap())
}

/// What was called, in order: `create` or `refresh(<token used>)`.
fn calls(fake: &FakeHttp) -> Vec<String> {
    fake.requests()
        .iter()
        .map(|r| {
            let token = r
                .headers
                .get("x-ncp-ocapi-token")
                .map(|v| v.to_str().unwrap().to_owned());
            match (r.method.as_str(), r.url.path(), token) {
                ("POST", "/kms/v1/keys/tag/token-set", None) => {
                    assert!(r.headers.contains_key("x-ncp-apigw-signature-v2"));
                    "create".to_owned()
                }
                ("POST", "/kms/v1/keys/tag/access-token", Some(t)) => {
                    let claims = token_common::jwt::read_claims(&t).unwrap();
                    format!("refresh({})", claims.get_str("sub").unwrap())
                }
                ("PUT", "/kms/v1/keys/tag/token-set", Some(t)) => {
                    assert!(!r.headers.contains_key("x-ncp-apigw-signature-v2"));
                    let claims = token_common::jwt::read_claims(&t).unwrap();
                    format!("renew({})", claims.get_str("sub").unwrap())
                }
                other => panic!("unexpected call {other:?}"),
            }
        })
        .collect()
}

async fn access_marker(
    cache: &ncp_kms_client::TokenCache<ncp_kms_client::KmsTokenSource>,
) -> String {
    // A refresh ahead of expiry runs detached from `get`; `get_fresh` waits for it.
    let token = cache.get_fresh().await.unwrap();
    let claims = token_common::jwt::read_claims(token.value.expose_secret()).unwrap();
    claims.get_str("sub").unwrap().to_owned()
}

#[tokio::test(start_paused = true)]
async fn refreshes_ahead_of_expiry_then_renews_half_way_through_the_refresh_token() {
    let (_kms, fake, client) = setup(1, 3);
    let cache = client.token_source("tag", options(1, 3)).unwrap();

    assert_eq!(access_marker(&cache).await, "access-0");
    assert_eq!(
        access_marker(&cache).await,
        "access-0",
        "served from memory"
    );
    assert_eq!(calls(&fake), ["create"]);

    tokio::time::advance(Duration::from_secs(50 * 60)).await;
    assert_eq!(access_marker(&cache).await, "access-0", "still fresh");
    tokio::time::advance(Duration::from_secs(6 * 60)).await; // 4 minutes left: refresh
    assert_eq!(access_marker(&cache).await, "access-2");
    assert_eq!(calls(&fake), ["create", "refresh(refresh-1)"]);
    let sent = fake.requests();
    assert_eq!(
        body_of(&sent[1]),
        json!({"accessTokenHours": 1}),
        "the refresh asks for the configured access-token hours only"
    );

    // 1h52m: past half of the refresh token's 3 hours: renew with the refresh token (no
    // account signature), asking for both validities.
    tokio::time::advance(Duration::from_secs(56 * 60)).await;
    assert_eq!(access_marker(&cache).await, "access-3");
    assert_eq!(
        calls(&fake),
        ["create", "refresh(refresh-1)", "renew(refresh-1)"]
    );
    assert_eq!(
        body_of(&fake.requests()[2]),
        json!({"accessTokenHours": 1, "refreshTokenHours": 3})
    );

    // The renewed refresh token is used from then on, and renewed in its turn.
    tokio::time::advance(Duration::from_secs(56 * 60)).await; // 2h48m
    assert_eq!(access_marker(&cache).await, "access-5");
    assert_eq!(calls(&fake).last().unwrap(), "refresh(refresh-4)");
    tokio::time::advance(Duration::from_secs(56 * 60)).await; // 3h44m
    assert_eq!(access_marker(&cache).await, "access-6");
    assert_eq!(calls(&fake).last().unwrap(), "renew(refresh-4)");
}

#[tokio::test(start_paused = true)]
async fn an_access_token_is_not_kept_past_the_renewal_time() {
    // Access tokens live 10 hours, refresh tokens 4: the cache must come back at 2 hours
    // to renew, not sleep on a valid access token until the refresh token is dead.
    let (_kms, fake, client) = setup(10, 4);
    let cache = client.token_source("tag", options(10, 4)).unwrap();
    let first = cache.get().await.unwrap();
    let created = unix_seconds(_kms.clock.now());
    assert_eq!(
        unix_seconds(first.expires_at.unwrap()),
        created + 2 * 3600,
        "handed to the cache as expiring when the renewal is due"
    );
    tokio::time::advance(Duration::from_secs(2 * 3600 - 60)).await;
    assert_eq!(access_marker(&cache).await, "access-2");
    assert_eq!(calls(&fake), ["create", "renew(refresh-1)"]);
}

#[tokio::test(start_paused = true)]
async fn renews_when_the_refresh_token_is_about_to_expire() {
    let (_kms, fake, client) = setup(1, 1);
    let cache = client.token_source("tag", options(1, 1)).unwrap();
    assert_eq!(access_marker(&cache).await, "access-0");
    // At 56 minutes the access token is due and the refresh token has 4 minutes left:
    // a renewal, not a refresh, and never a new set signed with account keys.
    tokio::time::advance(Duration::from_secs(56 * 60)).await;
    assert_eq!(access_marker(&cache).await, "access-2");
    assert_eq!(calls(&fake), ["create", "renew(refresh-1)"]);
}

#[tokio::test(start_paused = true)]
async fn a_refresh_token_alone_is_refreshed_and_renewed_and_the_hook_sees_it_first() {
    let (kms, fake, client) = setup(1, 4);
    let now = unix_seconds(kms.clock.now());
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (seen2, fake2) = (seen.clone(), fake.clone());
    let cache = ncp_kms_client::KmsTokenSource::from_refresh_token(
        client,
        "tag",
        SecretString::new(jwt(Some(now + 4 * 3600), "deployed-refresh")),
        options(1, 4),
    )
    .unwrap()
    .on_renew(move |set| {
        let new = set.refresh_token.expose_secret().to_owned();
        let used_before = fake2.requests().iter().any(|r| {
            r.headers
                .get("x-ncp-ocapi-token")
                .and_then(|v| v.to_str().ok())
                == Some(&new)
        });
        assert!(
            !used_before,
            "the hook runs before the new refresh token is used"
        );
        let claims = token_common::jwt::read_claims(&new).unwrap();
        seen2
            .lock()
            .unwrap()
            .push(claims.get_str("sub").unwrap().to_owned());
        Ok(())
    })
    .into_cache();

    // Refreshes until half of the deployed token's 4 hours, then one renewal, then
    // refreshes with the renewed token, past the deployed one's expiry.
    let mut markers = Vec::new();
    for _ in 0..6 {
        markers.push(access_marker(&cache).await);
        tokio::time::advance(Duration::from_secs(56 * 60)).await;
    }
    assert_eq!(
        markers,
        ["access-0", "access-1", "access-2", "access-3", "access-5", "access-6"]
    );
    assert_eq!(*seen.lock().unwrap(), ["refresh-4"]);
    assert_eq!(
        calls(&fake),
        [
            "refresh(deployed-refresh)",
            "refresh(deployed-refresh)",
            "refresh(deployed-refresh)",
            "renew(deployed-refresh)",
            "refresh(refresh-4)",
            "refresh(refresh-4)"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_hook_that_fails_keeps_the_held_refresh_token() {
    let (kms, fake, client) = setup(1, 1);
    let now = unix_seconds(kms.clock.now());
    // 9 minutes left: renewal is due at once.
    let cache = ncp_kms_client::KmsTokenSource::from_refresh_token(
        client,
        "tag",
        SecretString::new(jwt(Some(now + 9 * 60), "deployed-refresh")),
        options(1, 1),
    )
    .unwrap()
    .on_renew(|_| Err("disk full".into()))
    .into_cache();
    let e = cache.get().await.unwrap_err();
    assert!(e.to_string().contains("disk full"), "{e}");
    let _ = cache.get().await;
    // The new set was never used: each attempt renews with the deployed token again.
    assert_eq!(
        calls(&fake),
        ["renew(deployed-refresh)", "renew(deployed-refresh)"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_refresh_token_alone_is_session_expired_never_a_new_set() {
    let (kms, fake, client) = setup(1, 100);
    kms.refuse_refresh.store(true, Ordering::SeqCst);
    let now = unix_seconds(kms.clock.now());
    let cache = ncp_kms_client::KmsTokenSource::from_refresh_token(
        client,
        "tag",
        SecretString::new(jwt(Some(now + 100 * 3600), "deployed-refresh")),
        options(1, 100),
    )
    .unwrap()
    .into_cache();
    let e = cache.get().await.unwrap_err();
    assert!(
        matches!(&e, ncp_kms_client::Error::SessionExpired { reason } if reason.contains("account keys")),
        "{e:?}"
    );
    assert_eq!(calls(&fake), ["refresh(deployed-refresh)"]);
}

#[tokio::test(start_paused = true)]
async fn a_refused_refresh_token_leads_to_a_new_set() {
    let (kms, fake, client) = setup(1, 100);
    let cache = client.token_source("tag", options(1, 100)).unwrap();
    assert_eq!(access_marker(&cache).await, "access-0");
    kms.refuse_refresh.store(true, Ordering::SeqCst); // say, the generator was replaced
    tokio::time::advance(Duration::from_secs(58 * 60)).await;
    assert_eq!(access_marker(&cache).await, "access-2");
    assert_eq!(calls(&fake), ["create", "refresh(refresh-1)", "create"]);
}

#[tokio::test(start_paused = true)]
async fn a_given_token_set_is_used_without_creating_one() {
    let (kms, fake, client) = setup(1, 100);
    let now = unix_seconds(kms.clock.now());
    let set = TokenSet::from_tokens(
        SecretString::new(jwt(Some(now + 3600), "kept-access")),
        SecretString::new(jwt(Some(now + 100 * 3600), "kept-refresh")),
    );
    let cache = ncp_kms_client::KmsTokenSource::new(client, "tag", options(1, 100))
        .unwrap()
        .with_token_set(set)
        .into_cache();
    assert_eq!(access_marker(&cache).await, "kept-access");
    assert!(fake.requests().is_empty());
    tokio::time::advance(Duration::from_secs(57 * 60)).await;
    assert_eq!(access_marker(&cache).await, "access-0");
    assert_eq!(calls(&fake), ["refresh(kept-refresh)"]);
}

#[tokio::test(start_paused = true)]
async fn unlimited_access_tokens_are_fetched_once() {
    let (_kms, fake, client) = setup(1, 1);
    let cache = client
        .token_source(
            "tag",
            TokenSetOptions::new().with_access_token_hours(TokenValidity::Unlimited),
        )
        .unwrap();
    let first = cache.get().await.unwrap();
    assert_eq!(first.expires_at, None);
    tokio::time::advance(Duration::from_secs(10 * 365 * 24 * HOUR)).await;
    let later = cache.get().await.unwrap();
    assert!(Arc::ptr_eq(&first, &later));
    assert_eq!(calls(&fake), ["create"]);
    assert_eq!(
        body_of(&fake.requests()[0]),
        json!({"accessTokenHours": "UL"})
    );
}

#[test]
fn token_source_checks_its_inputs() {
    let client = KmsClient::builder()
        .credentials(NcpCredentials::new(AK, SK))
        .build()
        .unwrap();
    let e = client.token_source("", TokenSetOptions::new()).unwrap_err();
    assert_eq!(e.field(), Some("key_tag"));
    let bad = TokenSetOptions::new().with_access_token_hours(TokenValidity::Hours(0));
    let e = client.token_source("t", bad).unwrap_err();
    assert_eq!(e.field(), Some("access_token_hours"));
}

fn body_of(req: &HttpRequest) -> serde_json::Value {
    serde_json::from_slice(req.body.as_deref().unwrap()).unwrap()
}
