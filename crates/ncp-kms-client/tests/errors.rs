//! Error bodies become service errors with status and code; what is retried and what not.

mod support;

use std::time::Duration;

use ncp_kms_client::{Error, TokenSetOptions};
use serde_json::json;
use support::*;
use token_common::clock::{Clock, SystemClock};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// FACTS.md §1's gateway error table: HTTP status and `errorCode`.
const GATEWAY_TABLE: &[(u16, &str, &str)] = &[
    (400, "100", "Bad Request"),
    (401, "200", "Authentication Failed"),
    (401, "210", "Permission Denied"),
    (403, "230", "Forbidden"),
    (404, "300", "Not Found"),
    (429, "400", "Quota Exceeded"),
    (429, "410", "Throttle Limited"),
    (429, "420", "Rate Limited"),
    (413, "430", "Request Entity Too Large"),
    (503, "500", "Endpoint Error"),
    (504, "510", "Endpoint Timeout"),
    (500, "900", "Unexpected Error"),
];

async fn error_for(template: ResponseTemplate) -> (Error, usize) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(template)
        .mount(&server)
        .await;
    let e = client(&server)
        .create_token_set("t", TokenSetOptions::new())
        .await
        .unwrap_err();
    (e, server.received_requests().await.unwrap().len())
}

#[tokio::test]
async fn every_gateway_error_maps_to_its_status_and_code_as_text_or_number() {
    for &(status, code, message) in GATEWAY_TABLE {
        let number: u32 = code.parse().unwrap();
        for error_code in [json!(code), json!(number)] {
            let body = json!({"error": {"errorCode": error_code, "message": message,
                                        "details": "more", "requestId": "req-9"}});
            let (e, attempts) = error_for(ResponseTemplate::new(status).set_body_json(body)).await;
            assert_eq!(e.status(), Some(status), "{code}");
            assert_eq!(e.service_code(), Some(code), "{status} {code}");
            let s = e.service_error().unwrap();
            assert_eq!(s.message, message);
            assert_eq!(s.details.as_deref(), Some("more"));
            assert_eq!(e.request_id(), Some("req-9"));
            // create_token_set is a POST that mints: retried only after 429 and 503, never
            // after 502 or 504, when the service may have acted (DESIGN.md).
            let retried = matches!(status, 429 | 503);
            assert_eq!(attempts, if retried { 3 } else { 1 }, "{status} {code}");
            let text = e.to_string();
            assert!(
                text.contains(&status.to_string()) && text.contains(code),
                "{text}"
            );
        }
    }
}

#[tokio::test]
async fn kms_error_bodies_map_code_and_msg() {
    for (status, code) in [
        (403, "FORBIDDEN"),
        (400, "INVALID_REQUEST"),
        (422, "UNPROCESSABLE_ENTITY"),
        (500, "INTERNAL_SERVER_ERROR"),
    ] {
        let body = json!({"code": code, "msg": "what went wrong"});
        let (e, attempts) = error_for(ResponseTemplate::new(status).set_body_json(body)).await;
        assert_eq!((e.status(), e.service_code()), (Some(status), Some(code)));
        assert_eq!(e.service_error().unwrap().message, "what went wrong");
        assert_eq!(attempts, 1);
    }
}

#[tokio::test]
async fn a_200_whose_code_is_not_success_is_an_error() {
    let body = json!({"code": "FORBIDDEN", "msg": "not allowed on this key"});
    let (e, _) = error_for(ResponseTemplate::new(200).set_body_json(body)).await;
    assert_eq!(
        (e.status(), e.service_code()),
        (Some(200), Some("FORBIDDEN"))
    );
    assert_eq!(
        e.service_error().unwrap().message,
        "not allowed on this key"
    );
}

#[tokio::test]
async fn a_non_json_error_body_keeps_the_status_as_code() {
    let (e, attempts) =
        error_for(ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>")).await;
    assert_eq!((e.status(), e.service_code()), (Some(502), Some("502")));
    assert_eq!(
        e.service_error().unwrap().message,
        "<html>Bad Gateway</html>"
    );
    assert_eq!(attempts, 1, "a minting POST is not sent again after a 502");
}

#[tokio::test]
async fn retries_503_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_json(json!({"error": {"errorCode": "500", "message": "Endpoint Error"}})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
            "accessToken": jwt(None, "a"), "refreshToken": jwt(None, "r")
        }))))
        .mount(&server)
        .await;
    let set = client(&server)
        .create_token_set("t", TokenSetOptions::new())
        .await
        .unwrap();
    assert_eq!(set.access_token.expose_secret(), jwt(None, "a"));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    // Each attempt is signed afresh and the body resent.
    for req in &received {
        assert_signed(req);
        assert_eq!(body_json(req), json!({}));
    }
}

#[tokio::test]
async fn a_400_is_tried_once() {
    let body = json!({"error": {"errorCode": "100", "message": "Bad Request"}});
    let (e, attempts) = error_for(ResponseTemplate::new(400).set_body_json(body)).await;
    assert_eq!(e.status(), Some(400));
    assert_eq!(attempts, 1);
}

#[tokio::test]
async fn a_429_with_retry_after_waits_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"error": {"errorCode": "420", "message": "Rate Limited"}})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
            "status": "INACTIVE"
        }))))
        .mount(&server)
        .await;
    let started = tokio::time::Instant::now();
    let g = client(&server).get_token_generator("t").await.unwrap();
    let waited = started.elapsed();
    assert_eq!(g.status.as_str(), "INACTIVE");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    // The backoff alone is at most 5 ms: a wait this long is the Retry-After.
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
}

#[tokio::test]
async fn a_signature_refused_for_its_time_is_resigned_with_the_server_clock() {
    let server = MockServer::start().await;
    let server_now = SystemClock.now() + Duration::from_secs(600);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("date", httpdate::fmt_http_date(server_now))
                .set_body_json(
                    json!({"error": {"errorCode": 200, "message": "Authentication Failed",
                                                "details": "timestamp expired"}}),
                ),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!(null))))
        .mount(&server)
        .await;
    let c = client(&server);
    c.enable_token_generator("t").await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    let ts = |r: &wiremock::Request| -> u64 {
        r.headers["x-ncp-apigw-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(ts(&received[1]) >= ts(&received[0]) + 590_000);
    assert_signed(&received[1]);
    assert!(c.clock_skew_ms() > 590_000);
}

#[tokio::test]
async fn a_token_call_refused_with_a_far_date_is_not_put_down_to_skew() {
    // Token calls carry no timestamp: a 401 there is the token, whatever the server's
    // clock says, so nothing is re-sent and no skew is kept for the signed calls.
    let server = MockServer::start().await;
    let server_now = SystemClock.now() + Duration::from_secs(600);
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("date", httpdate::fmt_http_date(server_now))
                .set_body_json(
                    json!({"error": {"errorCode": 200, "message": "Authentication Failed"}}),
                ),
        )
        .mount(&server)
        .await;
    let c = client(&server);
    let refresh = ncp_kms_client::SecretString::from("refresh-token-value");
    let e = c
        .refresh_access_token("t", &refresh, None)
        .await
        .unwrap_err();
    assert!(e.is_authentication(), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(c.clock_skew_ms(), 0);
}

#[tokio::test]
async fn an_authentication_failure_without_skew_is_not_retried() {
    let body = json!({"error": {"errorCode": "200", "message": "Authentication Failed"}});
    let (e, attempts) = error_for(ResponseTemplate::new(401).set_body_json(body)).await;
    assert!(e.is_authentication());
    assert_eq!(attempts, 1);
}
