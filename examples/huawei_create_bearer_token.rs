//! Creates a SCIM bearer token in Huawei Cloud IAM Identity Center (IdentityCenterStore).
//!
//! ```text
//! cargo run --example huawei_create_bearer_token -- --identity-store-id ID --tenant-id ID
//!     [--region cn-north-4] [--endpoint URL] [--timeout S] [--signing-algorithm sha256|sm3]
//! ```
//!
//! `--signing-algorithm sm3` signs with `SDK-HMAC-SM3` instead of the default
//! `SDK-HMAC-SHA256`.
//!
//! Credentials: the Huawei default chain — `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK`,
//! optional `HUAWEICLOUD_SDK_SECURITY_TOKEN` (or OIDC federation with
//! `HUAWEICLOUD_SDK_IDP_ID`, `HUAWEICLOUD_SDK_ID_TOKEN_FILE`, `HUAWEICLOUD_SDK_IAM_ENDPOINT`);
//! else the `[basic]` section of `~/.huaweicloud/credentials`; else pod identity
//! (`HC_CONTAINER_CREDENTIALS_FULL_URI`); else ECS instance metadata
//! (`HUAWEICLOUD_SDK_METADATA_ENDPOINT` overrides `http://169.254.169.254`). The project
//! id: `HUAWEICLOUD_SDK_PROJECT_ID`, else `project_id` in the profile.
//!
//! On success prints one JSON object on stdout:
//! `{"token_id": "...", "token": "...", "creation_time": <ms>, "expiration_time": <ms>}`
//! and exits 0. On failure prints one line on stderr and exits 1 (service or transport
//! error) or 2 (bad arguments, invalid input or missing credentials).

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use cloud_tokens::huawei::{Error, HuaweiAlgorithm, IdentityStoreClient};

#[path = "shared/cli.rs"]
mod cli;

/// Creates a SCIM bearer token for a provisioning tenant of an identity store.
#[derive(Debug, Parser)]
#[command(name = "huawei_create_bearer_token")]
struct Args {
    /// The identity store id (e.g. d-1234567890).
    #[arg(long)]
    identity_store_id: String,
    /// The provisioning tenant id.
    #[arg(long)]
    tenant_id: String,
    /// The region (its endpoint is https://identitystore.{region}.myhuaweicloud.com).
    #[arg(long, default_value = "cn-north-4")]
    region: String,
    /// Another base URL (an emulator, a proxy); http:// is allowed to loopback only.
    #[arg(long)]
    endpoint: Option<String>,
    /// Time allowed for each attempt, in seconds (fractions allowed, e.g. 0.5).
    #[arg(long, value_name = "S", value_parser = cli::parse_seconds)]
    timeout: Option<Duration>,
    /// How requests are signed: sha256 (SDK-HMAC-SHA256) or sm3 (SDK-HMAC-SM3).
    #[arg(long, value_name = "sha256|sm3", default_value = "sha256", value_parser = parse_algorithm)]
    signing_algorithm: HuaweiAlgorithm,
}

/// What is printed on success, fields in the documented order.
#[derive(serde::Serialize)]
struct Output<'a> {
    token_id: &'a str,
    token: &'a str,
    creation_time: i64,
    expiration_time: i64,
}

fn parse_algorithm(s: &str) -> Result<HuaweiAlgorithm, String> {
    s.parse().map_err(|_| format!("`{s}` is not sha256 or sm3"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cli::fail(&e),
    }
}

async fn run(args: Args) -> Result<(), Error> {
    let mut builder = IdentityStoreClient::builder()
        .region(&args.region)
        .signing_algorithm(args.signing_algorithm.clone());
    if let Some(url) = &args.endpoint {
        builder = builder.endpoint(url);
    }
    if let Some(t) = args.timeout {
        builder = builder.timeout(t);
    }
    let client = builder.build()?;
    let token = client
        .create_bearer_token(&args.identity_store_id, &args.tenant_id)
        .await?;
    let out = Output {
        token_id: &token.token_id,
        token: token.token.expose_secret(),
        creation_time: token.creation_time.as_millis(),
        expiration_time: token.expiration_time.as_millis(),
    };
    println!(
        "{}",
        serde_json::to_string(&out).expect("strings and integers serialize")
    );
    Ok(())
}
