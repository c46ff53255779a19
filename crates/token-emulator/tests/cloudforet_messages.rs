//! Cloudforet errors byte for byte: one test per row of FACTS.md §3 "Exact error messages"
//! (identity's message relayed by console-api-v2's rule), plus the `timeout` cap, OTP MFA
//! on the emulator's clock, `config/production.json` and RS256 tokens.

mod support;

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};
use support::{claims, secs, start, Answer, Env, START};
use token_common::clock::ManualClock;
use token_emulator::{demo, Config, Emulator};

const ISSUE: &str = "/identity/token/issue";
const GRANT: &str = "/identity/token/grant";
const DOMAIN: &str = demo::CLOUDFORET_DOMAIN_ID;

/// The whole body, compared as text after a JSON round trip (so key order cannot matter
/// but every byte of code and message does).
fn assert_body(a: &Answer, status: u16, code: &str, message: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(
        a.json(),
        json!({"detail": {"code": code, "message": message}}),
        "{}",
        a.text
    );
}

fn local(user: &str, password: &str) -> Value {
    json!({
        "credentials": {"user_id": user, "password": password},
        "auth_type": "LOCAL",
        "domain_id": DOMAIN,
    })
}

fn mfa(user: &str, password: &str, code: Option<&str>) -> Value {
    let mut b = local(user, password);
    b["auth_type"] = json!("MFA");
    if let Some(code) = code {
        b["verify_code"] = json!(code);
    }
    b
}

async fn refresh_token(env: &Env) -> String {
    let a = env
        .post(
            ISSUE,
            local(
                demo::CLOUDFORET_ADMIN_USER_ID,
                demo::CLOUDFORET_ADMIN_PASSWORD,
            ),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    a.json()["refresh_token"].as_str().unwrap().to_owned()
}

const EXTRA_USERS: &str = r#"
[[cloudforet.domains]]
domain_id = "domain-9"
name = "nine"

[[cloudforet.domains.users]]
user_id = "carol"
password = "carol-password"
role_type = "USER"
disabled = true

[[cloudforet.domains.users]]
user_id = "dave"
password = "dave-password"
role_type = "USER"
mfa = { type = "EMAIL", code = "135791", email = "dave.mfa@example.com" }

[[cloudforet.domains.users]]
user_id = "otp-user"
password = "otp-password"
role_type = "USER"
mfa = { type = "OTP", secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" }
"#;

async fn start_extra() -> Env {
    let clock = Arc::new(ManualClock::at_unix_seconds(START));
    let emulator = Emulator::builder()
        .config(Config::from_toml_str(EXTRA_USERS).unwrap())
        .clock(clock.clone())
        .start("127.0.0.1:0")
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    Env {
        emulator,
        clock,
        http,
    }
}

fn in_domain_9(mut body: Value) -> Value {
    body["domain_id"] = json!("domain-9");
    body
}

#[tokio::test]
async fn wrong_password() {
    let env = start().await;
    let a = env
        .post(ISSUE, local(demo::CLOUDFORET_ADMIN_USER_ID, "wrong"))
        .await;
    assert_body(
        &a,
        401,
        "ERROR_AUTHENTICATE_FAILURE",
        "Authenticate failure. (message =  A user \"admin@example.com\" is not exist or password is not correct.)",
    );
}

#[tokio::test]
async fn credentials_missing_user_id_or_password() {
    let env = start().await;
    for credentials in [
        json!({"user_id": "admin@example.com"}),
        json!({"password": "x"}),
    ] {
        let body = json!({"credentials": credentials, "auth_type": "LOCAL", "domain_id": DOMAIN});
        assert_body(
            &env.post(ISSUE, body).await,
            401,
            "ERROR_AUTHENTICATE_FAILURE",
            "Authenticate failure. (message =  Invalid credentials provided.)",
        );
    }
}

#[tokio::test]
async fn mfa_code_with_nothing_pending() {
    let env = start().await;
    let a = env
        .post(
            ISSUE,
            mfa(
                demo::CLOUDFORET_MFA_USER_ID,
                demo::CLOUDFORET_MFA_PASSWORD,
                Some(demo::CLOUDFORET_MFA_CODE),
            ),
        )
        .await;
    assert_body(
        &a,
        401,
        "ERROR_AUTHENTICATE_FAILURE",
        "Authenticate failure. (message =  Invalid credentials provided.)",
    );
}

#[tokio::test]
async fn mfa_without_a_code() {
    let env = start().await;
    let a = env
        .post(
            ISSUE,
            mfa(
                demo::CLOUDFORET_MFA_USER_ID,
                demo::CLOUDFORET_MFA_PASSWORD,
                None,
            ),
        )
        .await;
    assert_body(
        &a,
        401,
        "ERROR_AUTHENTICATE_FAILURE",
        "Authenticate failure. (message =  A user is not authenticated.)",
    );
}

#[tokio::test]
async fn ten_failures_in_300_seconds() {
    let env = start().await;
    let wrong = local(demo::CLOUDFORET_MEMBER_USER_ID, "wrong");
    for _ in 0..10 {
        env.post(ISSUE, wrong.clone()).await;
    }
    assert_body(
        &env.post(ISSUE, wrong).await,
        401,
        "ERROR_AUTHENTICATE_FAILURE",
        "Authenticate failure. (message =  Login is blocked. Please try again later.)",
    );
}

#[tokio::test]
async fn refresh_token_bad_tampered_expired_or_an_access_token() {
    let env = start().await;
    let refresh = refresh_token(&env).await;
    let access = env
        .post(
            ISSUE,
            local(
                demo::CLOUDFORET_ADMIN_USER_ID,
                demo::CLOUDFORET_ADMIN_PASSWORD,
            ),
        )
        .await
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut tampered = refresh.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let expected =
        "Authenticate failure. (message =  Authenticate failure. (message = Token validation failed.))";
    for token in ["garbage".to_owned(), tampered, access] {
        let a = env
            .post(
                GRANT,
                json!({"grant_type": "REFRESH_TOKEN", "token": token, "scope": "DOMAIN"}),
            )
            .await;
        assert_body(&a, 401, "ERROR_AUTHENTICATE_FAILURE", expected);
    }
    env.clock.advance(secs(10_800 + 61));
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "REFRESH_TOKEN", "token": refresh, "scope": "DOMAIN"}),
        )
        .await;
    assert_body(&a, 401, "ERROR_AUTHENTICATE_FAILURE", expected);
}

#[tokio::test]
async fn unknown_domain() {
    let env = start().await;
    let mut body = local(
        demo::CLOUDFORET_ADMIN_USER_ID,
        demo::CLOUDFORET_ADMIN_PASSWORD,
    );
    body["domain_id"] = json!("domain-nope");
    assert_body(
        &env.post(ISSUE, body).await,
        404,
        "ERROR_NOT_FOUND",
        " Resource cannot be found or access is denied. (domain_id = domain-nope)",
    );
}

#[tokio::test]
async fn unknown_user() {
    let env = start().await;
    assert_body(
        &env.post(ISSUE, local("nobody@example.com", "x")).await,
        404,
        "ERROR_NOT_FOUND",
        " Resource cannot be found or access is denied. (('user_id', 'domain_id') = ('nobody@example.com', 'domain-123'))",
    );
}

#[tokio::test]
async fn unknown_workspace_on_grant() {
    let env = start().await;
    let refresh = refresh_token(&env).await;
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "REFRESH_TOKEN", "token": refresh, "scope": "WORKSPACE",
                   "workspace_id": "ws-nope"}),
        )
        .await;
    assert_body(
        &a,
        404,
        "ERROR_NOT_FOUND",
        " Resource cannot be found or access is denied. (('domain_id', 'workspace_id') = ('domain-123', 'ws-nope'))",
    );
}

#[tokio::test]
async fn get_auth_info_unknown_name() {
    let env = start().await;
    let a = env
        .post("/identity/domain/get-auth-info", json!({"name": "nope"}))
        .await;
    assert_body(
        &a,
        404,
        "ERROR_NOT_FOUND",
        " Resource cannot be found or access is denied. (name = nope)",
    );
}

#[tokio::test]
async fn user_disabled() {
    let env = start_extra().await;
    let a = env
        .post(ISSUE, in_domain_9(local("carol", "carol-password")))
        .await;
    assert_body(
        &a,
        400,
        "ERROR_USER_STATE_DISABLED",
        " A user \"carol\" state is DISABLED.",
    );
}

#[tokio::test]
async fn mfa_required_names_the_mfa_email_or_the_user() {
    let env = start_extra().await;
    let a = env
        .post(ISSUE, in_domain_9(local("dave", "dave-password")))
        .await;
    assert_body(
        &a,
        500,
        "ERROR_MFA_REQUIRED",
        " MFA is required. (user_id = dave.mfa@example.com), (mfa_type = EMAIL)",
    );
    let a = env
        .post(ISSUE, in_domain_9(local("otp-user", "otp-password")))
        .await;
    assert_body(
        &a,
        500,
        "ERROR_MFA_REQUIRED",
        " MFA is required. (user_id = otp-user), (mfa_type = OTP)",
    );
}

#[tokio::test]
async fn wrong_verify_code() {
    let env = start().await;
    env.post(
        ISSUE,
        local(demo::CLOUDFORET_MFA_USER_ID, demo::CLOUDFORET_MFA_PASSWORD),
    )
    .await;
    let a = env
        .post(
            ISSUE,
            mfa(
                demo::CLOUDFORET_MFA_USER_ID,
                demo::CLOUDFORET_MFA_PASSWORD,
                Some("111111"),
            ),
        )
        .await;
    assert_body(
        &a,
        400,
        "ERROR_INVALID_VERIFY_CODE",
        " Invalid verify code. (verify_code = 111111)",
    );
}

#[tokio::test]
async fn token_type_other_than_grant_type() {
    let env = start().await;
    let refresh = refresh_token(&env).await;
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "SYSTEM_TOKEN", "token": refresh, "scope": "DOMAIN"}),
        )
        .await;
    assert_body(
        &a,
        400,
        "ERROR_INVALID_GRANT_TYPE",
        " Invalid grant type. (grant_type = SYSTEM_TOKEN)",
    );
}

#[tokio::test]
async fn missing_field() {
    let env = start().await;
    let a = env
        .post(ISSUE, json!({"auth_type": "LOCAL", "domain_id": DOMAIN}))
        .await;
    assert_body(
        &a,
        400,
        "ERROR_REQUIRED_PARAMETER",
        " Required parameter. (key = credentials)",
    );
}

#[tokio::test]
async fn invalid_field() {
    let env = start().await;
    let refresh = refresh_token(&env).await;
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "REFRESH_TOKEN", "token": refresh, "scope": "PROJECT"}),
        )
        .await;
    assert_body(
        &a,
        400,
        "ERROR_INVALID_PARAMETER",
        " Parameter is invalid. (key = scope, reason = PROJECT scope is not supported)",
    );
}

#[tokio::test]
async fn permission_denied_is_relayed_without_the_identity_message() {
    let env = start().await;
    let a = env
        .post(
            ISSUE,
            local(
                demo::CLOUDFORET_MEMBER_USER_ID,
                demo::CLOUDFORET_MEMBER_PASSWORD,
            ),
        )
        .await;
    let member = a.json()["refresh_token"].as_str().unwrap().to_owned();
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "REFRESH_TOKEN", "token": member, "scope": "DOMAIN"}),
        )
        .await;
    assert_body(&a, 403, "ERROR_PERMISSION_DENIED", "Permission denied.");
}

#[tokio::test]
async fn a_body_that_is_not_json() {
    let env = start().await;
    let mut req = env.request(Method::POST, ISSUE, None);
    req.body = Some(b"user_id=admin".to_vec());
    assert_body(
        &env.send(req).await,
        500,
        "ERROR_UNKNOWN",
        "JSON Parsing Error: Request body requires JSON format.",
    );
}

#[tokio::test]
async fn timeout_above_the_maximum_is_capped_not_refused() {
    let env = start().await;
    for (timeout, lifetime) in [
        (604_801_i64, 604_800),
        (i64::from(i32::MAX), 604_800),
        (0, 1800),
    ] {
        let mut body = local(
            demo::CLOUDFORET_ADMIN_USER_ID,
            demo::CLOUDFORET_ADMIN_PASSWORD,
        );
        body["timeout"] = json!(timeout);
        let a = env.post(ISSUE, body).await;
        assert_eq!(a.status, 200, "{timeout}: {}", a.text);
        let exp = &claims(a.json()["access_token"].as_str().unwrap())["exp"];
        assert_eq!(*exp, json!(START as i64 + lifetime), "{timeout}");
    }
    let refresh = refresh_token(&env).await;
    let a = env
        .post(
            GRANT,
            json!({"grant_type": "REFRESH_TOKEN", "token": refresh, "scope": "DOMAIN",
                   "timeout": 10_000_000}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let exp = &claims(a.json()["access_token"].as_str().unwrap())["exp"];
    assert_eq!(*exp, json!(START + 604_800));
    // Beyond int32 is protobuf's parse error, as the real parser gives.
    let mut body = local(
        demo::CLOUDFORET_ADMIN_USER_ID,
        demo::CLOUDFORET_ADMIN_PASSWORD,
    );
    body["timeout"] = json!(i64::from(i32::MAX) + 1);
    assert_eq!(env.post(ISSUE, body).await.status, 500);
}

/// RFC 6238 TOTP of `key` at `t`, computed here with ring so the test does not trust the
/// emulator's own implementation.
fn totp(key: &[u8], t: u64) -> String {
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key),
        &(t / 30).to_be_bytes(),
    );
    let m = tag.as_ref();
    let o = usize::from(m[19] & 0x0f);
    let n = u32::from_be_bytes([m[o], m[o + 1], m[o + 2], m[o + 3]]) & 0x7fff_ffff;
    format!("{:06}", n % 1_000_000)
}

#[tokio::test]
async fn otp_users_accept_only_the_current_step() {
    let env = start_extra().await;
    let key = b"12345678901234567890"; // GEZDGNBVGY3TQOJQ… decoded
    let user = |code: Option<&str>| in_domain_9(mfa("otp-user", "otp-password", code));
    env.post(ISSUE, in_domain_9(local("otp-user", "otp-password")))
        .await;
    let now = START + 7; // START is a multiple of 30: step boundaries are START + 30k
    env.clock.advance(secs(7));
    for t in [now - 30, now + 30] {
        let code = totp(key, t);
        assert_body(
            &env.post(ISSUE, user(Some(&code))).await,
            400,
            "ERROR_INVALID_VERIFY_CODE",
            &format!(" Invalid verify code. (verify_code = {code})"),
        );
    }
    let a = env.post(ISSUE, user(Some(&totp(key, now)))).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        claims(a.json()["access_token"].as_str().unwrap())["aud"],
        "otp-user"
    );
}

#[tokio::test]
async fn the_demo_otp_user_logs_in_with_its_current_code() {
    let env = start().await;
    env.post(
        ISSUE,
        local(demo::CLOUDFORET_OTP_USER_ID, demo::CLOUDFORET_OTP_PASSWORD),
    )
    .await;
    // KRSXG5CT… is Base32 for "TestSecretSuperSecre".
    let code = totp(b"TestSecretSuperSecre", START);
    let a = env
        .post(
            ISSUE,
            mfa(
                demo::CLOUDFORET_OTP_USER_ID,
                demo::CLOUDFORET_OTP_PASSWORD,
                Some(&code),
            ),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

#[tokio::test]
async fn console_config_names_the_emulator_as_the_rest_base() {
    let env = start().await;
    let a = env
        .send(env.request(Method::GET, "/config/production.json", None))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.json(),
        json!({"CONSOLE_API_V2": {"ENDPOINT": env.emulator.base_url().trim_end_matches('/')}})
    );
    let a = env.post("/config/production.json", json!({})).await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn tokens_are_rs256_and_verify_with_the_published_key() {
    use base64::Engine as _;
    let env = start().await;
    let refresh = refresh_token(&env).await;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (head, rest) = refresh.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&b64.decode(head).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    let (payload, sig) = rest.split_once('.').unwrap();
    let spki: String = demo::JWT_PUBLIC_KEY_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let spki = base64::engine::general_purpose::STANDARD
        .decode(spki)
        .unwrap();
    // RSAPublicKey (PKCS#1) is the BIT STRING at the end of the SubjectPublicKeyInfo.
    let pkcs1 = &spki[24..];
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, pkcs1)
        .verify(
            format!("{head}.{payload}").as_bytes(),
            &b64.decode(sig).unwrap(),
        )
        .expect("the emulator's token verifies with the documented public key");
}
