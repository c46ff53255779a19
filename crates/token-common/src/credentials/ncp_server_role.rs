//! NCP server role: the temporary keys of the role attached to a VPC server, read from
//! instance metadata (FACTS.md §1 "Temporary credentials").

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderName;
use reqwest::Method;
use serde::Deserialize;

use super::metadata::{is_unreachable, MetadataClient};
use super::{Environment, LoadChain, LoadCredentials, NcpCredentials, NcpEnvironment, NcpProfile};
use crate::cache::Expiring;
use crate::clock::{parse_rfc3339, Clock};
use crate::encoding::path_segment;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::transport::{BoxFuture, HttpClient, HttpRequest, HttpResponse};

/// The instance metadata address of NCP servers.
pub const NCP_METADATA_ENDPOINT: &str = "http://169.254.169.254";

/// The override variables, in the order read: the Python SDK's name, then the Go SDK's.
pub const NCP_METADATA_ENDPOINT_VARS: [&str; 2] =
    ["NCLOUD_METADATA_ENDPOINT", "NCLOUD_METADATA_API_ENDPOINT"];

/// The lifetime asked for the metadata v2 session token, in seconds (the most allowed).
pub const NCP_METADATA_TOKEN_TTL_SECONDS: u32 = 21_600;

const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";
const TTL_HEADER: &str = "x-ncp-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-ncp-metadata-token";

/// The keys of the server's role, from instance metadata: a [`LoadCredentials`] source for
/// a [`CredentialsCache`](super::CredentialsCache), which reloads them ahead of
/// `Expiration`, and the last source of the NCP default chain.
///
/// Each load asks for a metadata v2 session token first (`PUT /latest/api/token` with
/// `X-NCP-METADATA-TOKEN-TTL-SECONDS: 21600`) and sends it on the GETs; a server that does
/// not serve v2 (any non-2xx answer to the PUT) is read the v1 way, without it. Then the
/// role id (`GET /latest/meta-data/iam/security-credentials/`, first line) and the role's
/// keys (`GET …/{roleId}`: `AccessKeyId`, `SecretAccessKey`, `Expiration` in RFC 3339
/// with a `Z` or `+0000` suffix). Every request goes through a [`MetadataClient`]: 3 s, one
/// attempt, plain `http://` only to the metadata address.
///
/// The address is `http://169.254.169.254` unless `NCLOUD_METADATA_ENDPOINT` (the Python
/// SDK's name) or `NCLOUD_METADATA_API_ENDPOINT` (the Go SDK's) names another, or
/// [`endpoint`](Self::endpoint) does.
///
/// A metadata service that cannot be reached (not an NCP server) gives
/// [`Error::CredentialsNotFound`], so a [`LoadChain`](super::LoadChain) moves on; a
/// service that answers but has no role, or answers garbage, is an
/// [`Error::Credentials`] that says what to do.
#[derive(Clone)]
pub struct NcpServerRole {
    env: Environment,
    endpoint: Option<String>,
    http: Option<Arc<dyn HttpClient>>,
    clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for NcpServerRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NcpServerRole")
            .field("endpoint", &self.endpoint_text())
            .finish_non_exhaustive()
    }
}

impl Default for NcpServerRole {
    fn default() -> Self {
        Self::new()
    }
}

/// The keys' JSON.
#[derive(Deserialize)]
struct RoleKeys {
    #[serde(rename = "AccessKeyId", default)]
    access_key_id: Option<String>,
    #[serde(rename = "SecretAccessKey", default)]
    secret_access_key: Option<SecretString>,
    #[serde(rename = "Expiration", default)]
    expiration: Option<String>,
    #[serde(rename = "Code", default)]
    code: Option<String>,
    #[serde(rename = "Message", default)]
    message: Option<String>,
}

impl NcpServerRole {
    /// Reads the override variables from the process environment.
    pub fn new() -> Self {
        Self {
            env: Environment::process(),
            endpoint: None,
            http: None,
            clock: None,
        }
    }

    /// Reads the override variables from `env` instead.
    pub fn with_environment(mut self, env: Environment) -> Self {
        self.env = env;
        self
    }

    /// Talks to this metadata address, whatever the environment says (plain `http://` is
    /// allowed to it).
    pub fn endpoint(mut self, url: &str) -> Self {
        self.endpoint = Some(url.to_owned());
        self
    }

    /// Sends through another HTTP client (tests); the 3 s and single attempt stay.
    pub fn http_client(mut self, http: Arc<dyn HttpClient>) -> Self {
        self.http = Some(http);
        self
    }

    /// Reads time from another clock (tests).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    fn endpoint_text(&self) -> String {
        self.endpoint
            .clone()
            .or_else(|| {
                NCP_METADATA_ENDPOINT_VARS
                    .iter()
                    .find_map(|v| self.env.get(v).map(|u| format!("{u} ({v})")))
            })
            .unwrap_or_else(|| NCP_METADATA_ENDPOINT.to_owned())
    }

    fn client(&self) -> Result<MetadataClient> {
        let mut m = match &self.endpoint {
            Some(url) => MetadataClient::overridden("endpoint", url)?,
            None => MetadataClient::from_env(
                &self.env,
                &NCP_METADATA_ENDPOINT_VARS,
                NCP_METADATA_ENDPOINT,
            )?,
        };
        if let Some(http) = &self.http {
            m = m.with_http_client(http.clone());
        }
        if let Some(clock) = &self.clock {
            m = m.with_clock(clock.clone());
        }
        Ok(m)
    }

    /// Sends once; no answer at all means "not on an NCP server".
    async fn send(&self, m: &MetadataClient, req: HttpRequest) -> Result<HttpResponse> {
        m.send(req).await.map_err(|e| {
            if is_unreachable(&e) {
                Error::credentials_not_found(
                    self.describe(),
                    format!("the metadata service does not answer ({e}): not an NCP server"),
                )
            } else {
                e
            }
        })
    }

    /// `PUT /latest/api/token`; `None` on a server without v2.
    async fn session_token(&self, m: &MetadataClient) -> Result<Option<SecretString>> {
        let req = HttpRequest::new(Method::PUT, m.url(TOKEN_PATH)?, TOKEN_PATH).header(
            HeaderName::from_static(TTL_HEADER),
            &NCP_METADATA_TOKEN_TTL_SECONDS.to_string(),
            "metadata_token_ttl",
        )?;
        let resp = self.send(m, req).await?;
        if !resp.is_success() {
            tracing::debug!(
                status = resp.status,
                "no metadata v2 session token; reading v1"
            );
            return Ok(None);
        }
        let token = String::from_utf8(resp.body.clone()).unwrap_or_default();
        let token = SecretString::new(token.trim());
        Ok((!token.is_empty()).then_some(token))
    }

    async fn get(
        &self,
        m: &MetadataClient,
        path: &str,
        template: &'static str,
        token: Option<&SecretString>,
    ) -> Result<HttpResponse> {
        let mut req = HttpRequest::new(Method::GET, m.url(path)?, template);
        if let Some(token) = token {
            req = req.secret_header(
                HeaderName::from_static(TOKEN_HEADER),
                token,
                "metadata_token",
            )?;
        }
        let resp = self.send(m, req).await?;
        match resp.status {
            200..=299 => Ok(resp),
            401 => Err(self.broken(
                "the metadata service refused the request (401): it requires a metadata v2 session token, and none could be had",
            )),
            404 => Err(self.broken(
                "no role is attached to this server (metadata answered 404); attach a server role in the console, or give keys in the environment or ~/.ncloud/configure",
            )),
            s => Err(self.broken(format!("the metadata service answered HTTP {s}"))),
        }
    }

    fn broken(&self, reason: impl Into<String>) -> Error {
        Error::credentials(self.describe(), reason)
    }

    async fn fetch(&self) -> Result<Expiring<NcpCredentials>> {
        let m = self.client()?;
        let token = self.session_token(&m).await?;
        let listing = self
            .get(&m, CREDENTIALS_PATH, CREDENTIALS_PATH, token.as_ref())
            .await?;
        let text = String::from_utf8_lossy(&listing.body);
        let role = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        if role.is_empty() {
            return Err(self.broken("the metadata lists no role for this server"));
        }
        let segment = path_segment("role_id", role).map_err(|_| {
            self.broken("the metadata's role id cannot be used in a path (`.` or `..`)")
        })?;
        let keys_path = format!("{CREDENTIALS_PATH}{segment}");
        let resp = self
            .get(
                &m,
                &keys_path,
                "/latest/meta-data/iam/security-credentials/{roleId}",
                token.as_ref(),
            )
            .await?;
        // The body holds the secret key: never quoted.
        let not_object = || {
            self.broken("the role's keys are not the documented JSON object (body not quoted: it holds a secret)")
        };
        let keys = match resp.json::<serde_json::Value>() {
            Ok(v @ serde_json::Value::Object(_)) => {
                serde_json::from_value::<RoleKeys>(v).map_err(|_| not_object())?
            }
            _ => return Err(not_object()),
        };
        if let Some(code) = keys
            .code
            .as_deref()
            .filter(|c| !c.eq_ignore_ascii_case("success"))
        {
            return Err(self.broken(format!(
                "the metadata answered Code {code:?}: {}",
                keys.message.as_deref().unwrap_or("")
            )));
        }
        let access_key = keys
            .access_key_id
            .filter(|a| !a.is_empty())
            .ok_or_else(|| self.broken("the role's keys have no AccessKeyId"))?;
        let secret = keys
            .secret_access_key
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.broken("the role's keys have no SecretAccessKey"))?;
        let expiration = keys
            .expiration
            .ok_or_else(|| self.broken("the role's keys have no Expiration"))?;
        let expires = parse_rfc3339(expiration.trim()).ok_or_else(|| {
            self.broken(format!("Expiration {expiration:?} is not an RFC 3339 time"))
        })?;
        tracing::debug!(
            v2 = token.is_some(),
            "server role keys loaded from instance metadata"
        );
        Ok(Expiring::new(
            NcpCredentials::new(access_key, secret),
            Some(expires),
        ))
    }
}

impl LoadCredentials<NcpCredentials> for NcpServerRole {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<NcpCredentials>>> {
        Box::pin(self.fetch())
    }

    fn describe(&self) -> String {
        format!(
            "NCP server role (instance metadata at {})",
            self.endpoint_text()
        )
    }
}

impl LoadChain<NcpCredentials> {
    /// The NCP default chain of the official SDKs (Go `ncloud/credentials`): the
    /// environment, then `~/.ncloud/configure`, then the server role from instance
    /// metadata. Keys given in code bypass it.
    pub fn ncp_default() -> Self {
        Self::ncp(
            NcpEnvironment::new(),
            NcpProfile::new(),
            NcpServerRole::new(),
        )
    }

    /// The NCP chain over these three sources (another profile, an injected environment,
    /// another metadata address).
    pub fn ncp(
        environment: NcpEnvironment,
        profile: NcpProfile,
        server_role: NcpServerRole,
    ) -> Self {
        Self::new()
            .with_provided(environment)
            .with_provided(profile)
            .with(server_role)
    }
}
