//! The `ncp_create_token_set` example against a mock server: its command-line contract
//! (DESIGN.md) — credentials from the environment (long or short names) or the profile
//! file, one JSON object on stdout, one line on stderr, exit codes 0 / 1 / 2 — and the
//! signed request it sends.

mod programs;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;
use token_common::credentials::NcpCredentials;
use token_common::signing::NcpSigner;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AK: &str = "ncp_iam_BPAMKR_cli_access";
const SK: &str = "ncp_iam_BPKMKR_cli_SECRET_never_printed";
const TAG: &str = "cli key/tag";
const TOKEN_SET_PATH: &str = "/kms/v1/keys/cli%20key%2Ftag/token-set";
/// `{"sub":"access","iat":1700000000}`: no `exp`, as for an unlimited token.
const ACCESS: &str =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhY2Nlc3MiLCJpYXQiOjE3MDAwMDAwMDB9.c2ln";
/// `{"sub":"refresh","iat":1700000000,"exp":1900000000}`.
const REFRESH: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJyZWZyZXNoIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE5MDAwMDAwMDB9.c2ln";

fn example() -> PathBuf {
    programs::example("ncp_create_token_set")
}

fn temp_home() -> PathBuf {
    programs::temp_dir("ncp-example")
}

/// Runs the example with only `env` (and HOME) set, off the async runtime so the mock
/// server keeps serving.
async fn run(args: &[&str], env: &[(&str, &str)], home: &Path) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let home = home.to_owned();
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

async fn token_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_SET_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "code": "SUCCESS",
            "data": {"accessToken": ACCESS, "refreshToken": REFRESH}
        })))
        .mount(&server)
        .await;
    server
}

fn endpoint(server: &MockServer) -> String {
    format!("{}/kms/v1", server.uri())
}

/// Checks the signature of what arrived, recomputed with `sk` over the wire path.
fn assert_signed(req: &wiremock::Request, ak: &str, sk: &str) {
    let h = |n: &str| req.headers.get(n).unwrap().to_str().unwrap().to_owned();
    let ts: u64 = h("x-ncp-apigw-timestamp").parse().unwrap();
    assert_eq!(h("x-ncp-iam-access-key"), ak);
    let signer = NcpSigner::new(&NcpCredentials::new(ak, sk)).unwrap();
    assert_eq!(
        h("x-ncp-apigw-signature-v2"),
        signer.signature(req.method.as_str(), req.url.path(), ts)
    );
}

use programs::stdout_json;

#[tokio::test]
async fn prints_the_token_set_as_json_with_env_credentials() {
    let server = token_server().await;
    let home = temp_home();
    let out = run(
        &[
            "--key-tag",
            TAG,
            "--access-token-hours",
            "UL",
            "--refresh-token-hours",
            "2160",
            "--endpoint",
            &endpoint(&server),
            "--timeout",
            "5",
        ],
        &[
            ("NCLOUD_ACCESS_KEY_ID", AK),
            ("NCLOUD_SECRET_ACCESS_KEY", SK),
        ],
        &home,
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout_json(&out),
        json!({
            "accessToken": ACCESS,
            "refreshToken": REFRESH,
            "accessTokenExpiresAt": null,
            "refreshTokenExpiresAt": 1_900_000_000,
        })
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_signed(&received[0], AK, SK);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&received[0].body).unwrap(),
        json!({"accessTokenHours": "UL", "refreshTokenHours": 2160})
    );
}

#[tokio::test]
async fn reads_the_short_variable_names_and_sends_an_empty_body_by_default() {
    let server = token_server().await;
    let home = temp_home();
    let out = run(
        &["--key-tag", TAG, "--endpoint", &endpoint(&server)],
        &[
            ("NCLOUD_ACCESS_KEY", "short-ak"),
            ("NCLOUD_SECRET_KEY", "short-sk"),
        ],
        &home,
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    let received = server.received_requests().await.unwrap();
    assert_signed(&received[0], "short-ak", "short-sk");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&received[0].body).unwrap(),
        json!({})
    );
}

#[tokio::test]
async fn reads_the_chosen_profile_of_the_configure_file() {
    let server = token_server().await;
    let home = temp_home();
    std::fs::create_dir_all(home.join(".ncloud")).unwrap();
    std::fs::write(
        home.join(".ncloud").join("configure"),
        "[DEFAULT]\nncloud_access_key_id = default-ak\nncloud_secret_access_key = default-sk\n\n\
         [work]\nncloud_access_key_id = work-ak\nncloud_secret_access_key = work-sk\n",
    )
    .unwrap();
    let args = ["--key-tag", TAG, "--endpoint", &endpoint(&server)];
    let out = run(&args, &[], &home).await;
    assert_eq!(out.status.code(), Some(0));
    let with_profile: Vec<&str> = args.iter().copied().chain(["--profile", "work"]).collect();
    let out = run(&with_profile, &[], &home).await;
    assert_eq!(out.status.code(), Some(0));
    let received = server.received_requests().await.unwrap();
    assert_signed(&received[0], "default-ak", "default-sk");
    assert_signed(&received[1], "work-ak", "work-sk");
}

#[tokio::test]
async fn zero_hours_exit_2_before_sending_anything() {
    let server = token_server().await;
    let home = temp_home();
    for flag in ["--access-token-hours", "--refresh-token-hours"] {
        for bad in ["0", "17521", "forever"] {
            let out = run(
                &[
                    "--key-tag",
                    TAG,
                    flag,
                    bad,
                    "--endpoint",
                    &endpoint(&server),
                ],
                &[
                    ("NCLOUD_ACCESS_KEY_ID", AK),
                    ("NCLOUD_SECRET_ACCESS_KEY", SK),
                ],
                &home,
            )
            .await;
            assert_eq!(out.status.code(), Some(2), "{flag} {bad}");
            assert!(out.stdout.is_empty());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(flag), "{stderr}");
        }
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_401_exits_1_with_the_service_code_and_no_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"errorCode": "200", "message": "Authentication Failed",
                      "details": "Invalid authentication information.", "requestId": "req-401"}
        })))
        .mount(&server)
        .await;
    let home = temp_home();
    let out = run(
        &["--key-tag", TAG, "--endpoint", &endpoint(&server)],
        &[
            ("NCLOUD_ACCESS_KEY_ID", AK),
            ("NCLOUD_SECRET_ACCESS_KEY", SK),
        ],
        &home,
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    for part in ["401", "200", "Authentication Failed", "req-401"] {
        assert!(stderr.contains(part), "{part} missing from {stderr}");
    }
    assert!(!stderr.contains(SK));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn missing_credentials_exit_2() {
    let server = token_server().await;
    let home = temp_home();
    // No keys, no file, and a metadata address nothing answers on (not an NCP server).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = run(
        &["--key-tag", TAG, "--endpoint", &endpoint(&server)],
        &[("NCLOUD_METADATA_ENDPOINT", &closed)],
        &home,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("credentials"));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn plain_http_to_another_host_exits_2() {
    let home = temp_home();
    let out = run(
        &["--key-tag", TAG, "--endpoint", "http://example.com/kms/v1"],
        &[
            ("NCLOUD_ACCESS_KEY_ID", AK),
            ("NCLOUD_SECRET_ACCESS_KEY", SK),
        ],
        &home,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("endpoint"));
}
