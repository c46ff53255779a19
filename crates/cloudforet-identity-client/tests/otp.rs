//! OTP MFA completed by the client: one call, the right step's code, sent once.

mod support;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use cloudforet_identity_client::error::{is_invalid_verify_code, mfa_required};
use cloudforet_identity_client::{
    Credentials, IdentityClient, IssueRequest, MfaType, TotpSecret, Transport,
};
use serde_json::json;
use support::{body, token};
use token_common::clock::ManualClock;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// RFC 6238's SHA-1 test key, "12345678901234567890".
const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
/// A step boundary: 2025-06-01T00:00:00Z is a multiple of 30 s.
const STEP_START: u64 = 1_748_736_000;

fn tokens_body() -> serde_json::Value {
    json!({
        "access_token": token("ACCESS_TOKEN", 1_900_000_000, "access-marker"),
        "refresh_token": token("REFRESH_TOKEN", 1_900_009_000, "refresh-marker"),
    })
}

async fn server(mfa_type: &str, mfa_status: u16, mfa_answer: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/token/issue"))
        .and(body_partial_json(json!({"auth_type": "LOCAL"})))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"detail": {
            "code": "ERROR_MFA_REQUIRED",
            "message": format!(" MFA is required. (user_id = alice), (mfa_type = {mfa_type})")}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/identity/token/issue"))
        .and(body_partial_json(json!({"auth_type": "MFA"})))
        .respond_with(ResponseTemplate::new(mfa_status).set_body_json(mfa_answer))
        .mount(&server)
        .await;
    server
}

fn client_at(uri: &str, clock: Arc<ManualClock>) -> IdentityClient {
    let transport = Transport::builder().clock(clock).build().unwrap();
    IdentityClient::builder()
        .endpoint(uri)
        .transport(transport)
        .build()
        .unwrap()
}

fn request() -> IssueRequest {
    IssueRequest::new(Credentials::local("alice", "pw"), "domain-123")
        .otp_secret(TotpSecret::from_base32(SECRET).unwrap())
}

fn code_at(secs: u64) -> String {
    TotpSecret::from_base32(SECRET)
        .unwrap()
        .code_at(UNIX_EPOCH + Duration::from_secs(secs))
        .unwrap()
        .expose_secret()
        .to_owned()
}

#[tokio::test]
async fn otp_mfa_is_completed_in_the_same_call_with_the_current_code() {
    let server = server("OTP", 200, tokens_body()).await;
    let clock = Arc::new(ManualClock::at_unix_seconds(STEP_START + 10));
    let c = client_at(&server.uri(), clock);
    c.issue(&request()).await.expect("one call logs in");
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    assert_eq!(
        body(&received[1]),
        json!({"credentials": {"user_id": "alice", "password": "pw"}, "auth_type": "MFA",
               "verify_code": code_at(STEP_START + 10), "domain_id": "domain-123"})
    );
}

#[tokio::test]
async fn a_code_in_the_last_two_seconds_of_its_step_is_not_sent() {
    let server = server("OTP", 200, tokens_body()).await;
    let late = STEP_START + 29; // one second left in the step
    let c = client_at(&server.uri(), Arc::new(ManualClock::at_unix_seconds(late)));
    c.issue(&request()).await.unwrap();
    let received = server.received_requests().await.unwrap();
    let sent = body(&received[1])["verify_code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        code_at(late),
        code_at(STEP_START + 30),
        "the vector steps differ"
    );
    assert_eq!(
        sent,
        code_at(STEP_START + 30),
        "the next step's code is sent"
    );
}

#[tokio::test]
async fn a_refused_code_is_a_typed_error_and_is_not_sent_again() {
    let refusal = json!({"detail": {"code": "ERROR_INVALID_VERIFY_CODE",
                                    "message": " Invalid verify code. (verify_code = 123456)"}});
    let server = server("OTP", 400, refusal).await;
    let c = client_at(
        &server.uri(),
        Arc::new(ManualClock::at_unix_seconds(STEP_START + 3)),
    );
    let e = c.issue(&request()).await.unwrap_err();
    assert!(is_invalid_verify_code(&e), "{e:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn email_mfa_is_left_to_the_caller_even_with_an_otp_secret() {
    let server = server("EMAIL", 200, tokens_body()).await;
    let c = client_at(
        &server.uri(),
        Arc::new(ManualClock::at_unix_seconds(STEP_START + 3)),
    );
    let e = c.issue(&request()).await.unwrap_err();
    assert!(
        mfa_required(&e).is_some_and(|m| m.mfa_type == MfaType::Email),
        "{e:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[test]
fn the_request_never_shows_the_secret() {
    let shown = format!("{:?}", request());
    assert!(
        !shown.contains(SECRET) && !shown.contains("GEZD"),
        "{shown}"
    );
}
