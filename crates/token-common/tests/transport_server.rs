//! The reqwest transport against real local servers (loopback, free ports, real time but
//! short timeouts).

use std::time::Duration;

use reqwest::Method;
use token_common::signing::NoSigning;
use token_common::transport::{Backoff, Transport};
use token_common::{Error, HttpRequest};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fast() -> Transport {
    Transport::builder()
        .backoff(Backoff::new(
            Duration::from_millis(1),
            Duration::from_millis(5),
        ))
        .attempt_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn request(m: Method, base: &str) -> HttpRequest {
    HttpRequest::new(m, url::Url::parse(&format!("{base}/x")).unwrap(), "/x")
}

#[tokio::test]
async fn retries_503_503_then_succeeds_on_the_third_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/x"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let r = fast()
        .send(request(Method::POST, &server.uri()), &NoSigning, None)
        .await
        .unwrap();
    assert_eq!((r.status, r.body.as_slice()), (200, b"ok".as_slice()));
}

#[tokio::test]
async fn bad_request_is_tried_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_string("{}"))
        .expect(1)
        .mount(&server)
        .await;
    let r = fast()
        .send(request(Method::POST, &server.uri()), &NoSigning, None)
        .await
        .unwrap();
    assert_eq!(r.status, 400);
}

/// `Retry-After` is read from a real answer: under the cap the 429 is retried, over it the
/// 429 is returned at once. (That the wait lasts exactly as long as asked is proven under
/// paused time in `transport::tests::retry_after_seconds_is_honoured`.)
#[tokio::test]
async fn retry_after_on_the_wire_is_read_and_capped() {
    async fn server_429_then_200() -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        server
    }

    let server = server_429_then_200().await;
    let r = fast()
        .send(request(Method::POST, &server.uri()), &NoSigning, None)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    // With a cap below the asked-for second, an ignored header would still retry (after
    // the 1-5 ms backoff) and get the 200; a read one ends the retries.
    let server = server_429_then_200().await;
    let capped = Transport::builder()
        .backoff(Backoff::new(
            Duration::from_millis(1),
            Duration::from_millis(5),
        ))
        .max_retry_after(Duration::from_millis(500))
        .build()
        .unwrap();
    let r = capped
        .send(request(Method::POST, &server.uri()), &NoSigning, None)
        .await
        .unwrap();
    assert_eq!(r.status, 429);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_five_mebibyte_body_is_refused_with_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'a'; 5 * 1024 * 1024]))
        .mount(&server)
        .await;
    let e = fast()
        .send(request(Method::GET, &server.uri()), &NoSigning, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::ResponseTooLarge {
                status: 200,
                limit: 1_048_576
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("1048576-byte limit"), "{e}");
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused_while_reading() {
    // No Content-Length: the cap must be enforced as chunks arrive.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).await;
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            .await;
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..40 {
            let head = format!("{:x}\r\n", chunk.len());
            if s.write_all(head.as_bytes()).await.is_err()
                || s.write_all(&chunk).await.is_err()
                || s.write_all(b"\r\n").await.is_err()
            {
                return;
            }
        }
    });
    let transport = Transport::builder().max_body_bytes(1000).build().unwrap();
    let e = transport
        .send(
            request(Method::POST, &format!("http://{addr}")),
            &NoSigning,
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::ResponseTooLarge { limit: 1000, .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_hits_the_per_attempt_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..4 {
            match listener.accept().await {
                Ok((s, _)) => held.push(s),
                Err(_) => break,
            }
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(held);
    });
    let transport = Transport::builder()
        .attempt_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let e = transport
        .send(
            request(Method::POST, &format!("http://{addr}")),
            &NoSigning,
            None,
        )
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e:?}");
    assert!(e.to_string().contains("300ms"), "{e}");
    holder.abort();
}

#[tokio::test]
async fn garbage_instead_of_http_is_a_transport_error_not_a_panic() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"\x00\x01garbage\r\n\r\n").await;
        }
    });
    let e = fast()
        .send(
            request(Method::POST, &format!("http://{addr}")),
            &NoSigning,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported_as_connect_failure() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = fast()
        .send(
            request(Method::POST, &format!("http://127.0.0.1:{port}")),
            &NoSigning,
            None,
        )
        .await
        .unwrap_err();
    assert!(e.is_connect(), "{e:?}");
}

#[tokio::test]
async fn user_agent_names_the_crate_and_version() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    fast()
        .send(request(Method::GET, &server.uri()), &NoSigning, None)
        .await
        .unwrap();
    let seen = server.received_requests().await.unwrap();
    let ua = seen[0].headers.get("user-agent").unwrap().to_str().unwrap();
    assert_eq!(ua, concat!("cloud-tokens/", env!("CARGO_PKG_VERSION")));
}

/// The header map goes to the wire whole: every header, a repeated one with all its values
/// in order, and the body.
#[tokio::test]
async fn every_header_value_and_the_body_reach_the_server() {
    use reqwest::header::{HeaderName, HeaderValue};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let mut req = request(Method::POST, &server.uri());
    let many = HeaderName::from_static("x-many");
    req.headers.insert("x-one", HeaderValue::from_static("1"));
    req.headers
        .append(many.clone(), HeaderValue::from_static("a"));
    req.headers
        .append(many.clone(), HeaderValue::from_static("b"));
    req.body = Some(b"{\"k\":1}".to_vec());
    fast().send(req, &NoSigning, None).await.unwrap();
    let seen = server.received_requests().await.unwrap();
    let h = &seen[0].headers;
    assert_eq!(h.get("x-one").unwrap(), "1");
    let values: Vec<_> = h
        .get_all("x-many")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(values, ["a", "b"]);
    assert_eq!(seen[0].body, b"{\"k\":1}");
}
