//! NCP temporary keys in the emulator, request by request: STS's `durationSec` range and
//! MFA fields, what `GET /api/v1/credentials` describes, the metadata routes' answers
//! (text role id, JSON keys, session-token TTL range, 404 for another role), and keys that
//! sign until they expire.

mod support;

use reqwest::header::HeaderValue;
use reqwest::Method;
use serde_json::{json, Value};
use support::{ncp_demo, secs, start, Env};
use token_common::credentials::NcpCredentials;

const STS: &str = "/api/v1/credentials";
const LIST: &str = "/latest/meta-data/iam/security-credentials/";

async fn create(env: &Env, body: Value) -> support::Answer {
    env.ncp_demo(Method::POST, STS, Some(body)).await
}

#[tokio::test]
async fn sts_duration_must_be_600_to_43200_seconds() {
    let env = start().await;
    for bad in [
        json!(599),
        json!(43_201),
        json!(-1),
        json!("ten"),
        json!(true),
    ] {
        let a = create(&env, json!({ "durationSec": bad })).await;
        assert_eq!(a.status, 400, "{bad}: {}", a.text);
        assert_eq!(a.json()["error"]["errorCode"], "400");
    }
    for (good, lifetime) in [
        (json!(600), 600),
        (json!("43200"), 43_200),
        (Value::Null, 3600),
    ] {
        let body = if good.is_null() {
            json!({})
        } else {
            json!({ "durationSec": good })
        };
        let a = create(&env, body).await;
        assert_eq!(a.status, 200, "{good}: {}", a.text);
        let v = a.json();
        let expire = token_common::clock::parse_rfc3339(v["expireTime"].as_str().unwrap());
        assert_eq!(expire, Some(env.now() + secs(lifetime)), "{good}");
        assert_eq!(v["useMfa"], false);
        assert!(v["keySecret"].as_str().is_some_and(|s| !s.is_empty()));
    }
}

#[tokio::test]
async fn sts_mfa_fields_go_together() {
    let env = start().await;
    let a = create(
        &env,
        json!({"serialNumber": "nrn:otp", "tokenCode": 123456}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["useMfa"], true);
    for half in [
        json!({"serialNumber": "nrn:otp"}),
        json!({"tokenCode": 1}),
        json!({"serialNumber": "nrn:otp", "tokenCode": "x"}),
    ] {
        let a = create(&env, half.clone()).await;
        assert_eq!(a.status, 401, "{half}: {}", a.text);
    }
}

#[tokio::test]
async fn sts_keys_sign_until_expiry_and_describe_themselves() {
    let env = start().await;
    let v = create(&env, json!({"durationSec": 600})).await.json();
    let key = NcpCredentials::new(
        v["accessKey"].as_str().unwrap(),
        v["keySecret"].as_str().unwrap(),
    );
    let get = |at| {
        let req = env.request(Method::GET, STS, None);
        env.ncp(&key, at, req)
    };
    let a = get(env.now()).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["accessKey"], v["accessKey"]);
    assert_eq!(a.json()["expireTime"], v["expireTime"]);
    // The account key: no secret, no expiry.
    let a = env.ncp_demo(Method::GET, STS, None).await;
    assert_eq!(a.json()["accessKey"], ncp_demo().access_key());
    assert!(a.json().get("keySecret").is_none());

    env.clock.advance(secs(600));
    let a = get(env.now()).await;
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(a.json()["error"]["errorCode"], "200");
    let req = env.request(Method::GET, "/kms/v1/keys?pageNo=1&pageSize=10", None);
    assert_eq!(env.ncp(&key, env.now(), req).await.status, 401);
}

#[tokio::test]
async fn metadata_answers_the_role_and_fresh_keys() {
    let env = start().await; // demo config: role demo-server-role, v1 allowed
    let list = env.send(env.request(Method::GET, LIST, None)).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.text, token_emulator::demo::NCP_SERVER_ROLE_ID);
    let path = format!("{LIST}{}", token_emulator::demo::NCP_SERVER_ROLE_ID);
    let first = env.send(env.request(Method::GET, &path, None)).await.json();
    let second = env.send(env.request(Method::GET, &path, None)).await.json();
    assert_eq!(first["Code"], "Success");
    assert_ne!(
        first["AccessKeyId"], second["AccessKeyId"],
        "a new key each time"
    );
    let expires = token_common::clock::parse_rfc3339(first["Expiration"].as_str().unwrap());
    assert_eq!(expires, Some(env.now() + secs(3600)));
    let other = env
        .send(env.request(Method::GET, &format!("{LIST}other-role"), None))
        .await;
    assert_eq!(other.status, 404);
}

#[tokio::test]
async fn metadata_session_tokens_take_a_ttl_of_1_to_21600_and_expire() {
    let env = start().await;
    let put = |ttl: &'static str| {
        let mut req = env.request(Method::PUT, "/latest/api/token", None);
        req.headers.insert(
            "x-ncp-metadata-token-ttl-seconds",
            HeaderValue::from_static(ttl),
        );
        env.send(req)
    };
    for bad in ["0", "21601", "soon"] {
        assert_eq!(put(bad).await.status, 400, "{bad}");
    }
    assert_eq!(
        env.send(env.request(Method::PUT, "/latest/api/token", None))
            .await
            .status,
        400
    );
    let token = put("60").await.text;
    let get = |token: String| {
        let mut req = env.request(Method::GET, LIST, None);
        req.headers.insert(
            "x-ncp-metadata-token",
            HeaderValue::from_str(&token).unwrap(),
        );
        env.send(req)
    };
    assert_eq!(get(token.clone()).await.status, 200);
    env.clock.advance(secs(60));
    assert_eq!(
        get(token).await.status,
        401,
        "an expired session token is refused"
    );
}

#[tokio::test]
async fn injected_faults_answer_in_each_service_shape() {
    use token_emulator::{Fault, ServicePrefix};
    let env = start().await;
    env.emulator
        .inject(Fault::status(503).on(ServicePrefix::Path(STS.into())));
    let a = create(&env, json!({})).await;
    assert_eq!(a.status, 503);
    assert_eq!(a.json()["error"]["errorCode"], "500", "the gateway's body");
    env.emulator
        .inject(Fault::status(404).on(ServicePrefix::Path("/latest/api/token".into())));
    let a = env
        .send(env.request(Method::PUT, "/latest/api/token", None))
        .await;
    assert_eq!(
        (a.status, a.text.as_str()),
        (404, "Not Found"),
        "metadata answers text"
    );
}
