//! `Session` under tokio's paused time, against an in-memory fake of the identity service
//! (a real socket server and auto-advancing paused time do not mix).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cloudforet_identity_client::{
    BoxFuture, Credentials, Error, IdentityClient, LoginOptions, Scope, Session, Transport,
};
use serde_json::{json, Value};
use token_common::clock::{unix_seconds, Clock, TokioClock};
use token_common::transport::HttpClient;
use token_common::{HttpRequest, HttpResponse};

const ACCESS_LIFETIME: i64 = 1800;
const REFRESH_LIFETIME: i64 = 10_800;

#[derive(Debug)]
struct FakeIdentity {
    clock: TokioClock,
    issues: AtomicUsize,
    grants: AtomicUsize,
    /// Answer grants with this status and an authentication failure.
    grant_status: Mutex<Option<u16>>,
    grant_bodies: Mutex<Vec<Value>>,
}

impl FakeIdentity {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            clock: TokioClock::new(),
            issues: AtomicUsize::new(0),
            grants: AtomicUsize::new(0),
            grant_status: Mutex::new(None),
            grant_bodies: Mutex::new(Vec::new()),
        })
    }

    fn grants(&self) -> usize {
        self.grants.load(Ordering::SeqCst)
    }

    fn issues(&self) -> usize {
        self.issues.load(Ordering::SeqCst)
    }

    fn answer(&self, request: &HttpRequest) -> HttpResponse {
        let now = unix_seconds(self.clock.now());
        let body: Value = serde_json::from_slice(request.body.as_deref().unwrap()).unwrap();
        let (status, answer) = if request.url.path() == "/identity/token/issue" {
            let n = self.issues.fetch_add(1, Ordering::SeqCst);
            (
                200,
                json!({
                    "access_token": support::issued_token("ACCESS_TOKEN", now, now + ACCESS_LIFETIME, "issued"),
                    "refresh_token": support::issued_token("REFRESH_TOKEN", now, now + REFRESH_LIFETIME, &format!("refresh-{n}")),
                }),
            )
        } else {
            let n = self.grants.fetch_add(1, Ordering::SeqCst);
            self.grant_bodies.lock().unwrap().push(body.clone());
            match *self.grant_status.lock().unwrap() {
                Some(status) => (
                    status,
                    json!({"detail": {"code": "ERROR_AUTHENTICATE_FAILURE", "message": " A user is not authenticated."}}),
                ),
                None => {
                    let mut answer = json!({
                        "access_token": support::issued_token("ACCESS_TOKEN", now, now + ACCESS_LIFETIME, &format!("access-{n}")),
                        "role_type": "DOMAIN_ADMIN",
                        "domain_id": "domain-123",
                    });
                    if let Some(w) = body.get("workspace_id") {
                        answer["workspace_id"] = w.clone();
                    }
                    (200, answer)
                }
            }
        };
        HttpResponse::new(
            status,
            Default::default(),
            serde_json::to_vec(&answer).unwrap(),
        )
    }
}

impl HttpClient for FakeIdentity {
    fn execute(
        &self,
        request: HttpRequest,
        _max: usize,
    ) -> BoxFuture<'_, token_common::Result<HttpResponse>> {
        Box::pin(async move {
            // A network round trip, so concurrent callers really overlap.
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(self.answer(&request))
        })
    }
}

fn client(fake: &Arc<FakeIdentity>) -> IdentityClient {
    let transport = Transport::builder()
        .http_client(fake.clone())
        .clock(Arc::new(fake.clock))
        .build()
        .unwrap();
    IdentityClient::builder()
        .endpoint("https://console-v2.api.example.com")
        .transport(transport)
        .build()
        .unwrap()
}

fn options() -> LoginOptions {
    LoginOptions::new(Credentials::local("alice", "pw"), "domain-123")
}

fn jti(token: &cloudforet_identity_client::SessionAccessToken) -> String {
    token_common::jwt::read_claims(token.secret().expose_secret())
        .unwrap()
        .get_str("jti")
        .unwrap()
        .to_owned()
}

async fn hundred_callers(session: &Session) -> Vec<token_common::Result<String>> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let s = session.clone();
        set.spawn(async move { s.access_token().await.map(|t| jti(&t)) });
    }
    set.join_all().await
}

#[tokio::test(start_paused = true)]
async fn hundred_concurrent_callers_around_expiry_cause_one_grant() {
    let fake = FakeIdentity::new();
    let session = Session::login(&client(&fake), options()).await.unwrap();
    assert_eq!((fake.issues(), fake.grants()), (1, 1));

    // Inside the refresh margin, still valid: one caller re-grants, the others are served.
    tokio::time::advance(Duration::from_secs(ACCESS_LIFETIME as u64 - 100)).await;
    let results = hundred_callers(&session).await;
    assert!(results.iter().all(Result::is_ok));
    // The re-grant runs detached from the callers: wait for it.
    assert_eq!(
        jti(&session.fresh_access_token().await.unwrap()),
        "access-1"
    );
    assert_eq!(fake.grants(), 2);

    // Past expiry: every caller waits for the same single grant.
    tokio::time::advance(Duration::from_secs(ACCESS_LIFETIME as u64 + 1)).await;
    let results = hundred_callers(&session).await;
    assert!(results
        .iter()
        .all(|r| matches!(r.as_deref(), Ok("access-2"))));
    assert_eq!(fake.grants(), 3);
    assert_eq!(fake.issues(), 1);

    let body = fake.grant_bodies.lock().unwrap()[2].clone();
    assert_eq!(body["grant_type"], "REFRESH_TOKEN");
    assert_eq!(body["scope"], "DOMAIN");
    assert_eq!(body["domain_id"], "domain-123");
}

#[tokio::test(start_paused = true)]
async fn expired_refresh_token_gives_session_expired_without_a_grant() {
    let fake = FakeIdentity::new();
    let session = Session::login(&client(&fake), options()).await.unwrap();
    assert!(session.refresh_token_expires_at().is_some());
    tokio::time::advance(Duration::from_secs(REFRESH_LIFETIME as u64 + 1)).await;
    let e = session.access_token().await.unwrap_err();
    assert!(matches!(e, Error::SessionExpired { .. }), "{e:?}");
    assert_eq!(fake.grants(), 1);
}

#[tokio::test(start_paused = true)]
async fn refresh_token_refused_with_401_gives_session_expired() {
    let fake = FakeIdentity::new();
    let session = Session::login(&client(&fake), options()).await.unwrap();
    *fake.grant_status.lock().unwrap() = Some(401);
    tokio::time::advance(Duration::from_secs(ACCESS_LIFETIME as u64 + 1)).await;
    let e = session.access_token().await.unwrap_err();
    assert!(matches!(e, Error::SessionExpired { .. }), "{e:?}");
    assert!(e.to_string().contains("ERROR_AUTHENTICATE_FAILURE"));
    assert_eq!(fake.grants(), 2);
}

#[tokio::test(start_paused = true)]
async fn reported_401_regrants_once() {
    let fake = FakeIdentity::new();
    let session = Session::login(&client(&fake), options()).await.unwrap();
    let first = session.access_token().await.unwrap();
    for _ in 0..10 {
        session.report_unauthorized(&first);
    }
    let second = session.access_token().await.unwrap();
    assert_eq!(fake.grants(), 2);
    assert_ne!(jti(&first), jti(&second));
    // A late report of the old token changes nothing.
    session.report_unauthorized(&first);
    assert_eq!(jti(&session.access_token().await.unwrap()), jti(&second));
    assert_eq!(fake.grants(), 2);
}

#[tokio::test(start_paused = true)]
async fn relogin_callback_logs_in_again_when_the_refresh_token_expired() {
    let fake = FakeIdentity::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let opts = options().relogin(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(Credentials::local("alice", "pw")) })
    });
    let session = Session::login(&client(&fake), opts).await.unwrap();
    tokio::time::advance(Duration::from_secs(REFRESH_LIFETIME as u64 + 1)).await;
    session.access_token().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!((fake.issues(), fake.grants()), (2, 2));
    let body = fake.grant_bodies.lock().unwrap()[1].clone();
    let claims = token_common::jwt::read_claims(body["token"].as_str().unwrap()).unwrap();
    assert_eq!(
        claims.get_str("jti"),
        Some("refresh-1"),
        "the new refresh token is used"
    );
}

#[tokio::test(start_paused = true)]
async fn set_scope_regrants_without_a_new_login() {
    let fake = FakeIdentity::new();
    let session = Session::login(&client(&fake), options()).await.unwrap();
    let t = session
        .set_scope(Scope::Workspace, Some("workspace-1".into()))
        .await
        .unwrap();
    assert_eq!(t.info().workspace_id.as_deref(), Some("workspace-1"));
    assert_eq!(
        session.scope(),
        (Scope::Workspace, Some("workspace-1".into()))
    );
    assert_eq!((fake.issues(), fake.grants()), (1, 2));
    let body = fake.grant_bodies.lock().unwrap()[1].clone();
    assert_eq!(body["scope"], "WORKSPACE");
    assert_eq!(body["workspace_id"], "workspace-1");

    let e = session.set_scope(Scope::Workspace, None).await.unwrap_err();
    assert_eq!(e.field(), Some("workspace_id"));
    let e = session.set_scope(Scope::Project, None).await.unwrap_err();
    assert_eq!(e.field(), Some("scope"));
    assert_eq!(fake.grants(), 2);
}

#[tokio::test(start_paused = true)]
async fn failed_scope_change_keeps_the_previous_scope() {
    let fake = FakeIdentity::new();
    let session = Session::login(&client(&fake), options()).await.unwrap();
    *fake.grant_status.lock().unwrap() = Some(404);
    let e = session
        .set_scope(Scope::Workspace, Some("nope".into()))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404));
    assert_eq!(session.scope(), (Scope::Domain, None));
    *fake.grant_status.lock().unwrap() = None;
    session.access_token().await.unwrap();
    let bodies = fake.grant_bodies.lock().unwrap();
    assert_eq!(bodies.last().unwrap()["scope"], "DOMAIN");
}

#[tokio::test(start_paused = true)]
async fn login_refuses_bad_options_before_sending() {
    let fake = FakeIdentity::new();
    let c = client(&fake);
    let e = Session::login(&c, options().scope(Scope::Workspace))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("workspace_id"));
    let e = Session::login(&c, options().timeout(0)).await.unwrap_err();
    assert_eq!(e.field(), Some("timeout"));
    assert_eq!(fake.issues(), 0);
}

#[tokio::test(start_paused = true)]
async fn client_login_gives_a_session_that_serves_the_cached_token() {
    let fake = FakeIdentity::new();
    let session = client(&fake).login(options()).await.unwrap();
    assert_eq!((fake.issues(), fake.grants()), (1, 1));
    assert_eq!(jti(&session.access_token().await.unwrap()), "access-0");
    assert_eq!(jti(&session.access_token().await.unwrap()), "access-0");
    assert_eq!(
        (fake.issues(), fake.grants()),
        (1, 1),
        "the second access_token() is served from the cache"
    );
}

#[tokio::test(start_paused = true)]
async fn client_login_refuses_bad_options_before_sending() {
    let fake = FakeIdentity::new();
    let e = client(&fake)
        .login(options().scope(Scope::Workspace))
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("workspace_id"));
    let e = client(&fake).login(options().timeout(0)).await.unwrap_err();
    assert_eq!(e.field(), Some("timeout"));
    assert_eq!((fake.issues(), fake.grants()), (0, 0));
}

#[allow(deprecated, dead_code)]
fn the_old_access_token_name_still_names_the_session_access_token(
    t: cloudforet_identity_client::AccessToken,
) -> cloudforet_identity_client::SessionAccessToken {
    t
}
