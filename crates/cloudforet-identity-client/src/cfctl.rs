//! cfctl's settings: `~/.cfctl/setting.yaml` and its token cache.
//!
//! People who use Cloudforet's CLI have already described their environments to it; a
//! program that reads the same file works with the setup they have. cfctl
//! (`cloudforet-io/cfctl`, `pkg/configs/setting_file.go`, `cmd/other/login.go`) writes:
//!
//! ```yaml
//! environment: demo-user            # the current environment
//! environments:
//!   demo-app:                       # names ending in -app hold an App secret
//!     endpoint: grpc+ssl://identity.api.example.com:443
//!     proxy: true
//!     token: eyJ…                   # the App's client_secret
//!   demo-user:                      # names ending in -user log a person in
//!     endpoint: https://demo.console.example.com   # the console web URL
//!     proxy: true
//!     user_id: alice@example.com
//! ```
//!
//! and keeps user tokens in `~/.cfctl/cache/<environment>/{access_token,refresh_token}`
//! (mode 0600). Here:
//!
//! * an `-app` environment gives an [`AppSecret`] (checked locally, see there);
//! * a `-user` environment gives its user id, the REST base cfctl would use
//!   ([`CfctlEnvironment::rest_endpoint`]: the console's `config/production.json` →
//!   `CONSOLE_API_V2.ENDPOINT`), the domain name (the first DNS label of the console host),
//!   and, opt-in, the cached refresh token
//!   ([`read_cached_refresh_token`](CfctlEnvironment::read_cached_refresh_token)): refused
//!   when group or others may read or write the file (unix), written back with mode 0600;
//! * a `grpc+ssl://` endpoint on a user environment is an error saying a REST (console API)
//!   endpoint is needed: this client speaks REST only.
//!
//! Keys cfctl may add later are ignored; the file is parsed with `saphyr`, a maintained
//! YAML 1.2 parser (not `serde_yaml`, deprecated, nor `serde_yml`, unsound).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use reqwest::Method;
use saphyr::{LoadableYamlNode, Yaml};
use serde_json::Value;
use token_common::clock::Clock;
use token_common::credentials::Environment;
use token_common::signing::NoSigning;
use token_common::{Error, HttpRequest, Idempotency, Result, SecretString, Transport};
use url::Url;

use crate::app::AppSecret;

/// The name that selects the file's current environment in [`CfctlSettings::select`].
pub const CURRENT: &str = "current";

/// The settings file under the home directory.
const SETTING_FILE: &str = ".cfctl/setting.yaml";

/// cfctl's settings file, read.
#[derive(Clone)]
pub struct CfctlSettings {
    path: PathBuf,
    current: Option<String>,
    environments: BTreeMap<String, CfctlEnvironment>,
}

impl fmt::Debug for CfctlSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CfctlSettings")
            .field("path", &self.path)
            .field("current", &self.current)
            .field("environments", &self.environments)
            .finish()
    }
}

impl CfctlSettings {
    /// `~/.cfctl/setting.yaml`, the home directory taken from `HOME` (else
    /// `USERPROFILE`) in `env`.
    pub fn default_path(env: &Environment) -> Result<PathBuf> {
        env.home_dir()
            .map(|home| home.join(SETTING_FILE))
            .ok_or_else(|| {
                Error::credentials(
                    "~/.cfctl/setting.yaml",
                    "no home directory: HOME (or USERPROFILE) is not set",
                )
            })
    }

    /// Reads `~/.cfctl/setting.yaml` of the process's home directory.
    pub fn load() -> Result<Self> {
        Self::load_from(Self::default_path(&Environment::process())?)
    }

    /// Reads a settings file; its cache is the `cache` folder beside it.
    pub fn load_from(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::credentials(path.display().to_string(), format!("cannot be read: {e}"))
        })?;
        Self::parse(&text, path)
    }

    /// Parses settings text as if read from `path` (which names it in errors and places
    /// the cache beside it).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let file = path.display().to_string();
        let bad = |reason: String| Error::credentials(file.clone(), reason);
        let docs = Yaml::load_from_str(text).map_err(|e| {
            bad(format!(
                "is not YAML (line {}, column {}: {})",
                e.marker().line(),
                e.marker().col() + 1,
                e.info()
            ))
        })?;
        let empty = Yaml::Value(saphyr::Scalar::Null);
        let doc = docs.first().unwrap_or(&empty);
        if !doc.is_null() && doc.as_mapping().is_none() {
            return Err(bad("is not a mapping of settings".to_owned()));
        }
        let current = match doc.as_mapping_get("environment") {
            None => None,
            Some(v) if v.is_null() => None,
            Some(v) => Some(
                scalar_text(v)
                    .ok_or_else(|| bad("`environment` is not a name".to_owned()))?
                    .to_owned(),
            )
            .filter(|s| !s.is_empty()),
        };
        let cache_root = path
            .parent()
            .map(|dir| dir.join("cache"))
            .unwrap_or_else(|| PathBuf::from("cache"));
        let mut environments = BTreeMap::new();
        if let Some(envs) = doc.as_mapping_get("environments").filter(|v| !v.is_null()) {
            let map = envs
                .as_mapping()
                .ok_or_else(|| bad("`environments` is not a mapping".to_owned()))?;
            for (key, value) in map {
                let name = scalar_text(key)
                    .ok_or_else(|| bad("an environment's name is not text".to_owned()))?
                    .to_owned();
                let env = CfctlEnvironment::from_yaml(&name, value, &cache_root)
                    .map_err(|reason| bad(format!("environment `{name}`: {reason}")))?;
                environments.insert(name, env);
            }
        }
        Ok(Self {
            path: path.to_owned(),
            current,
            environments,
        })
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current environment's name (`environment:`), if set.
    pub fn current_name(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// Every environment's name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.environments.keys().map(String::as_str)
    }

    /// The environment named `name`.
    pub fn environment(&self, name: &str) -> Result<&CfctlEnvironment> {
        self.environments.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.names().collect();
            Error::credentials(
                self.path.display().to_string(),
                format!(
                    "has no environment `{name}` (it has: {})",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            )
        })
    }

    /// The current environment (the one `environment:` names).
    pub fn current(&self) -> Result<&CfctlEnvironment> {
        let name = self.current.as_deref().ok_or_else(|| {
            Error::credentials(
                self.path.display().to_string(),
                "names no current environment (`environment:` is not set)",
            )
        })?;
        self.environment(name)
    }

    /// The environment `name`, or the current one when `name` is [`CURRENT`] (`current`).
    pub fn select(&self, name: &str) -> Result<&CfctlEnvironment> {
        if name == CURRENT {
            self.current()
        } else {
            self.environment(name)
        }
    }
}

/// What an environment is for, by cfctl's naming rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvironmentKind {
    /// The name ends in `-app`: the environment holds an App secret.
    App,
    /// The name ends in `-user`: a person logs in.
    User,
    /// Neither (cfctl treats these like app environments).
    Other,
}

/// One environment of cfctl's settings.
#[derive(Clone)]
pub struct CfctlEnvironment {
    name: String,
    endpoint: Option<String>,
    proxy: Option<bool>,
    token: Option<SecretString>,
    user_id: Option<String>,
    cache_dir: PathBuf,
}

impl fmt::Debug for CfctlEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CfctlEnvironment")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("proxy", &self.proxy)
            .field("token", &self.token)
            .field("user_id", &self.user_id)
            .field("cache_dir", &self.cache_dir)
            .finish()
    }
}

impl CfctlEnvironment {
    fn from_yaml(
        name: &str,
        value: &Yaml<'_>,
        cache_root: &Path,
    ) -> std::result::Result<Self, String> {
        if !value.is_null() && value.as_mapping().is_none() {
            return Err("is not a mapping".to_owned());
        }
        let field = |key: &str| -> std::result::Result<Option<String>, String> {
            match value.as_mapping_get(key) {
                None => Ok(None),
                Some(v) if v.is_null() => Ok(None),
                Some(v) => scalar_text(v)
                    .map(|s| Some(s.trim().to_owned()).filter(|s| !s.is_empty()))
                    .ok_or_else(|| format!("`{key}` is not a single value")),
            }
        };
        let proxy = match value.as_mapping_get("proxy") {
            None => None,
            Some(v) if v.is_null() => None,
            Some(v) => Some(match (v.as_bool(), v.as_str()) {
                (Some(b), _) => b,
                (None, Some(s)) if s.eq_ignore_ascii_case("true") => true,
                (None, Some(s)) if s.eq_ignore_ascii_case("false") || s.is_empty() => false,
                _ => return Err("`proxy` is not true or false".to_owned()),
            }),
        };
        // The token's own text never goes into an error: only that it is not text.
        let token = match value.as_mapping_get("token") {
            None => None,
            Some(v) if v.is_null() => None,
            Some(v) => Some(
                v.as_str()
                    .map(|s| SecretString::new(s.trim()))
                    .ok_or_else(|| "`token` is not text".to_owned())?,
            )
            .filter(|t| !t.is_empty()),
        };
        Ok(Self {
            name: name.to_owned(),
            endpoint: field("endpoint")?,
            proxy,
            token,
            user_id: field("user_id")?,
            cache_dir: cache_root.join(name),
        })
    }

    /// The environment's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// App, user or other, by the name's suffix (`-app`, `-user`), as cfctl decides.
    pub fn kind(&self) -> EnvironmentKind {
        if self.name.ends_with("-app") {
            EnvironmentKind::App
        } else if self.name.ends_with("-user") {
            EnvironmentKind::User
        } else {
            EnvironmentKind::Other
        }
    }

    /// `endpoint` as written: the console web URL, or a `grpc+ssl://` address.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// `proxy`, when set.
    pub fn proxy(&self) -> Option<bool> {
        self.proxy
    }

    /// `user_id` (user environments, after a cfctl login).
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The App secret of this environment (`token`), checked on the system clock.
    pub fn app_secret(&self) -> Result<AppSecret> {
        self.app_secret_with_clock(std::sync::Arc::new(token_common::clock::SystemClock))
    }

    /// The App secret of this environment, checked on `clock` (see [`AppSecret`]).
    pub fn app_secret_with_clock(&self, clock: std::sync::Arc<dyn Clock>) -> Result<AppSecret> {
        let token = self.token.clone().ok_or_else(|| {
            self.error("has no `token` (an App environment holds the App's client_secret there)")
        })?;
        AppSecret::with_clock(token, clock).map_err(|e| self.error(e.to_string()))
    }

    /// The console web URL (`endpoint`), checked: present, a URL, and not cfctl's
    /// `grpc+ssl://` (this client needs a REST, console API, endpoint).
    pub fn console_url(&self) -> Result<Url> {
        let raw = self
            .endpoint
            .as_deref()
            .ok_or_else(|| self.error("has no `endpoint`"))?;
        if raw.starts_with("grpc") {
            return Err(self.error(format!(
                "uses a gRPC endpoint ({}): this client needs a REST (console API) endpoint; \
                 give the console API (console-api-v2) URL explicitly, or set the \
                 environment's endpoint to the console web URL",
                raw.split("://").next().unwrap_or("grpc")
            )));
        }
        let url =
            Url::parse(raw).map_err(|e| self.error(format!("`endpoint` is not a URL ({e})")))?;
        match url.scheme() {
            "https" | "http" => Ok(url),
            other => Err(self.error(format!(
                "`endpoint` uses {other}://: a REST (console API) endpoint is https://"
            ))),
        }
    }

    /// The domain name, as cfctl finds it: the first DNS label of the console host
    /// (`https://demo.console.example.com` → `demo`).
    pub fn domain_name(&self) -> Result<String> {
        let url = self.console_url()?;
        match url.host() {
            Some(url::Host::Domain(host)) => host
                .split('.')
                .next()
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| self.error("`endpoint` has an empty host")),
            Some(_) => Err(self.error(
                "`endpoint`'s host is an IP address, which names no domain: give the domain name or id",
            )),
            None => Err(self.error("`endpoint` has no host")),
        }
    }

    /// The REST base cfctl would use: `GET <endpoint>/config/production.json` →
    /// `CONSOLE_API_V2.ENDPOINT`, sent through `transport` (its https rule applies to both
    /// URLs).
    pub async fn rest_endpoint(&self, transport: &Transport) -> Result<Url> {
        let mut url = self.console_url()?;
        transport.check_endpoint("endpoint", &url)?;
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/config/production.json"));
        url.set_query(None);
        let req = HttpRequest::new(Method::GET, url, "/config/production.json")
            .with_idempotency(Idempotency::Idempotent);
        let resp = transport.send(req, &NoSigning, None).await?;
        if !resp.is_success() {
            return Err(Error::decode(
                resp.status,
                format!(
                    "the console of environment `{}` answered {} to config/production.json: is `endpoint` the console web URL?",
                    self.name, resp.status
                ),
            ));
        }
        let config: Value = serde_json::from_slice(&resp.body).map_err(|_| {
            Error::decode(
                resp.status,
                "config/production.json is not JSON: is `endpoint` the console web URL?",
            )
        })?;
        let raw = config
            .get("CONSOLE_API_V2")
            .and_then(|c| c.get("ENDPOINT"))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                Error::decode(
                    resp.status,
                    "config/production.json has no CONSOLE_API_V2.ENDPOINT",
                )
            })?;
        let rest = Url::parse(raw.trim()).map_err(|e| {
            Error::decode(
                resp.status,
                format!("CONSOLE_API_V2.ENDPOINT in config/production.json is not a URL ({e})"),
            )
        })?;
        transport.check_endpoint("CONSOLE_API_V2.ENDPOINT", &rest)?;
        Ok(rest)
    }

    /// `~/.cfctl/cache/<environment>`.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// The cached refresh token (`cache/<environment>/refresh_token`), when there is one
    /// that has not expired on `clock`. On unix a file that group or others may read or
    /// write is refused, naming the file and its mode.
    pub fn read_cached_refresh_token(&self, clock: &dyn Clock) -> Result<Option<SecretString>> {
        let path = self.cache_dir.join("refresh_token");
        let file_error = |reason: String| Error::credentials(path.display().to_string(), reason);
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(file_error(format!("cannot be read: {e}"))),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(file_error(format!(
                    "has mode {mode:04o}: group or others may read or change this token; \
                     refusing to use it (chmod 600 the file)"
                )));
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| file_error(format!("cannot be read: {e}")))?;
        let token = SecretString::new(text.trim());
        if token.is_empty() {
            return Ok(None);
        }
        let expires_at = token_common::jwt::read_times(token.expose_secret())
            .map_err(|_| file_error("does not hold a JWT".to_owned()))?
            .expires_at();
        match expires_at {
            Some(exp) if clock.now() >= exp => Ok(None),
            _ => Ok(Some(token)),
        }
    }

    /// Writes `cache/<environment>/refresh_token` with mode 0600 (the folder 0700 when
    /// created), replacing the file in one step.
    pub fn write_cached_refresh_token(&self, token: &SecretString) -> Result<()> {
        let path = self.cache_dir.join("refresh_token");
        let file_error = |e: std::io::Error| {
            Error::credentials(
                path.display().to_string(),
                format!("cannot be written: {e}"),
            )
        };
        create_private_dir(&self.cache_dir).map_err(file_error)?;
        let tmp = self.cache_dir.join(".refresh_token.tmp");
        let _ = std::fs::remove_file(&tmp);
        write_private(&tmp, token.expose_secret().as_bytes()).map_err(file_error)?;
        std::fs::rename(&tmp, &path).map_err(file_error)
    }

    fn error(&self, reason: impl Into<String>) -> Error {
        Error::credentials(format!("cfctl environment `{}`", self.name), reason)
    }
}

fn scalar_text<'a>(v: &'a Yaml<'_>) -> Option<&'a str> {
    match v {
        Yaml::Value(s) => s.as_str(),
        Yaml::Representation(text, _, _) => Some(text.as_ref()),
        Yaml::Tagged(_, inner) => scalar_text(inner),
        _ => None,
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
