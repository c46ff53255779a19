//! Huawei IdentityCenterStore: SDK-HMAC-SHA256 verified from the received request, the
//! 15-minute window, security tokens, project ids, and the bearer-token and tenant calls.

mod support;

use reqwest::header::HeaderValue;
use reqwest::Method;
use support::{huawei_demo, huawei_sts, secs, start, Answer, START};
use token_common::credentials::HuaweiCredentials;
use token_emulator::demo;

fn tokens_path() -> String {
    format!(
        "/v1/identity-stores/{}/tenant/{}/bearer-token",
        demo::HUAWEI_IDENTITY_STORE_ID,
        demo::HUAWEI_TENANT_ID
    )
}

fn assert_apigw_401(a: &Answer, says: &str) {
    assert_eq!(a.status, 401, "{}", a.text);
    let v = a.json();
    assert_eq!(v["error_code"], "APIGW.0301");
    let msg = v["error_msg"].as_str().unwrap();
    assert!(msg.contains(says), "{msg}");
    assert_request_id(a);
}

fn assert_request_id(a: &Answer) {
    let header = a.headers["x-request-id"].to_str().unwrap();
    assert!(!header.is_empty());
    if a.status >= 400 {
        assert_eq!(a.json()["request_id"], header);
    }
}

#[tokio::test]
async fn bearer_token_create_list_delete() {
    let env = start().await;
    let a = env.huawei_demo(Method::POST, &tokens_path()).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_request_id(&a);
    let created = a.json();
    let creation = created["creation_time"].as_u64().unwrap();
    assert_eq!(creation, START * 1000);
    assert_eq!(
        created["expiration_time"].as_u64().unwrap(),
        (START + 365 * 86400) * 1000
    );
    assert!(created["token"].as_str().unwrap().split('.').count() == 3);
    let token_id = created["token_id"].as_str().unwrap().to_owned();

    let a = env.huawei_demo(Method::GET, &tokens_path()).await;
    assert_eq!(a.status, 200);
    let listed = a.json();
    assert_eq!(listed["bearer_tokens"][0]["token_id"], token_id.as_str());
    assert!(
        listed["bearer_tokens"][0].get("token").is_none(),
        "list never shows values"
    );

    let a = env
        .huawei_demo(Method::DELETE, &format!("{}/{token_id}", tokens_path()))
        .await;
    assert_eq!(a.status, 204);
    assert!(a.text.is_empty());
    let a = env
        .huawei_demo(Method::DELETE, &format!("{}/{token_id}", tokens_path()))
        .await;
    assert_eq!(a.status, 404);
    assert_request_id(&a);
}

#[tokio::test]
async fn provisioning_tenant_create_list_delete() {
    let env = start().await;
    let path = format!(
        "/v1/identity-stores/{}/provision-tenant",
        demo::HUAWEI_IDENTITY_STORE_ID
    );
    let a = env.huawei_demo(Method::POST, &path).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let v = a.json();
    let tenant = v["tenant_id"].as_str().unwrap().to_owned();
    assert!(v["scim_endpoint"].as_str().unwrap().contains(&tenant));
    assert!(v["creation_time"].is_u64());

    let listed = env.huawei_demo(Method::GET, &path).await.json();
    assert_eq!(listed["provisioning_tenants"].as_array().unwrap().len(), 2);

    let tenant_path = format!(
        "/v1/identity-stores/{}/tenant/{tenant}",
        demo::HUAWEI_IDENTITY_STORE_ID
    );
    assert_eq!(
        env.huawei_demo(Method::DELETE, &tenant_path).await.status,
        204
    );
    assert_eq!(
        env.huawei_demo(Method::DELETE, &tenant_path).await.status,
        404
    );
}

#[tokio::test]
async fn unknown_store_or_tenant_is_404_with_request_id() {
    let env = start().await;
    for path in [
        "/v1/identity-stores/d-0000000000/provision-tenant".to_owned(),
        format!(
            "/v1/identity-stores/{}/tenant/nope/bearer-token",
            demo::HUAWEI_IDENTITY_STORE_ID
        ),
        // An id containing `/` travels as one segment: it is not the demo store + a path.
        format!(
            "/v1/identity-stores/{}%2Fx/provision-tenant",
            demo::HUAWEI_IDENTITY_STORE_ID
        ),
    ] {
        let a = env.huawei_demo(Method::GET, &path).await;
        assert_eq!(a.status, 404, "{path}: {}", a.text);
        assert!(a.json()["error_msg"].is_string());
        assert_request_id(&a);
    }
}

#[tokio::test]
async fn wrong_secret_is_refused() {
    let env = start().await;
    let wrong = HuaweiCredentials::new(demo::HUAWEI_AK, "wrong-sk")
        .with_project_id(demo::HUAWEI_PROJECT_ID);
    let a = env
        .huawei(
            &wrong,
            env.now(),
            env.huawei_request(Method::POST, &tokens_path()),
        )
        .await;
    assert_apigw_401(&a, "verify aksk signature fail");
}

#[tokio::test]
async fn tampered_signed_header_is_refused() {
    let env = start().await;
    let mut req = env.huawei_request(Method::GET, &tokens_path());
    let scope = token_common::credentials::HuaweiScope::Project(demo::HUAWEI_PROJECT_ID.into());
    token_common::signing::Signer::sign(
        &token_common::signing::HuaweiSigner::new(&huawei_demo(), scope).unwrap(),
        &mut req,
        env.now(),
    )
    .unwrap();
    req.headers.insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    assert_apigw_401(&env.send(req).await, "verify aksk signature fail");
}

#[tokio::test]
async fn date_more_than_15_minutes_off_is_refused_as_expired() {
    let env = start().await;
    for (at, ok) in [
        (env.now() - secs(16 * 60), false),
        (env.now() + secs(16 * 60), false),
        (env.now() - secs(14 * 60), true),
        (env.now() + secs(14 * 60), true),
    ] {
        let a = env
            .huawei(
                &huawei_demo(),
                at,
                env.huawei_request(Method::GET, &tokens_path()),
            )
            .await;
        if ok {
            assert_eq!(a.status, 200, "{}", a.text);
        } else {
            assert_apigw_401(&a, "signature expired");
        }
    }
}

#[tokio::test]
async fn temporary_credentials_must_carry_and_sign_the_security_token() {
    let env = start().await;
    let a = env
        .huawei(
            &huawei_sts(),
            env.now(),
            env.huawei_request(Method::POST, &tokens_path()),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);

    let without = HuaweiCredentials::new(demo::HUAWEI_STS_AK, demo::HUAWEI_STS_SK)
        .with_project_id(demo::HUAWEI_PROJECT_ID);
    let a = env
        .huawei(
            &without,
            env.now(),
            env.huawei_request(Method::POST, &tokens_path()),
        )
        .await;
    assert_apigw_401(&a, "security token");

    // Present but added after signing: not in SignedHeaders.
    let mut req = env.huawei_request(Method::POST, &tokens_path());
    let scope = token_common::credentials::HuaweiScope::Project(demo::HUAWEI_PROJECT_ID.into());
    token_common::signing::Signer::sign(
        &token_common::signing::HuaweiSigner::new(&without, scope).unwrap(),
        &mut req,
        env.now(),
    )
    .unwrap();
    req.headers.insert(
        "x-security-token",
        HeaderValue::from_static(demo::HUAWEI_STS_SECURITY_TOKEN),
    );
    assert_apigw_401(&env.send(req).await, "signed");

    let wrong_token = without.clone().with_security_token("another-token");
    let a = env
        .huawei(
            &wrong_token,
            env.now(),
            env.huawei_request(Method::POST, &tokens_path()),
        )
        .await;
    assert_apigw_401(&a, "security token");
}

#[tokio::test]
async fn project_id_must_match_the_credential() {
    let env = start().await;
    let other =
        HuaweiCredentials::new(demo::HUAWEI_AK, demo::HUAWEI_SK).with_project_id("another-project");
    let a = env
        .huawei(
            &other,
            env.now(),
            env.huawei_request(Method::GET, &tokens_path()),
        )
        .await;
    assert_eq!(a.status, 403, "{}", a.text);
    assert_request_id(&a);
}

#[tokio::test]
async fn unsigned_or_unknown_routes_are_refused() {
    let env = start().await;
    let a = env
        .send(env.huawei_request(Method::GET, &tokens_path()))
        .await;
    assert_apigw_401(&a, "Authorization");
    let a = env.huawei_demo(Method::PATCH, &tokens_path()).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["error_code"], "APIGW.0101");
}

#[tokio::test]
async fn ids_with_slash_space_and_non_ascii_sign_and_route_as_one_segment() {
    use token_common::encoding::encode_unreserved;
    let store = "d-a b/ü";
    let tenant = "t/1 ?#%";
    let config = token_emulator::Config::from_toml_str(&format!(
        "[[huawei.accounts]]\nak = \"{}\"\nsk = \"{}\"\nproject_id = \"{}\"\n\n\
         [[huawei.identity_stores]]\nid = \"{store}\"\ntenants = [\"{tenant}\"]\n",
        demo::HUAWEI_AK,
        demo::HUAWEI_SK,
        demo::HUAWEI_PROJECT_ID
    ))
    .unwrap();
    let clock = std::sync::Arc::new(token_common::clock::ManualClock::at_unix_seconds(START));
    let emulator = token_emulator::Emulator::builder()
        .config(config)
        .clock(clock.clone())
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let env = support::Env {
        emulator,
        clock,
        http: reqwest::Client::new(),
    };
    let path = format!(
        "/v1/identity-stores/{}/tenant/{}/bearer-token",
        encode_unreserved(store),
        encode_unreserved(tenant)
    );
    let a = env
        .huawei(
            &huawei_demo(),
            env.now(),
            env.huawei_request(Method::POST, &path),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
}
