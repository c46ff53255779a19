//! `Token.issue` on the wire: exact bodies, both route styles, validation and MFA.

mod support;

use cloudforet_identity_client::error::{mfa_required, MfaRequired};
use cloudforet_identity_client::{AuthType, Credentials, IssueRequest, MfaType, RouteStyle};
use serde_json::json;
use support::{body, client, token};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn tokens_body() -> serde_json::Value {
    json!({
        "access_token": token("ACCESS_TOKEN", 1_900_000_000, "access-marker"),
        "refresh_token": token("REFRESH_TOKEN", 1_900_009_000, "refresh-marker"),
    })
}

async fn server_answering(route: &str, status: u16, answer: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(status).set_body_json(answer))
        .mount(&server)
        .await;
    server
}

fn mfa_required_body(mfa_type: &str) -> serde_json::Value {
    json!({"detail": {"code": "ERROR_MFA_REQUIRED",
        "message": format!(" MFA is required. (user_id = alice@example.com), (mfa_type = {mfa_type})")}})
}

#[tokio::test]
async fn local_issue_sends_exact_body_on_console_route() {
    let server = server_answering("/identity/token/issue", 200, tokens_body()).await;
    let c = client(&server.uri(), RouteStyle::Console);
    let req = IssueRequest::new(Credentials::local("alice", "pw-secret"), "domain-123");
    let tokens = c.issue(&req).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let r = &received[0];
    assert_eq!(r.method.as_str(), "POST");
    assert_eq!(r.url.path(), "/identity/token/issue");
    assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
    assert_eq!(
        body(r),
        json!({"credentials": {"user_id": "alice", "password": "pw-secret"},
               "auth_type": "LOCAL", "domain_id": "domain-123"})
    );
    assert!(tokens.access_token.expose_secret().contains('.'));
    assert_eq!(
        tokens.refresh_token_expires_at(),
        Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_900_009_000))
    );
    assert!(tokens.access_token_expires_at().is_some());
}

#[tokio::test]
async fn issue_with_timeout_sends_it_as_a_number_on_v2_route() {
    let server = server_answering("/identity/v2/token/issue", 200, tokens_body()).await;
    let c = client(&server.uri(), RouteStyle::V2Gateway);
    let req = IssueRequest::new(Credentials::local("alice", "pw"), "domain-123").timeout(3600);
    c.issue(&req).await.unwrap();
    let r = &server.received_requests().await.unwrap()[0];
    assert_eq!(r.url.path(), "/identity/v2/token/issue");
    assert_eq!(
        body(r),
        json!({"credentials": {"user_id": "alice", "password": "pw"},
               "auth_type": "LOCAL", "timeout": 3600, "domain_id": "domain-123"})
    );
}

#[tokio::test]
async fn external_issue_passes_plugin_fields_unchanged() {
    let server = server_answering("/identity/token/issue", 200, tokens_body()).await;
    let c = client(&server.uri(), RouteStyle::Console);
    let fields = json!({"access_token": "idp-token", "nested": {"a": 1}});
    let req = IssueRequest::new(
        Credentials::external(fields.as_object().unwrap().clone()),
        "domain-123",
    );
    assert_eq!(req.auth_type(), AuthType::External);
    c.issue(&req).await.unwrap();
    let r = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        body(r),
        json!({"credentials": fields, "auth_type": "EXTERNAL", "domain_id": "domain-123"})
    );
}

#[tokio::test]
async fn endpoint_path_prefix_is_kept() {
    let server = server_answering("/proxy/identity/token/issue", 200, tokens_body()).await;
    let c = client(&format!("{}/proxy/", server.uri()), RouteStyle::Console);
    let req = IssueRequest::new(Credentials::local("alice", "pw"), "domain-123");
    c.issue(&req).await.unwrap();
}

#[tokio::test]
async fn invalid_issue_input_is_refused_before_sending() {
    let server = MockServer::start().await;
    let c = client(&server.uri(), RouteStyle::Console);
    let ok = || Credentials::local("alice", "pw");
    let cases = [
        (IssueRequest::new(ok(), ""), "domain_id"),
        (IssueRequest::new(ok(), "d").timeout(0), "timeout"),
        (IssueRequest::new(ok(), "d").timeout(604_801), "timeout"),
        (
            IssueRequest::new(Credentials::local("", "pw"), "d"),
            "user_id",
        ),
        (
            IssueRequest::new(Credentials::local("a", ""), "d"),
            "password",
        ),
        (
            IssueRequest::new(Credentials::external(Default::default()), "d"),
            "credentials",
        ),
        (IssueRequest::new(ok(), "d").verify_code(""), "verify_code"),
    ];
    for (req, field) in cases {
        let e = c.issue(&req).await.unwrap_err();
        assert_eq!(e.field(), Some(field), "{e}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    // The bounds themselves are valid: sent, and sent as given.
    for t in [1, 604_800] {
        let e = c
            .issue(&IssueRequest::new(ok(), "d").timeout(t))
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(404), "timeout {t} is sent: {e}");
    }
    let sent: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| body(r)["timeout"].clone())
        .collect();
    assert_eq!(sent, [json!(1), json!(604_800)]);
}

#[tokio::test]
async fn mfa_required_is_recognised_then_completed_with_identical_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/token/issue"))
        .and(wiremock::matchers::body_partial_json(
            json!({"auth_type": "LOCAL"}),
        ))
        .respond_with(ResponseTemplate::new(500).set_body_json(mfa_required_body("EMAIL")))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/identity/token/issue"))
        .and(wiremock::matchers::body_partial_json(
            json!({"auth_type": "MFA"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(tokens_body()))
        .mount(&server)
        .await;
    let c = client(&server.uri(), RouteStyle::Console);
    let req = IssueRequest::new(Credentials::local("alice", "pw"), "domain-123").timeout(600);

    let e = c.issue(&req).await.unwrap_err();
    match mfa_required(&e) {
        Some(MfaRequired {
            mfa_type, user_id, ..
        }) => {
            assert_eq!(*mfa_type, MfaType::Email);
            assert_eq!(user_id, "alice@example.com");
        }
        None => panic!("expected MfaRequired, got {e:?}"),
    }
    c.complete_mfa(&req, "123456").await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2, "a 500 MFA answer is not retried");
    assert_eq!(
        body(&received[1]),
        json!({"credentials": {"user_id": "alice", "password": "pw"}, "auth_type": "MFA",
               "timeout": 600, "verify_code": "123456", "domain_id": "domain-123"})
    );
}

#[tokio::test]
async fn otp_mfa_type_is_recognised() {
    let server = server_answering("/identity/token/issue", 500, mfa_required_body("OTP")).await;
    let c = client(&server.uri(), RouteStyle::Console);
    let req = IssueRequest::new(Credentials::local("alice", "pw"), "domain-123");
    let e = c.issue(&req).await.unwrap_err();
    assert!(
        mfa_required(&e).is_some_and(|m| m.mfa_type == MfaType::Otp),
        "{e:?}"
    );
    assert!(e.to_string().contains("OTP"));
}

#[tokio::test]
async fn resend_mfa_code_takes_the_401_as_code_sent() {
    let server = server_answering(
        "/identity/token/issue",
        401,
        json!({"detail": {"code": "ERROR_AUTHENTICATE_FAILURE", "message": " A user is not authenticated."}}),
    )
    .await;
    let c = client(&server.uri(), RouteStyle::Console);
    let req = IssueRequest::new(Credentials::local("alice", "pw"), "domain-123");
    c.resend_mfa_code(&req).await.unwrap();
    let r = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        body(r),
        json!({"credentials": {"user_id": "alice", "password": "pw"}, "auth_type": "MFA",
               "domain_id": "domain-123"})
    );
}

#[tokio::test]
async fn resend_mfa_code_reports_other_answers() {
    let server = server_answering(
        "/identity/token/issue",
        400,
        json!({"detail": {"code": "ERROR_MFA_NOT_ACTIVATED", "message": " MFA is not activated."}}),
    )
    .await;
    let c = client(&server.uri(), RouteStyle::Console);
    let req = IssueRequest::new(Credentials::local("alice", "pw"), "domain-123");
    let e = c.resend_mfa_code(&req).await.unwrap_err();
    assert_eq!(e.service_code(), Some("ERROR_MFA_NOT_ACTIVATED"));
}
