use std::fmt;
use std::path::PathBuf;

use super::{Environment, Ini, ProvideCredentials};
use crate::error::{Error, Result};
use crate::secret::SecretString;

/// What a Huawei Cloud request acts on: a project (regional services, `X-Project-Id`) or
/// an account (global services, `X-Domain-Id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HuaweiScope {
    /// A project id, sent as `X-Project-Id`.
    Project(String),
    /// An account (domain) id, sent as `X-Domain-Id`.
    Domain(String),
    /// Neither header.
    None,
}

/// Huawei Cloud AK/SK credentials, with the security token of temporary credentials.
///
/// ```
/// use token_common::credentials::HuaweiCredentials;
/// let c = HuaweiCredentials::new("AK", "SK-secret")
///     .with_security_token("sts-token")
///     .with_project_id("0a1b");
/// let shown = format!("{c:?}");
/// assert!(!shown.contains("SK-secret") && !shown.contains("sts-token"));
/// ```
#[derive(Clone)]
pub struct HuaweiCredentials {
    ak: String,
    sk: SecretString,
    security_token: Option<SecretString>,
    project_id: Option<String>,
    domain_id: Option<String>,
}

impl HuaweiCredentials {
    /// Permanent credentials from an access key and a secret key.
    pub fn new(ak: impl Into<String>, sk: impl Into<SecretString>) -> Self {
        Self {
            ak: ak.into(),
            sk: sk.into(),
            security_token: None,
            project_id: None,
            domain_id: None,
        }
    }

    /// Makes these temporary credentials: the token is sent (and signed) as
    /// `X-Security-Token`.
    pub fn with_security_token(mut self, token: impl Into<SecretString>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    /// Sets the project id.
    pub fn with_project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = Some(project_id.into());
        self
    }

    /// Sets the account (domain) id.
    pub fn with_domain_id(mut self, domain_id: impl Into<String>) -> Self {
        self.domain_id = Some(domain_id.into());
        self
    }

    /// The access key (an identifier, not a secret).
    pub fn access_key(&self) -> &str {
        &self.ak
    }

    /// The secret key.
    pub fn secret_key(&self) -> &SecretString {
        &self.sk
    }

    /// The security token, for temporary credentials.
    pub fn security_token(&self) -> Option<&SecretString> {
        self.security_token.as_ref()
    }

    /// The project id, when known.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// The account (domain) id, when known.
    pub fn domain_id(&self) -> Option<&str> {
        self.domain_id.as_deref()
    }
}

impl fmt::Debug for HuaweiCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HuaweiCredentials")
            .field("ak", &self.ak)
            .field("sk", &self.sk)
            .field("security_token", &self.security_token)
            .field("project_id", &self.project_id)
            .field("domain_id", &self.domain_id)
            .finish()
    }
}

/// Huawei Cloud credentials from the environment: `HUAWEICLOUD_SDK_AK`,
/// `HUAWEICLOUD_SDK_SK`, optional `HUAWEICLOUD_SDK_SECURITY_TOKEN`,
/// `HUAWEICLOUD_SDK_PROJECT_ID` and `HUAWEICLOUD_SDK_DOMAIN_ID`.
#[derive(Debug, Clone, Default)]
pub struct HuaweiEnvironment {
    env: Environment,
}

impl HuaweiEnvironment {
    /// Reads the process environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the given environment instead.
    pub fn with_environment(env: Environment) -> Self {
        Self { env }
    }
}

impl ProvideCredentials<HuaweiCredentials> for HuaweiEnvironment {
    fn try_provide(&self) -> Result<Option<HuaweiCredentials>> {
        let ak = self.env.get("HUAWEICLOUD_SDK_AK");
        let sk = self.env.get("HUAWEICLOUD_SDK_SK");
        let (ak, sk) = match (ak, sk) {
            (None, None) => return Ok(None),
            (Some(ak), Some(sk)) => (ak, sk),
            (Some(_), None) => {
                return Err(Error::credentials(
                    "the environment",
                    "HUAWEICLOUD_SDK_AK is set but HUAWEICLOUD_SDK_SK is not",
                ))
            }
            (None, Some(_)) => {
                return Err(Error::credentials(
                    "the environment",
                    "HUAWEICLOUD_SDK_SK is set but HUAWEICLOUD_SDK_AK is not",
                ))
            }
        };
        let mut c = HuaweiCredentials::new(ak, sk);
        if let Some(t) = self.env.get("HUAWEICLOUD_SDK_SECURITY_TOKEN") {
            c = c.with_security_token(t);
        }
        if let Some(p) = self.env.get("HUAWEICLOUD_SDK_PROJECT_ID") {
            c = c.with_project_id(p);
        }
        if let Some(d) = self.env.get("HUAWEICLOUD_SDK_DOMAIN_ID") {
            c = c.with_domain_id(d);
        }
        Ok(Some(c))
    }

    fn describe(&self) -> String {
        "the environment (HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK)".to_owned()
    }
}

/// Which section of the Huawei credentials file to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HuaweiProfileSection {
    /// `[basic]`: ak, sk, project_id, security_token — for regional services.
    #[default]
    Basic,
    /// `[global]`: ak, sk, domain_id, security_token — for global services.
    Global,
}

/// Huawei Cloud credentials from `~/.huaweicloud/credentials` (or the file named by
/// `HUAWEICLOUD_SDK_CREDENTIALS_FILE`), INI with `[basic]` and `[global]` sections.
#[derive(Debug, Clone, Default)]
pub struct HuaweiProfile {
    env: Environment,
    path: Option<PathBuf>,
    section: HuaweiProfileSection,
}

impl HuaweiProfile {
    /// The default file, section `[basic]`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads another file.
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Reads another section.
    pub fn section(mut self, section: HuaweiProfileSection) -> Self {
        self.section = section;
        self
    }

    /// Reads `HOME` and `HUAWEICLOUD_SDK_CREDENTIALS_FILE` from the given environment.
    pub fn with_environment(mut self, env: Environment) -> Self {
        self.env = env;
        self
    }

    pub(crate) fn file(&self) -> (Option<PathBuf>, bool) {
        if let Some(p) = &self.path {
            return (Some(p.clone()), true);
        }
        if let Some(p) = self.env.get("HUAWEICLOUD_SDK_CREDENTIALS_FILE") {
            return (Some(PathBuf::from(p)), true);
        }
        (
            self.env
                .home_dir()
                .map(|h| h.join(".huaweicloud").join("credentials")),
            false,
        )
    }

    fn section_name(&self) -> &'static str {
        match self.section {
            HuaweiProfileSection::Basic => "basic",
            HuaweiProfileSection::Global => "global",
        }
    }
}

impl ProvideCredentials<HuaweiCredentials> for HuaweiProfile {
    fn try_provide(&self) -> Result<Option<HuaweiCredentials>> {
        let (Some(path), chosen) = self.file() else {
            return Ok(None);
        };
        let origin = path.display().to_string();
        let Some(ini) = Ini::load(&path)? else {
            if chosen {
                return Err(Error::credentials(origin, "the file does not exist"));
            }
            return Ok(None);
        };
        let name = self.section_name();
        let Some(section) = ini.section(name) else {
            return Err(Error::credentials(origin, format!("no `[{name}]` section")));
        };
        let value = |key: &str| {
            section
                .get(key)
                .filter(|v| !v.is_empty())
                .map(|v| v.expose_secret().to_owned())
        };
        let required = |key: &str| {
            value(key).ok_or_else(|| {
                Error::credentials(origin.clone(), format!("section `[{name}]` has no `{key}`"))
            })
        };
        let mut c = HuaweiCredentials::new(required("ak")?, required("sk")?);
        if let Some(t) = value("security_token") {
            c = c.with_security_token(t);
        }
        match self.section {
            HuaweiProfileSection::Basic => {
                if let Some(p) = value("project_id") {
                    c = c.with_project_id(p);
                }
            }
            HuaweiProfileSection::Global => {
                if let Some(d) = value("domain_id") {
                    c = c.with_domain_id(d);
                }
            }
        }
        Ok(Some(c))
    }

    fn describe(&self) -> String {
        match self.file().0 {
            Some(p) => format!("section `[{}]` of {}", self.section_name(), p.display()),
            None => "~/.huaweicloud/credentials (no home directory)".to_owned(),
        }
    }
}
