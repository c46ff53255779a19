//! The client on refreshing credentials: loaded at the first call (not at build), one
//! signer per credential, and `APIGW.0301 verify aksk signature fail` with temporary keys
//! → the keys invalidated once and the call sent once more with new keys.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use huawei_identity_client::{Environment, Expiring, HuaweiCredentials, IdentityStoreClient};
use support::*;
use token_common::clock::{Clock, SystemClock};
use token_common::credentials::LoadCredentials;
use token_common::transport::BoxFuture;

/// Temporary keys `TMPAK-N` (N counts loads), an hour long.
#[derive(Debug, Default, Clone)]
struct Rotating(Arc<AtomicUsize>);

impl LoadCredentials<HuaweiCredentials> for Rotating {
    fn load(&self) -> BoxFuture<'_, token_common::Result<Expiring<HuaweiCredentials>>> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        let c = HuaweiCredentials::new(format!("TMPAK-{n}"), format!("tmp-sk-{n}"))
            .with_security_token(format!("tmp-sts-{n}"));
        let at = SystemClock.now() + Duration::from_secs(3600);
        Box::pin(std::future::ready(Ok(Expiring::new(c, Some(at)))))
    }

    fn describe(&self) -> String {
        "rotating test keys".into()
    }
}

const SIGNATURE_FAIL: &str = r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail","request_id":"r1"}"#;
const CREATED: &str = r#"{"creation_time":1754278569275,"expiration_time":1785814569000,"token":"scim-bearer-token-VALUE-must-not-leak","token_id":"tok-1"}"#;

fn access_keys(fake: &FakeHttp) -> Vec<String> {
    fake.requests()
        .iter()
        .map(|r| {
            let auth = r.headers["authorization"].to_str().unwrap();
            auth.split("Access=")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn client_over(fake: Arc<FakeHttp>, source: Rotating) -> IdentityStoreClient {
    IdentityStoreClient::builder()
        .endpoint("https://ids.example.com")
        .credentials_loader(source)
        .project_id(PROJECT_ID)
        .environment(Environment::from_pairs::<&str, &str>([]))
        .transport(Transport::builder().http_client(fake).build().unwrap())
        .build()
        .unwrap()
}

use huawei_identity_client::Transport;

#[tokio::test]
async fn nothing_is_loaded_at_build_and_one_load_serves_many_calls() {
    let fake = FakeHttp::sequence(vec![json_response(200, r#"{"bearer_tokens":[]}"#)]);
    let source = Rotating::default();
    let client = client_over(fake.clone(), source.clone());
    assert_eq!(source.0.load(Ordering::SeqCst), 0);
    for _ in 0..5 {
        client.list_bearer_tokens(STORE, TENANT).await.unwrap();
    }
    assert_eq!(source.0.load(Ordering::SeqCst), 1);
    let reqs = fake.requests();
    assert_eq!(reqs[0].headers["x-security-token"], "tmp-sts-1");
}

#[tokio::test]
async fn a_signature_refusal_with_temporary_keys_reloads_once_and_resends_once() {
    let fake = FakeHttp::sequence(vec![
        json_response(401, SIGNATURE_FAIL),
        json_response(201, CREATED),
    ]);
    let source = Rotating::default();
    let client = client_over(fake.clone(), source.clone());
    // A create: the gateway refused it before the service saw it, so resending is safe.
    let token = client.create_bearer_token(STORE, TENANT).await.unwrap();
    assert_eq!(token.token_id, "tok-1");
    assert_eq!(access_keys(&fake), ["TMPAK-1", "TMPAK-2"]);
    assert_eq!(source.0.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_second_refusal_is_the_error_and_no_third_request_goes_out() {
    let fake = FakeHttp::sequence(vec![json_response(401, SIGNATURE_FAIL)]);
    let source = Rotating::default();
    let client = client_over(fake.clone(), source.clone());
    let e = client.create_bearer_token(STORE, TENANT).await.unwrap_err();
    assert_eq!(e.service_code(), Some("APIGW.0301"));
    assert_eq!(access_keys(&fake), ["TMPAK-1", "TMPAK-2"]);
}

#[tokio::test]
async fn permanent_keys_and_other_refusals_are_not_resent() {
    // Permanent keys: loading them again gives the same keys.
    let fake = FakeHttp::sequence(vec![json_response(401, SIGNATURE_FAIL)]);
    let client = IdentityStoreClient::builder()
        .endpoint("https://ids.example.com")
        .credentials(credentials(false))
        .environment(Environment::from_pairs::<&str, &str>([]))
        .transport(
            Transport::builder()
                .http_client(fake.clone())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    client.create_bearer_token(STORE, TENANT).await.unwrap_err();
    assert_eq!(fake.requests().len(), 1);

    // A 403 (permission), with temporary keys: not about the keys being stale.
    let fake = FakeHttp::sequence(vec![json_response(
        403,
        r#"{"error_code":"APIGW.0302","error_msg":"not authorized"}"#,
    )]);
    let source = Rotating::default();
    let client = client_over(fake.clone(), source.clone());
    client.create_bearer_token(STORE, TENANT).await.unwrap_err();
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(source.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_old_setter_name_credentials_source_still_loads_from_the_source() {
    let fake = FakeHttp::sequence(vec![json_response(200, r#"{"bearer_tokens":[]}"#)]);
    let source = Rotating::default();
    #[allow(deprecated)]
    let client = IdentityStoreClient::builder()
        .endpoint("https://ids.example.com")
        .credentials_source(source.clone())
        .project_id(PROJECT_ID)
        .environment(Environment::from_pairs::<&str, &str>([]))
        .transport(Transport::builder().http_client(fake).build().unwrap())
        .build()
        .unwrap();
    client.list_bearer_tokens(STORE, TENANT).await.unwrap();
    assert_eq!(source.0.load(Ordering::SeqCst), 1);
}
