//! Huawei temporary credentials in the emulator: instance metadata (session tokens,
//! rotation with overlap, require_session_token), pod identity, IAM federation, and the
//! temporary keys signing IdentityCenterStore calls until they expire.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderValue;
use reqwest::Method;
use serde_json::{json, Value};
use support::{Answer, Env, START};
use token_common::clock::ManualClock;
use token_common::credentials::HuaweiCredentials;
use token_emulator::{demo, Config, Emulator};

fn tokens_path() -> String {
    format!(
        "/v1/identity-stores/{}/tenant/{}/bearer-token",
        demo::HUAWEI_IDENTITY_STORE_ID,
        demo::HUAWEI_TENANT_ID
    )
}

async fn start_with(config: &str) -> Env {
    let clock = Arc::new(ManualClock::at_unix_seconds(START));
    let emulator = Emulator::builder()
        .config(Config::from_toml_str(config).unwrap())
        .clock(clock.clone())
        .start("127.0.0.1:0")
        .await
        .unwrap();
    Env {
        emulator,
        clock,
        http: reqwest::Client::new(),
    }
}

const CONFIG: &str = r#"
[[huawei.identity_stores]]
id = "d-1234567890"
tenants = ["e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e"]

[huawei.metadata]
project_id = "proj-meta"
lifetime_seconds = 3600

[[huawei.federation]]
idp_id = "idp-1"
id_token = "oidc-token-1"
project_id = "proj-fed"

[huawei.pod_identity]
authorization_token = "pod-auth-1"
project_id = "proj-pod"
"#;

fn secs_of(text: &str) -> u64 {
    let t = token_common::clock::parse_rfc3339(text).unwrap();
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

async fn security_key(env: &Env, token: Option<&str>) -> Answer {
    let mut req = env.request(Method::GET, "/openstack/latest/securitykey", None);
    if let Some(t) = token {
        req.headers
            .insert("x-metadata-token", HeaderValue::from_str(t).unwrap());
    }
    env.send(req).await
}

fn temporary(v: &Value, project: &str) -> HuaweiCredentials {
    let c = v
        .get("credential")
        .or_else(|| v.get("credentials"))
        .unwrap();
    let pick = |a: &str, b: &str| {
        c.get(a)
            .or_else(|| c.get(b))
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    };
    HuaweiCredentials::new(
        pick("access", "accessKeyId"),
        pick("secret", "secretAccessKey"),
    )
    .with_security_token(pick("securitytoken", "securityToken"))
    .with_project_id(project)
}

async fn list_with(env: &Env, creds: &HuaweiCredentials) -> Answer {
    let req = env.huawei_request(Method::GET, &tokens_path());
    env.huawei(creds, env.now(), req).await
}

#[tokio::test]
async fn metadata_keys_sign_until_they_expire_and_rotate_with_overlap() {
    let env = start_with(CONFIG).await;
    let put = env
        .send({
            let mut r = env.request(Method::PUT, "/meta-data/latest/api/token", None);
            r.headers.insert(
                "x-metadata-token-ttl-seconds",
                HeaderValue::from_static("21600"),
            );
            r
        })
        .await;
    assert_eq!(put.status, 200);
    let token = put.text.clone();
    let a = security_key(&env, Some(&token)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let v = a.json();
    let expires = v["credential"]["expires_at"].as_str().unwrap();
    assert!(expires.ends_with(".000000Z"), "{expires}");
    assert_eq!(secs_of(expires), START + 3600);
    let first = temporary(&v, "proj-meta");
    assert_eq!(list_with(&env, &first).await.status, 200);

    // Without its security token the key is refused.
    let bare = HuaweiCredentials::new(
        first.access_key(),
        first.secret_key().expose_secret().to_owned(),
    )
    .with_project_id("proj-meta");
    assert_eq!(list_with(&env, &bare).await.status, 401);

    // 49 minutes: the same key. 50 minutes: a new one, both valid until the first expires.
    env.clock
        .set(SystemTime::UNIX_EPOCH + Duration::from_secs(START + 49 * 60));
    assert_eq!(
        temporary(&security_key(&env, None).await.json(), "proj-meta").access_key(),
        first.access_key()
    );
    env.clock
        .set(SystemTime::UNIX_EPOCH + Duration::from_secs(START + 50 * 60));
    let v = security_key(&env, None).await.json();
    assert_eq!(
        secs_of(v["credential"]["expires_at"].as_str().unwrap()),
        START + 7200
    );
    let second = temporary(&v, "proj-meta");
    assert_ne!(second.access_key(), first.access_key());
    assert_eq!(list_with(&env, &first).await.status, 200);
    assert_eq!(list_with(&env, &second).await.status, 200);

    // Past the first key's expiry: refused with APIGW.0301; the second still works.
    env.clock
        .set(SystemTime::UNIX_EPOCH + Duration::from_secs(START + 3600));
    let a = list_with(&env, &first).await;
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(a.json()["error_code"], "APIGW.0301");
    assert_eq!(list_with(&env, &second).await.status, 200);
    // Another project's header is refused for these keys.
    let wrong = second.clone().with_project_id("other");
    assert_eq!(list_with(&env, &wrong).await.status, 403);
}

#[tokio::test]
async fn session_tokens_are_checked_and_required_when_configured() {
    let env = start_with(&CONFIG.replace(
        "lifetime_seconds = 3600",
        "lifetime_seconds = 3600\nrequire_session_token = true",
    ))
    .await;
    assert_eq!(security_key(&env, None).await.status, 401);
    assert_eq!(security_key(&env, Some("made-up")).await.status, 401);
    let put = |ttl: &'static str| {
        let mut r = env.request(Method::PUT, "/meta-data/latest/api/token", None);
        r.headers.insert(
            "x-metadata-token-ttl-seconds",
            HeaderValue::from_static(ttl),
        );
        env.send(r)
    };
    assert_eq!(put("0").await.status, 400);
    assert_eq!(put("21601").await.status, 400);
    let token = put("60").await.text;
    assert_eq!(security_key(&env, Some(&token)).await.status, 200);
    env.clock.advance(Duration::from_secs(60));
    let stale = security_key(&env, Some(&token)).await;
    assert_eq!(stale.status, 401);
    assert!(!stale
        .text
        .contains("Please configure Cloud Service Agency first"));
}

#[tokio::test]
async fn no_agency_answers_the_documented_401() {
    let env = start_with("").await;
    let a = security_key(&env, None).await;
    assert_eq!(a.status, 401);
    assert!(
        a.text
            .contains("Please configure Cloud Service Agency first"),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn pod_identity_answers_the_documented_shape_for_the_right_token() {
    let env = start_with(CONFIG).await;
    let post = |auth: &'static str| {
        let mut r = env.request(
            Method::POST,
            "/huawei/pod-identity/credentials",
            Some(json!({})),
        );
        r.headers
            .insert("authorization", HeaderValue::from_static(auth));
        env.send(r)
    };
    assert_eq!(post("wrong").await.status, 401);
    let a = post("pod-auth-1").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let v = a.json();
    let c = &v["credentials"];
    for field in [
        "accessKeyId",
        "secretAccessKey",
        "securityToken",
        "expiration",
    ] {
        assert!(c[field].is_string(), "{field}: {v}");
    }
    assert!(c["expiration"].as_str().unwrap().ends_with(":00Z"));
    assert_eq!(secs_of(c["expiration"].as_str().unwrap()), START + 3600);
    assert_eq!(
        list_with(&env, &temporary(&v, "proj-pod")).await.status,
        200
    );
}

#[tokio::test]
async fn federation_exchanges_the_id_token_then_the_iam_token() {
    let env = start_with(CONFIG).await;
    let id_token = |idp: &'static str, token: &str| {
        let mut r = env.request(
            Method::POST,
            "/v3.0/OS-AUTH/id-token/tokens",
            Some(json!({"auth":{"id_token":{"id": token}}})),
        );
        r.headers.insert("x-idp-id", HeaderValue::from_static(idp));
        env.send(r)
    };
    assert_eq!(id_token("nope", "oidc-token-1").await.status, 404);
    let a = id_token("idp-1", "wrong").await;
    assert_eq!(a.status, 401);
    assert!(a.json()["error"]["message"].is_string());
    let a = id_token("idp-1", "oidc-token-1").await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json()["token"]["methods"], json!(["mapped"]));
    let iam = a.headers["x-subject-token"].to_str().unwrap().to_owned();

    let body = |token: &str, duration: Value| json!({"auth":{"identity":{"methods":["token"],"token":{"id": token,"duration_seconds": duration}}}});
    let st = |b: Value| {
        env.send(env.request(Method::POST, "/v3.0/OS-CREDENTIAL/securitytokens", Some(b)))
    };
    assert_eq!(st(body("bad", json!(21600))).await.status, 401);
    assert_eq!(st(body(&iam, json!(899))).await.status, 400);
    assert_eq!(st(body(&iam, json!(86401))).await.status, 400);
    let a = st(body(&iam, json!(21600))).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let v = a.json();
    assert_eq!(
        secs_of(v["credential"]["expires_at"].as_str().unwrap()),
        START + 21600
    );
    assert_eq!(
        list_with(&env, &temporary(&v, "proj-fed")).await.status,
        200
    );
}

#[test]
fn unknown_keys_in_the_new_tables_are_refused_by_name() {
    for (text, key) in [
        ("[huawei.metadata]\nproject_id = \"p\"\nlifetime = 1\n", "lifetime"),
        ("[[huawei.federation]]\nidp_id = \"i\"\nid_token = \"t\"\nproject_id = \"p\"\nissuer = \"x\"\n", "issuer"),
        ("[huawei.pod_identity]\nauthorization_token = \"a\"\nproject_id = \"p\"\ntoken_file = \"f\"\n", "token_file"),
    ] {
        let e = Config::from_toml_str(text).unwrap_err().to_string();
        assert!(e.contains(key), "{e}");
    }
    let e = Config::from_toml_str("[huawei.metadata]\nproject_id = \"p\"\nlifetime_seconds = 10\n")
        .and_then(|c| c.validate().map(|_| c))
        .unwrap_err()
        .to_string();
    assert!(e.contains("lifetime_seconds"), "{e}");
}
