//! The Cloudforet identity client against the in-process emulator: issue (LOCAL) then
//! grant DOMAIN / WORKSPACE / USER on both route styles, `get-auth-info`, refused
//! passwords, the e-mail MFA flow, and a `Session` re-granting across the access token's
//! expiry until its refresh token dies — on manual time.

mod support;

use std::sync::Arc;
use std::time::Duration;

use cloudforet_identity_client::error::{mfa_required, MfaRequired};
use cloudforet_identity_client::{
    Credentials, GrantRequest, IdentityClient, IssueRequest, LoginOptions, MfaType, RoleType,
    RouteStyle, Scope, Session,
};
use token_common::clock::Clock;
use token_common::Error;
use token_emulator::demo;

use support::unix;

const DOMAIN: &str = demo::CLOUDFORET_DOMAIN_ID;
const WORKSPACE: &str = demo::CLOUDFORET_WORKSPACE_ID;

fn login(user: &str, password: &str) -> IssueRequest {
    IssueRequest::new(Credentials::local(user, password), DOMAIN)
}

fn admin() -> IssueRequest {
    login(
        demo::CLOUDFORET_ADMIN_USER_ID,
        demo::CLOUDFORET_ADMIN_PASSWORD,
    )
}

fn mfa_user() -> IssueRequest {
    login(demo::CLOUDFORET_MFA_USER_ID, demo::CLOUDFORET_MFA_PASSWORD)
}

/// Looks the domain up, issues, and grants DOMAIN then WORKSPACE with one refresh token.
async fn issue_and_grant(client: &IdentityClient) {
    let domain = client
        .domain_auth_info(demo::CLOUDFORET_DOMAIN_NAME)
        .await
        .expect("get-auth-info");
    assert_eq!(domain.domain_id, DOMAIN);
    assert_eq!(domain.name.as_deref(), Some(demo::CLOUDFORET_DOMAIN_NAME));

    let now = unix(client.transport().now());
    let tokens = client
        .issue(&admin().timeout(600))
        .await
        .expect("issue LOCAL");
    assert!(!format!("{tokens:?}").contains(tokens.refresh_token.expose_secret()));
    let access_exp = unix(tokens.access_token_expires_at().expect("access exp"));
    let refresh_exp = unix(tokens.refresh_token_expires_at().expect("refresh exp"));
    assert!(
        (now + 600..=now + 602).contains(&access_exp),
        "{access_exp} vs {now}"
    );
    assert!((now + 10_800..=now + 10_802).contains(&refresh_exp));

    let domain_grant = client
        .grant(&GrantRequest::refresh_token(
            tokens.refresh_token.clone(),
            Scope::Domain,
        ))
        .await
        .expect("grant DOMAIN");
    assert_eq!(domain_grant.role_type, Some(RoleType::DomainAdmin));
    assert_eq!(domain_grant.domain_id.as_deref(), Some(DOMAIN));
    assert_eq!(
        domain_grant.workspace_id, None,
        "default fields are left out"
    );
    let exp = unix(domain_grant.expires_at().expect("granted exp"));
    assert!(
        (now + 1800..=now + 1802).contains(&exp),
        "default timeout is 1800 s"
    );

    // The same refresh token is granted against again, here for a workspace.
    let workspace_grant = client
        .grant(
            &GrantRequest::refresh_token(tokens.refresh_token.clone(), Scope::Workspace)
                .workspace_id(WORKSPACE)
                .timeout(120),
        )
        .await
        .expect("grant WORKSPACE");
    assert_eq!(workspace_grant.role_type, Some(RoleType::DomainAdmin));
    assert_eq!(workspace_grant.workspace_id.as_deref(), Some(WORKSPACE));
    assert!(workspace_grant.role_id.is_some());
    let exp = unix(workspace_grant.expires_at().expect("granted exp"));
    assert!((now + 120..=now + 122).contains(&exp));

    // An access token is not a refresh token.
    let err = client
        .grant(&GrantRequest::refresh_token(
            tokens.access_token.clone(),
            Scope::Domain,
        ))
        .await
        .expect_err("access token used as refresh token");
    assert!(err.is_authentication(), "{err}");
    assert_eq!(err.service_code(), Some("ERROR_AUTHENTICATE_FAILURE"));
}

#[tokio::test]
async fn issue_and_grant_on_console_routes() {
    let emulator = support::start().await;
    let client = support::cloudforet_client(&emulator, RouteStyle::Console);
    assert_eq!(client.route_style(), RouteStyle::Console);
    issue_and_grant(&client).await;
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn issue_and_grant_on_v2_gateway_routes() {
    let emulator = support::start().await;
    let client = support::cloudforet_client(&emulator, RouteStyle::V2Gateway);
    issue_and_grant(&client).await;
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn router_not_found_hints_at_the_other_route_style() {
    let emulator = support::start().await;
    // A path prefix the server does not serve: the router's own 404, not the service's.
    let client = IdentityClient::builder()
        .endpoint(&format!("{}/no-such-prefix", emulator.base_url()))
        .build()
        .expect("client");
    let err = client.issue(&admin()).await.expect_err("no route");
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(err.to_string().contains("RouteStyle::V2Gateway"), "{err}");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn workspace_member_gets_workspace_and_user_scopes_only() {
    let emulator = support::start().await;
    let client = support::cloudforet_client(&emulator, RouteStyle::Console);
    let tokens = client
        .issue(&login(
            demo::CLOUDFORET_MEMBER_USER_ID,
            demo::CLOUDFORET_MEMBER_PASSWORD,
        ))
        .await
        .expect("issue");
    let refresh = tokens.refresh_token;

    let ws = client
        .grant(
            &GrantRequest::refresh_token(refresh.clone(), Scope::Workspace).workspace_id(WORKSPACE),
        )
        .await
        .expect("grant WORKSPACE");
    assert_eq!(ws.role_type, Some(RoleType::WorkspaceMember));
    let user = client
        .grant(&GrantRequest::refresh_token(refresh.clone(), Scope::User))
        .await
        .expect("grant USER");
    assert_eq!(user.role_type, Some(RoleType::User));
    assert_eq!(user.role_id, None);

    let err = client
        .grant(&GrantRequest::refresh_token(refresh.clone(), Scope::Domain))
        .await
        .expect_err("a member has no DOMAIN scope");
    assert_eq!(err.status(), Some(403), "{err}");
    assert_eq!(err.service_code(), Some("ERROR_PERMISSION_DENIED"));

    let err = client
        .grant(
            &GrantRequest::refresh_token(refresh.clone(), Scope::Workspace)
                .workspace_id("workspace-404"),
        )
        .await
        .expect_err("unknown workspace");
    assert_eq!(err.status(), Some(404), "{err}");
    assert_eq!(err.service_code(), Some("ERROR_NOT_FOUND"));

    // Refused before sending: WORKSPACE without a workspace, and PROJECT.
    for request in [
        GrantRequest::refresh_token(refresh.clone(), Scope::Workspace),
        GrantRequest::refresh_token(refresh.clone(), Scope::Project),
    ] {
        let err = client.grant(&request).await.expect_err("invalid");
        assert!(err.is_invalid_input(), "{err}");
    }
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn wrong_password_is_an_authentication_error() {
    let emulator = support::start().await;
    let client = support::cloudforet_client(&emulator, RouteStyle::Console);
    let err = client
        .issue(&login(demo::CLOUDFORET_ADMIN_USER_ID, "not-the-password"))
        .await
        .expect_err("wrong password");
    assert!(err.is_authentication(), "{err}");
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.service_code(), Some("ERROR_AUTHENTICATE_FAILURE"));
    // The emulator, like the real server, never quotes a password back, so a "no password
    // in the error" check here could not fail: it runs in the client crate's
    // tests/secrets.rs against a server that echoes the whole request.

    let err = client
        .issue(&login("nobody@example.com", "whatever"))
        .await
        .expect_err("unknown user");
    assert_eq!(err.status(), Some(404), "{err}");
    assert_eq!(err.service_code(), Some("ERROR_NOT_FOUND"));

    let err = client
        .domain_auth_info("no-such-domain")
        .await
        .expect_err("unknown domain name");
    assert_eq!(err.status(), Some(404), "{err}");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn mfa_flow_issue_complete_and_resend() {
    let emulator = support::start().await;
    let client = support::cloudforet_client(&emulator, RouteStyle::Console);

    let err = client.issue(&mfa_user()).await.expect_err("MFA required");
    match mfa_required(&err) {
        Some(MfaRequired {
            mfa_type, user_id, ..
        }) => {
            assert_eq!(*mfa_type, MfaType::Email);
            assert_eq!(user_id, demo::CLOUDFORET_MFA_USER_ID);
        }
        None => panic!("expected MfaRequired, got {err:?}"),
    }

    // A wrong code is refused without quoting it, and leaves the pending code usable.
    let err = client
        .complete_mfa(&mfa_user(), "000000")
        .await
        .expect_err("wrong code");
    assert_eq!(err.status(), Some(400), "{err}");
    assert_eq!(err.service_code(), Some("ERROR_INVALID_VERIFY_CODE"));
    assert!(!err.to_string().contains("000000"), "{err}");

    let tokens = client
        .complete_mfa(&mfa_user(), demo::CLOUDFORET_MFA_CODE)
        .await
        .expect("the right code");
    let granted = client
        .grant(&GrantRequest::refresh_token(
            tokens.refresh_token,
            Scope::Domain,
        ))
        .await
        .expect("grant after MFA");
    assert_eq!(granted.role_type, Some(RoleType::DomainAdmin));

    // A code works once; a resend makes it work again.
    let err = client
        .complete_mfa(&mfa_user(), demo::CLOUDFORET_MFA_CODE)
        .await
        .expect_err("used code");
    assert!(err.is_authentication(), "{err}");
    client
        .resend_mfa_code(&mfa_user())
        .await
        .expect("resend is taken as success");
    client
        .complete_mfa(&mfa_user(), demo::CLOUDFORET_MFA_CODE)
        .await
        .expect("the re-sent code");

    // A session logs in with a verify code directly once a code is pending.
    let err = Session::login(
        &client,
        LoginOptions::new(
            Credentials::local(demo::CLOUDFORET_MFA_USER_ID, demo::CLOUDFORET_MFA_PASSWORD),
            DOMAIN,
        ),
    )
    .await
    .expect_err("a session without a code meets MFA too");
    assert!(mfa_required(&err).is_some(), "{err:?}");
    let session = Session::login(
        &client,
        LoginOptions::new(
            Credentials::local(demo::CLOUDFORET_MFA_USER_ID, demo::CLOUDFORET_MFA_PASSWORD),
            DOMAIN,
        )
        .verify_code(demo::CLOUDFORET_MFA_CODE),
    )
    .await
    .expect("session with the code");
    session.access_token().await.expect("token");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn session_regrants_across_expiry_then_expires_with_its_refresh_token() {
    let (clock, emulator, client) = support::cloudforet_on_manual_clock().await;
    // `client.login(..)`, the client's one token-source method (the other tests call
    // `Session::login`, which it is).
    let session = client
        .login(
            LoginOptions::new(
                Credentials::local(
                    demo::CLOUDFORET_ADMIN_USER_ID,
                    demo::CLOUDFORET_ADMIN_PASSWORD,
                ),
                DOMAIN,
            )
            .timeout(60),
        )
        .await
        .expect("login");
    let refresh_exp = session.refresh_token_expires_at().expect("refresh exp");
    assert_eq!(refresh_exp, clock.now() + Duration::from_secs(10_800));

    let first = session.access_token().await.expect("first token");
    assert_eq!(
        first.expires_at(),
        Some(clock.now() + Duration::from_secs(60))
    );
    let same = session.access_token().await.expect("cached token");
    assert_eq!(
        same.secret().expose_secret(),
        first.secret().expose_secret()
    );

    // Past the refresh margin (half of a 60 s lifetime): re-granted.
    clock.advance(Duration::from_secs(45));
    let second = session
        .fresh_access_token()
        .await
        .expect("re-granted token");
    assert_ne!(
        second.secret().expose_secret(),
        first.secret().expose_secret()
    );
    assert_eq!(
        second.expires_at(),
        Some(clock.now() + Duration::from_secs(60))
    );
    assert!(second.expires_at() > first.expires_at());
    assert_eq!(second.info().role_type, Some(RoleType::DomainAdmin));

    // A 401 reported by the caller forces a new grant.
    session.report_unauthorized(&second);
    let third = session.access_token().await.expect("token after a 401");
    assert_ne!(
        third.secret().expose_secret(),
        second.secret().expose_secret()
    );

    // Scope switch without logging in again.
    let ws = session
        .set_scope(Scope::Workspace, Some(WORKSPACE.to_owned()))
        .await
        .expect("switch to the workspace");
    assert_eq!(ws.info().workspace_id.as_deref(), Some(WORKSPACE));
    assert_eq!(
        session.scope(),
        (Scope::Workspace, Some(WORKSPACE.to_owned()))
    );

    // Past the refresh token's life (and the server's 60 s leeway): the session is over.
    clock.advance(Duration::from_secs(10_800 + 61));
    let err = session.access_token().await.expect_err("session expired");
    assert!(matches!(err, Error::SessionExpired { .. }), "{err:?}");
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn session_with_relogin_survives_its_refresh_token() {
    let (clock, emulator, client) = support::cloudforet_on_manual_clock().await;
    let session = Session::login(
        &client,
        LoginOptions::new(
            Credentials::local(
                demo::CLOUDFORET_MEMBER_USER_ID,
                demo::CLOUDFORET_MEMBER_PASSWORD,
            ),
            DOMAIN,
        )
        .scope(Scope::Workspace)
        .workspace_id(WORKSPACE)
        .timeout(600)
        .relogin(|| {
            Box::pin(async {
                Ok(Credentials::local(
                    demo::CLOUDFORET_MEMBER_USER_ID,
                    demo::CLOUDFORET_MEMBER_PASSWORD,
                ))
            })
        }),
    )
    .await
    .expect("login");
    let first_refresh_exp = session.refresh_token_expires_at().expect("refresh exp");

    clock.advance(Duration::from_secs(10_800 + 61));
    let token = session
        .access_token()
        .await
        .expect("logged in again with the relogin credentials");
    assert_eq!(token.info().role_type, Some(RoleType::WorkspaceMember));
    assert_eq!(
        token.expires_at(),
        Some(clock.now() + Duration::from_secs(600))
    );
    let new_refresh_exp = session.refresh_token_expires_at().expect("refresh exp");
    assert!(new_refresh_exp > first_refresh_exp);
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn sessions_share_one_grant_when_called_together() {
    let (clock, emulator, client) = support::cloudforet_on_manual_clock().await;
    let session = Arc::new(
        Session::login(
            &client,
            LoginOptions::new(
                Credentials::local(
                    demo::CLOUDFORET_ADMIN_USER_ID,
                    demo::CLOUDFORET_ADMIN_PASSWORD,
                ),
                DOMAIN,
            )
            .timeout(60),
        )
        .await
        .expect("login"),
    );
    clock.advance(Duration::from_secs(61)); // expired: every caller waits for one grant
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let s = session.clone();
        tasks.push(tokio::spawn(async move { s.access_token().await }));
    }
    let mut values = Vec::new();
    for t in tasks {
        let token = t.await.expect("task").expect("token");
        values.push(token.secret().expose_secret().to_owned());
    }
    values.dedup();
    assert_eq!(values.len(), 1, "one grant served every caller");
    emulator.shutdown().await.expect("clean shutdown");
}

/// A session on a client whose clock is 10 minutes off the server's. Cloudforet's calls are
/// unsigned, so the transport never measures the skew; comparing the server's `exp` with
/// the client's clock would serve tokens the server has expired (behind) or re-grant on
/// every call (ahead). The session counts each token's lifetime (`exp - iat`) on its own
/// clock from when it asked, so neither happens.
#[tokio::test]
async fn session_on_a_skewed_client_keeps_valid_tokens() {
    for ahead in [false, true] {
        let server = support::manual_clock();
        let emulator = support::start_with_clock(server.clone()).await;
        let offset = Duration::from_secs(600);
        let clock = if ahead {
            support::OffsetClock::ahead_of(server.clone(), offset)
        } else {
            support::OffsetClock::behind_of(server.clone(), offset)
        };
        let transport = support::transport_with_clock(Arc::new(clock))
            .build()
            .expect("transport");
        let client = support::cloudforet_client_with(&emulator, transport);
        let session = Session::login(
            &client,
            LoginOptions::new(
                Credentials::local(
                    demo::CLOUDFORET_ADMIN_USER_ID,
                    demo::CLOUDFORET_ADMIN_PASSWORD,
                ),
                DOMAIN,
            )
            .timeout(300),
        )
        .await
        .expect("login");
        let a = session.access_token().await.expect("token");
        let b = session.access_token().await.expect("token");
        assert_eq!(
            a.secret().expose_secret(),
            b.secret().expose_secret(),
            "ahead={ahead}: a fresh token is served from memory"
        );
        server.advance(Duration::from_secs(360));
        let c = session.access_token().await.expect("token");
        assert!(
            c.info().expires_at() > Some(server.now()),
            "ahead={ahead}: the token served is still valid on the server's clock"
        );
        emulator.shutdown().await.expect("clean shutdown");
    }
}

/// The demo OTP user's secret as an authenticator app shows it (spaced, lower case).
fn otp_secret() -> cloudforet_identity_client::TotpSecret {
    let spaced = demo::CLOUDFORET_OTP_SECRET
        .to_lowercase()
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    cloudforet_identity_client::TotpSecret::from_base32(&spaced).expect("Base32")
}

#[tokio::test]
async fn otp_user_logs_in_in_one_call_and_a_wrong_secret_is_a_typed_error() {
    let clock = support::manual_clock();
    // Stay clear of a step's last two seconds, where the client would wait for the next.
    let into_step = unix(clock.now()) % 30;
    if into_step >= 25 {
        clock.advance(Duration::from_secs(30 - into_step + 3));
    }
    let emulator = support::start_with_clock(clock.clone()).await;
    let transport = support::transport_with_clock(clock.clone())
        .build()
        .expect("transport");
    let client = support::cloudforet_client_with(&emulator, transport);
    let options = || {
        LoginOptions::new(
            Credentials::local(demo::CLOUDFORET_OTP_USER_ID, demo::CLOUDFORET_OTP_PASSWORD),
            DOMAIN,
        )
    };
    let session = Session::login(&client, options().otp_secret(otp_secret()))
        .await
        .expect("an OTP login completes by itself");
    let token = session.access_token().await.expect("token");
    assert_eq!(token.info().role_type, Some(RoleType::DomainAdmin));

    // Without the secret the caller is told which MFA is needed.
    match Session::login(&client, options()).await {
        Err(e) => assert_eq!(
            mfa_required(&e).map(|m| &m.mfa_type),
            Some(&MfaType::Otp),
            "{e:?}"
        ),
        Ok(_) => panic!("expected MfaRequired, got a session"),
    }

    // Another secret: the server's 400 ERROR_INVALID_VERIFY_CODE, recognisable by type.
    let wrong = cloudforet_identity_client::TotpSecret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    let e = Session::login(&client, options().otp_secret(wrong))
        .await
        .expect_err("a wrong secret cannot log in");
    assert!(
        cloudforet_identity_client::error::is_invalid_verify_code(&e),
        "{e:?}"
    );
    assert_eq!(e.status(), Some(400));
    // The code the client sent is quoted back by the server; it is not the secret.
    assert!(!e.to_string().contains("JBSWY3DP"), "{e}");
}

/// cfctl's way, against the emulator: a `-user` environment whose endpoint is the console
/// (here the emulator, which serves `config/production.json`), a login as the file's user,
/// the refresh token kept in cfctl's cache, and a later grant from the cached token alone.
#[tokio::test]
async fn cfctl_user_environment_logs_in_and_its_cached_refresh_token_grants() {
    use cloudforet_identity_client::{CfctlSettings, EnvironmentKind, Transport};

    let emulator = support::start().await;
    let home = std::env::temp_dir().join(format!("cf-e2e-cfctl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".cfctl")).unwrap();
    std::fs::write(
        home.join(".cfctl/setting.yaml"),
        format!(
            "environment: demo-user\nenvironments:\n  demo-user:\n    endpoint: {}\n    proxy: true\n    user_id: {}\n",
            emulator.base_url(),
            demo::CLOUDFORET_ADMIN_USER_ID
        ),
    )
    .unwrap();
    let settings = CfctlSettings::load_from(home.join(".cfctl/setting.yaml")).unwrap();
    let env = settings.select("current").unwrap();
    assert_eq!(env.kind(), EnvironmentKind::User);

    let transport = Transport::builder().build().unwrap();
    let rest = env
        .rest_endpoint(&transport)
        .await
        .expect("production.json");
    let client = IdentityClient::builder()
        .endpoint(rest.as_str())
        .transport(transport)
        .build()
        .unwrap();
    let domain = client
        .domain_auth_info(demo::CLOUDFORET_DOMAIN_NAME)
        .await
        .unwrap();
    let tokens = client
        .issue(&IssueRequest::new(
            Credentials::local(env.user_id().unwrap(), demo::CLOUDFORET_ADMIN_PASSWORD),
            domain.domain_id,
        ))
        .await
        .expect("login as the file's user");
    env.write_cached_refresh_token(&tokens.refresh_token)
        .unwrap();

    let clock = token_common::clock::SystemClock;
    let cached = env
        .read_cached_refresh_token(&clock)
        .unwrap()
        .expect("the cached token, unexpired");
    let granted = client
        .grant(&GrantRequest::refresh_token(cached, Scope::Domain))
        .await
        .expect("the cached refresh token grants");
    assert_eq!(granted.role_type, Some(RoleType::DomainAdmin));
    let _ = std::fs::remove_dir_all(&home);
}
