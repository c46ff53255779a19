//! The NCP examples with no keys in the environment or `~/.ncloud/configure`, on an
//! emulated NCP server with a role: the default chain reaches the server role through
//! `NCLOUD_METADATA_ENDPOINT` (or the Go SDK's `NCLOUD_METADATA_API_ENDPOINT`), with a
//! metadata service that requires v2 session tokens and with one that serves only v1.
//! Without any source, the error lists every source tried and the exit code is 2.

mod programs;

use std::path::Path;
use std::process::{Command, Output};

use token_emulator::{demo, Config, Emulator, EmulatorHandle, Fault, ServicePrefix};

async fn run(example: &str, args: &[&str], env: &[(&str, &str)], home: &Path) -> Output {
    let exe = programs::example(example);
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let home = home.to_owned();
    tokio::task::spawn_blocking(move || {
        Command::new(exe)
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

async fn emulator(require_metadata_v2: bool) -> EmulatorHandle {
    let mut config = Config::demo();
    config.ncp.server_role = Config::from_toml_str(&format!(
        "[ncp.server_role]\nrole_id = \"example-role\"\nrequire_metadata_v2 = {require_metadata_v2}\n"
    ))
    .unwrap()
    .ncp
    .server_role;
    Emulator::builder()
        .config(config)
        .start("127.0.0.1:0")
        .await
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn create_token_set(emulator: &EmulatorHandle, variable: &str) -> Output {
    let home = programs::temp_dir("ncp-server-role");
    run(
        "ncp_create_token_set",
        &[
            "--key-tag",
            demo::NCP_KEY_TAG,
            "--endpoint",
            &emulator.ncp_base_url(),
        ],
        &[(variable, emulator.base_url())],
        &home,
    )
    .await
}

#[tokio::test]
async fn create_token_set_signs_with_the_server_role_when_metadata_requires_v2() {
    let emulator = emulator(true).await;
    let out = create_token_set(&emulator, "NCLOUD_METADATA_ENDPOINT").await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = programs::stdout_json(&out);
    assert!(v["accessToken"]
        .as_str()
        .is_some_and(|t| t.starts_with("eyJ")));
    assert!(v["refreshToken"]
        .as_str()
        .is_some_and(|t| t.starts_with("eyJ")));
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[tokio::test]
async fn create_token_set_signs_with_the_server_role_on_a_v1_metadata_service() {
    let emulator = emulator(false).await;
    // This metadata service has no v2: the session-token PUT is not found.
    emulator.inject(Fault::status(404).on(ServicePrefix::Path("/latest/api/token".into())));
    let out = create_token_set(&emulator, "NCLOUD_METADATA_API_ENDPOINT").await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(emulator.pending_faults(), 0, "the v2 PUT was tried first");
    let v = programs::stdout_json(&out);
    assert!(v["accessToken"]
        .as_str()
        .is_some_and(|t| t.starts_with("eyJ")));
}

#[tokio::test]
async fn kms_crypto_round_trips_with_server_role_keys() {
    let emulator = emulator(true).await;
    let home = programs::temp_dir("ncp-server-role-crypto");
    let file = home.join("plain.txt");
    std::fs::write(&file, b"role-signed plaintext").unwrap();
    let env = [("NCLOUD_METADATA_ENDPOINT", emulator.base_url())];
    let endpoint = emulator.ncp_base_url();
    let out = run(
        "ncp_kms_crypto",
        &[
            "encrypt",
            "--key-tag",
            demo::NCP_KEY_TAG,
            "--plaintext-file",
            file.to_str().unwrap(),
            "--endpoint",
            &endpoint,
        ],
        &env,
        &home,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ct = programs::stdout_json(&out)["ciphertext"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = run(
        "ncp_kms_crypto",
        &[
            "decrypt",
            "--key-tag",
            demo::NCP_KEY_TAG,
            "--ciphertext",
            &ct,
            "--endpoint",
            &endpoint,
        ],
        &env,
        &home,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // base64 of the file.
    assert_eq!(
        programs::stdout_json(&out)["plaintext"],
        "cm9sZS1zaWduZWQgcGxhaW50ZXh0"
    );
}

#[tokio::test]
async fn no_source_at_all_lists_every_source_and_exits_2() {
    // A loopback port nothing listens on stands for "not an NCP server".
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let home = programs::temp_dir("ncp-no-source");
    let out = run(
        "ncp_create_token_set",
        &[
            "--key-tag",
            demo::NCP_KEY_TAG,
            "--endpoint",
            "http://127.0.0.1:9/kms/v1",
        ],
        &[("NCLOUD_METADATA_ENDPOINT", &closed)],
        &home,
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    for source in [
        "NCLOUD_ACCESS_KEY_ID",
        "configure",
        "server role",
        "not an NCP server",
    ] {
        assert!(err.contains(source), "{source} missing from {err}");
    }
}
