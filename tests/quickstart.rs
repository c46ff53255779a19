//! The README's first command, `cargo run --example quickstart`, runs all three flows
//! against the in-process emulator with no environment at all, and exits 0.

mod programs;

use std::process::{Command, Stdio};

#[test]
fn quickstart_runs_the_three_flows_with_no_environment() {
    let out = Command::new(programs::example("quickstart"))
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .expect("the quickstart runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}: {stdout}\n{stderr}",
        out.status.code()
    );
    for step in [
        "create token set",
        "refresh access token",
        "create bearer token",
        "delete bearer token",
        "grant DOMAIN",
        "session re-granted",
        "All three flows succeeded.",
    ] {
        assert!(stdout.contains(step), "missing `{step}` in:\n{stdout}");
    }
    // Token values are shortened: no whole JWT (three dot-separated parts) is printed.
    assert!(
        !stdout
            .split_whitespace()
            .any(|w| w.matches('.').count() >= 2 && w.starts_with("eyJ")),
        "{stdout}"
    );
}
