//! The emulator *binary*, started with a config file of its own accounts, serves the three
//! example programs unchanged (pointed at it with `--endpoint`), and refuses requests
//! signed with a wrong secret or an old timestamp.

mod programs;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use token_common::clock::{Clock, SystemClock};
use token_common::credentials::{HuaweiCredentials, HuaweiScope, NcpCredentials};
use token_common::signing::{HuaweiSigner, NcpSigner, Signer};
use token_common::HttpRequest;

const NCP_AK: &str = "CFGNCPACCESSKEY";
const NCP_SK: &str = "cfg-ncp-SECRET-key";
const KEY_TAG: &str = "cfg key/tag";
const HW_AK: &str = "CFGHWAK000001";
const HW_SK: &str = "cfg-hw-SECRET-key";
const HW_PROJECT: &str = "cfgproject0001";
const STORE: &str = "d-cfg0000001";
const TENANT: &str = "tenant-cfg-1";
const CF_PASSWORD: &str = "cfg-cf-SECRET-password";

const CONFIG: &str = r#"
[[ncp.accounts]]
access_key = "CFGNCPACCESSKEY"
secret_key = "cfg-ncp-SECRET-key"

[[ncp.keys]]
key_tag = "cfg key/tag"

[[huawei.accounts]]
ak = "CFGHWAK000001"
sk = "cfg-hw-SECRET-key"
project_id = "cfgproject0001"

[[huawei.identity_stores]]
id = "d-cfg0000001"
tenants = ["tenant-cfg-1"]

[[cloudforet.domains]]
domain_id = "domain-cfg"
name = "cfg"
workspaces = ["ws-cfg"]

[[cloudforet.domains.users]]
user_id = "bob@example.com"
password = "cfg-cf-SECRET-password"
role_type = "DOMAIN_ADMIN"
"#;

/// The emulator process; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_binary(config: &Path) -> Server {
    let mut child = Command::new(programs::built("token-emulator"))
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the emulator binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("token-emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    Server { child, base }
}

fn run_example(name: &str, args: &[&str], env: &[(&str, &str)], home: &Path) -> Output {
    Command::new(programs::example(name))
        .args(args)
        .env_clear()
        .env("HOME", home)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the example runs")
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    programs::stdout_json(out)
}

#[test]
fn the_binary_with_a_config_file_serves_the_three_examples_unchanged() {
    let dir = programs::temp_dir("emulator-examples");
    let config = dir.join("emulator.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let server = start_binary(&config);

    let ncp_endpoint = format!("{}/kms/v1", server.base);
    let out = run_example(
        "ncp_create_token_set",
        &[
            "--key-tag",
            KEY_TAG,
            "--access-token-hours",
            "2",
            "--endpoint",
            &ncp_endpoint,
        ],
        &[
            ("NCLOUD_ACCESS_KEY_ID", NCP_AK),
            ("NCLOUD_SECRET_ACCESS_KEY", NCP_SK),
        ],
        &dir,
    );
    let v = stdout_json(&out);
    assert!(v["accessToken"].as_str().unwrap().starts_with("eyJ"));
    assert!(v["accessTokenExpiresAt"].as_i64().is_some());

    let out = run_example(
        "huawei_create_bearer_token",
        &[
            "--identity-store-id",
            STORE,
            "--tenant-id",
            TENANT,
            "--endpoint",
            &server.base,
        ],
        &[
            ("HUAWEICLOUD_SDK_AK", HW_AK),
            ("HUAWEICLOUD_SDK_SK", HW_SK),
            ("HUAWEICLOUD_SDK_PROJECT_ID", HW_PROJECT),
        ],
        &dir,
    );
    let v = stdout_json(&out);
    assert!(v["token_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(v["expiration_time"].as_i64().unwrap() > v["creation_time"].as_i64().unwrap());

    // The same with SDK-HMAC-SM3: the emulator verifies that algorithm too (a tenant holds
    // two tokens, so this is the last create here).
    let out = run_example(
        "huawei_create_bearer_token",
        &[
            "--identity-store-id",
            STORE,
            "--tenant-id",
            TENANT,
            "--endpoint",
            &server.base,
            "--signing-algorithm",
            "sm3",
        ],
        &[
            ("HUAWEICLOUD_SDK_AK", HW_AK),
            ("HUAWEICLOUD_SDK_SK", HW_SK),
            ("HUAWEICLOUD_SDK_PROJECT_ID", HW_PROJECT),
        ],
        &dir,
    );
    let v = stdout_json(&out);
    assert!(v["token_id"].as_str().is_some_and(|s| !s.is_empty()));

    let out = run_example(
        "cloudforet_login",
        &[
            "--endpoint",
            &server.base,
            "--domain-name",
            "cfg",
            "--user-id",
            "bob@example.com",
        ],
        &[("CLOUDFORET_PASSWORD", CF_PASSWORD)],
        &dir,
    );
    let v = stdout_json(&out);
    assert_eq!(v["domain_id"], "domain-cfg");
    assert_eq!(v["role_type"], "DOMAIN_ADMIN");

    // A wrong secret: exit 1, the service's code on stderr, no secret anywhere.
    let out = run_example(
        "ncp_create_token_set",
        &["--key-tag", KEY_TAG, "--endpoint", &ncp_endpoint],
        &[
            ("NCLOUD_ACCESS_KEY_ID", NCP_AK),
            ("NCLOUD_SECRET_ACCESS_KEY", "wrong-SECRET"),
        ],
        &dir,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("401"), "{stderr}");
    assert!(
        !stderr.contains("SECRET") && out.stdout.is_empty(),
        "{stderr}"
    );

    let out = run_example(
        "huawei_create_bearer_token",
        &[
            "--identity-store-id",
            STORE,
            "--tenant-id",
            TENANT,
            "--endpoint",
            &server.base,
        ],
        &[
            ("HUAWEICLOUD_SDK_AK", HW_AK),
            ("HUAWEICLOUD_SDK_SK", "wrong-SECRET"),
            ("HUAWEICLOUD_SDK_PROJECT_ID", HW_PROJECT),
        ],
        &dir,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("APIGW.0301") && !stderr.contains("SECRET"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends one signed request to the binary with a bare HTTP client.
async fn send(req: HttpRequest) -> (u16, String) {
    let client = reqwest::Client::new();
    let mut b = client.request(req.method, req.url).headers(req.headers);
    if let Some(body) = req.body {
        b = b.body(body);
    }
    let resp = b.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_binary_refuses_old_timestamps_and_wrong_secrets() {
    let dir = programs::temp_dir("emulator-refusals");
    let config = dir.join("emulator.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let server = start_binary(&config);
    let now = SystemClock.now();
    let ten_minutes_ago = now - Duration::from_secs(600);
    let twenty_minutes_ago = now - Duration::from_secs(1200);

    let ncp_url = token_common::url::Url::parse(&format!(
        "{}/kms/v1/keys/cfg%20key%2Ftag/token-set",
        server.base
    ))
    .unwrap();
    let ncp_req = || {
        HttpRequest::new(reqwest::Method::POST, ncp_url.clone(), "/t")
            .json(&serde_json::json!({}))
            .unwrap()
    };
    let good = NcpSigner::new(&NcpCredentials::new(NCP_AK, NCP_SK)).unwrap();
    let wrong = NcpSigner::new(&NcpCredentials::new(NCP_AK, "wrong")).unwrap();
    for (signer, at, want) in [
        (&good, now, 200),
        (&good, ten_minutes_ago, 401),
        (&wrong, now, 401),
    ] {
        let mut r = ncp_req();
        signer.sign(&mut r, at).unwrap();
        let (status, body) = send(r).await;
        assert_eq!(status, want, "{body}");
        if want == 401 {
            assert!(body.contains("\"errorCode\""), "{body}");
        }
    }

    let hw_url = token_common::url::Url::parse(&format!(
        "{}/v1/identity-stores/{STORE}/tenant/{TENANT}/bearer-token",
        server.base
    ))
    .unwrap();
    let hw = |sk: &str| {
        HuaweiSigner::new(
            &HuaweiCredentials::new(HW_AK, sk),
            HuaweiScope::Project(HW_PROJECT.into()),
        )
        .unwrap()
    };
    for (sk, at, want) in [
        (HW_SK, now, 200),
        (HW_SK, twenty_minutes_ago, 401),
        ("wrong", now, 401),
    ] {
        let mut r = HttpRequest::new(reqwest::Method::GET, hw_url.clone(), "/t")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json",
                "content_type",
            )
            .unwrap();
        hw(sk).sign(&mut r, at).unwrap();
        let (status, body) = send(r).await;
        assert_eq!(status, want, "{body}");
        if want == 401 {
            assert!(body.contains("APIGW.0301"), "{body}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
