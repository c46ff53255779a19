//! The metadata HTTP helper: which addresses may use plain HTTP, one attempt, the 3 s
//! timeout, and "unreachable" as a recognisable error.

use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::Method;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn get(m: &MetadataClient, p: &'static str) -> HttpRequest {
    HttpRequest::new(Method::GET, m.url(p).unwrap(), p)
}

#[test]
fn plain_http_goes_only_to_link_local_loopback_or_the_override_address() {
    for ok in [
        "http://169.254.169.254",
        "http://169.254.0.1:80/base",
        "http://[fe80::a9fe:a9fe]",
        "http://[febf::1]",
        "http://127.0.0.1:1234",
        "http://[::1]:9",
        "http://localhost:8080",
        "https://metadata.example.com",
    ] {
        assert!(MetadataClient::new(ok).is_ok(), "{ok}");
    }
    for bad in [
        "http://10.0.0.1",
        "http://169.255.0.1",
        "http://[fec0::1]",
        "http://metadata.example.com",
        "ftp://169.254.169.254",
    ] {
        let e = MetadataClient::new(bad).unwrap_err();
        assert_eq!(e.field(), Some("metadata endpoint"), "{bad}");
        assert!(
            e.to_string().contains(bad.trim_end_matches('/')),
            "the error names the URL: {e}"
        );
    }
    // The override's exact address may be plain HTTP, and nothing else through it.
    let m = MetadataClient::overridden("X_ENDPOINT", "http://10.0.0.1:8080/prefix").unwrap();
    assert_eq!(
        m.url("/a/b").unwrap().as_str(),
        "http://10.0.0.1:8080/prefix/a/b"
    );
    let other = Url::parse("http://10.0.0.1:8081/a").unwrap();
    let e = check_metadata_url("X_ENDPOINT", &other, Some(m.base())).unwrap_err();
    assert_eq!(e.field(), Some("X_ENDPOINT"));
    assert!(e.to_string().contains("http://10.0.0.1:8081/a"), "{e}");
    let e = MetadataClient::overridden("X_ENDPOINT", "http://u:p@10.0.0.1").unwrap_err();
    assert!(!e.to_string().contains("u:p"), "{e}");
}

#[test]
fn the_first_override_variable_set_wins_else_the_default() {
    let env = Environment::from_pairs([("B", "http://10.9.9.9:1"), ("C", "http://10.8.8.8:1")]);
    let m = MetadataClient::from_env(&env, &["A", "B", "C"], "http://169.254.169.254").unwrap();
    assert_eq!(m.variable(), Some("B"));
    assert_eq!(m.describe(), "http://10.9.9.9:1 (B)");
    let none = Environment::from_pairs::<&str, &str>([]);
    let m = MetadataClient::from_env(&none, &["A"], "http://169.254.169.254").unwrap();
    assert_eq!(m.variable(), None);
    assert_eq!(m.describe(), "http://169.254.169.254");
    let bad = Environment::from_pairs([("A", "not a url")]);
    let e = MetadataClient::from_env(&bad, &["A"], "http://169.254.169.254").unwrap_err();
    assert_eq!(e.field(), Some("A"));
}

#[tokio::test]
async fn one_attempt_even_for_a_503_and_the_answer_is_returned() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/latest"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let m = MetadataClient::new(&server.uri()).unwrap();
    let r = m.send(get(&m, "/latest")).await.unwrap();
    assert_eq!(r.status, 503);
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let m = MetadataClient::new(&format!("http://{addr}")).unwrap();
    let e = m.send(get(&m, "/x")).await.unwrap_err();
    assert!(is_unreachable(&e), "{e:?}");
}

/// An HTTP client that never answers.
#[derive(Debug, Default)]
struct Silent(AtomicUsize);

impl HttpClient for Silent {
    fn execute(
        &self,
        _request: HttpRequest,
        _max_body_bytes: usize,
    ) -> crate::transport::BoxFuture<'_, Result<HttpResponse>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

#[tokio::test(start_paused = true)]
async fn no_answer_within_3_s_is_unreachable_after_one_attempt() {
    let silent = Arc::new(Silent::default());
    let m = MetadataClient::new("http://169.254.169.254")
        .unwrap()
        .with_http_client(silent.clone());
    let started = tokio::time::Instant::now();
    let e = m
        .send(get(&m, "/openstack/latest/securitykey"))
        .await
        .unwrap_err();
    assert!(is_unreachable(&e), "{e:?}");
    assert_eq!(started.elapsed(), METADATA_TIMEOUT);
    assert_eq!(silent.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_request_to_another_host_is_refused_before_sending() {
    let silent = Arc::new(Silent::default());
    let m = MetadataClient::new("http://169.254.169.254")
        .unwrap()
        .with_http_client(silent.clone());
    let r = HttpRequest::new(Method::GET, Url::parse("http://10.0.0.1/x").unwrap(), "/x");
    let e = m.send(r).await.unwrap_err();
    assert!(e.is_invalid_input(), "{e:?}");
    assert_eq!(silent.0.load(Ordering::SeqCst), 0);
}
