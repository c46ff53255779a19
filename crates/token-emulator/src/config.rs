//! What the emulator knows at start: accounts, keys, stores and users.
//!
//! The TOML shape (every table optional; an unknown key is an error that names it):
//!
//! ```toml
//! [[ncp.accounts]]
//! access_key = "..."
//! secret_key = "..."
//!
//! [[ncp.keys]]
//! key_tag = "..."
//! token_generator = true          # default true; false = generator disabled
//! key_type = "AES256"             # AES256 (default; encrypt, decrypt, re-encrypt, custom
//!                                 # key) | ECDSA (P-256: sign, verify)
//!
//! [ncp.server_role]               # the role attached to the emulated NCP server
//! role_id = "..."                 # what GET /latest/meta-data/iam/security-credentials/ lists
//! lifetime_seconds = 3600         # each key handed out lives this long
//! require_metadata_v2 = false     # true: metadata GETs without X-NCP-METADATA-TOKEN are 401
//!
//! [[huawei.accounts]]
//! ak = "..."
//! sk = "..."
//! project_id = "..."
//! security_token = "..."          # optional: when set, requests must carry and sign it
//!
//! [[huawei.identity_stores]]
//! id = "d-1234567890"
//! tenants = ["e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e"]
//!
//! [[cloudforet.domains]]
//! domain_id = "domain-123"
//! name = "demo"
//! workspaces = ["workspace-1"]
//!
//! [[cloudforet.domains.users]]
//! user_id = "alice@example.com"
//! password = "..."
//! role_type = "DOMAIN_ADMIN"      # DOMAIN_ADMIN | WORKSPACE_OWNER | WORKSPACE_MEMBER | USER
//! mfa = { type = "EMAIL", code = "123456" }   # optional; EMAIL also takes email = "..."
//! # or: mfa = { type = "OTP", secret = "BASE32SECRET" } (accepts the current TOTP step only)
//! disabled = false                # optional: true = state DISABLED, logins refused
//! ```
//!
//! Secret values are held as [`SecretString`], so printing a `Config` with `{:?}` shows no
//! key, token, password or MFA code.

use std::path::Path;

use serde::Deserialize;
use token_common::SecretString;

use crate::demo;
use crate::error::Error;

/// The emulator's seed data. `Config::default()` is empty; [`Config::demo`] holds the
/// accounts of [`crate::demo`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// NCP KMS accounts and keys.
    #[serde(default)]
    pub ncp: NcpConfig,
    /// Huawei accounts and identity stores.
    #[serde(default)]
    pub huawei: HuaweiConfig,
    /// Cloudforet domains and users.
    #[serde(default)]
    pub cloudforet: CloudforetConfig,
}

/// The `[ncp]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NcpConfig {
    /// Accounts whose signatures are accepted.
    #[serde(default)]
    pub accounts: Vec<NcpAccount>,
    /// KMS keys (every account may use every key).
    #[serde(default)]
    pub keys: Vec<NcpKey>,
    /// The server role instance metadata hands keys out for (none: the metadata routes
    /// answer 404, as on a server without a role).
    #[serde(default)]
    pub server_role: Option<NcpServerRole>,
}

/// The `[ncp.server_role]` table: the role of the emulated NCP server.
///
/// ```
/// let c = token_emulator::Config::from_toml_str(
///     "[ncp.server_role]\nrole_id = \"app-role\"\nrequire_metadata_v2 = true\n",
/// ).unwrap();
/// let role = c.ncp.server_role.unwrap();
/// assert_eq!((role.lifetime_seconds, role.require_metadata_v2), (3600, true));
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NcpServerRole {
    /// The role id the metadata lists.
    pub role_id: String,
    /// How long each key handed out lives, in seconds (default 3600).
    #[serde(default = "default_role_lifetime")]
    pub lifetime_seconds: u64,
    /// Whether metadata GETs need a v2 session token (`X-NCP-METADATA-TOKEN`).
    #[serde(default)]
    pub require_metadata_v2: bool,
}

fn default_role_lifetime() -> u64 {
    3600
}

/// One NCP API key pair.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NcpAccount {
    /// The access key id.
    pub access_key: String,
    /// The secret key.
    pub secret_key: SecretString,
}

/// One KMS key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NcpKey {
    /// The key tag used in paths.
    pub key_tag: String,
    /// Whether the key's token generator starts active (default `true`).
    #[serde(default = "default_true")]
    pub token_generator: bool,
    /// The key's algorithm (default `AES256`).
    #[serde(default)]
    pub key_type: NcpKeyType,
}

/// A KMS key's algorithm in the emulator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub enum NcpKeyType {
    /// AES-256-GCM: encrypt, decrypt, re-encrypt, create-custom-key.
    #[default]
    #[serde(rename = "AES256")]
    Aes256,
    /// ECDSA P-256 with SHA-256: sign, verify.
    #[serde(rename = "ECDSA")]
    Ecdsa,
}

impl NcpKeyType {
    /// The name KMS uses.
    pub fn as_str(self) -> &'static str {
        match self {
            NcpKeyType::Aes256 => "AES256",
            NcpKeyType::Ecdsa => "ECDSA",
        }
    }
}

fn default_true() -> bool {
    true
}

/// The `[huawei]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct HuaweiConfig {
    /// Accounts whose signatures are accepted.
    #[serde(default)]
    pub accounts: Vec<HuaweiAccount>,
    /// Identity stores and their provisioning tenants.
    #[serde(default)]
    pub identity_stores: Vec<IdentityStore>,
    /// The agency of the emulated ECS server (instance metadata); without it the metadata
    /// routes answer as a server with no agency attached.
    #[serde(default)]
    pub metadata: Option<HuaweiMetadataConfig>,
    /// OIDC identity providers IAM federates.
    #[serde(default)]
    pub federation: Vec<HuaweiFederationConfig>,
    /// CCE pod identity; without it the route answers 404.
    #[serde(default)]
    pub pod_identity: Option<HuaweiPodIdentityConfig>,
}

/// The `[huawei.metadata]` table: the agency of the emulated server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuaweiMetadataConfig {
    /// The project the temporary keys act in.
    pub project_id: String,
    /// How long each key lives (default 3600); a new one is served this far apart,
    /// 10 minutes (at most half the lifetime) before the previous one expires.
    #[serde(default = "default_lifetime")]
    pub lifetime_seconds: u64,
    /// When true, `GET /openstack/latest/securitykey` without a valid
    /// `X-Metadata-Token` is 401.
    #[serde(default)]
    pub require_session_token: bool,
}

/// One `[[huawei.federation]]` identity provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuaweiFederationConfig {
    /// The identity provider id (`X-Idp-Id`).
    pub idp_id: String,
    /// The ID token accepted for it.
    pub id_token: SecretString,
    /// The project the temporary keys act in.
    pub project_id: String,
}

/// The `[huawei.pod_identity]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuaweiPodIdentityConfig {
    /// What `Authorization` (the token file) must hold.
    pub authorization_token: SecretString,
    /// The project the temporary keys act in.
    pub project_id: String,
}

fn default_lifetime() -> u64 {
    3600
}

/// One Huawei AK/SK credential, permanent or temporary.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct HuaweiAccount {
    /// The access key (AK).
    pub ak: String,
    /// The secret key (SK).
    pub sk: SecretString,
    /// The project id requests must carry in `X-Project-Id`.
    pub project_id: String,
    /// When set, requests must carry this value in `X-Security-Token` and sign it.
    #[serde(default)]
    pub security_token: Option<SecretString>,
}

/// One identity store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IdentityStore {
    /// The store id, e.g. `d-1234567890`.
    pub id: String,
    /// Provisioning tenant ids that exist from the start.
    #[serde(default)]
    pub tenants: Vec<String>,
}

/// The `[cloudforet]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CloudforetConfig {
    /// Domains with their workspaces and users.
    #[serde(default)]
    pub domains: Vec<CloudforetDomain>,
}

/// One Cloudforet domain.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CloudforetDomain {
    /// The domain id, e.g. `domain-123`.
    pub domain_id: String,
    /// The domain name that `get-auth-info` looks up.
    pub name: String,
    /// Workspace ids that exist in the domain.
    #[serde(default)]
    pub workspaces: Vec<String>,
    /// Local users.
    #[serde(default)]
    pub users: Vec<CloudforetUser>,
}

/// One local Cloudforet user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CloudforetUser {
    /// The user id (often an e-mail address).
    pub user_id: String,
    /// The password for LOCAL login.
    pub password: SecretString,
    /// The user's role.
    pub role_type: RoleType,
    /// Multi-factor authentication, when the user has it.
    #[serde(default)]
    pub mfa: Option<MfaConfig>,
    /// A disabled user (state `DISABLED`) cannot log in.
    #[serde(default)]
    pub disabled: bool,
}

/// A Cloudforet role type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoleType {
    /// Administers the whole domain: may grant DOMAIN, WORKSPACE and USER scopes.
    DomainAdmin,
    /// Owns the domain's workspaces: may grant WORKSPACE and USER scopes.
    WorkspaceOwner,
    /// Member of the domain's workspaces: may grant WORKSPACE and USER scopes.
    WorkspaceMember,
    /// A plain user: may grant USER scope only.
    User,
}

impl RoleType {
    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            RoleType::DomainAdmin => "DOMAIN_ADMIN",
            RoleType::WorkspaceOwner => "WORKSPACE_OWNER",
            RoleType::WorkspaceMember => "WORKSPACE_MEMBER",
            RoleType::User => "USER",
        }
    }
}

/// A user's MFA setting: `EMAIL` with the one code the emulator "sends", or `OTP` with the
/// Base32 TOTP secret whose current code (RFC 6238, SHA-1, 6 digits, 30 s, on the
/// emulator's clock) completes the login.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct MfaConfig {
    /// `EMAIL` or `OTP`.
    #[serde(rename = "type")]
    pub mfa_type: MfaType,
    /// EMAIL: the code that completes the login.
    #[serde(default)]
    pub code: Option<SecretString>,
    /// OTP: the Base32 TOTP secret.
    #[serde(default)]
    pub secret: Option<SecretString>,
    /// EMAIL: the address named in the MFA-required message (default: the user id).
    #[serde(default)]
    pub email: Option<String>,
}

/// A Cloudforet MFA type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MfaType {
    /// A code sent by e-mail.
    #[serde(rename = "EMAIL")]
    Email,
    /// A time-based one-time password.
    #[serde(rename = "OTP")]
    Otp,
}

impl MfaType {
    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            MfaType::Email => "EMAIL",
            MfaType::Otp => "OTP",
        }
    }
}

impl Config {
    /// Parses the TOML shape documented on this module.
    ///
    /// ```
    /// let c = token_emulator::Config::from_toml_str("[[ncp.keys]]\nkey_tag = \"k\"\n").unwrap();
    /// assert!(c.ncp.keys[0].token_generator);
    /// let e = token_emulator::Config::from_toml_str("[ncp]\nkeyz = []\n").unwrap_err();
    /// assert!(e.to_string().contains("keyz"));
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Self, Error> {
        let config: Self = toml::from_str(text).map_err(|e| Error::Config {
            path: None,
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and parses a TOML file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: Some(path.to_owned()),
            message: e.to_string(),
        })?;
        let config: Self = toml::from_str(&text).map_err(|e| Error::Config {
            path: Some(path.to_owned()),
            message: e.to_string(),
        })?;
        config.validate().map_err(|e| match e {
            Error::Config { message, .. } => Error::Config {
                path: Some(path.to_owned()),
                message,
            },
            other => other,
        })?;
        Ok(config)
    }

    /// Refuses empty ids and ids declared twice (which would otherwise shadow each other
    /// silently). [`EmulatorBuilder::start`](crate::EmulatorBuilder::start) calls it too.
    pub fn validate(&self) -> Result<(), Error> {
        let mut seen = std::collections::HashSet::new();
        let mut check = |table: &str, field: &str, value: &str| {
            if value.is_empty() {
                return Err(format!("{table}: `{field}` must not be empty"));
            }
            if !seen.insert((table.to_owned(), value.to_owned())) {
                return Err(format!("{table}: `{field}` {value:?} is declared twice"));
            }
            Ok(())
        };
        let result = (|| {
            for a in &self.ncp.accounts {
                check("ncp.accounts", "access_key", &a.access_key)?;
            }
            for k in &self.ncp.keys {
                check("ncp.keys", "key_tag", &k.key_tag)?;
            }
            if let Some(role) = &self.ncp.server_role {
                check("ncp.server_role", "role_id", &role.role_id)?;
                if role.role_id.contains(['/', '\n', '\r']) {
                    return Err(
                        "ncp.server_role: `role_id` must not contain `/` or a line break".into(),
                    );
                }
                if role.lifetime_seconds == 0 {
                    return Err("ncp.server_role: `lifetime_seconds` must be more than 0".into());
                }
            }
            for a in &self.huawei.accounts {
                check("huawei.accounts", "ak", &a.ak)?;
            }
            if let Some(m) = &self.huawei.metadata {
                check("huawei.metadata", "project_id", &m.project_id)?;
                if m.lifetime_seconds < 120 {
                    return Err("huawei.metadata: `lifetime_seconds` must be at least 120".into());
                }
            }
            for f in &self.huawei.federation {
                check("huawei.federation", "idp_id", &f.idp_id)?;
                if f.id_token.is_empty() || f.project_id.is_empty() {
                    return Err(format!(
                        "huawei.federation {:?}: `id_token` and `project_id` must not be empty",
                        f.idp_id
                    ));
                }
            }
            if let Some(p) = &self.huawei.pod_identity {
                if p.authorization_token.is_empty() || p.project_id.is_empty() {
                    return Err("huawei.pod_identity: `authorization_token` and `project_id` must not be empty".into());
                }
            }
            for s in &self.huawei.identity_stores {
                check("huawei.identity_stores", "id", &s.id)?;
                for t in &s.tenants {
                    check(
                        &format!("huawei.identity_stores {:?} tenants", s.id),
                        "tenant",
                        t,
                    )?;
                }
            }
            for d in &self.cloudforet.domains {
                check("cloudforet.domains", "domain_id", &d.domain_id)?;
                check("cloudforet.domains names", "name", &d.name)?;
                for u in &d.users {
                    let table = format!("cloudforet.domains {:?} users", d.domain_id);
                    check(&table, "user_id", &u.user_id)?;
                    if let Some(mfa) = &u.mfa {
                        let user = format!("{table} {:?} mfa", u.user_id);
                        match (mfa.mfa_type, &mfa.code, &mfa.secret) {
                            (MfaType::Email, Some(_), None) => {}
                            (MfaType::Otp, None, Some(secret)) => {
                                if crate::cloudforet::totp_secret(secret.expose_secret()).is_none()
                                {
                                    return Err(format!("{user}: secret is not Base32"));
                                }
                            }
                            (MfaType::Email, _, _) => {
                                return Err(format!("{user}: EMAIL takes code (and no secret)"))
                            }
                            (MfaType::Otp, _, _) => {
                                return Err(format!("{user}: OTP takes secret (and no code)"))
                            }
                        }
                    }
                }
            }
            Ok(())
        })();
        result.map_err(|message| Error::Config {
            path: None,
            message,
        })
    }

    /// The demo accounts listed in [`crate::demo`].
    pub fn demo() -> Self {
        let user = |user_id: &str, password: &str, role_type, mfa| CloudforetUser {
            user_id: user_id.to_owned(),
            password: SecretString::new(password),
            role_type,
            mfa,
            disabled: false,
        };
        Self {
            ncp: NcpConfig {
                accounts: vec![NcpAccount {
                    access_key: demo::NCP_ACCESS_KEY.to_owned(),
                    secret_key: SecretString::new(demo::NCP_SECRET_KEY),
                }],
                keys: vec![
                    NcpKey {
                        key_tag: demo::NCP_KEY_TAG.to_owned(),
                        token_generator: true,
                        key_type: NcpKeyType::Aes256,
                    },
                    NcpKey {
                        key_tag: demo::NCP_DISABLED_KEY_TAG.to_owned(),
                        token_generator: false,
                        key_type: NcpKeyType::Aes256,
                    },
                    NcpKey {
                        key_tag: demo::NCP_ECDSA_KEY_TAG.to_owned(),
                        token_generator: true,
                        key_type: NcpKeyType::Ecdsa,
                    },
                ],
                server_role: Some(NcpServerRole {
                    role_id: demo::NCP_SERVER_ROLE_ID.to_owned(),
                    lifetime_seconds: default_role_lifetime(),
                    require_metadata_v2: false,
                }),
            },
            huawei: HuaweiConfig {
                accounts: vec![
                    HuaweiAccount {
                        ak: demo::HUAWEI_AK.to_owned(),
                        sk: SecretString::new(demo::HUAWEI_SK),
                        project_id: demo::HUAWEI_PROJECT_ID.to_owned(),
                        security_token: None,
                    },
                    HuaweiAccount {
                        ak: demo::HUAWEI_STS_AK.to_owned(),
                        sk: SecretString::new(demo::HUAWEI_STS_SK),
                        project_id: demo::HUAWEI_PROJECT_ID.to_owned(),
                        security_token: Some(SecretString::new(demo::HUAWEI_STS_SECURITY_TOKEN)),
                    },
                ],
                identity_stores: vec![IdentityStore {
                    id: demo::HUAWEI_IDENTITY_STORE_ID.to_owned(),
                    tenants: vec![demo::HUAWEI_TENANT_ID.to_owned()],
                }],
                metadata: Some(HuaweiMetadataConfig {
                    project_id: demo::HUAWEI_PROJECT_ID.to_owned(),
                    lifetime_seconds: 3600,
                    require_session_token: false,
                }),
                federation: vec![HuaweiFederationConfig {
                    idp_id: demo::HUAWEI_IDP_ID.to_owned(),
                    id_token: SecretString::new(demo::HUAWEI_ID_TOKEN),
                    project_id: demo::HUAWEI_PROJECT_ID.to_owned(),
                }],
                pod_identity: Some(HuaweiPodIdentityConfig {
                    authorization_token: SecretString::new(demo::HUAWEI_POD_AUTHORIZATION_TOKEN),
                    project_id: demo::HUAWEI_PROJECT_ID.to_owned(),
                }),
            },
            cloudforet: CloudforetConfig {
                domains: vec![CloudforetDomain {
                    domain_id: demo::CLOUDFORET_DOMAIN_ID.to_owned(),
                    name: demo::CLOUDFORET_DOMAIN_NAME.to_owned(),
                    workspaces: vec![demo::CLOUDFORET_WORKSPACE_ID.to_owned()],
                    users: vec![
                        user(
                            demo::CLOUDFORET_ADMIN_USER_ID,
                            demo::CLOUDFORET_ADMIN_PASSWORD,
                            RoleType::DomainAdmin,
                            None,
                        ),
                        user(
                            demo::CLOUDFORET_MEMBER_USER_ID,
                            demo::CLOUDFORET_MEMBER_PASSWORD,
                            RoleType::WorkspaceMember,
                            None,
                        ),
                        user(
                            demo::CLOUDFORET_MFA_USER_ID,
                            demo::CLOUDFORET_MFA_PASSWORD,
                            RoleType::DomainAdmin,
                            Some(MfaConfig {
                                mfa_type: MfaType::Email,
                                code: Some(SecretString::new(demo::CLOUDFORET_MFA_CODE)),
                                secret: None,
                                email: None,
                            }),
                        ),
                        user(
                            demo::CLOUDFORET_OTP_USER_ID,
                            demo::CLOUDFORET_OTP_PASSWORD,
                            RoleType::DomainAdmin,
                            Some(MfaConfig {
                                mfa_type: MfaType::Otp,
                                code: None,
                                secret: Some(SecretString::new(demo::CLOUDFORET_OTP_SECRET)),
                                email: None,
                            }),
                        ),
                    ],
                }],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[[ncp.accounts]]
access_key = "AK"
secret_key = "ncp-secret-value"

[[ncp.keys]]
key_tag = "k1"
token_generator = false

[[huawei.accounts]]
ak = "HAK"
sk = "huawei-secret-value"
project_id = "p1"
security_token = "sts-token-value"

[[huawei.identity_stores]]
id = "d-1"
tenants = ["t-1"]

[[cloudforet.domains]]
domain_id = "domain-1"
name = "demo"
workspaces = ["workspace-1"]

[[cloudforet.domains.users]]
user_id = "alice@example.com"
password = "alice-password-value"
role_type = "WORKSPACE_OWNER"
mfa = { type = "OTP", secret = "JBSWY3DPEHPK3PXP" }

[[cloudforet.domains.users]]
user_id = "carol@example.com"
password = "carol-password-value"
role_type = "USER"
mfa = { type = "EMAIL", code = "654321", email = "carol.mfa@example.com" }
disabled = true
"#;

    #[test]
    fn parses_the_documented_shape() {
        let c = Config::from_toml_str(FULL).unwrap();
        assert!(!c.ncp.keys[0].token_generator);
        assert_eq!(c.huawei.identity_stores[0].tenants, ["t-1"]);
        let user = &c.cloudforet.domains[0].users[0];
        assert_eq!(user.role_type, RoleType::WorkspaceOwner);
        assert_eq!(user.mfa.as_ref().unwrap().mfa_type, MfaType::Otp);
        let carol = &c.cloudforet.domains[0].users[1];
        assert!(carol.disabled);
        assert_eq!(
            carol.mfa.as_ref().unwrap().email.as_deref(),
            Some("carol.mfa@example.com")
        );
    }

    #[test]
    fn mfa_tables_must_match_their_type() {
        let base = "[[cloudforet.domains]]\ndomain_id = \"d\"\nname = \"n\"\n[[cloudforet.domains.users]]\nuser_id = \"u\"\npassword = \"p\"\nrole_type = \"USER\"\n";
        for (mfa, needle) in [
            (
                r#"mfa = { type = "OTP", code = "123456" }"#,
                "OTP takes secret",
            ),
            (
                r#"mfa = { type = "OTP", secret = "not base32!" }"#,
                "not Base32",
            ),
            (
                r#"mfa = { type = "EMAIL", secret = "JBSWY3DP" }"#,
                "EMAIL takes code",
            ),
        ] {
            let e = Config::from_toml_str(&format!("{base}{mfa}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn every_table_is_optional() {
        let c = Config::from_toml_str("").unwrap();
        assert!(c.ncp.accounts.is_empty() && c.cloudforet.domains.is_empty());
    }

    #[test]
    fn unknown_keys_are_named() {
        for (text, key) in [
            ("[nccp]\n", "nccp"),
            (
                "[[ncp.keys]]\nkey_tag = \"k\"\ngenerator = true\n",
                "generator",
            ),
            (
                "[[cloudforet.domains]]\ndomain_id = \"d\"\nname = \"n\"\nworkspace = []\n",
                "workspace",
            ),
        ] {
            let e = Config::from_toml_str(text).unwrap_err().to_string();
            assert!(e.contains(key), "{e}");
        }
    }

    #[test]
    fn duplicate_and_empty_ids_are_refused() {
        let twice = "[[ncp.keys]]\nkey_tag = \"k\"\n[[ncp.keys]]\nkey_tag = \"k\"\n";
        let e = Config::from_toml_str(twice).unwrap_err().to_string();
        assert!(e.contains("declared twice") && e.contains("key_tag"), "{e}");
        let empty = "[[huawei.identity_stores]]\nid = \"\"\n";
        let e = Config::from_toml_str(empty).unwrap_err().to_string();
        assert!(e.contains("must not be empty"), "{e}");
        Config::demo().validate().unwrap();
    }

    #[test]
    fn debug_output_never_contains_secret() {
        let c = Config::from_toml_str(FULL).unwrap();
        let debug = format!("{c:?}");
        for secret in [
            "ncp-secret-value",
            "huawei-secret-value",
            "sts-token-value",
            "alice-password-value",
            "carol-password-value",
            "JBSWY3DPEHPK3PXP",
            "654321",
        ] {
            assert!(!debug.contains(secret), "{secret} leaked");
        }
    }
}
