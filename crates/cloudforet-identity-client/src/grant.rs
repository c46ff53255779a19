//! `Token.grant`: a refresh (or system) token in, a scoped access token out.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use token_common::{Error, Result, SecretString};

use crate::issue::{check_timeout, jwt_expiry};

/// What kind of token a grant is made with (proto `GrantType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    /// The refresh token from `Token.issue`.
    RefreshToken,
    /// A system token (for the platform's own services).
    SystemToken,
}

impl GrantType {
    /// The proto enum name sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RefreshToken => "REFRESH_TOKEN",
            Self::SystemToken => "SYSTEM_TOKEN",
        }
    }
}

/// The scope an access token is granted for (proto `Scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The whole system (system users only).
    System,
    /// The user's domain.
    Domain,
    /// One workspace: needs a workspace id.
    Workspace,
    /// The user's own resources.
    User,
    /// Exists in the proto, but servers refuse it (400 `ERROR_INVALID_PARAMETER`); this
    /// client refuses it before sending, with [`Error::InvalidInput`] for `scope`.
    Project,
}

impl Scope {
    /// The proto enum name sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "SYSTEM",
            Self::Domain => "DOMAIN",
            Self::Workspace => "WORKSPACE",
            Self::User => "USER",
            Self::Project => "PROJECT",
        }
    }

    /// Parses a proto enum name (`DOMAIN`, …), ignoring case.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::System,
            Self::Domain,
            Self::Workspace,
            Self::User,
            Self::Project,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Refuses a scope servers refuse, and a workspace scope without a workspace id.
pub(crate) fn check_scope(scope: Scope, workspace_id: Option<&str>) -> Result<()> {
    match scope {
        Scope::Project => Err(Error::invalid_input(
            "scope",
            "PROJECT exists in the proto but Cloudforet servers refuse it; use WORKSPACE, DOMAIN, USER or SYSTEM",
        )),
        Scope::Workspace if workspace_id.is_none_or(|w| w.trim().is_empty()) => Err(
            Error::invalid_input("workspace_id", "is required for the WORKSPACE scope"),
        ),
        _ => Ok(()),
    }
}

/// A `Token.grant` request.
///
/// ```
/// use cloudforet_identity_client::{GrantRequest, Scope};
/// let req = GrantRequest::refresh_token("eyJ…", Scope::Workspace).workspace_id("workspace-1");
/// assert_eq!(req.scope(), Scope::Workspace);
/// ```
#[derive(Debug, Clone)]
pub struct GrantRequest {
    grant_type: GrantType,
    token: SecretString,
    scope: Scope,
    timeout: Option<u32>,
    permissions: Vec<String>,
    domain_id: Option<String>,
    workspace_id: Option<String>,
}

impl GrantRequest {
    /// A grant of `scope` with `token` of kind `grant_type`.
    pub fn new(grant_type: GrantType, token: impl Into<SecretString>, scope: Scope) -> Self {
        Self {
            grant_type,
            token: token.into(),
            scope,
            timeout: None,
            permissions: Vec::new(),
            domain_id: None,
            workspace_id: None,
        }
    }

    /// A grant of `scope` with a refresh token (the usual case).
    pub fn refresh_token(token: impl Into<SecretString>, scope: Scope) -> Self {
        Self::new(GrantType::RefreshToken, token, scope)
    }

    /// The access token's lifetime in seconds, 1..=604800 (the server's default: 1800).
    pub fn timeout(mut self, seconds: u32) -> Self {
        self.timeout = Some(seconds);
        self
    }

    /// Limits the token to these permissions (none: the role's own).
    pub fn permissions(mut self, permissions: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// The domain id (the server otherwise takes it from the token).
    pub fn domain_id(mut self, domain_id: impl Into<String>) -> Self {
        self.domain_id = Some(domain_id.into());
        self
    }

    /// The workspace id: required for [`Scope::Workspace`].
    pub fn workspace_id(mut self, workspace_id: impl Into<String>) -> Self {
        self.workspace_id = Some(workspace_id.into());
        self
    }

    /// The scope.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Checks the request as [`grant`](crate::IdentityClient::grant) does before sending:
    /// an [`Error::InvalidInput`] names the field at fault.
    pub fn validate(&self) -> Result<()> {
        if self.token.is_empty() {
            return Err(Error::invalid_input("token", "must not be empty"));
        }
        check_scope(self.scope, self.workspace_id.as_deref())?;
        if let Some(t) = self.timeout {
            check_timeout(t)?;
        }
        if self
            .domain_id
            .as_deref()
            .is_some_and(|d| d.trim().is_empty())
        {
            return Err(Error::invalid_input(
                "domain_id",
                "must not be empty (leave it out to use the token's domain)",
            ));
        }
        if self
            .workspace_id
            .as_deref()
            .is_some_and(|w| w.trim().is_empty())
        {
            return Err(Error::invalid_input("workspace_id", "must not be empty"));
        }
        if self.permissions.iter().any(|p| p.trim().is_empty()) {
            return Err(Error::invalid_input(
                "permissions",
                "must not contain an empty permission",
            ));
        }
        Ok(())
    }

    /// The token's text, to keep it out of echoed error messages.
    pub(crate) fn token_value(&self) -> &str {
        self.token.expose_secret()
    }

    /// The body in protobuf's JSON mapping: absent values left out, never `null`.
    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("grant_type".into(), self.grant_type.as_str().into());
        m.insert("token".into(), self.token.expose_secret().into());
        m.insert("scope".into(), self.scope.as_str().into());
        if let Some(t) = self.timeout {
            m.insert("timeout".into(), t.into());
        }
        if !self.permissions.is_empty() {
            m.insert("permissions".into(), self.permissions.clone().into());
        }
        if let Some(d) = &self.domain_id {
            m.insert("domain_id".into(), d.clone().into());
        }
        if let Some(w) = &self.workspace_id {
            m.insert("workspace_id".into(), w.clone().into());
        }
        Value::Object(m)
    }
}

/// The role behind a granted token (proto `RoleType`), with a fallback for later values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RoleType {
    /// Administrator of the domain (also answered when a domain admin grants WORKSPACE or
    /// USER scope).
    DomainAdmin,
    /// Owner of the workspace.
    WorkspaceOwner,
    /// Member of the workspace.
    WorkspaceMember,
    /// A plain user.
    User,
    /// A value this library does not know yet, as the server named it.
    Unknown(String),
}

impl RoleType {
    /// Parses the server's name.
    pub fn from_name(name: &str) -> Self {
        match name {
            "DOMAIN_ADMIN" => Self::DomainAdmin,
            "WORKSPACE_OWNER" => Self::WorkspaceOwner,
            "WORKSPACE_MEMBER" => Self::WorkspaceMember,
            "USER" => Self::User,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The server's name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::DomainAdmin => "DOMAIN_ADMIN",
            Self::WorkspaceOwner => "WORKSPACE_OWNER",
            Self::WorkspaceMember => "WORKSPACE_MEMBER",
            Self::User => "USER",
            Self::Unknown(s) => s,
        }
    }
}

impl fmt::Display for RoleType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RoleType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        // Protobuf's JSON mapping may also write an enum as its number.
        Ok(match Value::deserialize(d)? {
            Value::String(s) => Self::from_name(&s),
            Value::Number(n) => match n.as_u64() {
                Some(1) => Self::DomainAdmin,
                Some(2) => Self::WorkspaceOwner,
                Some(3) => Self::WorkspaceMember,
                Some(4) => Self::User,
                _ => Self::Unknown(n.to_string()),
            },
            other => Self::Unknown(other.to_string()),
        })
    }
}

/// What `Token.grant` answers. Servers leave out empty and default fields (no
/// `workspace_id` for DOMAIN scope, …), so everything but the token is optional.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct GrantTokenInfo {
    /// The scoped access token; send it as `Authorization: Bearer <token>`.
    pub access_token: SecretString,
    /// The role the token carries.
    #[serde(default)]
    pub role_type: Option<RoleType>,
    /// The domain.
    #[serde(default)]
    pub domain_id: Option<String>,
    /// The workspace (WORKSPACE scope).
    #[serde(default)]
    pub workspace_id: Option<String>,
    /// The role binding's role id.
    #[serde(default)]
    pub role_id: Option<String>,
}

impl GrantTokenInfo {
    /// When the access token expires, from its JWT `exp` claim.
    pub fn expires_at(&self) -> Option<SystemTime> {
        jwt_expiry(&self.access_token)
    }
}
