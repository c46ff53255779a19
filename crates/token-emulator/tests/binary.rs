//! The command-line contract: first stdout line, port 0, `--config`, unknown keys refused.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_token-emulator");

fn config_file(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Stops the emulator process this test started, even when an assertion fails.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn prints_its_address_and_serves_the_configured_accounts() {
    let config = config_file(
        "binary-serves.toml",
        r#"
[[cloudforet.domains]]
domain_id = "domain-from-file"
name = "from-file"
"#,
    );
    let mut child = Running(
        Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the first line arrives");
    {
        let base = line
            .trim_end()
            .strip_prefix("token-emulator listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        let port: u16 = base.rsplit(':').next().unwrap().parse().unwrap();
        assert_ne!(port, 0, "port 0 is replaced by the real port");
        let answer = reqwest::Client::new()
            .post(format!("{base}/identity/domain/get-auth-info"))
            .body(r#"{"name":"from-file"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert!(answer.text().await.unwrap().contains("domain-from-file"));
    }
}

#[test]
fn unknown_config_key_is_named_and_refused() {
    let config = config_file(
        "binary-unknown.toml",
        "[[ncp.keys]]\nkey_tag = \"k\"\ntoken_generatr = true\n",
    );
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("token_generatr"), "{stderr}");
    assert!(out.stdout.is_empty());
}
