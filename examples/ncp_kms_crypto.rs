//! NCP KMS crypto from the command line: encrypt, decrypt, sign, verify, re-encrypt and
//! create a custom data key.
//!
//! ```text
//! cargo run --example ncp_kms_crypto -- ACTION --key-tag TAG [ACTION OPTIONS]
//!     [--site public|kr|jp|gov] [--endpoint URL] [--profile NAME] [--timeout S]
//!     [--refresh-token-file FILE]
//!   encrypt  --plaintext-file FILE|-  [--context B64]   → {"ciphertext": "ncpkms:v1:…"}
//!   decrypt  --ciphertext C [--context B64]            → {"plaintext": "<base64>"}
//!   sign     --data-file FILE|-                        → {"signature": "ncpkms:v1:…"}
//!   verify   --data-file FILE|- --signature S          → {"valid": true|false}
//!   reencrypt --ciphertext C [--context B64]           → {"ciphertext": "ncpkms:v<N>:…"}
//!   create-custom-key [--bits 128|256|512] [--plain-key]
//!                      → {"ciphertext": …, "keyVersion": N|null, "plaintext": "<base64>"|absent}
//! ```
//!
//! Auth: with `NCLOUD_KMS_REFRESH_TOKEN` set, or `--refresh-token-file FILE`, **token
//! mode**: an access token is refreshed with the refresh token and sent as
//! `x-ncp-ocapi-token`, and account keys are never read. Otherwise the calls are signed
//! with account keys from the environment (`NCLOUD_ACCESS_KEY_ID` / `NCLOUD_ACCESS_KEY`,
//! `NCLOUD_SECRET_ACCESS_KEY` / `NCLOUD_SECRET_KEY`), then `~/.ncloud/configure`, then the
//! server role from instance metadata (`NCLOUD_METADATA_ENDPOINT` /
//! `NCLOUD_METADATA_API_ENDPOINT`).
//!
//! Exit codes: 0 on success (a `verify` that answers false included), 1 for a service or
//! transport error, 2 for bad arguments, invalid input or missing credentials. Errors are
//! one line on stderr and never hold a token, a key or the plaintext.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine as _;
use clap::{Parser, Subcommand};
use cloud_tokens::ncp::{
    Ciphertext, CustomKeyOptions, Error, KeyBits, KmsClient, SecretBytes, SecretString, Signature,
    Site,
};
use serde_json::{json, Value};

#[path = "shared/cli.rs"]
mod cli;
#[path = "shared/ncp.rs"]
mod ncp;

/// The environment variable holding a refresh token (token mode).
const REFRESH_TOKEN_VAR: &str = "NCLOUD_KMS_REFRESH_TOKEN";

/// Encrypts, decrypts, signs and verifies with an NCP KMS key.
#[derive(Debug, Parser)]
#[command(name = "ncp_kms_crypto")]
struct Args {
    #[command(subcommand)]
    action: Action,
    /// The key tag of the KMS key.
    #[arg(long, global = true)]
    key_tag: Option<String>,
    /// The NCP site: public, kr, jp or gov.
    #[arg(long, global = true, default_value = "public", value_parser = ncp::parse_site)]
    site: Site,
    /// Another KMS base URL including /kms/v1 (an emulator, a proxy, the financial site).
    #[arg(long, global = true)]
    endpoint: Option<String>,
    /// The profile of ~/.ncloud/configure to read when the environment has no keys.
    #[arg(long, global = true)]
    profile: Option<String>,
    /// Time allowed for each attempt, in seconds (fractions allowed, e.g. 0.5).
    #[arg(long, global = true, value_name = "S", value_parser = cli::parse_seconds)]
    timeout: Option<Duration>,
    /// A file holding a refresh token: token mode (wins over NCLOUD_KMS_REFRESH_TOKEN).
    #[arg(long, global = true, value_name = "FILE")]
    refresh_token_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Encrypts a file (at most 32 KB).
    Encrypt {
        /// The file to encrypt, or - for standard input.
        #[arg(long, value_name = "FILE|-")]
        plaintext_file: PathBuf,
        /// The encryption context, base64 (at most 50 bytes decoded).
        #[arg(long, value_name = "B64")]
        context: Option<String>,
    },
    /// Decrypts a ciphertext; prints the plaintext as base64.
    Decrypt {
        /// The ciphertext, `ncpkms:v<N>:…`, as encrypt printed it.
        #[arg(long)]
        ciphertext: String,
        /// The context it was encrypted with, base64.
        #[arg(long, value_name = "B64")]
        context: Option<String>,
    },
    /// Signs a file (at most 8 KB).
    Sign {
        /// The message to sign, or - for standard input.
        #[arg(long, value_name = "FILE|-")]
        data_file: PathBuf,
    },
    /// Checks a signature of a file.
    Verify {
        /// The signed message, or - for standard input.
        #[arg(long, value_name = "FILE|-")]
        data_file: PathBuf,
        /// The signature, `ncpkms:v<N>:…`, as sign printed it.
        #[arg(long)]
        signature: String,
    },
    /// Re-encrypts a ciphertext under the key's newest version.
    Reencrypt {
        /// The ciphertext, `ncpkms:v<N>:…`.
        #[arg(long)]
        ciphertext: String,
        /// The context it was encrypted with, base64.
        #[arg(long, value_name = "B64")]
        context: Option<String>,
    },
    /// Has the service make a data key encrypted under the KMS key.
    CreateCustomKey {
        /// The data key's size: 128, 256 or 512 bits.
        #[arg(long, default_value_t = 256)]
        bits: u32,
        /// Also print the data key in the clear (base64).
        #[arg(long)]
        plain_key: bool,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    ncp::finish(run(Args::parse()).await)
}

/// A file's bytes (standard input for `-`), held as a secret.
fn read_input(path: &Path, field: &str) -> Result<SecretBytes, Error> {
    let mut bytes = Vec::new();
    let result = if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut bytes).map(drop)
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    result
        .map_err(|e| Error::invalid_input(field, format!("cannot read {}: {e}", path.display())))?;
    Ok(SecretBytes::new(bytes))
}

fn context(b64: Option<&str>) -> Result<Option<Vec<u8>>, Error> {
    b64.map(|c| {
        base64::engine::general_purpose::STANDARD
            .decode(c.trim())
            .map_err(|_| Error::invalid_input("context", "must be base64"))
    })
    .transpose()
}

/// The refresh token for token mode, if one is given.
fn refresh_token(args: &Args) -> Result<Option<SecretString>, Error> {
    if let Some(path) = &args.refresh_token_file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid_input(
                "refresh_token_file",
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        return Ok(Some(SecretString::new(text.trim())));
    }
    Ok(std::env::var(REFRESH_TOKEN_VAR)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(|t| SecretString::new(t.trim())))
}

fn client(args: &Args, key_tag: &str) -> Result<KmsClient, Error> {
    let mut builder = KmsClient::builder().site(args.site);
    builder = match refresh_token(args)? {
        Some(token) => builder.refresh_token(key_tag, token),
        None => ncp::with_account_keys(builder, args.profile.as_deref()),
    };
    if let Some(url) = &args.endpoint {
        builder = builder.endpoint(url);
    }
    if let Some(t) = args.timeout {
        builder = builder.timeout(t);
    }
    builder.build()
}

async fn run(args: Args) -> Result<Value, Error> {
    let key_tag = args
        .key_tag
        .clone()
        .ok_or_else(|| Error::invalid_input("key_tag", "--key-tag TAG is required"))?;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    // Inputs are read and checked before the client is built, so bad arguments never
    // reach the network.
    match &args.action {
        Action::Encrypt {
            plaintext_file,
            context: ctx,
        } => {
            let plaintext = read_input(plaintext_file, "plaintext_file")?;
            let ctx = context(ctx.as_deref())?;
            let c = client(&args, &key_tag)?
                .encrypt(&key_tag, &plaintext, ctx.as_deref())
                .await?;
            Ok(json!({ "ciphertext": c.as_str() }))
        }
        Action::Decrypt {
            ciphertext,
            context: ctx,
        } => {
            let ct = Ciphertext::parse(ciphertext.trim())?;
            let ctx = context(ctx.as_deref())?;
            let p = client(&args, &key_tag)?
                .decrypt(&key_tag, &ct, ctx.as_deref())
                .await?;
            Ok(json!({ "plaintext": b64(p.expose_secret()) }))
        }
        Action::Sign { data_file } => {
            let data = read_input(data_file, "data_file")?;
            let sig = client(&args, &key_tag)?
                .sign(&key_tag, data.expose_secret())
                .await?;
            Ok(json!({ "signature": sig.as_str() }))
        }
        Action::Verify {
            data_file,
            signature,
        } => {
            let sig = Signature::parse(signature.trim())?;
            let data = read_input(data_file, "data_file")?;
            let valid = client(&args, &key_tag)?
                .verify(&key_tag, data.expose_secret(), &sig)
                .await?;
            Ok(json!({ "valid": valid }))
        }
        Action::Reencrypt {
            ciphertext,
            context: ctx,
        } => {
            let ct = Ciphertext::parse(ciphertext.trim())?;
            let ctx = context(ctx.as_deref())?;
            let c = client(&args, &key_tag)?
                .reencrypt(&key_tag, &ct, ctx.as_deref())
                .await?;
            Ok(json!({ "ciphertext": c.as_str() }))
        }
        Action::CreateCustomKey { bits, plain_key } => {
            let options = CustomKeyOptions::new()
                .with_bits(KeyBits::from_bits(*bits)?)
                .with_plain_key(*plain_key);
            let key = client(&args, &key_tag)?
                .create_custom_key(&key_tag, &options)
                .await?;
            let mut out = json!({
                "ciphertext": key.ciphertext.as_str(),
                "keyVersion": key.key_version,
            });
            if let Some(p) = &key.plaintext {
                out["plaintext"] = json!(b64(p.expose_secret()));
            }
            Ok(out)
        }
    }
}
