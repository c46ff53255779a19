//! What every example shares (included with `#[path]`, so it is not an example itself): the
//! option types of DESIGN.md's command-line contract and its exit codes, written once so
//! that every example reads `--timeout` and fails the same way.

use std::process::ExitCode;
use std::time::Duration;

use cloud_tokens::Error;

/// `--timeout S`: seconds per attempt, more than zero, fractions allowed (`0.5`).
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if secs.is_nan() || secs <= 0.0 {
        return Err("must be more than zero seconds".to_owned());
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// Prints a failure on stderr as one line and gives its exit code: 2 for invalid input and
/// missing or broken credentials (what the person running the program can fix), 1 for a
/// service or transport error. (clap exits 2 on bad arguments itself.)
pub fn fail(e: &Error) -> ExitCode {
    eprintln!("error: {e}");
    match e {
        Error::InvalidInput { .. }
        | Error::Credentials { .. }
        | Error::CredentialsNotFound { .. } => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}
