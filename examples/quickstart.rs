//! The README's first command: `cargo run --example quickstart`.
//!
//! Starts the token emulator in-process on a free loopback port and runs the three token
//! flows end to end with the emulator's demo accounts — no credentials, no network:
//!
//! 1. NCP KMS: create a token set for a key, then refresh the access token;
//! 2. Huawei IdentityCenterStore: create, list and delete a SCIM bearer token;
//! 3. Cloudforet identity: issue, grant DOMAIN scope, and a session that re-grants by
//!    itself when its access token nears expiry (time is fast-forwarded to show it).
//!
//! Token values are shortened in the output; a real program would never print them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cloud_tokens::cloudforet::{
    Credentials, GrantRequest, IdentityClient, IssueRequest, LoginOptions, Scope,
};
use cloud_tokens::common::clock::{Clock, SystemClock};
use cloud_tokens::common::credentials::{HuaweiCredentials, NcpCredentials};
use cloud_tokens::common::Transport;
use cloud_tokens::huawei::IdentityStoreClient;
use cloud_tokens::ncp::{KmsClient, TokenSetOptions, TokenValidity};
use cloud_tokens::{Result, SecretString};
use token_emulator::{demo, Emulator};

/// The system clock plus an offset that the demo can move forward, shared by the emulator
/// and the clients so that "later" means the same to both.
#[derive(Debug, Default)]
struct FastForwardClock {
    ahead_ms: AtomicU64,
}

impl FastForwardClock {
    fn fast_forward(&self, by: Duration) {
        self.ahead_ms
            .fetch_add(by.as_millis() as u64, Ordering::Relaxed);
    }
}

impl Clock for FastForwardClock {
    fn now(&self) -> SystemTime {
        SystemClock.now() + Duration::from_millis(self.ahead_ms.load(Ordering::Relaxed))
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("quickstart failed: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    let clock = Arc::new(FastForwardClock::default());
    let emulator = Emulator::builder()
        .clock(clock.clone())
        .start("127.0.0.1:0")
        .await
        .map_err(|e| {
            cloud_tokens::Error::transport(format!("could not start the emulator: {e}"), true)
        })?;
    println!(
        "cloud-tokens quickstart, against the built-in emulator at {}",
        emulator.base_url()
    );
    println!("(demo accounts only; token values are shortened)\n");

    let transport = Transport::builder()
        .clock(clock.clone())
        .attempt_timeout(Duration::from_secs(10))
        .build()?;

    ncp(&emulator.ncp_base_url(), &transport, &*clock).await?;
    huawei(emulator.base_url(), &transport, &*clock).await?;
    cloudforet(emulator.base_url(), &transport, &clock).await?;

    println!("\nAll three flows succeeded.");
    if let Err(e) = emulator.shutdown().await {
        eprintln!("warning: the emulator did not shut down cleanly: {e}");
    }
    Ok(())
}

async fn ncp(endpoint: &str, transport: &Transport, clock: &dyn Clock) -> Result<()> {
    println!(
        "NCP Key Management Service — key tag `{}`",
        demo::NCP_KEY_TAG
    );
    let kms = KmsClient::builder()
        .credentials(NcpCredentials::new(
            demo::NCP_ACCESS_KEY,
            demo::NCP_SECRET_KEY,
        ))
        .endpoint(endpoint)
        .transport(transport.clone())
        .build()?;
    let options = TokenSetOptions::new().with_access_token_hours(TokenValidity::hours(1)?);
    let set = kms.create_token_set(demo::NCP_KEY_TAG, options).await?;
    row(
        "create token set",
        "access",
        &set.access_token,
        set.access_token_expires_at,
        clock,
    );
    row(
        "",
        "refresh",
        &set.refresh_token,
        set.refresh_token_expires_at,
        clock,
    );
    let refreshed = kms
        .refresh_access_token(
            demo::NCP_KEY_TAG,
            &set.refresh_token,
            Some(TokenValidity::hours(2)?),
        )
        .await?;
    row(
        "refresh access token",
        "access",
        &refreshed.token,
        refreshed.expires_at,
        clock,
    );
    Ok(())
}

async fn huawei(endpoint: &str, transport: &Transport, clock: &dyn Clock) -> Result<()> {
    println!(
        "\nHuawei Cloud IdentityCenterStore — store `{}`, tenant `{}`",
        demo::HUAWEI_IDENTITY_STORE_ID,
        demo::HUAWEI_TENANT_ID
    );
    let store = IdentityStoreClient::builder()
        .credentials(
            HuaweiCredentials::new(demo::HUAWEI_AK, demo::HUAWEI_SK)
                .with_project_id(demo::HUAWEI_PROJECT_ID),
        )
        .endpoint(endpoint)
        .transport(transport.clone())
        .build()?;
    let (id, tenant) = (demo::HUAWEI_IDENTITY_STORE_ID, demo::HUAWEI_TENANT_ID);
    let token = store.create_bearer_token(id, tenant).await?;
    row(
        "create bearer token",
        "bearer",
        &token.token,
        Some(token.expiration_time.as_system_time()),
        clock,
    );
    println!("{:<22} id {}", "", token.token_id);
    let listed = store.list_bearer_tokens(id, tenant).await?;
    println!(
        "{:<22} {} token(s) on the tenant",
        "list bearer tokens",
        listed.len()
    );
    store
        .delete_bearer_token(id, tenant, &token.token_id)
        .await?;
    let left = store.list_bearer_tokens(id, tenant).await?;
    println!(
        "{:<22} deleted {}; {} left",
        "delete bearer token",
        token.token_id,
        left.len()
    );
    Ok(())
}

async fn cloudforet(
    endpoint: &str,
    transport: &Transport,
    clock: &Arc<FastForwardClock>,
) -> Result<()> {
    println!(
        "\nCloudforet identity — domain `{}`",
        demo::CLOUDFORET_DOMAIN_NAME
    );
    let identity = IdentityClient::builder()
        .endpoint(endpoint)
        .transport(transport.clone())
        .build()?;
    let domain = identity
        .domain_auth_info(demo::CLOUDFORET_DOMAIN_NAME)
        .await?;
    println!("{:<22} {}", "domain id", domain.domain_id);

    let credentials = Credentials::local(
        demo::CLOUDFORET_ADMIN_USER_ID,
        demo::CLOUDFORET_ADMIN_PASSWORD,
    );
    let issued = identity
        .issue(&IssueRequest::new(
            credentials.clone(),
            domain.domain_id.clone(),
        ))
        .await?;
    row(
        "issue (LOCAL)",
        "access",
        &issued.access_token,
        issued.access_token_expires_at(),
        &**clock,
    );
    row(
        "",
        "refresh",
        &issued.refresh_token,
        issued.refresh_token_expires_at(),
        &**clock,
    );

    let granted = identity
        .grant(
            &GrantRequest::refresh_token(issued.refresh_token.clone(), Scope::Domain)
                .domain_id(domain.domain_id.clone()),
        )
        .await?;
    row(
        "grant DOMAIN",
        "access",
        &granted.access_token,
        granted.expires_at(),
        &**clock,
    );
    println!(
        "{:<22} role {}",
        "",
        granted.role_type.as_ref().map_or("(none)", |r| r.as_str())
    );

    let session = identity
        .login(LoginOptions::new(credentials, domain.domain_id).scope(Scope::Domain))
        .await?;
    let first = session.access_token().await?;
    row(
        "session",
        "access",
        first.secret(),
        first.expires_at(),
        &**clock,
    );
    // Move the shared clock to 26 minutes later: the 30-minute access token is now inside
    // the refresh margin, so the session grants a new one with its refresh token.
    clock.fast_forward(Duration::from_secs(26 * 60));
    println!("{:<22} (clock fast-forwarded 26 minutes)", "");
    // The re-grant runs in the background for callers of `access_token`; this one waits.
    let second = session.fresh_access_token().await?;
    let regranted = second.secret().expose_secret() != first.secret().expose_secret();
    row(
        if regranted {
            "session re-granted"
        } else {
            "session (unchanged)"
        },
        "access",
        second.secret(),
        second.expires_at(),
        &**clock,
    );
    if !regranted {
        return Err(cloud_tokens::Error::invalid_input(
            "session",
            "did not re-grant inside the refresh margin",
        ));
    }
    Ok(())
}

/// One line of the summary: what was done, which token, a shortened value, and its expiry.
fn row(
    action: &str,
    which: &str,
    token: &SecretString,
    expires_at: Option<SystemTime>,
    clock: &dyn Clock,
) {
    println!(
        "{action:<22} {which:<8} {:<24} {}",
        shorten(token),
        describe_expiry(expires_at, clock.now())
    );
}

fn shorten(token: &SecretString) -> String {
    let t = token.expose_secret();
    let head: String = t.chars().take(10).collect();
    format!("{head}…({} chars)", t.chars().count())
}

fn describe_expiry(expires_at: Option<SystemTime>, now: SystemTime) -> String {
    let Some(at) = expires_at else {
        return "never expires".to_owned();
    };
    let left = at.duration_since(now).unwrap_or_default().as_secs();
    let human = match left {
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
        s if s >= 3600 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}m {:02}s", s / 60, s % 60),
    };
    format!("expires in {human} ({})", httpdate::fmt_http_date(at))
}
