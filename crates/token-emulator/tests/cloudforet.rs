//! Cloudforet identity: protobuf-JSON parsing, issue, grant scopes, MFA, both routes.

mod support;

use serde_json::{json, Value};
use support::{claims, secs, start, Answer, Env, START};
use token_emulator::demo;

const ISSUE: &str = "/identity/token/issue";
const GRANT: &str = "/identity/token/grant";

fn local(user: &str, password: &str) -> Value {
    json!({
        "credentials": {"user_id": user, "password": password},
        "auth_type": "LOCAL",
        "domain_id": demo::CLOUDFORET_DOMAIN_ID,
    })
}

fn assert_error(a: &Answer, status: u16, code: &str) -> String {
    assert_eq!(a.status, status, "{}", a.text);
    let v = a.json();
    assert_eq!(v["detail"]["code"], code, "{}", a.text);
    v["detail"]["message"].as_str().unwrap().to_owned()
}

async fn login(env: &Env, user: &str, password: &str) -> (String, String) {
    let a = env.post(ISSUE, local(user, password)).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let v = a.json();
    (
        v["access_token"].as_str().unwrap().to_owned(),
        v["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn admin(env: &Env) -> (String, String) {
    login(
        env,
        demo::CLOUDFORET_ADMIN_USER_ID,
        demo::CLOUDFORET_ADMIN_PASSWORD,
    )
    .await
}

#[tokio::test]
async fn issue_then_grant_domain_on_both_routes() {
    let env = start().await;
    for prefix in ["/identity", "/identity/v2"] {
        let a = env
            .post(
                &format!("{prefix}/token/issue"),
                local(
                    demo::CLOUDFORET_ADMIN_USER_ID,
                    demo::CLOUDFORET_ADMIN_PASSWORD,
                ),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        let issued = a.json();
        let access = claims(issued["access_token"].as_str().unwrap());
        let refresh_token = issued["refresh_token"].as_str().unwrap();
        let refresh = claims(refresh_token);
        assert_eq!(access["iss"], "spaceone.identity");
        assert_eq!(access["typ"], "ACCESS_TOKEN");
        assert_eq!(access["own"], "USER");
        assert_eq!(access["did"], demo::CLOUDFORET_DOMAIN_ID);
        assert_eq!(access["aud"], demo::CLOUDFORET_ADMIN_USER_ID);
        assert_eq!(access["ver"], "2.0");
        assert_eq!(access["rol"], "USER");
        assert_eq!(access["exp"], START + 1800);
        assert_eq!(refresh["typ"], "REFRESH_TOKEN");
        assert_eq!(refresh["exp"], START + 10800);

        let a = env
            .post(
                &format!("{prefix}/token/grant"),
                json!({"grant_type": "REFRESH_TOKEN", "token": refresh_token, "scope": "DOMAIN", "timeout": 600}),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        let granted = a.json();
        assert_eq!(granted["role_type"], "DOMAIN_ADMIN");
        assert_eq!(granted["domain_id"], demo::CLOUDFORET_DOMAIN_ID);
        assert!(
            granted.get("workspace_id").is_none(),
            "defaults are left out"
        );
        let access = claims(granted["access_token"].as_str().unwrap());
        assert_eq!(access["rol"], "DOMAIN_ADMIN");
        assert_eq!(access["exp"], START + 600);
    }
}

#[tokio::test]
async fn grant_workspace_and_user_scopes() {
    let env = start().await;
    let (_, refresh) = admin(&env).await;
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "REFRESH_TOKEN", "token": refresh, "scope": "WORKSPACE",
                            "workspace_id": demo::CLOUDFORET_WORKSPACE_ID}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let v = a.json();
    assert_eq!(v["role_type"], "DOMAIN_ADMIN");
    assert!(v["role_id"].is_string());
    assert_eq!(v["workspace_id"], demo::CLOUDFORET_WORKSPACE_ID);
    let c = claims(v["access_token"].as_str().unwrap());
    assert_eq!(c["rol"], "WORKSPACE_OWNER");
    assert_eq!(c["wid"], demo::CLOUDFORET_WORKSPACE_ID);

    let (_, member) = login(
        &env,
        demo::CLOUDFORET_MEMBER_USER_ID,
        demo::CLOUDFORET_MEMBER_PASSWORD,
    )
    .await;
    let a = env
        .post(GRANT, json!({"grant_type": 1, "token": member, "scope": 5}))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["role_type"], "USER");
    assert!(a.json().get("role_id").is_none());
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "REFRESH_TOKEN", "token": member, "scope": "DOMAIN"}),
        )
        .await;
    assert_error(&a, 403, "ERROR_PERMISSION_DENIED");
}

#[tokio::test]
async fn workspace_is_checked_before_the_token() {
    let env = start().await;
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "REFRESH_TOKEN", "token": "garbage", "scope": "WORKSPACE"}),
        )
        .await;
    let msg = assert_error(&a, 400, "ERROR_REQUIRED_PARAMETER");
    assert_eq!(msg, " Required parameter. (key = workspace_id)");
    let (_, refresh) = admin(&env).await;
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "REFRESH_TOKEN", "token": refresh, "scope": "WORKSPACE",
                            "workspace_id": "workspace-missing"}),
        )
        .await;
    assert_error(&a, 404, "ERROR_NOT_FOUND");
}

#[tokio::test]
async fn project_scope_is_refused() {
    let env = start().await;
    let (_, refresh) = admin(&env).await;
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "REFRESH_TOKEN", "token": refresh, "scope": "PROJECT"}),
        )
        .await;
    let msg = assert_error(&a, 400, "ERROR_INVALID_PARAMETER");
    assert!(
        msg.starts_with(" Parameter is invalid. (key = scope"),
        "{msg}"
    );
}

#[tokio::test]
async fn access_token_used_as_refresh_token_is_refused() {
    let env = start().await;
    let (access, _) = admin(&env).await;
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "REFRESH_TOKEN", "token": access, "scope": "DOMAIN"}),
        )
        .await;
    assert_error(&a, 401, "ERROR_AUTHENTICATE_FAILURE");
}

#[tokio::test]
async fn refresh_token_is_accepted_up_to_60_seconds_past_exp() {
    let env = start().await;
    let (_, refresh) = admin(&env).await;
    let grant = json!({"grant_type": "REFRESH_TOKEN", "token": refresh, "scope": "DOMAIN"});
    env.clock.advance(secs(10_800 + 60));
    assert_eq!(env.post(GRANT, grant.clone()).await.status, 200);
    env.clock.advance(secs(1));
    assert_error(
        &env.post(GRANT, grant).await,
        401,
        "ERROR_AUTHENTICATE_FAILURE",
    );
}

#[tokio::test]
async fn unknown_fields_are_refused_as_500() {
    let env = start().await;
    let mut body = local(
        demo::CLOUDFORET_ADMIN_USER_ID,
        demo::CLOUDFORET_ADMIN_PASSWORD,
    );
    body["remember_me"] = json!(true);
    assert_error(&env.post(ISSUE, body).await, 500, "ERROR_UNKNOWN");
    let a = env
        .post(GRANT, json!({"grant_type": "REFRESH_TOKEN", "token": "t", "scope": "DOMAIN", "refresh_token": "x"}))
        .await;
    assert_error(&a, 500, "ERROR_UNKNOWN");
    // `null` is absent, and lowerCamelCase names are the same fields.
    let mut body = local(
        demo::CLOUDFORET_ADMIN_USER_ID,
        demo::CLOUDFORET_ADMIN_PASSWORD,
    );
    body["verify_code"] = Value::Null;
    body["domainId"] = body["domain_id"].take();
    assert_eq!(env.post(ISSUE, body).await.status, 200);
}

#[tokio::test]
async fn enum_names_and_numbers() {
    let env = start().await;
    let mut body = local(
        demo::CLOUDFORET_ADMIN_USER_ID,
        demo::CLOUDFORET_ADMIN_PASSWORD,
    );
    body["auth_type"] = json!("PASSWORD");
    assert_error(&env.post(ISSUE, body.clone()).await, 500, "ERROR_UNKNOWN");
    body["auth_type"] = json!(9);
    assert_eq!(env.post(ISSUE, body.clone()).await.status, 400);
    body["auth_type"] = json!(1);
    assert_eq!(env.post(ISSUE, body).await.status, 200);
}

#[tokio::test]
async fn required_fields_and_timeout_range() {
    let env = start().await;
    let a = env
        .post(
            ISSUE,
            json!({"auth_type": "LOCAL", "domain_id": "domain-123"}),
        )
        .await;
    assert_eq!(
        assert_error(&a, 400, "ERROR_REQUIRED_PARAMETER"),
        " Required parameter. (key = credentials)"
    );
    // Negative is refused; above 604800 is capped (tests/cloudforet_messages.rs).
    let mut body = local(
        demo::CLOUDFORET_ADMIN_USER_ID,
        demo::CLOUDFORET_ADMIN_PASSWORD,
    );
    body["timeout"] = json!(-1);
    assert_error(&env.post(ISSUE, body).await, 400, "ERROR_INVALID_PARAMETER");
    let mut body = local(
        demo::CLOUDFORET_ADMIN_USER_ID,
        demo::CLOUDFORET_ADMIN_PASSWORD,
    );
    body["timeout"] = json!(604_800);
    let a = env.post(ISSUE, body).await;
    assert_eq!(
        claims(a.json()["access_token"].as_str().unwrap())["exp"],
        START + 604_800
    );
}

#[tokio::test]
async fn wrong_password_unknown_user_unknown_domain() {
    let env = start().await;
    let a = env
        .post(ISSUE, local(demo::CLOUDFORET_ADMIN_USER_ID, "wrong"))
        .await;
    assert_error(&a, 401, "ERROR_AUTHENTICATE_FAILURE");
    let a = env.post(ISSUE, local("nobody@example.com", "x")).await;
    assert_error(&a, 404, "ERROR_NOT_FOUND");
    let mut body = local(
        demo::CLOUDFORET_ADMIN_USER_ID,
        demo::CLOUDFORET_ADMIN_PASSWORD,
    );
    body["domain_id"] = json!("domain-nope");
    assert_error(&env.post(ISSUE, body).await, 404, "ERROR_NOT_FOUND");
}

#[tokio::test]
async fn mfa_flow() {
    let env = start().await;
    let creds =
        json!({"user_id": demo::CLOUDFORET_MFA_USER_ID, "password": demo::CLOUDFORET_MFA_PASSWORD});
    let mfa = |code: Option<&str>| {
        let mut b = json!({"credentials": creds, "auth_type": "MFA", "domain_id": demo::CLOUDFORET_DOMAIN_ID});
        if let Some(code) = code {
            b["verify_code"] = json!(code);
        }
        b
    };
    // Never asked: no pending code.
    assert_error(
        &env.post(ISSUE, mfa(Some(demo::CLOUDFORET_MFA_CODE))).await,
        401,
        "ERROR_AUTHENTICATE_FAILURE",
    );

    let a = env
        .post(
            ISSUE,
            local(demo::CLOUDFORET_MFA_USER_ID, demo::CLOUDFORET_MFA_PASSWORD),
        )
        .await;
    let msg = assert_error(&a, 500, "ERROR_MFA_REQUIRED");
    assert_eq!(
        msg,
        " MFA is required. (user_id = mfa@example.com), (mfa_type = EMAIL)"
    );

    let msg = assert_error(
        &env.post(ISSUE, mfa(Some("000000"))).await,
        400,
        "ERROR_INVALID_VERIFY_CODE",
    );
    assert_eq!(msg, " Invalid verify code. (verify_code = 000000)");
    let a = env.post(ISSUE, mfa(Some(demo::CLOUDFORET_MFA_CODE))).await;
    assert_eq!(
        a.status, 200,
        "the wrong code left the pending code usable: {}",
        a.text
    );
    assert!(a.json()["refresh_token"].is_string());
    // A code works once.
    assert_error(
        &env.post(ISSUE, mfa(Some(demo::CLOUDFORET_MFA_CODE))).await,
        401,
        "ERROR_AUTHENTICATE_FAILURE",
    );

    // MFA without a code re-sends it, then answers 401; the code then works.
    let msg = assert_error(
        &env.post(ISSUE, mfa(None)).await,
        401,
        "ERROR_AUTHENTICATE_FAILURE",
    );
    assert!(msg.contains("A user is not authenticated."), "{msg}");
    assert_eq!(
        env.post(ISSUE, mfa(Some(demo::CLOUDFORET_MFA_CODE)))
            .await
            .status,
        200
    );

    // A code expires after 300 s.
    env.post(ISSUE, mfa(None)).await;
    env.clock.advance(secs(300));
    assert_error(
        &env.post(ISSUE, mfa(Some(demo::CLOUDFORET_MFA_CODE))).await,
        401,
        "ERROR_AUTHENTICATE_FAILURE",
    );
}

#[tokio::test]
async fn get_auth_info_and_unknown_routes() {
    let env = start().await;
    for path in [
        "/identity/domain/get-auth-info",
        "/identity/v2/domain/get-auth-info",
    ] {
        let a = env
            .post(path, json!({"name": demo::CLOUDFORET_DOMAIN_NAME}))
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        let v = a.json();
        assert_eq!(v["domain_id"], demo::CLOUDFORET_DOMAIN_ID);
        assert_eq!(v["metadata"], json!({}));
    }
    let a = env
        .post("/identity/domain/get-auth-info", json!({"name": "nope"}))
        .await;
    assert_error(&a, 404, "ERROR_NOT_FOUND");
    let a = env.post("/identity/v3/token/issue", json!({})).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json(), json!({"detail": "Not Found"}));
}

#[tokio::test]
async fn ten_failures_block_further_failures_but_not_the_right_password() {
    let env = start().await;
    let wrong = local(demo::CLOUDFORET_MEMBER_USER_ID, "wrong");
    for _ in 0..10 {
        let msg = assert_error(
            &env.post(ISSUE, wrong.clone()).await,
            401,
            "ERROR_AUTHENTICATE_FAILURE",
        );
        assert!(!msg.contains("blocked"), "{msg}");
    }
    let msg = assert_error(
        &env.post(ISSUE, wrong.clone()).await,
        401,
        "ERROR_AUTHENTICATE_FAILURE",
    );
    assert!(msg.contains("blocked"), "{msg}");
    login(
        &env,
        demo::CLOUDFORET_MEMBER_USER_ID,
        demo::CLOUDFORET_MEMBER_PASSWORD,
    )
    .await;
    env.clock.advance(secs(300));
    let msg = assert_error(
        &env.post(ISSUE, wrong).await,
        401,
        "ERROR_AUTHENTICATE_FAILURE",
    );
    assert!(!msg.contains("blocked"), "{msg}");
}
