//! A logged-in user that always has a valid access token.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use token_common::transport::BoxFuture;
use token_common::{Error, Expiring, Result, SecretString, TokenCache, TokenSource};

use crate::client::IdentityClient;
use crate::grant::{check_scope, GrantRequest, GrantTokenInfo, Scope};
use crate::issue::{check_timeout, Credentials, IssueRequest, TokenInfo};
use crate::totp::TotpSecret;

/// Supplies credentials to log in again once the refresh token has expired.
pub type Relogin = Arc<dyn Fn() -> BoxFuture<'static, Result<Credentials>> + Send + Sync>;

/// The server's access-token lifetime when none is asked for, in seconds.
const DEFAULT_TIMEOUT_SECONDS: u64 = 1800;

/// How a [`Session`] logs in and what it grants.
///
/// ```
/// use cloudforet_identity_client::{Credentials, LoginOptions, Scope};
/// let opts = LoginOptions::new(Credentials::local("alice", "pw"), "domain-123")
///     .scope(Scope::Workspace)
///     .workspace_id("workspace-1")
///     .timeout(900);
/// # let _ = opts;
/// ```
#[derive(Clone)]
pub struct LoginOptions {
    credentials: Credentials,
    domain_id: String,
    scope: Scope,
    workspace_id: Option<String>,
    timeout: Option<u32>,
    permissions: Vec<String>,
    verify_code: Option<SecretString>,
    otp_secret: Option<TotpSecret>,
    relogin: Option<Relogin>,
    refresh_margin: Option<Duration>,
}

impl LoginOptions {
    /// Log in with `credentials` in domain `domain_id`, granting DOMAIN scope.
    pub fn new(credentials: Credentials, domain_id: impl Into<String>) -> Self {
        Self {
            credentials,
            domain_id: domain_id.into(),
            scope: Scope::Domain,
            workspace_id: None,
            timeout: None,
            permissions: Vec::new(),
            verify_code: None,
            otp_secret: None,
            relogin: None,
            refresh_margin: None,
        }
    }

    /// The scope to grant (default DOMAIN).
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// The workspace: required for [`Scope::Workspace`].
    pub fn workspace_id(mut self, workspace_id: impl Into<String>) -> Self {
        self.workspace_id = Some(workspace_id.into());
        self
    }

    /// Access-token lifetime in seconds, 1..=604800 (the server's default: 1800).
    pub fn timeout(mut self, seconds: u32) -> Self {
        self.timeout = Some(seconds);
        self
    }

    /// Limits granted tokens to these permissions.
    pub fn permissions(mut self, permissions: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// An MFA verify code: the login is issued with auth type `MFA` and this code.
    pub fn verify_code(mut self, code: impl Into<SecretString>) -> Self {
        self.verify_code = Some(code.into());
        self
    }

    /// The user's TOTP secret: an OTP MFA login (the first one, and any
    /// [`relogin`](Self::relogin)) completes by itself, see [`IssueRequest::otp_secret`].
    pub fn otp_secret(mut self, secret: TotpSecret) -> Self {
        self.otp_secret = Some(secret);
        self
    }

    /// Logs in again with the credentials this returns once the refresh token has expired
    /// or been refused, instead of failing with [`Error::SessionExpired`]. (A user with MFA
    /// cannot log in again unattended: the new login then fails with
    /// [`MfaRequired`](crate::MfaRequired).)
    pub fn relogin<F>(mut self, relogin: F) -> Self
    where
        F: Fn() -> BoxFuture<'static, Result<Credentials>> + Send + Sync + 'static,
    {
        self.relogin = Some(Arc::new(relogin));
        self
    }

    /// Re-grants at most this long before the access token expires (default: 5 minutes,
    /// or half the token's lifetime when shorter).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    fn validate(&self) -> Result<()> {
        check_scope(self.scope, self.workspace_id.as_deref())?;
        if let Some(t) = self.timeout {
            check_timeout(t)?;
        }
        Ok(())
    }

    fn issue_request(&self, credentials: Credentials) -> IssueRequest {
        let mut req = IssueRequest::new(credentials, self.domain_id.clone());
        if let Some(t) = self.timeout {
            req = req.timeout(t);
        }
        if let Some(secret) = &self.otp_secret {
            req = req.otp_secret(secret.clone());
        }
        req
    }
}

impl fmt::Debug for LoginOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginOptions")
            .field("credentials", &self.credentials)
            .field("domain_id", &self.domain_id)
            .field("scope", &self.scope)
            .field("workspace_id", &self.workspace_id)
            .field("timeout", &self.timeout)
            .field("permissions", &self.permissions)
            .field("verify_code", &self.verify_code)
            .field("otp_secret", &self.otp_secret)
            .field("relogin", &self.relogin.is_some())
            .finish()
    }
}

/// An access token handed out by a [`Session`]. `Debug` never prints the token.
#[derive(Debug, Clone)]
pub struct SessionAccessToken(Arc<Expiring<GrantTokenInfo>>);

/// The old name of [`SessionAccessToken`].
#[deprecated(note = "renamed SessionAccessToken (ncp_kms_client's is KmsAccessToken)")]
pub type AccessToken = SessionAccessToken;

impl SessionAccessToken {
    pub(crate) fn from_expiring(token: Arc<Expiring<GrantTokenInfo>>) -> Self {
        Self(token)
    }

    /// The token.
    pub fn secret(&self) -> &SecretString {
        &self.0.value.access_token
    }

    /// The whole grant answer (role type, domain, workspace, role id).
    pub fn info(&self) -> &GrantTokenInfo {
        &self.0.value
    }

    /// When the token expires, on this client's clock: its lifetime (`exp - iat`) counted
    /// from when it was asked for, so a skewed local clock does not matter. The JWT's own
    /// `exp` (the server's clock) is [`GrantTokenInfo::expires_at`] on [`info`](Self::info).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.0.expires_at
    }

    /// `Bearer <token>`, the `Authorization` header value for later calls.
    pub fn bearer(&self) -> SecretString {
        SecretString::new(format!("Bearer {}", self.secret().expose_secret()))
    }
}

/// A logged-in user: issues once, then hands out a valid access token for the chosen
/// scope, re-granting with the same refresh token ahead of the access token's expiry and
/// after a reported 401. Cheap to clone; any number of tasks may share it.
///
/// When the refresh token has expired (its `exp` has passed, or the server answers 401 to
/// a grant), [`access_token`](Self::access_token) fails with [`Error::SessionExpired`] —
/// unless [`LoginOptions::relogin`] was given, in which case the session logs in again.
#[derive(Clone)]
pub struct Session {
    cache: Arc<TokenCache<Granter>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.cache.source().state();
        f.debug_struct("Session")
            .field("scope", &s.scope)
            .field("workspace_id", &s.workspace_id)
            .field("refresh_token_expires_at", &s.refresh_expires_at)
            .field(
                "access_token_expires_at",
                &self.cache.cached().and_then(|t| t.expires_at),
            )
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Logs in (`Token.issue`, auth type `MFA` when a verify code is given) and grants the
    /// scope. An MFA user without a code gets [`MfaRequired`](crate::MfaRequired): log in again with
    /// [`LoginOptions::verify_code`], or complete MFA with the client and use
    /// [`from_tokens`](Self::from_tokens).
    pub async fn login(client: &IdentityClient, options: LoginOptions) -> Result<Self> {
        options.validate()?;
        let mut req = options.issue_request(options.credentials.clone());
        if let Some(code) = &options.verify_code {
            req = req
                .with_auth_type(crate::AuthType::Mfa)
                .verify_code(code.clone());
        }
        let requested_at = client.transport().now();
        let tokens = client.issue(&req).await?;
        Self::start(client, tokens, requested_at, options).await
    }

    /// A session over tokens already issued (say, after [`IdentityClient::complete_mfa`]);
    /// grants the scope before returning.
    pub async fn from_tokens(
        client: &IdentityClient,
        tokens: TokenInfo,
        options: LoginOptions,
    ) -> Result<Self> {
        // Tokens handed in were issued just now, as far as this clock can tell.
        let requested_at = client.transport().now();
        Self::start(client, tokens, requested_at, options).await
    }

    async fn start(
        client: &IdentityClient,
        tokens: TokenInfo,
        requested_at: SystemTime,
        options: LoginOptions,
    ) -> Result<Self> {
        options.validate()?;
        let refresh_expires_at = local_expiry(&tokens.refresh_token, requested_at);
        let state = State {
            refresh_token: tokens.refresh_token,
            refresh_expires_at,
            scope: options.scope,
            workspace_id: options.workspace_id.clone(),
            generation: 0,
        };
        let margin = options.refresh_margin;
        let granter = Granter {
            client: client.clone(),
            options,
            state: Mutex::new(state),
        };
        let mut cache = TokenCache::new(granter).with_clock(client.transport().clock().clone());
        if let Some(m) = margin {
            cache = cache.with_margin(m);
        }
        let session = Self {
            cache: Arc::new(cache),
        };
        session.access_token().await?;
        Ok(session)
    }

    /// A valid access token: from memory while fresh, else from one grant shared by every
    /// caller waiting for it.
    pub async fn access_token(&self) -> Result<SessionAccessToken> {
        self.cache.get().await.map(SessionAccessToken)
    }

    /// Like [`access_token`](Self::access_token), but when the token is due for a re-grant
    /// (inside the refresh margin, still valid) waits for that grant instead of returning
    /// the current token at once. A failed re-grant still gives the valid token.
    pub async fn fresh_access_token(&self) -> Result<SessionAccessToken> {
        self.cache.get_fresh().await.map(SessionAccessToken)
    }

    /// Tells the session that the service answered 401 to `token`: the next
    /// [`access_token`](Self::access_token) grants a new one (once, however many callers
    /// report the same token).
    pub fn report_unauthorized(&self, token: &SessionAccessToken) {
        self.cache.invalidate(&token.0);
    }

    /// Switches to another scope or workspace without logging in again, and grants it.
    /// On failure the session keeps its previous scope.
    pub async fn set_scope(
        &self,
        scope: Scope,
        workspace_id: Option<String>,
    ) -> Result<SessionAccessToken> {
        check_scope(scope, workspace_id.as_deref())?;
        let granter = self.cache.source();
        let previous = granter.switch_scope(scope, workspace_id);
        self.cache.clear();
        match self.access_token().await {
            Ok(t) => Ok(t),
            Err(e) => {
                granter.switch_scope(previous.0, previous.1);
                self.cache.clear();
                Err(e)
            }
        }
    }

    /// The scope and workspace the session grants.
    pub fn scope(&self) -> (Scope, Option<String>) {
        let s = self.cache.source().state();
        (s.scope, s.workspace_id.clone())
    }

    /// When the refresh token expires, on this client's clock (see
    /// [`SessionAccessToken::expires_at`]); after that the session must log in again.
    pub fn refresh_token_expires_at(&self) -> Option<SystemTime> {
        self.cache.source().state().refresh_expires_at
    }
}

struct State {
    refresh_token: SecretString,
    refresh_expires_at: Option<SystemTime>,
    scope: Scope,
    workspace_id: Option<String>,
    /// Bumped by every scope change, so a grant for the old scope is not kept.
    generation: u64,
}

/// The [`TokenSource`] behind a session: grants with the refresh token.
struct Granter {
    client: IdentityClient,
    options: LoginOptions,
    state: Mutex<State>,
}

impl fmt::Debug for Granter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Granter").finish_non_exhaustive()
    }
}

impl TokenSource for Granter {
    type Token = GrantTokenInfo;

    fn fetch(&self) -> BoxFuture<'_, Result<Expiring<GrantTokenInfo>>> {
        Box::pin(self.grant())
    }
}

impl Granter {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn switch_scope(&self, scope: Scope, workspace_id: Option<String>) -> (Scope, Option<String>) {
        let mut s = self.state();
        s.generation += 1;
        let previous = (s.scope, s.workspace_id.take());
        s.scope = scope;
        s.workspace_id = workspace_id;
        previous
    }

    /// Grants the current scope; logs in again (or reports the session expired) when the
    /// refresh token is past its `exp` or refused. Bounded: at most one new login and one
    /// repeat for a scope changed mid-grant.
    async fn grant(&self) -> Result<Expiring<GrantTokenInfo>> {
        let mut logged_in_again = false;
        let mut repeated_for_scope = false;
        loop {
            let now = self.client.transport().now();
            let (request, generation, refresh_expired) = {
                let s = self.state();
                let mut r = GrantRequest::refresh_token(s.refresh_token.clone(), s.scope)
                    .domain_id(self.options.domain_id.clone());
                if let Some(w) = &s.workspace_id {
                    r = r.workspace_id(w.clone());
                }
                if let Some(t) = self.options.timeout {
                    r = r.timeout(t);
                }
                if !self.options.permissions.is_empty() {
                    r = r.permissions(self.options.permissions.clone());
                }
                let expired = s.refresh_expires_at.is_some_and(|e| now >= e);
                (r, s.generation, expired)
            };
            if refresh_expired && !logged_in_again {
                self.log_in_again("the refresh token has expired").await?;
                logged_in_again = true;
                continue;
            }
            match self.client.grant(&request).await {
                Ok(info) => {
                    if self.state().generation != generation && !repeated_for_scope {
                        repeated_for_scope = true;
                        continue;
                    }
                    let expires_at = local_expiry(&info.access_token, now).or_else(|| {
                        let secs = self
                            .options
                            .timeout
                            .map_or(DEFAULT_TIMEOUT_SECONDS, u64::from);
                        now.checked_add(Duration::from_secs(secs))
                    });
                    return Ok(Expiring::new(info, expires_at));
                }
                Err(e) if e.status() == Some(401) && !logged_in_again => {
                    self.log_in_again(&format!("the server refused the refresh token ({e})"))
                        .await?;
                    logged_in_again = true;
                }
                Err(e) if e.status() == Some(401) => {
                    return Err(Error::SessionExpired {
                        reason: format!("the server refused a freshly issued refresh token ({e})"),
                    })
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn log_in_again(&self, reason: &str) -> Result<()> {
        let Some(relogin) = &self.options.relogin else {
            return Err(Error::SessionExpired {
                reason: reason.to_owned(),
            });
        };
        tracing::info!(reason, "Cloudforet session logging in again");
        let credentials = relogin().await?;
        let requested_at = self.client.transport().now();
        let tokens = self
            .client
            .issue(&self.options.issue_request(credentials))
            .await?;
        let mut s = self.state();
        s.refresh_expires_at = local_expiry(&tokens.refresh_token, requested_at);
        s.refresh_token = tokens.refresh_token;
        Ok(())
    }
}

/// When a token expires on the local clock: its lifetime (`exp - iat`, both on the
/// server's clock) counted from `requested_at`, a local time taken before the request was
/// sent.
///
/// Cloudforet calls are unsigned, so the transport never measures clock skew; comparing
/// the server's `exp` with a clock that is behind would serve tokens the server has already
/// expired, and with one that is ahead would re-grant on every call. Counting the lifetime
/// locally avoids both, erring early by the request's latency. Without `iat`, `exp` is
/// taken as it is.
fn local_expiry(token: &SecretString, requested_at: SystemTime) -> Option<SystemTime> {
    let times = token_common::jwt::read_times(token.expose_secret()).ok()?;
    // A server may send any numbers: a lifetime that overflows `SystemTime` is no expiry
    // this clock can hold, so it is treated as none rather than a panic.
    match times.lifetime() {
        Some(lifetime) => requested_at.checked_add(lifetime),
        None => times.expires_at(),
    }
}
