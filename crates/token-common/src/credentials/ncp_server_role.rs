//! NCP server role: the temporary keys of the role attached to a VPC server, read from
//! instance metadata (FACTS.md §1 "Temporary credentials").

use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderName;
use reqwest::Method;
use serde::Deserialize;
use url::Url;

use super::{Environment, LoadCredentials, NcpCredentials};
use crate::cache::Expiring;
use crate::encoding::path_segment;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::timestamp::parse_rfc3339;
use crate::transport::{BoxFuture, HttpRequest, HttpResponse, Transport};

/// The instance metadata address of NCP servers.
pub const NCP_METADATA_ENDPOINT: &str = "http://169.254.169.254";

/// The override variables, in the order read: the Python SDK's name, then the Go SDK's.
pub const NCP_METADATA_ENDPOINT_VARS: [&str; 2] =
    ["NCLOUD_METADATA_ENDPOINT", "NCLOUD_METADATA_API_ENDPOINT"];

/// The timeout of each metadata request (the official SDKs' 3 s).
pub const NCP_METADATA_TIMEOUT: Duration = Duration::from_secs(3);

/// The lifetime asked for the metadata v2 session token, in seconds (the most allowed).
pub const NCP_METADATA_TOKEN_TTL_SECONDS: u32 = 21_600;

const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";
const TTL_HEADER: &str = "x-ncp-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-ncp-metadata-token";

/// The keys of the server's role, from instance metadata: a [`LoadCredentials`] source for
/// a [`CredentialsCache`](super::CredentialsCache), which reloads them ahead of
/// `Expiration`.
///
/// Each load asks for a metadata v2 session token first (`PUT /latest/api/token` with
/// `X-NCP-METADATA-TOKEN-TTL-SECONDS: 21600`) and sends it on the GETs; a server that does
/// not serve v2 (any non-2xx answer to the PUT) is read the v1 way, without it. Then the
/// role id (`GET /latest/meta-data/iam/security-credentials/`, first line) and the role's
/// keys (`GET …/{roleId}`: `AccessKeyId`, `SecretAccessKey`, `Expiration` in RFC 3339
/// with a `Z` or `+0000` suffix). Every request has 3 s and one attempt.
///
/// The address is `http://169.254.169.254` unless `NCLOUD_METADATA_ENDPOINT` (the Python
/// SDK's name) or `NCLOUD_METADATA_API_ENDPOINT` (the Go SDK's) names another, or
/// [`endpoint`](Self::endpoint) does. Plain `http://` is allowed to that address only.
///
/// A metadata service that cannot be reached (not an NCP server) gives an error for which
/// [`is_unreachable`](Self::is_unreachable) is true, so a chain can move on.
#[derive(Clone)]
pub struct NcpServerRole {
    env: Environment,
    endpoint: Option<String>,
    transport: Option<Transport>,
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
            transport: None,
        }
    }

    /// Reads the override variables from `env` instead.
    pub fn with_environment(mut self, env: Environment) -> Self {
        self.env = env;
        self
    }

    /// Talks to this metadata address, whatever the environment says.
    pub fn endpoint(mut self, url: &str) -> Self {
        self.endpoint = Some(url.to_owned());
        self
    }

    /// Sends through this transport (an injected HTTP client or clock, in tests) instead
    /// of its own (3 s, one attempt, plain HTTP allowed to the metadata address).
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Whether `error` (from [`load`](LoadCredentials::load)) means the metadata service
    /// could not be reached at all: no connection, or no answer in time.
    pub fn is_unreachable(error: &Error) -> bool {
        error.is_connect() || error.is_timeout()
    }

    fn endpoint_text(&self) -> String {
        self.endpoint
            .clone()
            .or_else(|| {
                NCP_METADATA_ENDPOINT_VARS
                    .iter()
                    .find_map(|v| self.env.get(v))
            })
            .unwrap_or_else(|| NCP_METADATA_ENDPOINT.to_owned())
    }

    fn base(&self) -> Result<Url> {
        let text = self.endpoint_text();
        let url = Url::parse(text.trim()).map_err(|e| {
            Error::credentials(
                self.describe(),
                format!("the metadata address is not a URL: {e}"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(Error::credentials(
                self.describe(),
                "the metadata address must be an http:// or https:// URL with a host",
            ));
        }
        Ok(url)
    }

    fn transport_for(&self) -> Result<Transport> {
        match &self.transport {
            Some(t) => Ok(t.clone()),
            // Plain HTTP is allowed on this transport only, which only ever sends to the
            // metadata address.
            None => Transport::builder()
                .connect_timeout(NCP_METADATA_TIMEOUT)
                .attempt_timeout(NCP_METADATA_TIMEOUT)
                .max_attempts(1)
                .allow_insecure_http(true)
                .build(),
        }
    }

    fn url(base: &Url, path: &str) -> Url {
        let mut url = base.clone();
        url.set_path(&format!("{}{path}", base.path().trim_end_matches('/')));
        url.set_query(None);
        url
    }

    async fn send(&self, t: &Transport, req: HttpRequest) -> Result<HttpResponse> {
        t.send(req, &crate::signing::NoSigning, None).await
    }

    /// `PUT /latest/api/token`; `None` on a server without v2.
    async fn session_token(&self, t: &Transport, base: &Url) -> Result<Option<SecretString>> {
        let req = HttpRequest::new(Method::PUT, Self::url(base, TOKEN_PATH), TOKEN_PATH).header(
            HeaderName::from_static(TTL_HEADER),
            &NCP_METADATA_TOKEN_TTL_SECONDS.to_string(),
            "metadata_token_ttl",
        )?;
        let resp = self.send(t, req).await?;
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
        t: &Transport,
        url: Url,
        template: &'static str,
        token: Option<&SecretString>,
    ) -> Result<HttpResponse> {
        let mut req = HttpRequest::new(Method::GET, url, template);
        if let Some(token) = token {
            req = req.secret_header(
                HeaderName::from_static(TOKEN_HEADER),
                token,
                "metadata_token",
            )?;
        }
        let resp = self.send(t, req).await?;
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
        let base = self.base()?;
        let t = self.transport_for()?;
        let token = self.session_token(&t, &base).await?;
        let listing = self
            .get(
                &t,
                Self::url(&base, CREDENTIALS_PATH),
                CREDENTIALS_PATH,
                token.as_ref(),
            )
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
        let keys_url = Self::url(&base, &format!("{CREDENTIALS_PATH}{segment}"));
        let resp = self
            .get(
                &t,
                keys_url,
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
