use std::fmt;
use std::path::PathBuf;

use super::{Environment, Ini, ProvideCredentials};
use crate::error::{Error, Result};
use crate::secret::SecretString;

/// An NCP API access key and its secret key.
///
/// Temporary keys (Secure Token Service, server roles) are used exactly like ordinary keys:
/// NCP has no session-token header.
///
/// ```
/// use token_common::credentials::NcpCredentials;
/// let c = NcpCredentials::new("ncp_iam_AK", "ncp_iam_SK");
/// assert!(!format!("{c:?}").contains("ncp_iam_SK"));
/// ```
#[derive(Clone)]
pub struct NcpCredentials {
    access_key: String,
    secret_key: SecretString,
}

impl NcpCredentials {
    /// Credentials from an access key and a secret key.
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<SecretString>) -> Self {
        Self {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
        }
    }

    /// The access key (an identifier, not a secret).
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key.
    pub fn secret_key(&self) -> &SecretString {
        &self.secret_key
    }
}

impl fmt::Debug for NcpCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NcpCredentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key)
            .finish()
    }
}

const ACCESS_KEY_VARS: [&str; 2] = ["NCLOUD_ACCESS_KEY_ID", "NCLOUD_ACCESS_KEY"];
const SECRET_KEY_VARS: [&str; 2] = ["NCLOUD_SECRET_ACCESS_KEY", "NCLOUD_SECRET_KEY"];

fn first_var(env: &Environment, names: &[&'static str]) -> Option<(String, &'static str)> {
    names.iter().find_map(|n| env.get(n).map(|v| (v, *n)))
}

/// NCP credentials from the environment, in the Go SDK's order: the access key from
/// `NCLOUD_ACCESS_KEY_ID`, else `NCLOUD_ACCESS_KEY`; the secret key from
/// `NCLOUD_SECRET_ACCESS_KEY`, else `NCLOUD_SECRET_KEY`.
#[derive(Debug, Clone, Default)]
pub struct NcpEnvironment {
    env: Environment,
}

impl NcpEnvironment {
    /// Reads the process environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the given environment instead.
    pub fn with_environment(env: Environment) -> Self {
        Self { env }
    }
}

impl ProvideCredentials<NcpCredentials> for NcpEnvironment {
    fn try_provide(&self) -> Result<Option<NcpCredentials>> {
        let ak = first_var(&self.env, &ACCESS_KEY_VARS);
        let sk = first_var(&self.env, &SECRET_KEY_VARS);
        match (ak, sk) {
            (None, None) => Ok(None),
            (Some((ak, _)), Some((sk, _))) => Ok(Some(NcpCredentials::new(ak, sk))),
            (Some((_, from)), None) => Err(Error::credentials(
                "the environment",
                format!(
                    "{from} is set but neither NCLOUD_SECRET_ACCESS_KEY nor NCLOUD_SECRET_KEY is"
                ),
            )),
            (None, Some((_, from))) => Err(Error::credentials(
                "the environment",
                format!("{from} is set but neither NCLOUD_ACCESS_KEY_ID nor NCLOUD_ACCESS_KEY is"),
            )),
        }
    }

    fn describe(&self) -> String {
        "the environment (NCLOUD_ACCESS_KEY_ID / NCLOUD_SECRET_ACCESS_KEY)".to_owned()
    }
}

/// NCP credentials from the profile file `~/.ncloud/configure` (INI).
///
/// The profile is the one named in code, else `NCLOUD_PROFILE`, else `DEFAULT`; it holds
/// `ncloud_access_key_id` and `ncloud_secret_access_key`.
#[derive(Debug, Clone, Default)]
pub struct NcpProfile {
    env: Environment,
    path: Option<PathBuf>,
    profile: Option<String>,
}

impl NcpProfile {
    /// The default file and profile.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads another file.
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Uses a named profile (a `[section]` of the file).
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// Reads `HOME` and `NCLOUD_PROFILE` from the given environment.
    pub fn with_environment(mut self, env: Environment) -> Self {
        self.env = env;
        self
    }

    fn file(&self) -> Option<PathBuf> {
        self.path.clone().or_else(|| {
            self.env
                .home_dir()
                .map(|h| h.join(".ncloud").join("configure"))
        })
    }

    fn profile_name(&self) -> (String, bool) {
        match (&self.profile, self.env.get("NCLOUD_PROFILE")) {
            (Some(p), _) => (p.clone(), true),
            (None, Some(p)) => (p, true),
            (None, None) => ("DEFAULT".to_owned(), false),
        }
    }
}

impl ProvideCredentials<NcpCredentials> for NcpProfile {
    fn try_provide(&self) -> Result<Option<NcpCredentials>> {
        let Some(path) = self.file() else {
            return Ok(None);
        };
        let (profile, chosen) = self.profile_name();
        let Some(ini) = Ini::load(&path)? else {
            if chosen {
                return Err(Error::credentials(
                    path.display().to_string(),
                    format!("profile `{profile}` was asked for but the file does not exist"),
                ));
            }
            return Ok(None);
        };
        let origin = path.display().to_string();
        let Some(section) = ini.section(&profile) else {
            return Err(Error::credentials(
                origin,
                format!("no `[{profile}]` profile in the file"),
            ));
        };
        let get = |key: &str| -> Result<String> {
            section
                .get(key)
                .filter(|v| !v.is_empty())
                .map(|v| v.expose_secret().to_owned())
                .ok_or_else(|| {
                    Error::credentials(
                        origin.clone(),
                        format!("profile `[{profile}]` has no `{key}`"),
                    )
                })
        };
        let ak = get("ncloud_access_key_id")?;
        let sk = get("ncloud_secret_access_key")?;
        Ok(Some(NcpCredentials::new(ak, sk)))
    }

    fn describe(&self) -> String {
        match self.file() {
            Some(p) => format!("profile `{}` of {}", self.profile_name().0, p.display()),
            None => "~/.ncloud/configure (no home directory)".to_owned(),
        }
    }
}
