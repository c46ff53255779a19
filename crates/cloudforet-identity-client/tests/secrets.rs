//! Passwords, verify codes, external credentials, refresh and access tokens never appear in
//! `Debug`, `Display` or error output.

mod support;

use cloudforet_identity_client::{
    Credentials, GrantRequest, IssueRequest, LoginOptions, RouteStyle, Scope, Session,
};
use serde_json::json;
use support::{client, token};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PASSWORD: &str = "pw-SECRET-1";
const CODE: &str = "CODE-SECRET-2";
const IDP: &str = "idp-SECRET-3";
const MARKERS: [&str; 6] = [
    PASSWORD,
    CODE,
    IDP,
    "access-SECRET",
    "refresh-SECRET",
    "granted-SECRET",
];

fn assert_clean(what: &str, text: &str) {
    for m in MARKERS {
        assert!(!text.contains(m), "{what} leaks {m}: {text}");
    }
    // The JWTs' payloads are base64: check their first bytes do not appear either.
    assert!(!text.contains("eyJ"), "{what} leaks a JWT: {text}");
}

fn check<T: std::fmt::Debug>(what: &str, value: &T) {
    assert_clean(what, &format!("{value:?}"));
    assert_clean(what, &format!("{value:#?}"));
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/token/issue"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token("ACCESS_TOKEN", 4_000_000_000, "access-SECRET"),
            "refresh_token": token("REFRESH_TOKEN", 4_000_010_000, "refresh-SECRET"),
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/identity/token/grant"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token("ACCESS_TOKEN", 4_000_000_000, "granted-SECRET"),
            "role_type": "USER",
        })))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn debug_output_never_contains_secrets() {
    let server = server().await;
    let c = client(&server.uri(), RouteStyle::Console);
    let local = Credentials::local("alice", PASSWORD);
    let external = Credentials::external(json!({"access_token": IDP}).as_object().unwrap().clone());
    check("Credentials::Local", &local);
    check("Credentials::External", &external);
    let req = IssueRequest::new(local.clone(), "domain-123").verify_code(CODE);
    check("IssueRequest", &req);
    let tokens = c
        .issue(&IssueRequest::new(local.clone(), "domain-123"))
        .await
        .unwrap();
    check("TokenInfo", &tokens);
    let grant = GrantRequest::refresh_token(tokens.refresh_token.clone(), Scope::Domain);
    check("GrantRequest", &grant);
    let granted = c.grant(&grant).await.unwrap();
    check("GrantTokenInfo", &granted);
    assert_clean("SecretString Display", &granted.access_token.to_string());
    check("IdentityClient", &c);

    let opts = LoginOptions::new(local, "domain-123")
        .verify_code(CODE)
        .relogin(|| Box::pin(async { Ok(Credentials::local("alice", PASSWORD)) }));
    check("LoginOptions", &opts);
    let session = Session::login(
        &c,
        LoginOptions::new(Credentials::local("alice", PASSWORD), "domain-123"),
    )
    .await
    .unwrap();
    check("Session", &session);
    let t = session.access_token().await.unwrap();
    check("SessionAccessToken", &t);
    assert_clean("bearer", &format!("{:?} {}", t.bearer(), t.bearer()));
    assert!(t.bearer().expose_secret().starts_with("Bearer eyJ"));
}

#[tokio::test]
async fn errors_never_contain_secrets() {
    // A server that quotes the whole request (password, code, token) back in its error:
    // only the client's redaction keeps them out of the errors below.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(|req: &wiremock::Request| {
            let echoed = String::from_utf8_lossy(&req.body).into_owned();
            ResponseTemplate::new(401).set_body_json(json!({"detail": {
                "code": "ERROR_AUTHENTICATE_FAILURE",
                "message": format!(" Authenticate failure. (message = request {echoed})")}}))
        })
        .mount(&server)
        .await;
    let c = client(&server.uri(), RouteStyle::Console);
    let req = IssueRequest::new(Credentials::local("alice", PASSWORD), "domain-123");
    let errors = vec![
        c.issue(&req).await.unwrap_err(),
        c.complete_mfa(&req, CODE).await.unwrap_err(),
        c.grant(&GrantRequest::refresh_token(
            token("REFRESH_TOKEN", 1, "refresh-SECRET"),
            Scope::Domain,
        ))
        .await
        .unwrap_err(),
        c.grant(&GrantRequest::refresh_token(
            "refresh-SECRET",
            Scope::Workspace,
        ))
        .await
        .unwrap_err(),
        Session::login(
            &c,
            LoginOptions::new(Credentials::local("alice", PASSWORD), "domain-123"),
        )
        .await
        .unwrap_err(),
    ];
    for e in &errors {
        check("Error", e);
        assert_clean("Error Display", &e.to_string());
    }
    // The server did echo: each error that reached it quotes the request, redacted.
    for e in [&errors[0], &errors[1], &errors[2], &errors[4]] {
        assert!(
            e.to_string().contains("\"password\":\"** redacted **\"")
                || e.to_string().contains("\"token\":\"** redacted **\""),
            "{e}"
        );
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn secrets_echoed_by_the_server_are_redacted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/token/issue"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"detail": {
            "code": "ERROR_INVALID_VERIFY_CODE",
            "message": format!(" Invalid verify code. (verify_code = {CODE}), (password = {PASSWORD})")}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/identity/token/grant"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"detail": {
            "code": "ERROR_INVALID_PARAMETER",
            "message": " Parameter is invalid. (key = token, value = refresh-SECRET)"}})))
        .mount(&server)
        .await;
    let c = client(&server.uri(), RouteStyle::Console);
    let req = IssueRequest::new(Credentials::local("alice", PASSWORD), "domain-123");
    let e = c.complete_mfa(&req, CODE).await.unwrap_err();
    assert_eq!(e.service_code(), Some("ERROR_INVALID_VERIFY_CODE"));
    assert!(
        e.to_string().contains("verify_code = ** redacted **"),
        "{e}"
    );
    assert_clean("echoed issue error", &format!("{e} {e:?}"));
    let e = c
        .grant(&GrantRequest::refresh_token(
            "refresh-SECRET",
            Scope::Domain,
        ))
        .await
        .unwrap_err();
    assert_clean("echoed grant error", &format!("{e} {e:?}"));
}
