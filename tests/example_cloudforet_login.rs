//! The `cloudforet_login` example against a wiremock server: its stdout JSON, its exit codes
//! and the requests it sends.

mod programs;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PASSWORD: &str = "example-pw-SECRET";

fn example() -> PathBuf {
    programs::example("cloudforet_login")
}

fn jwt(claims: Value) -> String {
    use base64_url::encode;
    format!(
        "{}.{}.sig",
        encode(&json!({"alg": "RS256"})),
        encode(&claims)
    )
}

/// Minimal base64url (no padding), so the test needs no extra dependency.
mod base64_url {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    pub fn encode(v: &serde_json::Value) -> String {
        let bytes = serde_json::to_vec(v).unwrap();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
}

const ACCESS_EXP: i64 = 4_000_000_000;

async fn mount_login(server: &MockServer, prefix: &str, grant_answer: Value) {
    Mock::given(method("POST"))
        .and(path(format!("{prefix}/token/issue")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": jwt(json!({"typ": "ACCESS_TOKEN", "exp": ACCESS_EXP})),
            "refresh_token": jwt(json!({"typ": "REFRESH_TOKEN", "exp": ACCESS_EXP + 9000})),
        })))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{prefix}/token/grant")))
        .respond_with(ResponseTemplate::new(200).set_body_json(grant_answer))
        .mount(server)
        .await;
}

fn granted(extra: Value) -> Value {
    let mut v = json!({
        "access_token": jwt(json!({"typ": "ACCESS_TOKEN", "exp": ACCESS_EXP, "jti": "granted"})),
        "role_type": "DOMAIN_ADMIN",
        "domain_id": "domain-123",
    });
    v.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    v
}

async fn run(args: Vec<String>, password: Option<&str>) -> Output {
    let password = password.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let home = std::env::temp_dir().join(format!("cf-login-home-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        let mut cmd = Command::new(example());
        cmd.env_clear()
            .env("HOME", &home)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(p) = password {
            cmd.env("CLOUDFORET_PASSWORD", p);
        }
        cmd.output()
            .expect("the example binary runs (cargo test builds examples)")
    })
    .await
    .unwrap()
}

fn args(server: &MockServer, extra: &[&str]) -> Vec<String> {
    let mut v = vec![
        "--endpoint".to_owned(),
        server.uri(),
        "--user-id".to_owned(),
        "alice@example.com".to_owned(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

use programs::stdout_json;

fn body(r: &wiremock::Request) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

#[tokio::test]
async fn logs_in_and_prints_the_domain_token() {
    let server = MockServer::start().await;
    mount_login(&server, "/identity", granted(json!({}))).await;
    let out = run(
        args(&server, &["--domain-id", "domain-123"]),
        Some(PASSWORD),
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = stdout_json(&out);
    assert!(v["access_token"].as_str().unwrap().contains('.'));
    assert_eq!(v["role_type"], "DOMAIN_ADMIN");
    assert_eq!(v["domain_id"], "domain-123");
    assert_eq!(v["workspace_id"], Value::Null);
    assert_eq!(v["role_id"], Value::Null);
    assert_eq!(v["expires_at"], ACCESS_EXP);

    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        body(&reqs[0]),
        json!({"credentials": {"user_id": "alice@example.com", "password": PASSWORD},
               "auth_type": "LOCAL", "domain_id": "domain-123"})
    );
    assert_eq!(reqs[1].url.path(), "/identity/token/grant");
    assert_eq!(body(&reqs[1])["scope"], "DOMAIN");
    assert_eq!(body(&reqs[1])["grant_type"], "REFRESH_TOKEN");
}

#[tokio::test]
async fn domain_name_workspace_scope_and_v2_route() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/v2/domain/get-auth-info"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"domain_id": "domain-9", "name": "demo"})),
        )
        .mount(&server)
        .await;
    mount_login(
        &server,
        "/identity/v2",
        granted(json!({"role_type": "WORKSPACE_OWNER", "workspace_id": "workspace-1", "role_id": "role-1"})),
    )
    .await;
    let out = run(
        args(
            &server,
            &[
                "--domain-name",
                "demo",
                "--scope",
                "WORKSPACE",
                "--workspace-id",
                "workspace-1",
                "--route",
                "v2",
                "--timeout-seconds",
                "900",
                "--timeout",
                "5",
            ],
        ),
        Some(PASSWORD),
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = stdout_json(&out);
    assert_eq!(v["workspace_id"], "workspace-1");
    assert_eq!(v["role_id"], "role-1");
    assert_eq!(v["role_type"], "WORKSPACE_OWNER");
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(body(&reqs[0]), json!({"name": "demo"}));
    assert_eq!(body(&reqs[1])["domain_id"], "domain-9");
    assert_eq!(body(&reqs[1])["timeout"], 900);
    let grant = body(&reqs[2]);
    assert_eq!(grant["scope"], "WORKSPACE");
    assert_eq!(grant["workspace_id"], "workspace-1");
    assert_eq!(grant["timeout"], 900);
}

#[tokio::test]
async fn mfa_without_a_terminal_exits_3_naming_the_type() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/token/issue"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"detail": {
            "code": "ERROR_MFA_REQUIRED",
            "message": " MFA is required. (user_id = alice@example.com), (mfa_type = EMAIL)"}})))
        .mount(&server)
        .await;
    let out = run(
        args(&server, &["--domain-id", "domain-123"]),
        Some(PASSWORD),
    )
    .await;
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("EMAIL") && err.contains("--verify-code"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn verify_code_logs_in_with_mfa() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/identity/token/issue"))
        .and(body_partial_json(
            json!({"auth_type": "MFA", "verify_code": "123456"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": jwt(json!({"exp": ACCESS_EXP})),
            "refresh_token": jwt(json!({"exp": ACCESS_EXP})),
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/identity/token/grant"))
        .respond_with(ResponseTemplate::new(200).set_body_json(granted(json!({}))))
        .mount(&server)
        .await;
    let out = run(
        args(
            &server,
            &["--domain-id", "domain-123", "--verify-code", "123456"],
        ),
        Some(PASSWORD),
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn service_error_exits_1_with_one_line_and_no_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("x-request-id", "req-7")
                .set_body_json(json!({"detail": {"code": "ERROR_AUTHENTICATE_FAILURE",
                    "message": " A user is not authenticated."}})),
        )
        .mount(&server)
        .await;
    let out = run(
        args(&server, &["--domain-id", "domain-123"]),
        Some(PASSWORD),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("401") && err.contains("ERROR_AUTHENTICATE_FAILURE") && err.contains("req-7")
    );
    assert!(!err.contains(PASSWORD));
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn bad_arguments_exit_2_before_sending() {
    let server = MockServer::start().await;
    for extra in [
        &["--domain-id", "d", "--scope", "WORKSPACE"][..],
        &["--domain-id", "d", "--timeout-seconds", "0"],
        &["--domain-id", "d", "--timeout-seconds", "604801"],
        &["--domain-id", "d", "--scope", "PROJECT"],
        &["--domain-id", "d", "--domain-name", "n"],
        &[],
    ] {
        let out = run(args(&server, extra), Some(PASSWORD)).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run(
        vec![
            "--endpoint".into(),
            "http://identity.example.com".into(),
            "--user-id".into(),
            "a".into(),
            "--domain-id".into(),
            "d".into(),
        ],
        Some(PASSWORD),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("endpoint"));
    assert!(server.received_requests().await.unwrap().is_empty());
}
