//! The `ncp_kms_crypto` example against the emulator (in-process, demo accounts): a file
//! round-trips through encrypt and decrypt in token mode (`NCLOUD_KMS_REFRESH_TOKEN` or
//! `--refresh-token-file`) and in account mode; sign/verify; exit codes 0 / 1 / 2; and
//! nothing secret on stderr.

mod programs;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use ncp_kms_client::{KmsClient, NcpCredentials, TokenSetOptions};
use token_emulator::{demo, Emulator, EmulatorHandle};

const PLAINTEXT: &[u8] = b"top secret plaintext \x00\xff bytes";

async fn run(args: &[&str], env: &[(&str, &str)], home: &Path) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let home = home.to_owned();
    tokio::task::spawn_blocking(move || {
        Command::new(programs::example("ncp_kms_crypto"))
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

async fn emulator() -> EmulatorHandle {
    Emulator::builder().start("127.0.0.1:0").await.unwrap()
}

async fn refresh_token(emulator: &EmulatorHandle, tag: &str) -> String {
    let client = KmsClient::builder()
        .credentials(NcpCredentials::new(
            demo::NCP_ACCESS_KEY,
            demo::NCP_SECRET_KEY,
        ))
        .endpoint(&emulator.ncp_base_url())
        .build()
        .unwrap();
    let set = client
        .create_token_set(tag, TokenSetOptions::new())
        .await
        .unwrap();
    set.refresh_token.expose_secret().to_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Encrypts the file, decrypts the ciphertext, and checks the plaintext comes back.
async fn round_trip(endpoint: &str, env: &[(&str, &str)], extra: &[&str], home: &Path) {
    let file = home.join("plain.bin");
    std::fs::write(&file, PLAINTEXT).unwrap();
    let file = file.to_str().unwrap();
    let mut args = vec![
        "encrypt",
        "--key-tag",
        demo::NCP_KEY_TAG,
        "--plaintext-file",
        file,
        "--context",
        "b3JkZXItMTc=",
        "--endpoint",
        endpoint,
    ];
    args.extend_from_slice(extra);
    let out = run(&args, env, home).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = programs::stdout_json(&out);
    let ct = v["ciphertext"].as_str().unwrap().to_owned();
    assert!(ct.starts_with("ncpkms:v1:"), "{ct}");

    let mut args = vec![
        "decrypt",
        "--key-tag",
        demo::NCP_KEY_TAG,
        "--ciphertext",
        &ct,
        "--context",
        "b3JkZXItMTc=",
        "--endpoint",
        endpoint,
    ];
    args.extend_from_slice(extra);
    let out = run(&args, env, home).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = programs::stdout_json(&out);
    let plain = base64::engine::general_purpose::STANDARD
        .decode(v["plaintext"].as_str().unwrap())
        .unwrap();
    assert_eq!(plain, PLAINTEXT);
    // Decrypting with another context fails with exit 1, and the error holds no secret.
    let mut args = vec![
        "decrypt",
        "--key-tag",
        demo::NCP_KEY_TAG,
        "--ciphertext",
        &ct,
        "--endpoint",
        endpoint,
    ];
    args.extend_from_slice(extra);
    let out = run(&args, env, home).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("top secret"), "{err}");
    for (_, value) in env {
        assert!(!err.contains(value), "{err}");
    }
}

#[tokio::test]
async fn a_file_round_trips_in_token_mode_from_the_environment_and_from_a_file() {
    let emulator = emulator().await;
    let home = programs::temp_dir("ncp-crypto-token");
    let token = refresh_token(&emulator, demo::NCP_KEY_TAG).await;
    // No account keys anywhere: token mode must not need them.
    round_trip(
        &emulator.ncp_base_url(),
        &[("NCLOUD_KMS_REFRESH_TOKEN", &token)],
        &[],
        &home,
    )
    .await;
    let token_file = home.join("refresh-token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    round_trip(
        &emulator.ncp_base_url(),
        &[],
        &["--refresh-token-file", token_file.to_str().unwrap()],
        &home,
    )
    .await;
    // A refused refresh token: exit 1, saying to mint a new set, without the token.
    let out = run(
        &[
            "encrypt",
            "--key-tag",
            demo::NCP_KEY_TAG,
            "--plaintext-file",
            home.join("plain.bin").to_str().unwrap(),
            "--endpoint",
            &emulator.ncp_base_url(),
        ],
        &[(
            "NCLOUD_KMS_REFRESH_TOKEN",
            "eyJhbGciOiJIUzI1NiJ9.e30.forged-token-value",
        )],
        &home,
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("account keys"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("forged-token-value"));
}

#[tokio::test]
async fn a_file_round_trips_in_account_mode_and_ecdsa_signs_and_verifies() {
    let emulator = emulator().await;
    let home = programs::temp_dir("ncp-crypto-account");
    let env = [
        ("NCLOUD_ACCESS_KEY_ID", demo::NCP_ACCESS_KEY),
        ("NCLOUD_SECRET_ACCESS_KEY", demo::NCP_SECRET_KEY),
    ];
    round_trip(&emulator.ncp_base_url(), &env, &[], &home).await;

    let data = home.join("message.txt");
    std::fs::write(&data, b"pay 10 to bob").unwrap();
    let endpoint = emulator.ncp_base_url();
    let sign = [
        "sign",
        "--key-tag",
        demo::NCP_ECDSA_KEY_TAG,
        "--data-file",
        data.to_str().unwrap(),
        "--endpoint",
        &endpoint,
    ];
    let out = run(&sign, &env, &home).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sig = programs::stdout_json(&out)["signature"]
        .as_str()
        .unwrap()
        .to_owned();
    let verify = |file: String| {
        vec![
            "verify".to_owned(),
            "--key-tag".to_owned(),
            demo::NCP_ECDSA_KEY_TAG.to_owned(),
            "--data-file".to_owned(),
            file,
            "--signature".to_owned(),
            sig.clone(),
            "--endpoint".to_owned(),
            endpoint.clone(),
        ]
    };
    let args = verify(data.to_str().unwrap().to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args, &env, &home).await;
    assert_eq!(
        programs::stdout_json(&out),
        serde_json::json!({"valid": true})
    );
    // A changed message: `{"valid": false}`, still exit 0.
    let other = home.join("other.txt");
    std::fs::write(&other, b"pay 99 to bob").unwrap();
    let args = verify(other.to_str().unwrap().to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args, &env, &home).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        programs::stdout_json(&out),
        serde_json::json!({"valid": false})
    );

    // create-custom-key with the plain key.
    let out = run(
        &[
            "create-custom-key",
            "--key-tag",
            demo::NCP_KEY_TAG,
            "--bits",
            "128",
            "--plain-key",
            "--endpoint",
            &endpoint,
        ],
        &env,
        &home,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = programs::stdout_json(&out);
    assert_eq!(v["keyVersion"], 1);
    let key = base64::engine::general_purpose::STANDARD
        .decode(v["plaintext"].as_str().unwrap())
        .unwrap();
    assert_eq!(key.len(), 16);
}

#[tokio::test]
async fn bad_arguments_exit_2_before_sending() {
    let home = programs::temp_dir("ncp-crypto-args");
    let big = home.join("big.bin");
    std::fs::write(&big, vec![0u8; 32 * 1024 + 1]).unwrap();
    // Nothing listens on this port: exit 2 proves nothing was sent.
    let endpoint = "http://127.0.0.1:9/kms/v1";
    let env = [
        ("NCLOUD_ACCESS_KEY_ID", "ak"),
        ("NCLOUD_SECRET_ACCESS_KEY", "sk-never-printed"),
    ];
    for args in [
        vec![
            "encrypt",
            "--key-tag",
            "k",
            "--plaintext-file",
            big.to_str().unwrap(),
            "--endpoint",
            endpoint,
        ],
        vec![
            "decrypt",
            "--key-tag",
            "k",
            "--ciphertext",
            "not-a-ciphertext",
            "--endpoint",
            endpoint,
        ],
        vec![
            "create-custom-key",
            "--key-tag",
            "k",
            "--bits",
            "192",
            "--endpoint",
            endpoint,
        ],
        vec![
            "encrypt",
            "--plaintext-file",
            big.to_str().unwrap(),
            "--endpoint",
            endpoint,
        ],
        vec![
            "encrypt",
            "--key-tag",
            "k",
            "--plaintext-file",
            "/nonexistent/file",
            "--endpoint",
            endpoint,
        ],
    ] {
        let out = run(&args, &env, &home).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("sk-never-printed"));
    }
    // Neither a refresh token nor account keys: exit 2.
    let plain = home.join("p.bin");
    std::fs::write(&plain, b"x").unwrap();
    let out = run(
        &[
            "encrypt",
            "--key-tag",
            "k",
            "--plaintext-file",
            plain.to_str().unwrap(),
            "--endpoint",
            endpoint,
        ],
        &[],
        &home,
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
