//! What the NCP examples share (included with `#[path]`, so it is not an example itself):
//! the argument parsers, the account-key chain, and the output and exit-code contract of
//! DESIGN.md.

use std::process::ExitCode;
use std::time::Duration;

use cloud_tokens::ncp::{
    Error, KmsClientBuilder, LoadChain, NcpEnvironment, NcpProfile, NcpServerRole, Site,
};

/// `--site`: public, kr, jp or gov.
pub fn parse_site(s: &str) -> Result<Site, String> {
    s.parse()
        .map_err(|_| "must be one of public, kr, jp, gov".to_owned())
}

/// `--timeout`: seconds, more than zero (fractions allowed).
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if secs.is_nan() || secs <= 0.0 {
        return Err("must be more than zero seconds".to_owned());
    }
    Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())
}

/// Account keys the way the official tools find them: the environment, then
/// `~/.ncloud/configure` (`profile` picks a `[section]`), then the server role from
/// instance metadata (`NCLOUD_METADATA_ENDPOINT` / `NCLOUD_METADATA_API_ENDPOINT`).
pub fn with_account_keys(builder: KmsClientBuilder, profile: Option<&str>) -> KmsClientBuilder {
    let mut file = NcpProfile::new();
    if let Some(name) = profile {
        file = file.profile(name);
    }
    builder.credentials_loader(LoadChain::ncp(
        NcpEnvironment::new(),
        file,
        NcpServerRole::new(),
    ))
}

/// Prints the JSON answer on stdout (exit 0), or one line on stderr: exit 2 for bad
/// arguments, invalid input and missing or broken credentials, 1 for the rest.
pub fn finish(result: Result<serde_json::Value, Error>) -> ExitCode {
    match result {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                Error::InvalidInput { .. }
                | Error::Credentials { .. }
                | Error::CredentialsNotFound { .. } => ExitCode::from(2),
                _ => ExitCode::from(1),
            }
        }
    }
}
