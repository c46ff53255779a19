//! Logs in to Cloudforet and prints a scoped access token.
//!
//! ```text
//! cargo run --example cloudforet_login -- --endpoint URL (--domain-id ID | --domain-name NAME)
//!     --user-id ID [--scope DOMAIN|WORKSPACE|USER|SYSTEM] [--workspace-id ID]
//!     [--timeout-seconds N] [--verify-code CODE] [--route console|v2] [--timeout S]
//!     [--cfctl-environment NAME|current]
//! ```
//!
//! The password comes from `CLOUDFORET_PASSWORD`, else from a no-echo prompt. The program
//! issues (LOCAL), then grants the scope with the refresh token. When the server asks for
//! OTP MFA and `CLOUDFORET_OTP_SECRET` (the Base32 TOTP secret) is set, the code is
//! computed and the login completed; otherwise, when no `--verify-code` was given, it asks
//! for the code on a terminal, and without one exits 3 naming the MFA type needed.
//!
//! `--cfctl-environment` takes the settings from cfctl's `~/.cfctl/setting.yaml` (flags
//! given on the command line win): an `-app` environment's App secret is checked locally
//! and printed with its claims, with no call at all; a `-user` environment gives the user
//! id, the REST base from the console's `config/production.json` (unless `--endpoint`),
//! and the domain from the console host's first DNS label (unless `--domain-id` or
//! `--domain-name`). A `grpc+ssl://` endpoint exits 2: a REST endpoint is needed.
//!
//! stdout: `{"access_token", "role_type", "domain_id", "workspace_id", "role_id",
//! "expires_at"}`. Exit 0 on success, 1 for a service or transport error, 2 for bad
//! arguments or invalid input, 3 when an MFA code is needed and cannot be asked for.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Parser, ValueEnum};
use cloud_tokens::cloudforet::error::{mfa_required, MfaRequired};
use cloud_tokens::cloudforet::{
    AppSecret, AuthType, CfctlEnvironment, CfctlSettings, Credentials, EnvironmentKind, Error,
    GrantRequest, IdentityClient, IssueRequest, RouteStyle, Scope, SecretString, TotpSecret,
    Transport,
};
use cloud_tokens::common::clock::unix_seconds;

#[path = "shared/cli.rs"]
mod cli;

#[derive(Parser, Debug)]
#[command(about = "Log in to Cloudforet and print a scoped access token")]
#[command(group(ArgGroup::new("domain").args(["domain_id", "domain_name"])))]
struct Args {
    /// The console-api-v2 base URL (required unless a cfctl environment gives it).
    #[arg(long)]
    endpoint: Option<String>,
    /// The domain id.
    #[arg(long)]
    domain_id: Option<String>,
    /// The domain name (its id is looked up).
    #[arg(long)]
    domain_name: Option<String>,
    /// The user id (required unless a cfctl environment gives it).
    #[arg(long)]
    user_id: Option<String>,
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
    /// Time allowed for each attempt, in seconds (fractions allowed, e.g. 0.5).
    #[arg(long, value_name = "S", value_parser = cli::parse_seconds)]
    timeout: Option<Duration>,
    /// Take settings from this environment of ~/.cfctl/setting.yaml (`current`: the one
    /// the file selects).
    #[arg(long, value_name = "NAME|current")]
    cfctl_environment: Option<String>,
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
        Err(Failure::Error(e)) => cli::fail(&e),
    }
}

async fn run(args: Args) -> Result<serde_json::Value, Failure> {
    // Checked first: a malformed secret is bad input whatever else happens.
    let otp_secret = match std::env::var("CLOUDFORET_OTP_SECRET") {
        Ok(s) if !s.trim().is_empty() => Some(TotpSecret::from_base32(&s)?),
        _ => None,
    };
    let mut transport = Transport::builder().user_agent(concat!(
        "cloud-tokens-example-cloudforet_login/",
        env!("CARGO_PKG_VERSION")
    ));
    if let Some(t) = args.timeout {
        transport = transport.attempt_timeout(t);
    }
    let transport = transport.build()?;

    let cfctl = match &args.cfctl_environment {
        Some(name) => {
            let settings = CfctlSettings::load()?;
            let env = settings.select(name)?.clone();
            if env.kind() != EnvironmentKind::User {
                // cfctl's rule: every environment not named `-user` holds an App secret.
                return Ok(app_output(&env.app_secret()?));
            }
            Some(env)
        }
        None => None,
    };
    let user_id = match (
        &args.user_id,
        cfctl.as_ref().and_then(CfctlEnvironment::user_id),
    ) {
        (Some(id), _) => id.clone(),
        (None, Some(id)) => id.to_owned(),
        (None, None) => return Err(missing("user_id", "--user-id", cfctl.as_ref()).into()),
    };
    let endpoint = match (&args.endpoint, &cfctl) {
        (Some(e), _) => e.clone(),
        (None, Some(env)) => env.rest_endpoint(&transport).await?.to_string(),
        (None, None) => return Err(missing("endpoint", "--endpoint", None).into()),
    };
    let client = IdentityClient::builder()
        .endpoint(&endpoint)
        .route_style(match args.route {
            RouteArg::Console => RouteStyle::Console,
            RouteArg::V2 => RouteStyle::V2Gateway,
        })
        .transport(transport)
        .build()?;
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

    let domain_id = match (&args.domain_id, &args.domain_name, &cfctl) {
        (Some(id), _, _) => id.clone(),
        (None, Some(name), _) => client.domain_auth_info(name).await?.domain_id,
        (None, None, Some(env)) => {
            client
                .domain_auth_info(&env.domain_name()?)
                .await?
                .domain_id
        }
        (None, None, None) => {
            return Err(missing("domain", "--domain-id or --domain-name", None).into())
        }
    };
    let password = password()?;
    let mut login = IssueRequest::new(Credentials::local(&user_id, password), domain_id);
    if let Some(t) = args.timeout_seconds {
        login = login.timeout(t);
    }
    if let Some(secret) = otp_secret {
        login = login.otp_secret(secret);
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
            Err(e) if mfa_required(&e).is_some() => {
                let MfaRequired {
                    mfa_type, user_id, ..
                } = mfa_required(&e).expect("checked by the guard");
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

/// An `-app` environment's answer: the secret itself and what its claims say.
fn app_output(app: &AppSecret) -> serde_json::Value {
    let c = app.claims();
    serde_json::json!({
        "access_token": app.secret().expose_secret(),
        "role_type": c.role_type.as_ref().map(|r| r.as_str()),
        "domain_id": c.domain_id,
        "workspace_id": c.workspace_id,
        "role_id": null,
        "expires_at": unix_seconds(c.expires_at),
    })
}

fn missing(field: &str, flag: &str, env: Option<&CfctlEnvironment>) -> Error {
    let reason = match env {
        Some(env) => format!(
            "is required: give {flag} (cfctl environment `{}` has none)",
            env.name()
        ),
        None => format!("is required: give {flag} or --cfctl-environment"),
    };
    Error::invalid_input(field, reason)
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
