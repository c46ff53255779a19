//! App secrets: decoded, checked locally (type, owner, domain, expiry), never printed, and
//! usable wherever a user session is.

mod support;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use cloudforet_identity_client::{
    AccessTokenSource, AppSecret, AppSecretError, Credentials, Error, LoginOptions, RoleType,
    RouteStyle, Session,
};
use serde_json::{json, Value};
use support::{client, jwt, token};
use token_common::clock::ManualClock;
use token_common::{TokenCache, TokenSource};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const EXP: i64 = 1_900_000_000;
const MARKER: &str = "client-SECRET-marker";

fn app_claims(extra: Value) -> Value {
    let mut v = json!({
        "iss": "spaceone.identity", "typ": "CLIENT_SECRET", "own": "APP",
        "did": "domain-123", "aud": "app-42", "jti": MARKER,
        "iat": EXP - 86_400, "exp": EXP, "ver": "2.0",
        "rol": "WORKSPACE_OWNER", "wid": "workspace-1",
    });
    for (k, val) in extra.as_object().unwrap() {
        if val.is_null() {
            v.as_object_mut().unwrap().remove(k);
        } else {
            v[k] = val.clone();
        }
    }
    v
}

fn clock_at(secs: i64) -> Arc<ManualClock> {
    Arc::new(ManualClock::at_unix_seconds(secs as u64))
}

fn app(extra: Value, now: i64) -> Result<AppSecret, AppSecretError> {
    AppSecret::with_clock(jwt(app_claims(extra)), clock_at(now))
}

#[test]
fn decodes_the_claims_of_a_workspace_app() {
    let secret = jwt(app_claims(json!({})));
    let a = AppSecret::with_clock(secret.clone(), clock_at(EXP - 10)).unwrap();
    let c = a.claims();
    assert_eq!(c.domain_id, "domain-123");
    assert_eq!(c.workspace_id.as_deref(), Some("workspace-1"));
    assert_eq!(c.role_type, Some(RoleType::WorkspaceOwner));
    assert_eq!(c.app_id.as_deref(), Some("app-42"));
    assert_eq!(c.client_id.as_deref(), Some(MARKER));
    assert_eq!(c.expires_at, UNIX_EPOCH + Duration::from_secs(EXP as u64));
    assert_eq!(
        c.issued_at,
        Some(UNIX_EPOCH + Duration::from_secs((EXP - 86_400) as u64))
    );
    assert_eq!(a.secret().expose_secret(), secret);
    assert_eq!(a.bearer().expose_secret(), format!("Bearer {secret}"));
}

#[test]
fn a_domain_app_has_no_workspace() {
    let a = app(json!({"wid": "*", "rol": "DOMAIN_ADMIN"}), EXP - 10).unwrap();
    assert_eq!(a.claims().workspace_id, None);
    assert_eq!(a.claims().role_type, Some(RoleType::DomainAdmin));
}

#[test]
fn an_expired_secret_is_refused_saying_so() {
    for now in [EXP, EXP + 1, EXP + 86_400 * 365] {
        let e = app(json!({}), now).unwrap_err();
        assert_eq!(
            e,
            AppSecretError::Expired {
                expired_at: UNIX_EPOCH + Duration::from_secs(EXP as u64)
            }
        );
        let text = Error::from(e).to_string();
        assert!(
            text.contains("expired") && text.contains(&EXP.to_string()),
            "{text}"
        );
    }
    // One second before `exp` it is still good.
    app(json!({}), EXP - 1).unwrap();
}

#[test]
fn a_user_token_is_refused_naming_its_type() {
    let e = AppSecret::with_clock(token("ACCESS_TOKEN", EXP, MARKER), clock_at(0)).unwrap_err();
    assert_eq!(
        e,
        AppSecretError::NotClientSecret {
            typ: Some("ACCESS_TOKEN".to_owned())
        }
    );
    assert!(e.to_string().contains("ACCESS_TOKEN"), "{e}");
    let e = app(json!({"typ": null}), 0).unwrap_err();
    assert_eq!(e, AppSecretError::NotClientSecret { typ: None });
}

#[test]
fn a_client_secret_not_owned_by_an_app_is_refused() {
    let e = app(json!({"own": "USER"}), 0).unwrap_err();
    assert_eq!(
        e,
        AppSecretError::NotApp {
            own: Some("USER".to_owned())
        }
    );
    assert!(e.to_string().contains("USER") && e.to_string().contains("APP"));
}

#[test]
fn missing_domain_or_expiry_and_garbage_are_refused() {
    assert_eq!(
        app(json!({"did": null}), 0).unwrap_err(),
        AppSecretError::MissingClaim { claim: "did" }
    );
    assert_eq!(
        app(json!({"exp": null}), 0).unwrap_err(),
        AppSecretError::MissingClaim { claim: "exp" }
    );
    for bad in ["", "not-a-jwt", "a.b", "a.!!!.c", &format!("{MARKER}.x.y")] {
        let e = AppSecret::with_clock(bad, clock_at(0)).unwrap_err();
        assert!(
            matches!(e, AppSecretError::Malformed { .. }),
            "{bad}: {e:?}"
        );
        assert!(!e.to_string().contains(MARKER), "{e}");
    }
}

#[test]
fn errors_become_credentials_errors() {
    let e: Error = app(json!({"own": "USER"}), 0).unwrap_err().into();
    assert!(matches!(e, Error::Credentials { .. }), "{e:?}");
    assert!(e.to_string().contains("App client_secret"), "{e}");
}

#[test]
fn debug_and_display_never_show_the_secret() {
    let a = app(json!({}), 0).unwrap();
    let secret = a.secret().expose_secret().to_owned();
    let payload = secret.split('.').nth(1).unwrap().to_owned();
    for text in [
        format!("{a:?}"),
        format!("{a:#?}"),
        a.to_string(),
        format!("{:?} {}", a.secret(), a.secret()),
        format!("{:?} {}", a.bearer(), a.bearer()),
    ] {
        assert!(!text.contains(&secret), "{text}");
        assert!(!text.contains(&payload), "{text}");
        assert!(!text.contains("eyJ"), "{text}");
    }
    assert!(a.to_string().contains("domain-123"));
}

#[tokio::test]
async fn access_token_rechecks_expiry_on_the_clock() {
    let clock = clock_at(EXP - 5);
    let a = AppSecret::with_clock(jwt(app_claims(json!({}))), clock.clone()).unwrap();
    let t = a.access_token().await.unwrap();
    assert_eq!(t.secret(), a.secret());
    assert_eq!(t.info().domain_id.as_deref(), Some("domain-123"));
    assert_eq!(t.info().workspace_id.as_deref(), Some("workspace-1"));
    assert_eq!(
        t.expires_at(),
        Some(UNIX_EPOCH + Duration::from_secs(EXP as u64))
    );
    clock.advance(Duration::from_secs(5));
    assert!(a.is_expired());
    let e = a.access_token().await.unwrap_err();
    assert!(matches!(e, Error::SessionExpired { .. }), "{e:?}");
    assert!(e.to_string().contains("expired"), "{e}");
    // As a TokenSource too.
    assert!(TokenSource::fetch(&a).await.is_err());
}

/// Code written once against the trait, run on a user session and on an App.
async fn bearer_of(auth: &dyn AccessTokenSource) -> String {
    let token = auth.access_token().await.unwrap();
    auth.report_unauthorized(&token);
    token.bearer().expose_secret().to_owned()
}

/// The same, generic over `TokenSource` (so either can sit in a `TokenCache`).
async fn cached_bearer<
    S: TokenSource<Token = cloudforet_identity_client::GrantTokenInfo> + 'static,
>(
    source: S,
) -> String {
    let cache = TokenCache::new(source);
    let t = cache.get().await.unwrap();
    t.value.access_token.expose_secret().to_owned()
}

#[tokio::test]
async fn code_written_for_a_session_runs_on_an_app() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/token/issue"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token("ACCESS_TOKEN", 4_000_000_000, "access"),
            "refresh_token": token("REFRESH_TOKEN", 4_000_010_000, "refresh"),
        })))
        .mount(&server)
        .await;
    let granted = token("ACCESS_TOKEN", 4_000_000_000, "granted");
    Mock::given(method("POST"))
        .and(path("/identity/token/grant"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": granted, "role_type": "USER"})),
        )
        .mount(&server)
        .await;
    let c = client(&server.uri(), RouteStyle::Console);
    let session = Session::login(
        &c,
        LoginOptions::new(Credentials::local("alice", "pw"), "domain-123"),
    )
    .await
    .unwrap();
    let app = AppSecret::new(jwt(app_claims(json!({"exp": 4_000_000_000i64})))).unwrap();

    assert_eq!(bearer_of(&session).await, format!("Bearer {granted}"));
    assert_eq!(
        bearer_of(&app).await,
        format!("Bearer {}", app.secret().expose_secret())
    );
    assert_eq!(cached_bearer(session).await, granted);
    assert_eq!(
        cached_bearer(app.clone()).await,
        app.secret().expose_secret()
    );
}
