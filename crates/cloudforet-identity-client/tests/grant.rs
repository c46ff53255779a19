//! `Token.grant` and `Domain.get_auth_info` on the wire.

mod support;

use cloudforet_identity_client::{GrantRequest, GrantType, RoleType, RouteStyle, Scope};
use serde_json::json;
use support::{body, client, token};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn server_answering(route: &str, status: u16, answer: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(status).set_body_json(answer))
        .mount(&server)
        .await;
    server
}

fn access() -> String {
    token("ACCESS_TOKEN", 1_900_000_000, "granted-marker")
}

#[tokio::test]
async fn grant_sends_exact_body_for_each_scope() {
    let cases = [
        (
            GrantRequest::refresh_token("rt", Scope::Domain),
            json!({"grant_type": "REFRESH_TOKEN", "token": "rt", "scope": "DOMAIN"}),
        ),
        (
            GrantRequest::refresh_token("rt", Scope::Workspace).workspace_id("workspace-1"),
            json!({"grant_type": "REFRESH_TOKEN", "token": "rt", "scope": "WORKSPACE",
                   "workspace_id": "workspace-1"}),
        ),
        (
            GrantRequest::refresh_token("rt", Scope::User),
            json!({"grant_type": "REFRESH_TOKEN", "token": "rt", "scope": "USER"}),
        ),
        (
            GrantRequest::new(GrantType::SystemToken, "st", Scope::System),
            json!({"grant_type": "SYSTEM_TOKEN", "token": "st", "scope": "SYSTEM"}),
        ),
        (
            GrantRequest::refresh_token("rt", Scope::Domain)
                .timeout(900)
                .permissions(["identity:User.read"])
                .domain_id("domain-123"),
            json!({"grant_type": "REFRESH_TOKEN", "token": "rt", "scope": "DOMAIN",
                   "timeout": 900, "permissions": ["identity:User.read"],
                   "domain_id": "domain-123"}),
        ),
    ];
    for (req, expected) in cases {
        let server = server_answering(
            "/identity/token/grant",
            200,
            json!({"access_token": access(), "role_type": "DOMAIN_ADMIN", "domain_id": "domain-123"}),
        )
        .await;
        let c = client(&server.uri(), RouteStyle::Console);
        let info = c.grant(&req).await.unwrap();
        assert_eq!(info.role_type, Some(RoleType::DomainAdmin));
        let received = server.received_requests().await.unwrap();
        assert_eq!(received[0].url.path(), "/identity/token/grant");
        assert_eq!(body(&received[0]), expected);
    }
}

#[tokio::test]
async fn grant_uses_the_v2_route() {
    let server = server_answering(
        "/identity/v2/token/grant",
        200,
        json!({"access_token": access()}),
    )
    .await;
    let c = client(&server.uri(), RouteStyle::V2Gateway);
    c.grant(&GrantRequest::refresh_token("rt", Scope::Domain))
        .await
        .unwrap();
    let r = &server.received_requests().await.unwrap()[0];
    assert_eq!(r.url.path(), "/identity/v2/token/grant");
}

#[tokio::test]
async fn answers_missing_default_fields_decode() {
    let server = server_answering(
        "/identity/token/grant",
        200,
        json!({"access_token": access(), "domain_id": "domain-123"}),
    )
    .await;
    let c = client(&server.uri(), RouteStyle::Console);
    let info = c
        .grant(&GrantRequest::refresh_token("rt", Scope::Domain))
        .await
        .unwrap();
    assert_eq!(info.role_type, None);
    assert_eq!(info.workspace_id, None);
    assert_eq!(info.role_id, None);
    assert_eq!(info.domain_id.as_deref(), Some("domain-123"));
    assert_eq!(
        info.expires_at(),
        Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_900_000_000))
    );
}

#[tokio::test]
async fn role_types_decode_with_a_fallback() {
    for (answer, expected) in [
        (json!("WORKSPACE_OWNER"), RoleType::WorkspaceOwner),
        (json!("WORKSPACE_MEMBER"), RoleType::WorkspaceMember),
        (json!("USER"), RoleType::User),
        (
            json!("SUPER_AUDITOR"),
            RoleType::Unknown("SUPER_AUDITOR".into()),
        ),
        (json!(3), RoleType::WorkspaceMember),
    ] {
        let server = server_answering(
            "/identity/token/grant",
            200,
            json!({"access_token": access(), "role_type": answer, "workspace_id": "w", "role_id": "role-1"}),
        )
        .await;
        let c = client(&server.uri(), RouteStyle::Console);
        let info = c
            .grant(&GrantRequest::refresh_token("rt", Scope::Workspace).workspace_id("w"))
            .await
            .unwrap();
        assert_eq!(info.role_type, Some(expected));
        assert_eq!(info.role_id.as_deref(), Some("role-1"));
    }
}

#[tokio::test]
async fn an_answer_without_a_token_is_a_decode_error_that_quotes_nothing() {
    let server = server_answering(
        "/identity/token/grant",
        200,
        json!({"access_tokn": "leaked-value"}),
    )
    .await;
    let c = client(&server.uri(), RouteStyle::Console);
    let e = c
        .grant(&GrantRequest::refresh_token("rt", Scope::Domain))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(200));
    assert!(e.to_string().contains("access_token"), "{e}");
    assert!(!e.to_string().contains("leaked-value"));
}

#[tokio::test]
async fn invalid_grant_input_is_refused_before_sending() {
    let server = MockServer::start().await;
    let c = client(&server.uri(), RouteStyle::Console);
    let cases = [
        (
            GrantRequest::refresh_token("rt", Scope::Workspace),
            "workspace_id",
        ),
        (
            GrantRequest::refresh_token("rt", Scope::Workspace).workspace_id(" "),
            "workspace_id",
        ),
        (GrantRequest::refresh_token("rt", Scope::Project), "scope"),
        (GrantRequest::refresh_token("", Scope::Domain), "token"),
        (
            GrantRequest::refresh_token("rt", Scope::Domain).timeout(0),
            "timeout",
        ),
        (
            GrantRequest::refresh_token("rt", Scope::Domain).timeout(604_801),
            "timeout",
        ),
        (
            GrantRequest::refresh_token("rt", Scope::Domain).domain_id(""),
            "domain_id",
        ),
    ];
    for (req, field) in cases {
        let e = c.grant(&req).await.unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn domain_auth_info_on_both_routes() {
    for (style, route) in [
        (RouteStyle::Console, "/identity/domain/get-auth-info"),
        (RouteStyle::V2Gateway, "/identity/v2/domain/get-auth-info"),
    ] {
        let server = server_answering(
            route,
            200,
            json!({"domain_id": "domain-123", "name": "demo", "metadata": {}, "config": {}, "tags": {"a": "b"}}),
        )
        .await;
        let c = client(&server.uri(), style);
        let info = c.domain_auth_info("demo").await.unwrap();
        assert_eq!(info.domain_id, "domain-123");
        assert_eq!(info.name.as_deref(), Some("demo"));
        assert!(info.other.contains_key("tags"));
        let r = &server.received_requests().await.unwrap()[0];
        assert_eq!(r.url.path(), route);
        assert_eq!(body(r), json!({"name": "demo"}));
    }
    let server = MockServer::start().await;
    let e = client(&server.uri(), RouteStyle::Console)
        .domain_auth_info("")
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("name"));
}

#[tokio::test]
async fn the_builders_clock_judges_the_sessions_expiry_and_is_refused_with_a_transport() {
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use cloudforet_identity_client::{Credentials, IdentityClient, LoginOptions, Session};
    use support::issued_token;
    use token_common::clock::{Clock, ManualClock};

    let server = MockServer::start().await;
    for (route, answer) in [
        (
            "/identity/token/issue",
            json!({"access_token": token("ACCESS_TOKEN", 1_900_000_000, "a"),
                   "refresh_token": token("REFRESH_TOKEN", 1_900_009_000, "r")}),
        ),
        (
            "/identity/token/grant",
            json!({"access_token": issued_token("ACCESS_TOKEN", 1_900_000_000, 1_900_001_800, "g"),
                   "role_type": "DOMAIN_ADMIN", "domain_id": "domain-123"}),
        ),
    ] {
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .mount(&server)
            .await;
    }
    // Far from both the system clock and the tokens' own times: only the given clock
    // can put the expiry here.
    let clock = Arc::new(ManualClock::at_unix_seconds(1_000_000_000));
    let client = IdentityClient::builder()
        .endpoint(&server.uri())
        .clock(clock.clone())
        .build()
        .unwrap();
    let given: Arc<dyn Clock> = clock.clone();
    assert!(Arc::ptr_eq(client.transport().clock(), &given));
    let session = Session::login(
        &client,
        LoginOptions::new(Credentials::local("alice", "pw"), "domain-123"),
    )
    .await
    .unwrap();
    let token = session.access_token().await.unwrap();
    assert_eq!(
        token.expires_at(),
        Some(UNIX_EPOCH + Duration::from_secs(1_000_000_000 + 1800))
    );

    let e = IdentityClient::builder()
        .endpoint(&server.uri())
        .clock(clock)
        .transport(
            cloudforet_identity_client::Transport::builder()
                .build()
                .unwrap(),
        )
        .build()
        .unwrap_err();
    assert_eq!(e.field(), Some("clock"), "{e}");
}
