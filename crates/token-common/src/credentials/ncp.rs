use std::fmt;
use std::path::PathBuf;

use super::{Environment, ProvideCredentials};
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

/// NCP credentials from the profile file `~/.ncloud/configure`, read as the official SDKs
/// read it.
///
/// The official Go and Python SDKs read every `key = value` line and ignore `[section]`
/// headers, so a file written for them may have no header at all:
///
/// ```text
/// ncloud_access_key_id = ...
/// ncloud_secret_access_key = ...
/// ncloud_api_url = https://ncloud.apigw.ntruss.com
/// ```
///
/// Here, lines before any header and the `[DEFAULT]` section (what the ncloud CLI writes)
/// together make the default profile, and the last occurrence of a key wins. A line is
/// split at its **first** `=` only, so a value containing `=` is kept whole (the official
/// readers cut it at the next `=`). Keys compare case-insensitively; `#` and `;` start
/// comments.
///
/// **This project's extension:** another `[section]` is a named profile, chosen in code
/// ([`profile`](Self::profile)) or by `NCLOUD_PROFILE`; the official SDKs have no profiles
/// (the Go SDK never reads `NCLOUD_PROFILE`). A named profile holds only its own lines.
#[derive(Debug, Clone, Default)]
pub struct NcpProfile {
    env: Environment,
    path: Option<PathBuf>,
    profile: Option<String>,
}

/// The name of the default profile.
const DEFAULT_PROFILE: &str = "DEFAULT";

/// The `key = value` lines of one profile of a configure file, last occurrence last.
struct ConfigureProfile {
    entries: Vec<(String, SecretString)>,
    found: bool,
}

impl ConfigureProfile {
    fn get(&self, key: &str) -> Option<&SecretString> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }
}

/// Reads the lines of `profile` from a configure file's text (see [`NcpProfile`]).
fn parse_configure(text: &str, origin: &str, profile: &str) -> Result<ConfigureProfile> {
    let default = profile == DEFAULT_PROFILE;
    // `None`: before any header, which belongs to the default profile.
    let mut section: Option<String> = None;
    let mut out = ConfigureProfile {
        entries: Vec::new(),
        found: false,
    };
    for (idx, raw) in text.lines().enumerate() {
        let at = || format!("{origin} line {}", idx + 1);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| Error::credentials(at(), "a section header must be `[name]`"))?;
            section = Some(name.to_owned());
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            // Never quote the line: it may be a secret pasted without its key.
            return Err(Error::credentials(
                at(),
                "expected `key = value`, `[section]` or a comment",
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::credentials(
                at(),
                "a line starts with `=`: the key is missing",
            ));
        }
        let mine = match &section {
            None => default,
            Some(name) => name == profile,
        };
        if mine {
            out.found = true;
            out.entries
                .push((key.to_owned(), SecretString::new(value.trim())));
        }
    }
    // The default profile always exists (it may be empty); a named one only with a header.
    out.found |= default;
    Ok(out)
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

    /// Uses a named profile (a `[section]` of the file; this project's extension).
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
            (None, None) => (DEFAULT_PROFILE.to_owned(), false),
        }
    }
}

impl ProvideCredentials<NcpCredentials> for NcpProfile {
    fn try_provide(&self) -> Result<Option<NcpCredentials>> {
        let Some(path) = self.file() else {
            return Ok(None);
        };
        let (profile, chosen) = self.profile_name();
        let origin = path.display().to_string();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if chosen {
                    return Err(Error::credentials(
                        origin,
                        format!("profile `{profile}` was asked for but the file does not exist"),
                    ));
                }
                return Ok(None);
            }
            Err(e) => {
                return Err(Error::credentials(
                    origin,
                    format!("cannot read the file: {e}"),
                ))
            }
        };
        let section = parse_configure(&text, &origin, &profile)?;
        if !section.found {
            return Err(Error::credentials(
                origin,
                format!("no `[{profile}]` profile in the file"),
            ));
        }
        let get = |key: &str| -> Result<String> {
            section
                .get(key)
                .filter(|v| !v.is_empty())
                .map(|v| v.expose_secret().to_owned())
                .ok_or_else(|| {
                    Error::credentials(
                        origin.clone(),
                        format!("profile `{profile}` has no `{key}`"),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, profile: &str) -> Result<(String, String)> {
        let p = parse_configure(text, "f", profile)?;
        let get = |k| {
            p.get(k)
                .map(|v| v.expose_secret().to_owned())
                .unwrap_or_default()
        };
        Ok((get("ncloud_access_key_id"), get("ncloud_secret_access_key")))
    }

    #[test]
    fn a_file_without_sections_is_the_default_profile() {
        let text = "ncloud_access_key_id = ak\nncloud_secret_access_key = sk==\nncloud_api_url = https://ncloud.apigw.ntruss.com\n";
        assert_eq!(read(text, "DEFAULT").unwrap(), ("ak".into(), "sk==".into()));
    }

    #[test]
    fn sectionless_lines_and_default_section_merge_and_the_last_key_wins() {
        let text = "ncloud_access_key_id = first\n[DEFAULT]\nNCLOUD_SECRET_ACCESS_KEY = s=1=2\n[work]\nncloud_access_key_id = w\nncloud_secret_access_key = ws\n[DEFAULT]\nncloud_access_key_id = last\n";
        assert_eq!(
            read(text, "DEFAULT").unwrap(),
            ("last".into(), "s=1=2".into())
        );
        assert_eq!(read(text, "work").unwrap(), ("w".into(), "ws".into()));
        assert!(!parse_configure(text, "f", "other").unwrap().found);
    }

    #[test]
    fn a_bad_line_names_the_line_without_quoting_it() {
        let e = parse_configure("k = v\nTOPSECRET\n", "/h/.ncloud/configure", "DEFAULT")
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("/h/.ncloud/configure line 2"), "{e}");
        assert!(!e.contains("TOPSECRET"), "{e}");
    }
}
