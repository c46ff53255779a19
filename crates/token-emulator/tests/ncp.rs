//! NCP KMS: signature v2, the 5-minute window, hours, generator state, token calls.

mod support;

use reqwest::header::HeaderValue;
use reqwest::Method;
use serde_json::{json, Value};
use support::{claims, ncp_demo, secs, start, Env, START};
use token_common::credentials::NcpCredentials;
use token_emulator::demo;

const TOKEN_SET: &str = "/kms/v1/keys/demo-key-tag/token-set";

async fn create_set(env: &Env, body: Option<Value>) -> (String, String) {
    let a = env.ncp_demo(Method::POST, TOKEN_SET, body).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let v = a.json();
    assert_eq!(v["code"], "SUCCESS");
    let access = v["data"]["accessToken"].as_str().unwrap().to_owned();
    let refresh = v["data"]["refreshToken"].as_str().unwrap().to_owned();
    (access, refresh)
}

async fn with_token(
    env: &Env,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> support::Answer {
    let mut req = env.request(method, path, body);
    req.headers
        .insert("x-ncp-ocapi-token", HeaderValue::from_str(token).unwrap());
    env.send(req).await
}

fn assert_gateway_401(a: &support::Answer) {
    assert_eq!(a.status, 401, "{}", a.text);
    let v = a.json();
    assert_eq!(v["error"]["errorCode"], "200");
    assert_eq!(v["error"]["message"], "Authentication Failed");
}

#[tokio::test]
async fn create_token_set_defaults_to_72_and_2160_hours() {
    let env = start().await;
    let (access, refresh) = create_set(&env, None).await;
    let (a, r) = (claims(&access), claims(&refresh));
    assert_eq!(a["iat"], START);
    assert_eq!(a["exp"], START + 72 * 3600);
    assert_eq!(r["exp"], START + 2160 * 3600);
    assert_ne!(a["tokenType"], r["tokenType"]);
}

#[tokio::test]
async fn unlimited_hours_mint_tokens_without_exp() {
    let env = start().await;
    let (access, refresh) = create_set(
        &env,
        Some(json!({"accessTokenHours": 1, "refreshTokenHours": "UL"})),
    )
    .await;
    assert_eq!(claims(&access)["exp"], START + 3600);
    assert!(claims(&refresh).get("exp").is_none());
}

#[tokio::test]
async fn hours_out_of_range_are_refused_with_kms_body() {
    let env = start().await;
    for body in [
        json!({"accessTokenHours": 0}),
        json!({"accessTokenHours": 17521}),
        json!({"refreshTokenHours": "ul"}),
        json!({"refreshTokenHours": 1.5}),
    ] {
        let a = env
            .ncp_demo(Method::POST, TOKEN_SET, Some(body.clone()))
            .await;
        assert_eq!(a.status, 400, "{body}: {}", a.text);
        assert_eq!(a.json()["code"], "INVALID_REQUEST");
        assert!(a.json()["msg"].is_string());
    }
    create_set(&env, Some(json!({"accessTokenHours": 17520}))).await;
}

#[tokio::test]
async fn wrong_secret_is_refused() {
    let env = start().await;
    let wrong = NcpCredentials::new(demo::NCP_ACCESS_KEY, "not-the-secret");
    let a = env
        .ncp(
            &wrong,
            env.now(),
            env.request(Method::POST, TOKEN_SET, None),
        )
        .await;
    assert_gateway_401(&a);
}

#[tokio::test]
async fn unknown_access_key_and_missing_headers_are_refused() {
    let env = start().await;
    let stranger = NcpCredentials::new("UNKNOWNKEY", demo::NCP_SECRET_KEY);
    let a = env
        .ncp(
            &stranger,
            env.now(),
            env.request(Method::POST, TOKEN_SET, None),
        )
        .await;
    assert_gateway_401(&a);
    let a = env.send(env.request(Method::POST, TOKEN_SET, None)).await;
    assert_gateway_401(&a);
}

#[tokio::test]
async fn timestamp_five_minutes_off_is_refused_just_inside_is_accepted() {
    let env = start().await;
    for (offset, ok) in [
        (-300_000i64, false),
        (300_000, false),
        (-299_000, true),
        (299_000, true),
    ] {
        let at = if offset < 0 {
            env.now() - std::time::Duration::from_millis(offset.unsigned_abs())
        } else {
            env.now() + std::time::Duration::from_millis(offset as u64)
        };
        let a = env
            .ncp(&ncp_demo(), at, env.request(Method::POST, TOKEN_SET, None))
            .await;
        if ok {
            assert_eq!(a.status, 200, "{offset}: {}", a.text);
        } else {
            assert_gateway_401(&a);
        }
    }
}

#[tokio::test]
async fn date_header_follows_the_injected_clock() {
    let env = start().await;
    let a = env.ncp_demo(Method::GET, "/kms/v1/keys", None).await;
    let date = a.headers["date"].to_str().unwrap();
    assert_eq!(httpdate::parse_http_date(date).unwrap(), env.now());
}

#[tokio::test]
async fn signature_covers_the_query_as_sent() {
    let env = start().await;
    let a = env
        .ncp_demo(Method::GET, "/kms/v1/keys?pageNo=1&pageSize=1", None)
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let v = a.json();
    assert_eq!(v["data"]["totalCount"], 3);
    assert_eq!(v["data"]["totalPageNo"], 3);
    assert_eq!(v["data"]["keyList"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"]["keyList"][0]["keyTag"], demo::NCP_KEY_TAG);

    // Signed for one query, sent with another.
    let mut req = env.request(Method::GET, "/kms/v1/keys?pageNo=1", None);
    token_common::signing::Signer::sign(
        &token_common::signing::NcpSigner::new(&ncp_demo()).unwrap(),
        &mut req,
        env.now(),
    )
    .unwrap();
    req.url.set_query(Some("pageNo=2"));
    assert_gateway_401(&env.send(req).await);
}

#[tokio::test]
async fn page_size_outside_1_to_200_is_refused() {
    let env = start().await;
    for q in ["pageSize=0", "pageSize=201", "pageNo=0", "pageSize=x"] {
        let a = env
            .ncp_demo(Method::GET, &format!("/kms/v1/keys?{q}"), None)
            .await;
        assert_eq!(a.status, 400, "{q}");
        assert_eq!(a.json()["code"], "INVALID_REQUEST");
    }
    let a = env
        .ncp_demo(Method::GET, "/kms/v1/keys?pageNo=1&pageSize=200", None)
        .await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn refresh_and_renew_accept_only_a_refresh_token() {
    let env = start().await;
    let (access, refresh) = create_set(&env, None).await;
    let path = "/kms/v1/keys/demo-key-tag/access-token";
    let a = with_token(
        &env,
        Method::POST,
        path,
        &refresh,
        Some(json!({"accessTokenHours": 2})),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let new_access = a.json()["data"]["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(claims(&new_access)["exp"], START + 7200);

    let a = with_token(&env, Method::POST, path, &access, None).await;
    assert_eq!(a.status, 401, "an access token is not a refresh token");

    let a = with_token(&env, Method::PUT, TOKEN_SET, &refresh, None).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(a.json()["data"]["refreshToken"].is_string());
    // Renewing does not revoke the old set.
    let a = with_token(&env, Method::POST, path, &refresh, None).await;
    assert_eq!(a.status, 200);

    let a = with_token(&env, Method::POST, path, "forged.token.value", None).await;
    assert_eq!(a.status, 401);
    let a = env.send(env.request(Method::POST, path, None)).await;
    assert_gateway_401(&a);
}

#[tokio::test]
async fn expired_refresh_token_is_refused() {
    let env = start().await;
    let (_, refresh) = create_set(&env, Some(json!({"refreshTokenHours": 1}))).await;
    env.clock.advance(secs(3600));
    let a = with_token(
        &env,
        Method::POST,
        "/kms/v1/keys/demo-key-tag/access-token",
        &refresh,
        None,
    )
    .await;
    assert_eq!(a.status, 401);
}

#[tokio::test]
async fn replace_and_disable_discard_issued_tokens() {
    let env = start().await;
    let gen = "/kms/v1/keys/demo-key-tag/token-generator";
    let refresh_path = "/kms/v1/keys/demo-key-tag/access-token";
    let (_, old) = create_set(&env, None).await;
    let a = env.ncp_demo(Method::PUT, gen, None).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        with_token(&env, Method::POST, refresh_path, &old, None)
            .await
            .status,
        401
    );

    let (_, current) = create_set(&env, None).await;
    assert_eq!(
        with_token(&env, Method::POST, refresh_path, &current, None)
            .await
            .status,
        200
    );
    let a = env.ncp_demo(Method::DELETE, gen, None).await;
    assert_eq!(a.status, 200);
    let v = env.ncp_demo(Method::GET, gen, None).await.json();
    assert_eq!(v["data"]["status"], "INACTIVE");
    assert_eq!(
        with_token(&env, Method::POST, refresh_path, &current, None)
            .await
            .status,
        401
    );

    let a = env.ncp_demo(Method::POST, TOKEN_SET, None).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["code"], "INVALID_REQUEST");

    assert_eq!(env.ncp_demo(Method::POST, gen, None).await.status, 200);
    let v = env.ncp_demo(Method::GET, gen, None).await.json();
    assert_eq!(v["data"]["status"], "ACTIVE");
    assert_eq!(
        with_token(&env, Method::POST, refresh_path, &current, None)
            .await
            .status,
        401
    );
    create_set(&env, None).await;
}

#[tokio::test]
async fn disabled_generator_refuses_token_set() {
    let env = start().await;
    let path = format!("/kms/v1/keys/{}/token-set", demo::NCP_DISABLED_KEY_TAG);
    let a = env.ncp_demo(Method::POST, &path, None).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["code"], "INVALID_REQUEST");
}

#[tokio::test]
async fn key_tag_is_one_encoded_segment() {
    let env = start().await;
    // `demo-key-tag/token-set` encoded as one segment is an unknown key, not a route.
    let a = env
        .ncp_demo(
            Method::POST,
            "/kms/v1/keys/demo-key-tag%2Ftoken-set/token-set",
            None,
        )
        .await;
    assert_eq!(a.status, 404, "{}", a.text);
    assert_eq!(a.json()["code"], "NOT_FOUND");
    let a = env
        .ncp_demo(Method::GET, "/kms/v1/nothing-here", None)
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["error"]["errorCode"], "300");
}
