//! App secrets: an App's `client_secret`, used directly as the bearer token.
//!
//! Identity v2 has no API keys: automation uses an App, whose `client_secret` is a JWT
//! `{typ: "CLIENT_SECRET", own: "APP", did, wid, rol, exp, …}` signed by the domain. It
//! cannot be exchanged for other tokens (grant wants a user's refresh token), so the only
//! checks a client can make are local: that it is an App secret at all, and that it has
//! not expired. [`AppSecret`] makes them before the secret is ever sent, so a wrong or
//! stale secret is a clear error instead of a bare 401 later.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use token_common::clock::{unix_seconds, Clock, SystemClock};
use token_common::transport::BoxFuture;
use token_common::{Error, Expiring, Result, SecretString, TokenSource};

use crate::grant::{GrantTokenInfo, RoleType};
use crate::session::SessionAccessToken;
use crate::source::AccessTokenSource;

/// Where errors about an App secret say the credentials came from.
const SOURCE_NAME: &str = "Cloudforet App client_secret";

/// Longest claim value quoted in an error (a claim is not secret, but it is the server's
/// text, and an error line should stay one line).
const MAX_QUOTED: usize = 40;

/// Why a token is not a usable App secret. Never quotes the token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppSecretError {
    /// Not a JWT, or its payload is not a JSON object of claims.
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// `typ` is not `CLIENT_SECRET` (a user's access or refresh token, say).
    NotClientSecret {
        /// The `typ` the token has (`None` when it has none).
        typ: Option<String>,
    },
    /// `own` is not `APP`.
    NotApp {
        /// The `own` the token has (`None` when it has none).
        own: Option<String>,
    },
    /// A claim every App secret carries is missing or not a string/number.
    MissingClaim {
        /// The claim: `did` or `exp`.
        claim: &'static str,
    },
    /// `exp` has passed: the App's secret must be regenerated.
    Expired {
        /// When it expired.
        expired_at: SystemTime,
    },
}

impl fmt::Display for AppSecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { reason } => write!(f, "not an App client_secret: {reason}"),
            Self::NotClientSecret { typ } => write!(
                f,
                "not an App client_secret: its `typ` claim is {} (expected CLIENT_SECRET; \
                 a user's token belongs in a Session)",
                quoted(typ.as_deref())
            ),
            Self::NotApp { own } => write!(
                f,
                "not an App client_secret: its `own` claim is {} (expected APP)",
                quoted(own.as_deref())
            ),
            Self::MissingClaim { claim } => {
                write!(f, "App client_secret has no `{claim}` claim")
            }
            Self::Expired { expired_at } => write!(
                f,
                "App client_secret expired at {} (Unix seconds): regenerate the App's secret",
                unix_seconds(*expired_at)
            ),
        }
    }
}

impl std::error::Error for AppSecretError {}

impl From<AppSecretError> for Error {
    /// An [`Error::Credentials`] whose source is the App secret and whose reason is the
    /// [`AppSecretError`]'s text.
    fn from(e: AppSecretError) -> Self {
        Error::credentials(SOURCE_NAME, e.to_string())
    }
}

fn quoted(v: Option<&str>) -> String {
    match v {
        None => "absent".to_owned(),
        Some(s) if s.chars().count() > MAX_QUOTED => {
            format!("\"{}…\"", s.chars().take(MAX_QUOTED).collect::<String>())
        }
        Some(s) => format!("\"{s}\""),
    }
}

/// What an App secret says about itself (its JWT claims, read without verifying the
/// signature: the server does that).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AppClaims {
    /// `did`: the domain.
    pub domain_id: String,
    /// `wid`: the workspace, `None` for a DOMAIN App (whose `wid` is `"*"`).
    pub workspace_id: Option<String>,
    /// `rol`: the App's role type.
    pub role_type: Option<RoleType>,
    /// `aud`: the App's id.
    pub app_id: Option<String>,
    /// `jti`: the App's current client id (regenerating the secret changes it).
    pub client_id: Option<String>,
    /// `iat`.
    pub issued_at: Option<SystemTime>,
    /// `exp`.
    pub expires_at: SystemTime,
}

/// An App's `client_secret`, checked locally and held as a secret.
///
/// Built only from a token whose claims say `typ: CLIENT_SECRET` and `own: APP`, with a
/// `did` and an `exp` that has not passed; [`access_token`](AccessTokenSource::access_token)
/// checks the expiry again on every call. It implements [`AccessTokenSource`] (and
/// [`TokenSource`]), so code written for a [`Session`](crate::Session) runs on an App.
/// `Debug` and `Display` never show the secret.
///
/// ```
/// use cloudforet_identity_client::{AccessTokenSource, AppSecret};
/// # fn demo_secret() -> String {
/// #     use base64::Engine as _;
/// #     let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
/// #     format!("{}.{}.sig", b64(r#"{"alg":"RS256"}"#), b64(r#"{"typ":"CLIENT_SECRET","own":"APP","did":"domain-123","wid":"*","rol":"DOMAIN_ADMIN","exp":4000000000}"#))
/// # }
/// # async fn run() -> cloudforet_identity_client::Result<()> {
/// let app = AppSecret::new(demo_secret())?; // refused here if expired or not an App secret
/// assert_eq!(app.claims().domain_id, "domain-123");
/// let token = app.access_token().await?;    // `Authorization: token.bearer()`
/// # let _ = token; Ok(()) }
/// ```
#[derive(Clone)]
pub struct AppSecret {
    token: Arc<Expiring<GrantTokenInfo>>,
    claims: AppClaims,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppSecret")
            .field("secret", &self.token.value.access_token)
            .field("claims", &self.claims)
            .finish()
    }
}

impl fmt::Display for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "App secret for domain {} ({}), expires at {}",
            self.claims.domain_id,
            self.claims
                .workspace_id
                .as_deref()
                .unwrap_or("all workspaces"),
            unix_seconds(self.claims.expires_at)
        )
    }
}

impl AppSecret {
    /// Checks `secret` on the system clock; see [`with_clock`](Self::with_clock).
    pub fn new(secret: impl Into<SecretString>) -> std::result::Result<Self, AppSecretError> {
        Self::with_clock(secret, Arc::new(SystemClock))
    }

    /// Checks `secret`: an App `client_secret` (claims `typ: CLIENT_SECRET`, `own: APP`,
    /// a `did`) that has not expired on `clock` (also used by every later
    /// [`access_token`](AccessTokenSource::access_token)).
    pub fn with_clock(
        secret: impl Into<SecretString>,
        clock: Arc<dyn Clock>,
    ) -> std::result::Result<Self, AppSecretError> {
        let secret = secret.into();
        let claims = read_claims(&secret)?;
        let info = GrantTokenInfo {
            access_token: secret,
            role_type: claims.role_type.clone(),
            domain_id: Some(claims.domain_id.clone()),
            workspace_id: claims.workspace_id.clone(),
            role_id: None,
        };
        let app = Self {
            token: Arc::new(Expiring::new(info, Some(claims.expires_at))),
            claims,
            clock,
        };
        app.check_unexpired()?;
        Ok(app)
    }

    /// The claims: domain, workspace, role, expiry.
    pub fn claims(&self) -> &AppClaims {
        &self.claims
    }

    /// The secret itself, the bearer token.
    ///
    /// # Security
    /// This is the credential: do not log it or keep copies.
    pub fn secret(&self) -> &SecretString {
        &self.token.value.access_token
    }

    /// `Bearer <secret>`, the `Authorization` header value.
    pub fn bearer(&self) -> SecretString {
        SecretString::new(format!("Bearer {}", self.secret().expose_secret()))
    }

    /// Whether `exp` has passed on the secret's clock.
    pub fn is_expired(&self) -> bool {
        self.clock.now() >= self.claims.expires_at
    }

    fn check_unexpired(&self) -> std::result::Result<(), AppSecretError> {
        if self.is_expired() {
            return Err(AppSecretError::Expired {
                expired_at: self.claims.expires_at,
            });
        }
        Ok(())
    }

    /// The secret as a token, or [`Error::SessionExpired`] once it has expired (like a
    /// session whose refresh token ran out: a new secret is needed).
    fn current(&self) -> Result<SessionAccessToken> {
        self.check_unexpired().map_err(|e| Error::SessionExpired {
            reason: e.to_string(),
        })?;
        Ok(SessionAccessToken::from_expiring(self.token.clone()))
    }
}

impl AccessTokenSource for AppSecret {
    /// The secret, checked against its `exp` first: an expired secret is
    /// [`Error::SessionExpired`] (no call is made; nothing can renew it but regenerating
    /// the App's secret).
    fn access_token(&self) -> BoxFuture<'_, Result<SessionAccessToken>> {
        Box::pin(async move { self.current() })
    }

    /// Nothing can be renewed: the secret is all there is. The refusal is logged (the
    /// App may be disabled, or its secret regenerated, which revokes this one).
    fn report_unauthorized(&self, _token: &SessionAccessToken) {
        tracing::warn!(
            domain_id = %self.claims.domain_id,
            app_id = self.claims.app_id.as_deref().unwrap_or(""),
            "Cloudforet refused the App secret: the App may be disabled or its secret regenerated"
        );
    }
}

impl TokenSource for AppSecret {
    type Token = GrantTokenInfo;

    fn fetch(&self) -> BoxFuture<'_, Result<Expiring<GrantTokenInfo>>> {
        Box::pin(async move {
            let t = self.current()?;
            Ok(Expiring::new(t.info().clone(), t.expires_at()))
        })
    }
}

fn read_claims(secret: &SecretString) -> std::result::Result<AppClaims, AppSecretError> {
    let c = token_common::jwt::read_claims(secret.expose_secret()).map_err(|e| {
        AppSecretError::Malformed {
            reason: match e {
                Error::InvalidInput { reason, .. } => reason,
                other => other.to_string(),
            },
        }
    })?;
    let text = |name: &str| c.get_str(name).map(str::to_owned);
    if c.get_str("typ") != Some("CLIENT_SECRET") {
        return Err(AppSecretError::NotClientSecret {
            typ: claim_text(c.get("typ")),
        });
    }
    if c.get_str("own") != Some("APP") {
        return Err(AppSecretError::NotApp {
            own: claim_text(c.get("own")),
        });
    }
    let domain_id = text("did")
        .filter(|d| !d.is_empty())
        .ok_or(AppSecretError::MissingClaim { claim: "did" })?;
    let expires_at = c
        .expires_at()
        .ok_or(AppSecretError::MissingClaim { claim: "exp" })?;
    Ok(AppClaims {
        domain_id,
        workspace_id: text("wid").filter(|w| w != "*" && !w.is_empty()),
        role_type: text("rol").map(|r| RoleType::from_name(&r)),
        app_id: text("aud"),
        client_id: text("jti"),
        issued_at: c.issued_at(),
        expires_at,
    })
}

fn claim_text(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}
