//! Shared helpers of the tests that run this workspace's built programs (the examples and
//! the emulator binary) as processes.
//!
//! Each test file uses only some of these, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A program this workspace builds, by its path under the profile directory
/// (`token-emulator`, `examples/quickstart`). `cargo test` builds examples and every
/// member's binaries before running tests; with a target filter (`cargo test --test …`),
/// build them first.
pub fn built(rel: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps")
        .join(format!("{rel}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: `cargo test --workspace` builds it; with a target filter, build it \
         first (`cargo build --workspace --examples --bins`)",
        path.display()
    );
    path
}

/// An example program, by name.
pub fn example(name: &str) -> PathBuf {
    built(&format!("examples/{name}"))
}

/// A fresh, empty directory (a home directory, a config folder) unique to this process
/// and call.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "cloud-tokens-test-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// The one JSON object a program printed on stdout; panics with both streams otherwise.
pub fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
