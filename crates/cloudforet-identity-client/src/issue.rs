//! `Token.issue`: credentials in, access and refresh tokens out.

use std::fmt;
use std::time::SystemTime;

use serde::Deserialize;
use serde_json::{Map, Value};
use token_common::{Error, Result, SecretString};

use crate::totp::TotpSecret;

/// The longest access-token lifetime the server accepts, in seconds (7 days).
pub const MAX_TIMEOUT_SECONDS: u32 = 604_800;

/// What proves the user's identity to `Token.issue`.
///
/// `Debug` never prints a password or an external credential's values (only its keys).
#[derive(Clone)]
pub enum Credentials {
    /// A user of the domain's local identity store: sent as `{"user_id", "password"}`.
    Local {
        /// The user id (often an e-mail address).
        user_id: String,
        /// The password.
        password: SecretString,
    },
    /// Fields passed unchanged to the domain's external auth plugin (for example
    /// `{"access_token": "<IdP token>"}`). Every value is treated as a secret.
    External(Map<String, Value>),
}

impl Credentials {
    /// Local credentials.
    ///
    /// ```
    /// use cloudforet_identity_client::Credentials;
    /// let c = Credentials::local("alice@example.com", "pa55word");
    /// assert!(!format!("{c:?}").contains("pa55word"));
    /// ```
    pub fn local(user_id: impl Into<String>, password: impl Into<SecretString>) -> Self {
        Self::Local {
            user_id: user_id.into(),
            password: password.into(),
        }
    }

    /// External-plugin credentials.
    pub fn external(fields: Map<String, Value>) -> Self {
        Self::External(fields)
    }

    /// The auth type these credentials are issued with unless told otherwise.
    pub fn default_auth_type(&self) -> AuthType {
        match self {
            Self::Local { .. } => AuthType::Local,
            Self::External(_) => AuthType::External,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        match self {
            Self::Local { user_id, password } => {
                if user_id.trim().is_empty() {
                    return Err(Error::invalid_input("user_id", "must not be empty"));
                }
                if password.is_empty() {
                    return Err(Error::invalid_input("password", "must not be empty"));
                }
            }
            Self::External(fields) if fields.is_empty() => {
                return Err(Error::invalid_input(
                    "credentials",
                    "external credentials need at least one field for the auth plugin",
                ))
            }
            Self::External(_) => {}
        }
        Ok(())
    }

    /// The `credentials` Struct as JSON (the one place a password is written out).
    fn to_json(&self) -> Value {
        match self {
            Self::Local { user_id, password } => {
                let mut m = Map::new();
                m.insert("user_id".into(), Value::String(user_id.clone()));
                m.insert(
                    "password".into(),
                    Value::String(password.expose_secret().to_owned()),
                );
                Value::Object(m)
            }
            Self::External(fields) => Value::Object(fields.clone()),
        }
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local { user_id, password } => f
                .debug_struct("Local")
                .field("user_id", user_id)
                .field("password", password)
                .finish(),
            Self::External(fields) => {
                let keys: Vec<&String> = fields.keys().collect();
                f.debug_struct("External")
                    .field("keys", &keys)
                    .field("values", &token_common::secret::REDACTED)
                    .finish()
            }
        }
    }
}

/// How `Token.issue` authenticates (proto `AuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthType {
    /// User id and password of the local identity store.
    Local,
    /// An external identity provider through the domain's auth plugin.
    External,
    /// The second step of a multi-factor login: the same credentials plus a verify code.
    Mfa,
}

impl AuthType {
    /// The proto enum name sent on the wire (`LOCAL`, `EXTERNAL`, `MFA`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "LOCAL",
            Self::External => "EXTERNAL",
            Self::Mfa => "MFA",
        }
    }
}

/// A `Token.issue` request.
///
/// ```
/// use cloudforet_identity_client::{AuthType, Credentials, IssueRequest};
/// let req = IssueRequest::new(Credentials::local("alice", "pw"), "domain-123").timeout(3600);
/// assert_eq!(req.auth_type(), AuthType::Local);
/// ```
#[derive(Debug, Clone)]
pub struct IssueRequest {
    credentials: Credentials,
    auth_type: Option<AuthType>,
    timeout: Option<u32>,
    verify_code: Option<SecretString>,
    domain_id: String,
    otp_secret: Option<TotpSecret>,
}

impl IssueRequest {
    /// A request for `credentials` in the domain `domain_id` (required by the server).
    pub fn new(credentials: Credentials, domain_id: impl Into<String>) -> Self {
        Self {
            credentials,
            auth_type: None,
            timeout: None,
            verify_code: None,
            domain_id: domain_id.into(),
            otp_secret: None,
        }
    }

    /// The user's TOTP secret: when the server answers that OTP MFA is required,
    /// [`issue`](crate::IdentityClient::issue) computes the current code and completes the
    /// MFA step in the same call (never sent itself; `Debug` shows a redaction).
    pub fn otp_secret(mut self, secret: TotpSecret) -> Self {
        self.otp_secret = Some(secret);
        self
    }

    pub(crate) fn otp(&self) -> Option<&TotpSecret> {
        self.otp_secret.as_ref()
    }

    /// The auth type sent (default: `LOCAL` for local credentials, `EXTERNAL` for external
    /// ones).
    pub fn auth_type(&self) -> AuthType {
        self.auth_type
            .unwrap_or_else(|| self.credentials.default_auth_type())
    }

    /// Sends this auth type instead of the credentials' default.
    pub fn with_auth_type(mut self, auth_type: AuthType) -> Self {
        self.auth_type = Some(auth_type);
        self
    }

    /// The access token's lifetime in seconds, 1..=604800 (the server's default: 1800).
    pub fn timeout(mut self, seconds: u32) -> Self {
        self.timeout = Some(seconds);
        self
    }

    /// The MFA verify code (sent with auth type `MFA`).
    pub fn verify_code(mut self, code: impl Into<SecretString>) -> Self {
        self.verify_code = Some(code.into());
        self
    }

    /// The credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The domain id.
    pub fn domain_id(&self) -> &str {
        &self.domain_id
    }

    /// The same request as the second step of an MFA login: auth type `MFA`, identical
    /// credentials, and `verify_code` (none: ask the server to send a new code).
    pub(crate) fn to_mfa(&self, verify_code: Option<SecretString>) -> Self {
        Self {
            auth_type: Some(AuthType::Mfa),
            verify_code,
            ..self.clone()
        }
    }

    /// Checks the request as [`issue`](crate::IdentityClient::issue) does before sending:
    /// an [`Error::InvalidInput`] names the field at fault.
    pub fn validate(&self) -> Result<()> {
        self.credentials.validate()?;
        if self.domain_id.trim().is_empty() {
            return Err(Error::invalid_input("domain_id", "must not be empty"));
        }
        if let Some(t) = self.timeout {
            check_timeout(t)?;
        }
        if self
            .verify_code
            .as_ref()
            .is_some_and(SecretString::is_empty)
        {
            return Err(Error::invalid_input(
                "verify_code",
                "must not be empty (leave it out to have the code sent again)",
            ));
        }
        Ok(())
    }

    /// The secret texts this request sends (password, verify code, external values).
    pub(crate) fn secret_values(&self) -> Vec<&str> {
        let mut out = Vec::new();
        match &self.credentials {
            Credentials::Local { password, .. } => out.push(password.expose_secret()),
            Credentials::External(fields) => out.extend(fields.values().filter_map(Value::as_str)),
        }
        if let Some(code) = &self.verify_code {
            out.push(code.expose_secret());
        }
        out
    }

    /// The body in protobuf's JSON mapping: absent values left out, never `null`.
    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("credentials".into(), self.credentials.to_json());
        m.insert("auth_type".into(), self.auth_type().as_str().into());
        if let Some(t) = self.timeout {
            m.insert("timeout".into(), t.into());
        }
        if let Some(code) = &self.verify_code {
            m.insert("verify_code".into(), code.expose_secret().into());
        }
        m.insert("domain_id".into(), self.domain_id.clone().into());
        Value::Object(m)
    }
}

pub(crate) fn check_timeout(seconds: u32) -> Result<()> {
    if !(1..=MAX_TIMEOUT_SECONDS).contains(&seconds) {
        return Err(Error::invalid_input(
            "timeout",
            format!("must be 1..={MAX_TIMEOUT_SECONDS} seconds, got {seconds}"),
        ));
    }
    Ok(())
}

/// What `Token.issue` answers: an access token and the refresh token that grants more.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct TokenInfo {
    /// The access token (a JWT scoped to the user; grant a scope before calling APIs).
    pub access_token: SecretString,
    /// The refresh token: granted against, unchanged, until it expires (10800 s by default).
    pub refresh_token: SecretString,
}

impl TokenInfo {
    /// When the access token expires, from its JWT `exp` claim.
    pub fn access_token_expires_at(&self) -> Option<SystemTime> {
        jwt_expiry(&self.access_token)
    }

    /// When the refresh token expires, from its JWT `exp` claim.
    pub fn refresh_token_expires_at(&self) -> Option<SystemTime> {
        jwt_expiry(&self.refresh_token)
    }
}

/// A token's `exp`, when it is a JWT that has one.
pub(crate) fn jwt_expiry(token: &SecretString) -> Option<SystemTime> {
    token_common::jwt::read_times(token.expose_secret())
        .ok()
        .and_then(|t| t.expires_at())
}
