//! [`HuaweiInstanceMetadata`]: temporary keys of the agency attached to an ECS/BMS server.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderName;
use reqwest::Method;

use super::huawei_temporary::{error_summary, parse_temporary};
use super::metadata::{is_unreachable, MetadataClient};
use super::{Environment, HuaweiCredentials, LoadCredentials};
use crate::cache::Expiring;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::transport::{BoxFuture, HttpClient, HttpRequest, HttpResponse};

/// The default metadata address.
pub const HUAWEI_METADATA_ENDPOINT: &str = "http://169.254.169.254";
/// The variable that overrides it (this project's name; the official SDK has none).
pub const HUAWEI_METADATA_ENDPOINT_VAR: &str = "HUAWEICLOUD_SDK_METADATA_ENDPOINT";

const TOKEN_PATH: &str = "/meta-data/latest/api/token";
const SECURITY_KEY_PATH: &str = "/openstack/latest/securitykey";
/// The session token's lifetime we ask for.
const TOKEN_TTL_SECONDS: u64 = 21_600;
/// How long a server that said "no token support" is believed before asking again.
const NO_TOKEN_RETRY: Duration = Duration::from_secs(24 * 3600);
/// The text of the 401 a server without an agency answers.
const NO_AGENCY: &str = "Please configure Cloud Service Agency first";

#[derive(Default)]
enum SessionToken {
    /// Not asked yet, or dropped as stale.
    #[default]
    Unknown,
    /// A token, used until shortly before its TTL ends.
    Held {
        token: SecretString,
        until: SystemTime,
    },
    /// The server answered 404, 405 or 503 to the PUT: carry on without until then.
    Unsupported { until: SystemTime },
}

/// Temporary credentials from ECS/BMS instance metadata (FACTS.md §2):
/// 1. `PUT /meta-data/latest/api/token` with `X-Metadata-Token-Ttl-Seconds: 21600` gives a
///    session token; 404, 405 or 503 mean the server has no token support, so it carries on
///    without one (and asks again after 24 h);
/// 2. `GET /openstack/latest/securitykey`, with `X-Metadata-Token` when a token is held;
/// 3. a 401 without the text `Please configure Cloud Service Agency first` means the
///    session token is stale: a new one is fetched and the GET retried once; with that
///    text, the server has no agency attached, and the error says so.
///
/// Every request has the 3 s timeout and single attempt of [`MetadataClient`]. Nothing
/// answering there is [`Error::CredentialsNotFound`] ("not on ECS"), so a chain moves on.
/// `HUAWEICLOUD_SDK_METADATA_ENDPOINT` overrides `http://169.254.169.254`.
pub struct HuaweiInstanceMetadata {
    client: MetadataClient,
    clock: Arc<dyn Clock>,
    token: Mutex<SessionToken>,
}

impl fmt::Debug for HuaweiInstanceMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HuaweiInstanceMetadata")
            .field("endpoint", &self.client.describe())
            .finish_non_exhaustive()
    }
}

impl HuaweiInstanceMetadata {
    /// Reads `HUAWEICLOUD_SDK_METADATA_ENDPOINT` from `env` (else `http://169.254.169.254`);
    /// an override that is not a usable URL is refused, naming the variable.
    pub fn from_env(env: &Environment) -> Result<Self> {
        let client = MetadataClient::from_env(
            env,
            &[HUAWEI_METADATA_ENDPOINT_VAR],
            HUAWEI_METADATA_ENDPOINT,
        )?;
        Ok(Self::with_client(client))
    }

    /// Asks the given metadata endpoint.
    pub fn with_client(client: MetadataClient) -> Self {
        Self {
            client,
            clock: Arc::new(SystemClock),
            token: Mutex::new(SessionToken::Unknown),
        }
    }

    /// Reads time from `clock` (the session token's TTL, the 24 h retry).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.client = self.client.with_clock(clock.clone());
        self.clock = clock;
        self
    }

    /// Sends through another HTTP client (tests).
    pub fn with_http_client(mut self, http: Arc<dyn HttpClient>) -> Self {
        self.client = self.client.with_http_client(http);
        self
    }

    fn name(&self) -> String {
        format!("instance metadata ({})", self.client.describe())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SessionToken> {
        self.token.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The error for a request that got no answer.
    fn unreachable(&self, e: &Error) -> Error {
        Error::credentials_not_found(
            self.name(),
            format!(
                "nothing answered ({e}): not an ECS/BMS server, or set {HUAWEI_METADATA_ENDPOINT_VAR}"
            ),
        )
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        self.client.send(request).await.map_err(|e| {
            if is_unreachable(&e) {
                self.unreachable(&e)
            } else if e.is_invalid_input() {
                e
            } else {
                Error::credentials(self.name(), e.to_string())
            }
        })
    }

    /// The session token to send, fetching one when due (`force`: even if the server said
    /// it has no token support).
    async fn session_token(&self, force: bool) -> Result<Option<SecretString>> {
        let now = self.clock.now();
        match &*self.state() {
            SessionToken::Held { token, until } if now < *until => {
                return Ok(Some(token.clone()));
            }
            SessionToken::Unsupported { until } if now < *until && !force => return Ok(None),
            _ => {}
        }
        let request = HttpRequest::new(Method::PUT, self.client.url(TOKEN_PATH)?, TOKEN_PATH)
            .header(
                HeaderName::from_static("x-metadata-token-ttl-seconds"),
                &TOKEN_TTL_SECONDS.to_string(),
                "X-Metadata-Token-Ttl-Seconds",
            )?;
        let response = self.send(request).await?;
        match response.status {
            200..=299 => {
                let text = String::from_utf8(response.body).unwrap_or_default();
                let text = text.trim();
                if text.is_empty() || text.chars().any(char::is_control) {
                    return Err(Error::credentials(
                        self.name(),
                        "the session token answer is empty or not text",
                    ));
                }
                let token = SecretString::new(text);
                // Renewed a minute before its TTL ends.
                let until = now + Duration::from_secs(TOKEN_TTL_SECONDS - 60);
                *self.state() = SessionToken::Held {
                    token: token.clone(),
                    until,
                };
                Ok(Some(token))
            }
            404 | 405 | 503 => {
                tracing::debug!(
                    status = response.status,
                    "metadata session tokens not supported; carrying on without"
                );
                *self.state() = SessionToken::Unsupported {
                    until: now + NO_TOKEN_RETRY,
                };
                Ok(None)
            }
            _ => Err(Error::credentials(
                self.name(),
                format!(
                    "the session token request ({TOKEN_PATH}) was refused: {}",
                    error_summary(&response)
                ),
            )),
        }
    }

    async fn security_key(&self, token: Option<&SecretString>) -> Result<HttpResponse> {
        let mut request = HttpRequest::new(
            Method::GET,
            self.client.url(SECURITY_KEY_PATH)?,
            SECURITY_KEY_PATH,
        );
        if let Some(t) = token {
            request = request.secret_header(
                HeaderName::from_static("x-metadata-token"),
                t,
                "X-Metadata-Token",
            )?;
        }
        self.send(request).await
    }

    async fn load_once(&self) -> Result<Expiring<HuaweiCredentials>> {
        let token = self.session_token(false).await?;
        let mut response = self.security_key(token.as_ref()).await?;
        if response.status == 401 && !mentions_no_agency(&response) {
            // A stale (or missing but required) session token: one new token, one retry.
            *self.state() = SessionToken::Unknown;
            let token = self.session_token(true).await?;
            response = self.security_key(token.as_ref()).await?;
        }
        if response.status == 401 && mentions_no_agency(&response) {
            return Err(Error::credentials(
                self.name(),
                "the server has no agency attached (\"Please configure Cloud Service Agency \
                 first\"): attach an agency to the ECS server in the console, or give \
                 credentials another way",
            ));
        }
        if !response.is_success() {
            return Err(Error::credentials(
                self.name(),
                format!(
                    "{SECURITY_KEY_PATH} was refused: {}",
                    error_summary(&response)
                ),
            ));
        }
        parse_temporary(&self.name(), &response)
    }
}

fn mentions_no_agency(response: &HttpResponse) -> bool {
    String::from_utf8_lossy(&response.body).contains(NO_AGENCY)
}

impl LoadCredentials<HuaweiCredentials> for HuaweiInstanceMetadata {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<HuaweiCredentials>>> {
        Box::pin(self.load_once())
    }

    fn describe(&self) -> String {
        self.name()
    }
}
