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
                "2.5",
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
        &["--domain-id", "d", "--timeout", "0"],
        &["--domain-id", "d", "--timeout", "-1"],
        &["--domain-id", "d", "--timeout", "soon"],
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

// ---------------------------------------------------------------------------------------
// Against the emulator binary: OTP MFA completed from CLOUDFORET_OTP_SECRET, and cfctl
// environments read from a temporary home directory.

const OTP_USER: &str = "otp@example.com";
const OTP_PASSWORD: &str = "otp-pw-SECRET";
/// Base32 of RFC 6238's test key "12345678901234567890".
const OTP_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// The domain is named `localhost`, so a cfctl environment whose console is
/// `http://localhost:PORT` finds it the way cfctl does (the host's first DNS label).
const EMULATOR_CONFIG: &str = r#"
[[cloudforet.domains]]
domain_id = "domain-local"
name = "localhost"
workspaces = ["ws-1"]

[[cloudforet.domains.users]]
user_id = "otp@example.com"
password = "otp-pw-SECRET"
role_type = "DOMAIN_ADMIN"
mfa = { type = "OTP", secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" }
"#;

/// The emulator process; killed when dropped.
struct Emulator {
    child: std::process::Child,
    port: u16,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emulator {
    fn start() -> Self {
        use std::io::BufRead as _;
        let dir = programs::temp_dir("cf-login-emulator");
        let config = dir.join("emulator.toml");
        std::fs::write(&config, EMULATOR_CONFIG).unwrap();
        let mut child = Command::new(programs::built("token-emulator"))
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the emulator binary starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("token-emulator listening on http://127.0.0.1:")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .parse()
            .unwrap();
        Emulator { child, port }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Runs the example with exactly these variables and `HOME`.
fn run_in(home: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(example())
        .env_clear()
        .env("HOME", home)
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the example binary runs")
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The claims of a JWT printed by the example.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let mut bits = Vec::new();
    let (mut acc, mut n) = (0u32, 0);
    for c in payload.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            bits.push((acc >> n) as u8);
            acc &= (1 << n) - 1;
        }
    }
    serde_json::from_slice(&bits).unwrap()
}

#[test]
fn otp_secret_completes_an_otp_login_against_the_emulator_binary() {
    let emulator = Emulator::start();
    let home = programs::temp_dir("cf-login-otp");
    let base = emulator.base();
    let login = [
        "--endpoint",
        &base,
        "--user-id",
        OTP_USER,
        "--domain-id",
        "domain-local",
    ];

    let out = run_in(
        &home,
        &login,
        &[
            ("CLOUDFORET_PASSWORD", OTP_PASSWORD),
            ("CLOUDFORET_OTP_SECRET", OTP_SECRET),
        ],
    );
    assert_exit(&out, 0);
    let v = stdout_json(&out);
    let token = v["access_token"].as_str().unwrap();
    assert_eq!(claims_of(token)["did"], "domain-local");
    assert_eq!(claims_of(token)["aud"], OTP_USER);
    assert_eq!(v["role_type"], "DOMAIN_ADMIN");
    assert_eq!(v["domain_id"], "domain-local");
    assert!(v["expires_at"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(v["workspace_id"], Value::Null);

    // Lenient Base32: lower case, spaces, no padding.
    let out = run_in(
        &home,
        &login,
        &[
            ("CLOUDFORET_PASSWORD", OTP_PASSWORD),
            (
                "CLOUDFORET_OTP_SECRET",
                "gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
            ),
        ],
    );
    assert_exit(&out, 0);

    // A wrong secret: the server's ERROR_INVALID_VERIFY_CODE, exit 1.
    let out = run_in(
        &home,
        &login,
        &[
            ("CLOUDFORET_PASSWORD", OTP_PASSWORD),
            ("CLOUDFORET_OTP_SECRET", "JBSWY3DPEHPK3PXP"),
        ],
    );
    assert_exit(&out, 1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ERROR_INVALID_VERIFY_CODE"), "{err}");
    assert!(
        !err.contains(OTP_PASSWORD) && !err.contains("JBSWY3DPEHPK3PXP"),
        "{err}"
    );

    // Without the secret: exit 3 naming OTP.
    let out = run_in(&home, &login, &[("CLOUDFORET_PASSWORD", OTP_PASSWORD)]);
    assert_exit(&out, 3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("OTP"));

    // A secret that is not Base32: exit 2 before anything is sent, never quoting it.
    let out = run_in(
        &home,
        &login,
        &[
            ("CLOUDFORET_PASSWORD", OTP_PASSWORD),
            ("CLOUDFORET_OTP_SECRET", "not base32 !"),
        ],
    );
    assert_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("otp_secret") && !err.contains("not base32"),
        "{err}"
    );
}

fn app_secret_jwt(exp: i64, wid: &str) -> String {
    jwt(json!({
        "iss": "spaceone.identity", "typ": "CLIENT_SECRET", "own": "APP",
        "did": "domain-app", "aud": "app-7", "jti": "client-7", "iat": 1_700_000_000,
        "exp": exp, "ver": "2.0", "rol": "WORKSPACE_OWNER", "wid": wid,
    }))
}

fn write_cfctl(home: &std::path::Path, text: &str) {
    std::fs::create_dir_all(home.join(".cfctl")).unwrap();
    std::fs::write(home.join(".cfctl/setting.yaml"), text).unwrap();
}

fn cfctl_settings(console: &str, app_token: &str) -> String {
    format!(
        r#"environment: local-user
environments:
  demo-app:
    endpoint: grpc+ssl://identity.api.example.invalid:443
    proxy: true
    token: {app_token}
  domain-app:
    endpoint: grpc+ssl://identity.api.example.invalid:443
    proxy: true
    token: {domain_app}
  old-app:
    endpoint: grpc+ssl://identity.api.example.invalid:443
    proxy: true
    token: {old_app}
  local-user:
    endpoint: {console}
    proxy: true
    user_id: {OTP_USER}
  grpc-user:
    endpoint: grpc+ssl://identity.api.example.invalid:443
    proxy: true
    user_id: {OTP_USER}
"#,
        domain_app = app_secret_jwt(4_000_000_000, "*"),
        old_app = app_secret_jwt(1_700_000_100, "ws-app"),
    )
}

#[test]
fn cfctl_app_environment_prints_its_claims_with_no_server_at_all() {
    let home = programs::temp_dir("cf-login-cfctl-app");
    let secret = app_secret_jwt(4_000_000_000, "ws-app");
    // The console and every endpoint named in the file are unreachable: any call fails.
    write_cfctl(&home, &cfctl_settings("http://127.0.0.1:9", &secret));

    let out = run_in(&home, &["--cfctl-environment", "demo-app"], &[]);
    assert_exit(&out, 0);
    let v = stdout_json(&out);
    assert_eq!(
        v,
        json!({"access_token": secret, "role_type": "WORKSPACE_OWNER", "domain_id": "domain-app",
               "workspace_id": "ws-app", "role_id": null, "expires_at": 4_000_000_000i64})
    );

    let out = run_in(&home, &["--cfctl-environment", "domain-app"], &[]);
    assert_exit(&out, 0);
    assert_eq!(stdout_json(&out)["workspace_id"], Value::Null);

    // Expired, and a user's token where an App secret belongs: exit 2, saying which.
    let out = run_in(&home, &["--cfctl-environment", "old-app"], &[]);
    assert_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("old-app") && err.contains("expired"), "{err}");
    let user_token =
        jwt(json!({"typ": "ACCESS_TOKEN", "own": "USER", "did": "d", "exp": 4_000_000_000i64}));
    write_cfctl(&home, &cfctl_settings("http://127.0.0.1:9", &user_token));
    let out = run_in(&home, &["--cfctl-environment", "demo-app"], &[]);
    assert_exit(&out, 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ACCESS_TOKEN") && !err.contains("eyJ"),
        "{err}"
    );

    // A gRPC user environment: exit 2 asking for a REST endpoint.
    let out = run_in(
        &home,
        &["--cfctl-environment", "grpc-user"],
        &[("CLOUDFORET_PASSWORD", "x")],
    );
    assert_exit(&out, 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("REST (console API) endpoint"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // No settings file: exit 2 naming it.
    let empty = programs::temp_dir("cf-login-cfctl-none");
    let out = run_in(&empty, &["--cfctl-environment", "current"], &[]);
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("setting.yaml"));
}

#[test]
fn cfctl_user_environment_logs_in_through_the_consoles_production_json() {
    let emulator = Emulator::start();
    let home = programs::temp_dir("cf-login-cfctl-user");
    let console = format!("http://localhost:{}", emulator.port);
    write_cfctl(
        &home,
        &cfctl_settings(&console, &app_secret_jwt(4_000_000_000, "*")),
    );
    let secrets = [
        ("CLOUDFORET_PASSWORD", OTP_PASSWORD),
        ("CLOUDFORET_OTP_SECRET", OTP_SECRET),
    ];

    // Everything from the file: user id, REST base (production.json), domain `localhost`.
    let out = run_in(&home, &["--cfctl-environment", "current"], &secrets);
    assert_exit(&out, 0);
    let v = stdout_json(&out);
    assert_eq!(v["domain_id"], "domain-local");
    assert_eq!(
        claims_of(v["access_token"].as_str().unwrap())["aud"],
        OTP_USER
    );

    // Flags win: a gRPC environment works once the REST endpoint and domain are given.
    let base = emulator.base();
    let out = run_in(
        &home,
        &[
            "--cfctl-environment",
            "grpc-user",
            "--endpoint",
            &base,
            "--domain-id",
            "domain-local",
        ],
        &secrets,
    );
    assert_exit(&out, 0);
    // ... and a flag's user id beats the file's: an unknown user is the server's 404.
    let out = run_in(
        &home,
        &[
            "--cfctl-environment",
            "local-user",
            "--user-id",
            "nobody@example.com",
        ],
        &secrets,
    );
    assert_exit(&out, 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody@example.com"));
}

#[tokio::test]
async fn cfctl_user_environment_sends_to_the_rest_base_production_json_names() {
    let console = MockServer::start().await;
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/config/production.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "CONSOLE_API_V2": {"ENDPOINT": format!("{}/", api.uri())}})))
        .mount(&console)
        .await;
    mount_login(&api, "/identity", granted(json!({}))).await;
    let home = programs::temp_dir("cf-login-cfctl-rest");
    write_cfctl(
        &home,
        &cfctl_settings(&console.uri(), &app_secret_jwt(4_000_000_000, "*")),
    );
    let home2 = home.clone();
    let out = tokio::task::spawn_blocking(move || {
        run_in(
            &home2,
            &[
                "--cfctl-environment",
                "local-user",
                "--domain-id",
                "domain-123",
            ],
            &[("CLOUDFORET_PASSWORD", PASSWORD)],
        )
    })
    .await
    .unwrap();
    assert_exit(&out, 0);
    assert_eq!(console.received_requests().await.unwrap().len(), 1);
    let reqs = api.received_requests().await.unwrap();
    assert_eq!(reqs.len(), 2);
    assert_eq!(body(&reqs[0])["credentials"]["user_id"], OTP_USER);

    // The console's host is an IP address: without a domain flag there is no domain name.
    let out = tokio::task::spawn_blocking(move || {
        run_in(
            &home,
            &["--cfctl-environment", "local-user"],
            &[("CLOUDFORET_PASSWORD", PASSWORD)],
        )
    })
    .await
    .unwrap();
    assert_exit(&out, 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("IP address"));
}
