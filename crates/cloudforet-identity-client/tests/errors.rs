//! Error answers, retries and builder checks.

mod support;

use std::time::Duration;

use cloudforet_identity_client::{
    Credentials, GrantRequest, IdentityClient, IssueRequest, RouteStyle, Scope, Transport,
};
use serde_json::json;
use support::client;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn login() -> IssueRequest {
    IssueRequest::new(Credentials::local("alice", "pw-never-shown"), "domain-123")
}

#[tokio::test]
async fn authenticate_failure_is_an_authentication_error_with_code_and_request_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/token/issue"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("x-request-id", "req-42")
                .set_body_json(json!({"detail": {"code": "ERROR_AUTHENTICATE_FAILURE",
                    "message": " Authenticate failure. (message = wrong password)"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server.uri(), RouteStyle::Console)
        .issue(&login())
        .await
        .unwrap_err();
    assert!(e.is_authentication());
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.service_code(), Some("ERROR_AUTHENTICATE_FAILURE"));
    assert_eq!(e.request_id(), Some("req-42"));
    let text = e.to_string();
    assert!(text.contains("401") && text.contains("wrong password") && text.contains("req-42"));
    assert!(!text.contains("pw-never-shown"));
}

#[tokio::test]
async fn console_route_404_suggests_the_v2_gateway_style() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"detail": "Not Found"})))
        .mount(&server)
        .await;
    let e = client(&server.uri(), RouteStyle::Console)
        .issue(&login())
        .await
        .unwrap_err();
    assert_eq!(e.service_code(), Some("NOT_FOUND"));
    assert!(e.to_string().contains("RouteStyle::V2Gateway"), "{e}");
}

#[tokio::test]
async fn v2_route_404_suggests_the_console_style() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"detail": "Not Found"})))
        .mount(&server)
        .await;
    let e = client(&server.uri(), RouteStyle::V2Gateway)
        .grant(&GrantRequest::refresh_token("rt", Scope::Domain))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("RouteStyle::Console"), "{e}");
}

#[tokio::test]
async fn unknown_user_404_keeps_its_service_code_and_no_hint() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"detail": {"code": "ERROR_NOT_FOUND", "message": " Resource not found. (key = user_id, value = alice)"}}),
        ))
        .mount(&server)
        .await;
    let e = client(&server.uri(), RouteStyle::Console)
        .issue(&login())
        .await
        .unwrap_err();
    assert_eq!(e.service_code(), Some("ERROR_NOT_FOUND"));
    assert!(!e.to_string().contains("RouteStyle"));
}

#[tokio::test]
async fn workspace_errors_pass_through() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"detail": {"code": "ERROR_WORKSPACE_STATE", "message": " Workspace state is DISABLED."}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let e = client(&server.uri(), RouteStyle::Console)
        .grant(&GrantRequest::refresh_token("rt", Scope::Workspace).workspace_id("w"))
        .await
        .unwrap_err();
    assert_eq!(e.service_code(), Some("ERROR_WORKSPACE_STATE"));
    assert!(!e.is_retryable());
}

#[tokio::test]
async fn retries_503_then_succeeds_and_plain_text_errors_keep_their_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream unavailable"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"domain_id": "d"})))
        .mount(&server)
        .await;
    let c = client(&server.uri(), RouteStyle::Console);
    assert_eq!(c.domain_auth_info("demo").await.unwrap().domain_id, "d");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .mount(&server)
        .await;
    let e = client(&server.uri(), RouteStyle::Console)
        .domain_auth_info("demo")
        .await
        .unwrap_err();
    assert_eq!(e.service_code(), Some("502"));
    assert!(e.to_string().contains("bad gateway"));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[test]
fn builder_checks_its_settings() {
    let e = IdentityClient::builder().build().unwrap_err();
    assert_eq!(e.field(), Some("endpoint"));
    for bad in [
        "not a url",
        "http://identity.example.com",
        "ftp://127.0.0.1",
        "https://h/?q=1",
    ] {
        let e = IdentityClient::builder().endpoint(bad).build().unwrap_err();
        assert_eq!(e.field(), Some("endpoint"), "{bad}");
    }
    IdentityClient::builder()
        .endpoint("http://identity.example.com")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    let e = IdentityClient::builder()
        .endpoint("https://h")
        .timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(e.field(), Some("timeout"));
    let e = IdentityClient::builder()
        .endpoint("https://h")
        .max_attempts(0)
        .build()
        .unwrap_err();
    assert_eq!(e.field(), Some("max_attempts"));
    let e = IdentityClient::builder()
        .endpoint("https://h")
        .transport(Transport::builder().build().unwrap())
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert_eq!(e.field(), Some("timeout"));
    let c = IdentityClient::builder()
        .endpoint("https://h")
        .timeout(Duration::from_secs(7))
        .max_attempts(2)
        .build()
        .unwrap();
    assert_eq!(
        c.transport().config().attempt_timeout,
        Duration::from_secs(7)
    );
    assert_eq!(c.transport().config().max_attempts, 2);
    assert_eq!(c.route_style(), RouteStyle::Console);
}
