//! Fault injection: status sequences with Retry-After, delays, dropped connections,
//! malformed bodies, each scoped and consumed in order; and a clean shutdown.

mod support;

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use support::start;
use token_emulator::{demo, Emulator, Fault, ServicePrefix};

const AUTH_INFO: &str = "/identity/domain/get-auth-info";

fn auth_info_body() -> serde_json::Value {
    json!({"name": demo::CLOUDFORET_DOMAIN_NAME})
}

#[tokio::test]
async fn status_sequence_then_normal_service() {
    let env = start().await;
    env.emulator
        .inject(Fault::status(503).times(2).on(ServicePrefix::Ncp));
    env.emulator.inject(
        Fault::status(429)
            .retry_after_secs(2)
            .on(ServicePrefix::Ncp),
    );
    assert_eq!(env.emulator.pending_faults(), 3);

    // Another service is not affected.
    assert_eq!(env.post(AUTH_INFO, auth_info_body()).await.status, 200);

    for expected in [503, 503] {
        let a = env.ncp_demo(Method::GET, "/kms/v1/keys", None).await;
        assert_eq!(a.status, expected);
        assert!(a.json()["error"]["errorCode"].is_string());
        assert!(a.headers.get("retry-after").is_none());
    }
    let a = env.ncp_demo(Method::GET, "/kms/v1/keys", None).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.headers["retry-after"], "2");
    assert_eq!(
        env.ncp_demo(Method::GET, "/kms/v1/keys", None).await.status,
        200
    );
    assert_eq!(env.emulator.pending_faults(), 0);
}

#[tokio::test]
async fn status_faults_use_each_services_error_body() {
    let env = start().await;
    env.emulator
        .inject(Fault::status(503).on(ServicePrefix::Huawei));
    env.emulator
        .inject(Fault::status(503).on(ServicePrefix::Cloudforet));
    let a = env
        .huawei_demo(Method::GET, "/v1/identity-stores/x/provision-tenant")
        .await;
    assert_eq!(a.status, 503);
    assert_eq!(
        a.json()["request_id"],
        a.headers["x-request-id"].to_str().unwrap()
    );
    let a = env.post(AUTH_INFO, auth_info_body()).await;
    assert_eq!(a.status, 503);
    assert!(a.json()["detail"]["code"].is_string());
}

#[tokio::test]
async fn path_prefix_and_clear() {
    let env = start().await;
    env.emulator.inject(
        Fault::status(500)
            .times(5)
            .on(ServicePrefix::Path("/identity/v2/".into())),
    );
    assert_eq!(env.post(AUTH_INFO, auth_info_body()).await.status, 200);
    assert_eq!(
        env.post("/identity/v2/domain/get-auth-info", auth_info_body())
            .await
            .status,
        500
    );
    env.emulator.clear_faults();
    assert_eq!(env.emulator.pending_faults(), 0);
    assert_eq!(
        env.post("/identity/v2/domain/get-auth-info", auth_info_body())
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn delay_trips_a_client_timeout() {
    let env = start().await;
    env.emulator.inject(Fault::delay(Duration::from_secs(30)));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let url = format!("{}{AUTH_INFO}", env.emulator.base_url());
    let err = client
        .post(&url)
        .body(auth_info_body().to_string())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // The fault is used up: the next request is served at once.
    assert_eq!(env.post(AUTH_INFO, auth_info_body()).await.status, 200);
}

#[tokio::test]
async fn dropped_connection_gets_no_answer() {
    let env = start().await;
    env.emulator
        .inject(Fault::drop_connection().on(ServicePrefix::Cloudforet));
    let url = format!("{}{AUTH_INFO}", env.emulator.base_url());
    let err = env
        .http
        .post(&url)
        .body(auth_info_body().to_string())
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_timeout() && err.status().is_none(), "{err}");
    assert_eq!(env.post(AUTH_INFO, auth_info_body()).await.status, 200);
}

#[tokio::test]
async fn malformed_body_is_not_json() {
    let env = start().await;
    env.emulator.inject(Fault::malformed_body());
    let a = env.post(AUTH_INFO, auth_info_body()).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "application/json");
    assert!(serde_json::from_str::<serde_json::Value>(&a.text).is_err());
}

#[tokio::test]
async fn builder_faults_apply_from_the_first_request_and_shutdown_is_clean() {
    let emulator = Emulator::builder()
        .fault(Fault::status(502))
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let base = emulator.base_url().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"));
    assert_eq!(emulator.ncp_base_url(), format!("{base}/kms/v1"));
    let client = reqwest::Client::new();
    let status = client
        .post(format!("{base}{AUTH_INFO}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 502);
    emulator.shutdown().await.unwrap();
    assert!(client
        .post(format!("{base}{AUTH_INFO}"))
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn debug_output_never_contains_secret() {
    let config = token_emulator::Config::demo();
    let builder = Emulator::builder().config(config.clone());
    let mut shown = format!("{config:?} {builder:?}");
    let env = start().await;
    env.post(
        "/identity/token/issue",
        json!({"credentials": {"user_id": demo::CLOUDFORET_MFA_USER_ID, "password": demo::CLOUDFORET_MFA_PASSWORD},
               "auth_type": "LOCAL", "domain_id": demo::CLOUDFORET_DOMAIN_ID}),
    )
    .await;
    shown.push_str(&format!("{:?}", env.emulator));
    for secret in [
        demo::NCP_SECRET_KEY,
        demo::HUAWEI_SK,
        demo::HUAWEI_STS_SK,
        demo::HUAWEI_STS_SECURITY_TOKEN,
        demo::CLOUDFORET_ADMIN_PASSWORD,
        demo::CLOUDFORET_MFA_PASSWORD,
        demo::CLOUDFORET_MFA_CODE,
    ] {
        assert!(!shown.contains(secret), "{secret} leaked");
    }
}

#[tokio::test]
async fn shutdown_cuts_an_injected_delay_short() {
    let env = start().await;
    env.emulator.inject(Fault::delay(Duration::from_secs(3600)));
    let url = format!("{}{AUTH_INFO}", env.emulator.base_url());
    let pending = tokio::spawn(env.http.post(url).body(auth_info_body().to_string()).send());
    // Wait (boundedly) until the request has taken the fault.
    for _ in 0..500 {
        if env.emulator.pending_faults() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(env.emulator.pending_faults(), 0);
    tokio::time::timeout(Duration::from_secs(20), env.emulator.shutdown())
        .await
        .expect("shutdown does not wait for the delay")
        .unwrap();
    let answer = pending.await.unwrap().unwrap();
    assert_eq!(answer.status(), 200);
}
