//! Temporary keys from a `LoadCredentials` source: one load serves many calls, and a key
//! the gateway refuses (401 `errorCode` 200) is replaced once and the call sent once more.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ncp_kms_client::{KmsClient, LoadCredentials, NcpCredentials, TokenSetOptions};
use serde_json::json;
use support::*;
use token_common::clock::{Clock, SystemClock};
use token_common::transport::BoxFuture;
use token_common::Expiring;
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Hands out `TMP0`, `TMP1`, … each valid an hour, counting loads.
#[derive(Debug, Default)]
struct Numbered(Arc<AtomicUsize>);

impl LoadCredentials<NcpCredentials> for Numbered {
    fn load(&self) -> BoxFuture<'_, ncp_kms_client::Result<Expiring<NcpCredentials>>> {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            Ok(Expiring::new(
                NcpCredentials::new(format!("TMP{n}"), format!("secret-{n}")),
                Some(SystemClock.now() + Duration::from_secs(3600)),
            ))
        })
    }
    fn describe(&self) -> String {
        "numbered test keys".into()
    }
}

async fn server_refusing(access_key: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-ncp-iam-access-key", access_key))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"errorCode": "200", "message": "Authentication Failed"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(success(json!({
            "accessToken": jwt(None, "a"), "refreshToken": jwt(None, "r"),
        }))))
        .mount(&server)
        .await;
    server
}

fn keys_sent(requests: &[wiremock::Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            r.headers["x-ncp-iam-access-key"]
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn refused_temporary_keys_are_replaced_once_and_the_call_sent_again() {
    let server = server_refusing("TMP0").await;
    let loads = Arc::new(AtomicUsize::new(0));
    let client = KmsClient::builder()
        .credentials_loader(Numbered(loads.clone()))
        .endpoint(&format!("{}/kms/v1", server.uri()))
        .transport(fast_transport())
        .build()
        .unwrap();
    // A POST that creates something: still safe to repeat, the gateway refused it.
    client
        .create_token_set("tag", TokenSetOptions::new())
        .await
        .expect("sent again with new keys");
    client
        .create_token_set("tag", TokenSetOptions::new())
        .await
        .expect("the new keys stay in use");
    let sent = keys_sent(&server.received_requests().await.unwrap());
    assert_eq!(sent, ["TMP0", "TMP1", "TMP1"]);
    assert_eq!(loads.load(Ordering::SeqCst), 2, "one load per key");
}

#[tokio::test]
async fn a_second_refusal_is_the_callers_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"errorCode": "200", "message": "Authentication Failed"}
        })))
        .mount(&server)
        .await;
    let client = KmsClient::builder()
        .credentials_loader(Numbered::default())
        .endpoint(&format!("{}/kms/v1", server.uri()))
        .transport(fast_transport())
        .build()
        .unwrap();
    let e = client
        .create_token_set("tag", TokenSetOptions::new())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(401));
    let sent = keys_sent(&server.received_requests().await.unwrap());
    assert_eq!(sent, ["TMP0", "TMP1"], "replaced once, not in a loop");
}

#[tokio::test]
async fn refused_fixed_keys_are_not_sent_again() {
    let server = server_refusing(AK).await;
    let e = client(&server)
        .create_token_set("tag", TokenSetOptions::new())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
