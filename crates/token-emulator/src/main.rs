//! `token-emulator [--listen 127.0.0.1:8080] [--config FILE]`: serves the three token APIs
//! until Ctrl-C (or SIGTERM). The first line on stdout is
//! `token-emulator listening on http://HOST:PORT`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use token_emulator::{Config, Emulator};

/// A local server that behaves like NCP KMS, Huawei IdentityCenterStore and Cloudforet
/// identity token APIs.
#[derive(Debug, Parser)]
#[command(name = "token-emulator", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// TOML file with accounts, keys, stores and users (default: the demo accounts).
    #[arg(long)]
    config: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(config) => config,
            Err(e) => {
                eprintln!("token-emulator: {e}");
                return ExitCode::from(2);
            }
        },
        None => Config::demo(),
    };
    let emulator = match Emulator::builder()
        .config(config)
        .start(args.listen.as_str())
        .await
    {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("token-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "token-emulator listening on {}",
        emulator.base_url()
    );
    let _ = stdout.flush();
    stop_requested().await;
    match emulator.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("token-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Waits for Ctrl-C (or, on Unix, SIGTERM, as service managers and containers send).
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("token-emulator: cannot wait for Ctrl-C: {e}");
    }
}
