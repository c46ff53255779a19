//! The `huawei_create_bearer_token` example against a mock server: its command-line
//! contract (DESIGN.md) — credentials from the environment or the profile file, one JSON
//! object on stdout, one line on stderr, exit codes 0 / 1 / 2 — and the signed request it
//! sends.

mod programs;

use std::path::PathBuf;
use std::process::{Command, Output};

use token_common::signing::huawei::{
    authorization, canonical_query_from_raw, canonical_request, canonical_uri, payload_hash,
    signature, sm3, string_to_sign,
};
use token_common::SecretString;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AK: &str = "AKEXAMPLE-CLI-0001";
const SK: &str = "SK-cli-secret-0123456789abcdef";
const PROJECT_ID: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const SECURITY_TOKEN: &str = "cli-security-token+/=";
const STORE: &str = "d-1234567890";
const TENANT: &str = "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e";
const TOKEN: &str = "scim-token-value-from-cli-test";
const BEARER_PATH: &str =
    "/v1/identity-stores/d-1234567890/tenant/e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e/bearer-token";

fn example() -> PathBuf {
    programs::example("huawei_create_bearer_token")
}

fn temp_home() -> PathBuf {
    programs::temp_dir("huawei-example")
}

/// Runs the example with only `env` (and HOME) set, off the async runtime so the mock
/// server keeps serving.
async fn run(args: &[&str], env: &[(&str, &str)], home: PathBuf) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        Command::new(example())
            .args(&args)
            .env_clear()
            .envs(env)
            .env("HOME", &home)
            .output()
            .expect("the example runs")
    })
    .await
    .unwrap()
}

fn env_credentials() -> Vec<(&'static str, &'static str)> {
    vec![
        ("HUAWEICLOUD_SDK_AK", AK),
        ("HUAWEICLOUD_SDK_SK", SK),
        ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT_ID),
    ]
}

async fn token_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(BEARER_PATH))
        .respond_with(ResponseTemplate::new(201).set_body_raw(
            format!(
                r#"{{"creation_time":1754278569275.0,"expiration_time":1785814569275.0,"token":"{TOKEN}","token_id":"tok-1"}}"#
            ),
            "application/json",
        ))
        .mount(&server)
        .await;
    server
}

fn header<'a>(req: &'a wiremock::Request, name: &str) -> &'a str {
    req.headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

/// Recomputes the Authorization header from the request as received and compares.
fn assert_signed(req: &wiremock::Request, expected_signed: &str) {
    let auth = header(req, "authorization");
    let signed = auth
        .split(", ")
        .find_map(|p| p.strip_prefix("SignedHeaders="))
        .unwrap();
    assert_eq!(signed, expected_signed);
    let pairs: Vec<(&str, &str)> = signed.split(';').map(|n| (n, header(req, n))).collect();
    let canonical = canonical_request(
        req.method.as_str(),
        &canonical_uri(req.url.path()),
        &canonical_query_from_raw(req.url.query().unwrap_or("")),
        &pairs,
        &payload_hash(Some(header(req, "content-type")), Some(&req.body)),
    );
    let sts = string_to_sign(header(req, "x-sdk-date"), &canonical.text);
    let want = authorization(
        AK,
        &canonical.signed_headers,
        &signature(&SecretString::new(SK), &sts),
    );
    assert_eq!(auth, want);
}

fn stderr_line(out: &Output) -> String {
    let text = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(text.trim_end().lines().count(), 1, "one line: {text}");
    assert!(!text.contains(SK) && !text.contains(TOKEN) && !text.contains(SECURITY_TOKEN));
    text
}

#[tokio::test]
async fn prints_token_json_and_exits_0_with_env_credentials() {
    let server = token_server().await;
    let out = run(
        &[
            "--identity-store-id",
            STORE,
            "--tenant-id",
            TENANT,
            "--endpoint",
            &server.uri(),
            "--timeout",
            "10",
        ],
        &env_credentials(),
        temp_home(),
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.trim_end().lines().count(),
        1,
        "one JSON object: {stdout}"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "token_id": "tok-1",
            "token": TOKEN,
            "creation_time": 1_754_278_569_275_i64,
            "expiration_time": 1_785_814_569_275_i64,
        })
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), BEARER_PATH);
    assert_eq!(header(req, "x-project-id"), PROJECT_ID);
    assert_eq!(header(req, "content-type"), "application/json");
    assert!(req.headers.get("x-security-token").is_none());
    assert_signed(req, "content-type;host;x-project-id;x-sdk-date");
}

#[tokio::test]
async fn reads_the_profile_file_with_a_security_token() {
    let server = token_server().await;
    let home = temp_home();
    std::fs::create_dir_all(home.join(".huaweicloud")).unwrap();
    std::fs::write(
        home.join(".huaweicloud").join("credentials"),
        format!(
            "[basic]\nak = {AK}\nsk = {SK}\nproject_id = {PROJECT_ID}\nsecurity_token = {SECURITY_TOKEN}\n"
        ),
    )
    .unwrap();
    let out = run(
        &[
            "--identity-store-id",
            STORE,
            "--tenant-id",
            TENANT,
            "--endpoint",
            &server.uri(),
        ],
        &[],
        home,
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["token"], TOKEN);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(header(&requests[0], "x-security-token"), SECURITY_TOKEN);
    assert_signed(
        &requests[0],
        "content-type;host;x-project-id;x-sdk-date;x-security-token",
    );
}

#[tokio::test]
async fn service_error_prints_one_line_and_exits_1() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("X-Request-Id", "req-cli-403")
                .set_body_raw(
                    r#"{"error_code":"IAM.0003","error_msg":"Policy doesn't allow it","encoded_authorization_message":"ENC"}"#,
                    "application/json",
                ),
        )
        .mount(&server)
        .await;
    let mut env = env_credentials();
    env.push(("HUAWEICLOUD_SDK_SECURITY_TOKEN", SECURITY_TOKEN));
    let out = run(
        &[
            "--identity-store-id",
            STORE,
            "--tenant-id",
            TENANT,
            "--endpoint",
            &server.uri(),
        ],
        &env,
        temp_home(),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let line = stderr_line(&out);
    for part in ["403", "IAM.0003", "Policy doesn't allow it", "req-cli-403"] {
        assert!(line.contains(part), "{part} missing from: {line}");
    }
}

#[tokio::test]
async fn transport_error_exits_1() {
    // A port that was just free: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let out = run(
        &[
            "--identity-store-id",
            STORE,
            "--tenant-id",
            TENANT,
            "--endpoint",
            &endpoint,
            "--timeout",
            "5",
        ],
        &env_credentials(),
        temp_home(),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    stderr_line(&out);
}

#[tokio::test]
async fn missing_project_id_exits_2_naming_the_variable() {
    let server = token_server().await;
    let out = run(
        &[
            "--identity-store-id",
            STORE,
            "--tenant-id",
            TENANT,
            "--endpoint",
            &server.uri(),
        ],
        &[("HUAWEICLOUD_SDK_AK", AK), ("HUAWEICLOUD_SDK_SK", SK)],
        temp_home(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_line(&out).contains("HUAWEICLOUD_SDK_PROJECT_ID"));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn missing_credentials_exit_2() {
    let out = run(
        &["--identity-store-id", STORE, "--tenant-id", TENANT],
        &[],
        temp_home(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    stderr_line(&out);
}

#[tokio::test]
async fn bad_arguments_exit_2() {
    let home = temp_home();
    // clap's own usage error: a required flag is missing.
    let out = run(
        &["--identity-store-id", STORE],
        &env_credentials(),
        home.clone(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    // An unknown region, a plain-http non-loopback endpoint, an invalid id, a bad timeout.
    for args in [
        vec!["--region", "xx-nowhere-1"],
        vec!["--endpoint", "http://ids.example.com"],
        vec!["--timeout", "0"],
    ] {
        let mut all = vec!["--identity-store-id", STORE, "--tenant-id", TENANT];
        all.extend(args.iter().copied());
        let out = run(&all, &env_credentials(), home.clone()).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = run(
        &[
            "--identity-store-id",
            "..",
            "--tenant-id",
            TENANT,
            "--endpoint",
            "http://127.0.0.1:9",
        ],
        &env_credentials(),
        home,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_line(&out).contains("identity_store_id"));
}

#[tokio::test]
async fn signs_with_sm3_when_asked_and_refuses_an_unknown_algorithm() {
    let server = token_server().await;
    let args = |alg: &'static str| {
        vec![
            "--identity-store-id".to_owned(),
            STORE.to_owned(),
            "--tenant-id".to_owned(),
            TENANT.to_owned(),
            "--endpoint".to_owned(),
            server.uri(),
            "--signing-algorithm".to_owned(),
            alg.to_owned(),
        ]
    };
    let sm3_args = args("sm3");
    let sm3_args: Vec<&str> = sm3_args.iter().map(String::as_str).collect();
    let out = run(&sm3_args, &env_credentials(), temp_home()).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    // SDK-HMAC-SM3 from the request as received, with SM3's stages.
    let auth = header(req, "authorization");
    let signed = "content-type;host;x-project-id;x-sdk-date";
    let pairs: Vec<(&str, &str)> = signed.split(';').map(|n| (n, header(req, n))).collect();
    let canonical = canonical_request(
        "POST",
        &canonical_uri(req.url.path()),
        "",
        &pairs,
        &sm3::payload_hash(Some(header(req, "content-type")), Some(&req.body)),
    );
    let sts = sm3::string_to_sign(header(req, "x-sdk-date"), &canonical.text);
    let want = sm3::authorization(
        AK,
        &canonical.signed_headers,
        &sm3::signature(&SecretString::new(SK), &sts),
    );
    assert_eq!(auth, want);
    assert!(auth.starts_with("SDK-HMAC-SM3 Access="), "{auth}");

    let bad_args = args("md5");
    let bad_args: Vec<&str> = bad_args.iter().map(String::as_str).collect();
    let out = run(&bad_args, &env_credentials(), temp_home()).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("md5"));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "nothing more sent"
    );
}

/// The emulator in-process, demo config (it has an agency for instance metadata and the
/// demo OIDC identity provider).
async fn emulator() -> token_emulator::EmulatorHandle {
    token_emulator::Emulator::builder()
        .start("127.0.0.1:0")
        .await
        .expect("the emulator starts")
}

fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    format!("http://{a}")
}

#[tokio::test]
async fn with_no_ak_sk_anywhere_it_signs_with_instance_metadata_keys() {
    let emu = emulator().await;
    let base = emu.base_url().to_owned();
    let out = run(
        &[
            "--identity-store-id",
            token_emulator::demo::HUAWEI_IDENTITY_STORE_ID,
            "--tenant-id",
            token_emulator::demo::HUAWEI_TENANT_ID,
            "--endpoint",
            &base,
        ],
        &[
            ("HUAWEICLOUD_SDK_METADATA_ENDPOINT", &base),
            (
                "HUAWEICLOUD_SDK_PROJECT_ID",
                token_emulator::demo::HUAWEI_PROJECT_ID,
            ),
        ],
        temp_home(),
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = programs::stdout_json(&out);
    assert!(v["token"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    // The emulator accepts only keys it handed out, with their security token signed:
    // the one metadata fetch gave them.
    assert_eq!(emu.huawei_metadata_key_requests(), 1);
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn with_federation_variables_it_signs_with_federated_keys() {
    let emu = emulator().await;
    let base = emu.base_url().to_owned();
    let home = temp_home();
    let token_file = home.join("oidc-token");
    std::fs::write(&token_file, token_emulator::demo::HUAWEI_ID_TOKEN).unwrap();
    let token_file = token_file.display().to_string();
    let no_metadata = closed_port();
    let env = [
        (
            "HUAWEICLOUD_SDK_IDP_ID",
            token_emulator::demo::HUAWEI_IDP_ID,
        ),
        ("HUAWEICLOUD_SDK_ID_TOKEN_FILE", token_file.as_str()),
        ("HUAWEICLOUD_SDK_IAM_ENDPOINT", base.as_str()),
        (
            "HUAWEICLOUD_SDK_PROJECT_ID",
            token_emulator::demo::HUAWEI_PROJECT_ID,
        ),
        ("HUAWEICLOUD_SDK_METADATA_ENDPOINT", no_metadata.as_str()),
    ];
    let args = [
        "--identity-store-id",
        token_emulator::demo::HUAWEI_IDENTITY_STORE_ID,
        "--tenant-id",
        token_emulator::demo::HUAWEI_TENANT_ID,
        "--endpoint",
        &base,
    ];
    let out = run(&args, &env, home.clone()).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = programs::stdout_json(&out);
    assert!(v["token_id"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
    assert_eq!(emu.huawei_metadata_key_requests(), 0);

    // A wrong ID token: IAM refuses it, exit 2 (credentials), one line, no secret.
    std::fs::write(&token_file, "not-the-token").unwrap();
    let out = run(&args, &env, home).await;
    assert_eq!(out.status.code(), Some(2));
    let line = stderr_line(&out);
    assert!(line.contains("OIDC federation"), "{line}");
    assert!(!line.contains("not-the-token"), "{line}");
    emu.shutdown().await.unwrap();
}

#[tokio::test]
async fn nothing_anywhere_lists_the_sources_tried_and_exits_2() {
    let metadata = closed_port();
    let out = run(
        &[
            "--identity-store-id",
            STORE,
            "--tenant-id",
            TENANT,
            "--endpoint",
            "http://127.0.0.1:9",
        ],
        &[
            ("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT_ID),
            ("HUAWEICLOUD_SDK_METADATA_ENDPOINT", &metadata),
        ],
        temp_home(),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    let line = stderr_line(&out);
    for source in ["the environment", "pod identity", "instance metadata"] {
        assert!(line.contains(source), "{line}");
    }
}
