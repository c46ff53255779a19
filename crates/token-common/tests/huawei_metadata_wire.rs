//! Huawei instance metadata on the wire (FACTS.md §2): the session-token PUT and its
//! 404/405/503 fallback, the securitykey GET with `X-Metadata-Token`, the stale-token 401
//! retry, the "no agency" 401, both answer shapes, and "not on ECS".

use std::sync::Arc;
use std::time::Duration;

use token_common::clock::{unix_seconds, ManualClock};
use token_common::credentials::{HuaweiInstanceMetadata, LoadCredentials, MetadataClient};
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = r#"{"credential":{"access":"TMPAK1","secret":"tmp-secret-1","securitytoken":"tmp-sts-1","expires_at":"2020-01-08T03:50:07.574000Z"}}"#;
const KEY_CAMEL: &str = r#"{"credentials":{"accessKeyId":"TMPAK2","secretAccessKey":"tmp-secret-2","securityToken":"tmp-sts-2","expiration":"2020-01-08T03:50:07Z"}}"#;

fn provider(server: &MockServer) -> HuaweiInstanceMetadata {
    HuaweiInstanceMetadata::with_client(MetadataClient::new(&server.uri()).unwrap())
}

fn no_token(req: &Request) -> bool {
    !req.headers.contains_key("x-metadata-token")
}

#[tokio::test]
async fn puts_for_a_session_token_then_gets_the_key_with_it() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/meta-data/latest/api/token"))
        .and(header("x-metadata-token-ttl-seconds", "21600"))
        .respond_with(ResponseTemplate::new(200).set_body_string("session-tok-1\n"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/openstack/latest/securitykey"))
        .and(header("x-metadata-token", "session-tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_string(KEY))
        .expect(2)
        .mount(&server)
        .await;
    let p = provider(&server);
    let got = p.load().await.unwrap();
    assert_eq!(got.value.access_key(), "TMPAK1");
    assert_eq!(got.value.secret_key().expose_secret(), "tmp-secret-1");
    assert_eq!(
        got.value.security_token().unwrap().expose_secret(),
        "tmp-sts-1"
    );
    assert_eq!(unix_seconds(got.expires_at.unwrap()), 1_578_455_407);
    // The session token is kept: the second load sends no PUT.
    p.load().await.unwrap();
    assert!(p
        .describe()
        .starts_with("instance metadata (http://127.0.0.1:"));
}

#[tokio::test]
async fn no_token_support_404_405_503_carries_on_without_and_asks_again_after_24_h() {
    for status in [404u16, 405, 503] {
        let server = MockServer::start().await;
        Mock::given(method("PUT"))
            .and(path("/meta-data/latest/api/token"))
            .respond_with(ResponseTemplate::new(status))
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/openstack/latest/securitykey"))
            .and(no_token)
            .respond_with(ResponseTemplate::new(200).set_body_string(KEY_CAMEL))
            .expect(3)
            .mount(&server)
            .await;
        let clock = Arc::new(ManualClock::at_unix_seconds(1_700_000_000));
        let p = provider(&server).with_clock(clock.clone());
        let got = p.load().await.unwrap();
        assert_eq!(got.value.access_key(), "TMPAK2", "{status}");
        assert_eq!(unix_seconds(got.expires_at.unwrap()), 1_578_455_407);
        clock.advance(Duration::from_secs(23 * 3600));
        p.load().await.unwrap(); // no PUT yet
        clock.advance(Duration::from_secs(3600));
        p.load().await.unwrap(); // 24 h later: asks again
        server.verify().await;
    }
}

#[tokio::test]
async fn a_refused_session_token_request_is_an_error_naming_the_status() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(403).set_body_string("forbidden"))
        .mount(&server)
        .await;
    let e = provider(&server).load().await.unwrap_err();
    assert!(!e.is_credentials_not_found());
    assert!(e.to_string().contains("HTTP 403"), "{e}");
}

#[tokio::test]
async fn a_stale_session_token_401_gets_a_new_token_and_one_retry() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_string("tok-old"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_string("tok-new"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-metadata-token", "tok-old"))
        .respond_with(ResponseTemplate::new(401).set_body_string(r#"{"error":"token expired"}"#))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("x-metadata-token", "tok-new"))
        .respond_with(ResponseTemplate::new(200).set_body_string(KEY))
        .expect(1)
        .mount(&server)
        .await;
    let got = provider(&server).load().await.unwrap();
    assert_eq!(got.value.access_key(), "TMPAK1");
}

#[tokio::test]
async fn a_second_401_after_the_retry_is_an_error_not_a_loop() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_string("tok"))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header_exists("x-metadata-token"))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;
    let e = provider(&server).load().await.unwrap_err();
    assert!(e.to_string().contains("HTTP 401"), "{e}");
}

#[tokio::test]
async fn no_agency_401_is_explained_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_string(
            r#"{"error":{"message":"Please configure Cloud Service Agency first"}}"#,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let e = provider(&server).load().await.unwrap_err();
    assert!(!e.is_credentials_not_found());
    let text = e.to_string();
    assert!(text.contains("no agency attached"), "{text}");
    assert!(text.contains("instance metadata"), "{text}");
}

#[tokio::test]
async fn a_server_error_is_an_error_and_garbage_is_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"credential\":"))
        .mount(&server)
        .await;
    let p = provider(&server);
    let e = p.load().await.unwrap_err();
    assert!(e.to_string().contains("HTTP 500"), "{e}");
    let e = p.load().await.unwrap_err();
    assert!(e.to_string().contains("could not be read"), "{e}");
}

#[tokio::test]
async fn nothing_listening_is_not_found_so_a_chain_moves_on() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let p = HuaweiInstanceMetadata::with_client(
        MetadataClient::new(&format!("http://{addr}")).unwrap(),
    );
    let e = p.load().await.unwrap_err();
    assert!(e.is_credentials_not_found(), "{e:?}");
    assert!(e.to_string().contains("not an ECS"), "{e}");
    assert!(
        e.to_string().contains("HUAWEICLOUD_SDK_METADATA_ENDPOINT"),
        "{e}"
    );
}

#[tokio::test]
async fn debug_and_errors_never_show_the_keys() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200).set_body_string("session-secret-tok"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(KEY))
        .mount(&server)
        .await;
    let p = provider(&server);
    let got = p.load().await.unwrap();
    let shown = format!("{p:?} {got:?}");
    for secret in ["tmp-secret-1", "tmp-sts-1", "session-secret-tok"] {
        assert!(!shown.contains(secret), "{shown}");
    }
}
