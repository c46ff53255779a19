//! Logs in to Cloudforet and prints a scoped access token.
//!
//! ```text
//! cargo run --example cloudforet_login -- --endpoint URL (--domain-id ID | --domain-name NAME)
//!     --user-id ID [--scope DOMAIN|WORKSPACE|USER|SYSTEM] [--workspace-id ID]
//!     [--timeout-seconds N] [--verify-code CODE] [--route console|v2] [--timeout S]
//! ```
//!
//! The password comes from `CLOUDFORET_PASSWORD`, else from a no-echo prompt. The program
//! issues (LOCAL), then grants the scope with the refresh token. When the server asks for
//! MFA and no `--verify-code` was given, it asks for the code on a terminal; without one it
//! exits 3 naming the MFA type needed.
//!
//! stdout: `{"access_token", "role_type", "domain_id", "workspace_id", "role_id",
//! "expires_at"}`. Exit 0 on success, 1 for a service or transport error, 2 for bad
//! arguments or invalid input, 3 when an MFA code is needed and cannot be asked for.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Parser, ValueEnum};
use cloud_tokens::cloudforet::{
    AuthType, Credentials, Error, GrantRequest, IdentityClient, IssueRequest, RouteStyle, Scope,
    SecretString,
};
use cloud_tokens::common::clock::unix_seconds;

#[derive(Parser, Debug)]
#[command(about = "Log in to Cloudforet and print a scoped access token")]
#[command(group(ArgGroup::new("domain").required(true).args(["domain_id", "domain_name"])))]
struct Args {
    /// The console-api-v2 base URL.
    #[arg(long)]
    endpoint: String,
    /// The domain id.
    #[arg(long)]
    domain_id: Option<String>,
    /// The domain name (its id is looked up).
    #[arg(long)]
    domain_name: Option<String>,
    /// The user id.
    #[arg(long)]
    user_id: String,
    /// The scope to grant.
    #[arg(long, value_enum, ignore_case = true, default_value = "DOMAIN")]
    scope: ScopeArg,
    /// The workspace (required for WORKSPACE scope).
    #[arg(long)]
    workspace_id: Option<String>,
    /// Access-token lifetime in seconds (1..=604800).
    #[arg(long)]
    timeout_seconds: Option<u32>,
    /// An MFA verify code: log in with auth type MFA directly.
    #[arg(long)]
    verify_code: Option<String>,
    /// Route style: console (/identity/token/…) or v2 (/identity/v2/token/…).
    #[arg(long, value_enum, default_value = "console")]
    route: RouteArg,
    /// Per-attempt HTTP timeout in seconds.
    #[arg(long)]
    timeout: Option<u64>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ScopeArg {
    #[value(name = "DOMAIN")]
    Domain,
    #[value(name = "WORKSPACE")]
    Workspace,
    #[value(name = "USER")]
    User,
    #[value(name = "SYSTEM")]
    System,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RouteArg {
    Console,
    V2,
}

/// How the program ends when it does not succeed.
enum Failure {
    Error(Error),
    MfaNeeded(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Error(e)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(Failure::MfaNeeded(line)) => {
            eprintln!("{line}");
            ExitCode::from(3)
        }
        Err(Failure::Error(e)) => {
            eprintln!("error: {e}");
            let bad_input = matches!(e, Error::InvalidInput { .. } | Error::Credentials { .. });
            ExitCode::from(if bad_input { 2 } else { 1 })
        }
    }
}

async fn run(args: Args) -> Result<serde_json::Value, Failure> {
    let mut builder = IdentityClient::builder()
        .endpoint(&args.endpoint)
        .route_style(match args.route {
            RouteArg::Console => RouteStyle::Console,
            RouteArg::V2 => RouteStyle::V2Gateway,
        });
    if let Some(s) = args.timeout {
        builder = builder.timeout(Duration::from_secs(s));
    }
    let client = builder.build()?;
    let scope = match args.scope {
        ScopeArg::Domain => Scope::Domain,
        ScopeArg::Workspace => Scope::Workspace,
        ScopeArg::User => Scope::User,
        ScopeArg::System => Scope::System,
    };
    // Check the grant's arguments before anything is sent (and before asking a password).
    let mut grant_check = GrantRequest::refresh_token("-", scope);
    if let Some(w) = &args.workspace_id {
        grant_check = grant_check.workspace_id(w.clone());
    }
    if let Some(t) = args.timeout_seconds {
        grant_check = grant_check.timeout(t);
    }
    grant_check.validate()?;

    let domain_id = match (&args.domain_id, &args.domain_name) {
        (Some(id), _) => id.clone(),
        (None, Some(name)) => client.domain_auth_info(name).await?.domain_id,
        (None, None) => unreachable!("clap requires one of them"),
    };
    let password = password()?;
    let mut login = IssueRequest::new(Credentials::local(&args.user_id, password), domain_id);
    if let Some(t) = args.timeout_seconds {
        login = login.timeout(t);
    }
    let tokens = match &args.verify_code {
        Some(code) => {
            let req = login
                .clone()
                .with_auth_type(AuthType::Mfa)
                .verify_code(code.as_str());
            client.issue(&req).await?
        }
        None => match client.issue(&login).await {
            Ok(t) => t,
            Err(Error::MfaRequired { mfa_type, user_id }) => {
                if !std::io::stdin().is_terminal() {
                    return Err(Failure::MfaNeeded(format!(
                        "error: multi-factor authentication required: a {mfa_type} code for {user_id}; run again with --verify-code CODE"
                    )));
                }
                let code = ask_code(&format!("{mfa_type} code for {user_id}: "))?;
                client.complete_mfa(&login, code).await?
            }
            Err(e) => return Err(e.into()),
        },
    };

    let mut grant = GrantRequest::refresh_token(tokens.refresh_token.clone(), scope);
    if let Some(w) = &args.workspace_id {
        grant = grant.workspace_id(w.clone());
    }
    if let Some(t) = args.timeout_seconds {
        grant = grant.timeout(t);
    }
    let info = client.grant(&grant).await?;
    Ok(serde_json::json!({
        "access_token": info.access_token.expose_secret(),
        "role_type": info.role_type.as_ref().map(|r| r.as_str()),
        "domain_id": info.domain_id,
        "workspace_id": info.workspace_id,
        "role_id": info.role_id,
        "expires_at": info.expires_at().map(unix_seconds),
    }))
}

fn password() -> Result<SecretString, Error> {
    if let Ok(p) = std::env::var("CLOUDFORET_PASSWORD") {
        return Ok(SecretString::new(p));
    }
    rpassword::prompt_password("Cloudforet password: ")
        .map(SecretString::new)
        .map_err(|e| {
            Error::credentials(
                "CLOUDFORET_PASSWORD or the terminal",
                format!("no password: set CLOUDFORET_PASSWORD or run on a terminal ({e})"),
            )
        })
}

fn ask_code(prompt: &str) -> Result<SecretString, Error> {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::invalid_input("verify_code", format!("could not be read: {e}")))?;
    Ok(SecretString::new(line.trim()))
}
