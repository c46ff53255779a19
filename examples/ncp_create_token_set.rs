//! Creates an NCP KMS token set (an access token and a refresh token) for a key.
//!
//! ```text
//! cargo run --example ncp_create_token_set -- --key-tag TAG
//!     [--access-token-hours N|UL] [--refresh-token-hours N|UL]
//!     [--site public|kr|jp|gov] [--endpoint URL] [--profile NAME] [--timeout S]
//! ```
//!
//! Credentials: the access key from `NCLOUD_ACCESS_KEY_ID`, else `NCLOUD_ACCESS_KEY`; the
//! secret key from `NCLOUD_SECRET_ACCESS_KEY`, else `NCLOUD_SECRET_KEY`; else the profile
//! file `~/.ncloud/configure` (`--profile` picks the `[section]`, default `DEFAULT` or
//! `NCLOUD_PROFILE`); else, on an NCP server with a role attached, the role's temporary
//! keys from instance metadata (`NCLOUD_METADATA_ENDPOINT` or
//! `NCLOUD_METADATA_API_ENDPOINT` overrides `http://169.254.169.254`). `--endpoint` is the KMS base URL including `/kms/v1`; plain
//! `http://` is allowed to loopback only (the emulator).
//!
//! On success prints one JSON object on stdout:
//! `{"accessToken": "...", "refreshToken": "...", "accessTokenExpiresAt": <unix seconds or
//! null>, "refreshTokenExpiresAt": <unix seconds or null>}` and exits 0. On failure prints
//! one line on stderr (status, service code and message, request id; never a secret) and
//! exits 1 (service or transport error) or 2 (bad arguments, invalid input or missing
//! credentials).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cloud_tokens::common::clock::unix_seconds;
use cloud_tokens::ncp::{Error, KmsClient, Site, TokenSetOptions, TokenValidity};

#[path = "shared/cli.rs"]
mod cli;
#[path = "shared/ncp.rs"]
mod ncp;

/// Creates a token set for an NCP KMS key.
#[derive(Debug, Parser)]
#[command(name = "ncp_create_token_set")]
struct Args {
    /// The key tag of the KMS key.
    #[arg(long)]
    key_tag: String,
    /// Access-token validity: whole hours 1..=17520, or UL (unlimited). Default 72.
    #[arg(long, value_name = "N|UL", value_parser = parse_hours)]
    access_token_hours: Option<TokenValidity>,
    /// Refresh-token validity: whole hours 1..=17520, or UL (unlimited). Default 2160.
    #[arg(long, value_name = "N|UL", value_parser = parse_hours)]
    refresh_token_hours: Option<TokenValidity>,
    /// The NCP site: public, kr, jp or gov.
    #[arg(long, default_value = "public", value_parser = ncp::parse_site)]
    site: Site,
    /// Another KMS base URL including /kms/v1 (an emulator, a proxy, the financial site).
    #[arg(long)]
    endpoint: Option<String>,
    /// The profile of ~/.ncloud/configure to read when the environment has no keys.
    #[arg(long)]
    profile: Option<String>,
    /// Time allowed for each attempt, in seconds (fractions allowed, e.g. 0.5).
    #[arg(long, value_name = "S", value_parser = cli::parse_seconds)]
    timeout: Option<Duration>,
}

fn parse_hours(s: &str) -> Result<TokenValidity, String> {
    s.parse()
        .map_err(|_| "must be a whole number of hours from 1 to 17520, or UL".to_owned())
}

#[tokio::main]
async fn main() -> ExitCode {
    ncp::finish(run(Args::parse()).await)
}

async fn run(args: Args) -> Result<serde_json::Value, Error> {
    let mut builder =
        ncp::with_account_keys(KmsClient::builder(), args.profile.as_deref()).site(args.site);
    if let Some(url) = &args.endpoint {
        builder = builder.endpoint(url);
    }
    if let Some(t) = args.timeout {
        builder = builder.timeout(t);
    }
    let client = builder.build()?;
    // Both hours are optional (left out, the service's defaults apply).
    let mut options = TokenSetOptions::new();
    options.access_token_hours = args.access_token_hours;
    options.refresh_token_hours = args.refresh_token_hours;
    let set = client.create_token_set(&args.key_tag, options).await?;
    Ok(serde_json::json!({
        "accessToken": set.access_token.expose_secret(),
        "refreshToken": set.refresh_token.expose_secret(),
        "accessTokenExpiresAt": set.access_token_expires_at.map(unix_seconds),
        "refreshTokenExpiresAt": set.refresh_token_expires_at.map(unix_seconds),
    }))
}
