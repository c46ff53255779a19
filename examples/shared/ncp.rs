//! What the NCP examples share (included with `#[path]`, so it is not an example itself):
//! the `--site` parser, the account-key chain, and printing the answer. The option types
//! and exit codes every example shares are in `cli.rs`, included beside this file.

use std::process::ExitCode;

use cloud_tokens::ncp::{
    Error, KmsClientBuilder, LoadChain, NcpEnvironment, NcpProfile, NcpServerRole, Site,
};

/// `--site`: public, kr, jp or gov.
pub fn parse_site(s: &str) -> Result<Site, String> {
    s.parse()
        .map_err(|_| "must be one of public, kr, jp, gov".to_owned())
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

/// Prints the JSON answer on stdout (exit 0), or the failure as `cli::fail` does.
pub fn finish(result: Result<serde_json::Value, Error>) -> ExitCode {
    match result {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => crate::cli::fail(&e),
    }
}
