//! [`HuaweiPodIdentity`]: a CCE pod's own temporary keys.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use reqwest::header::AUTHORIZATION;
use reqwest::Method;

use super::huawei_temporary::{error_summary, parse_temporary};
use super::metadata::{is_unreachable, MetadataClient};
use super::{Environment, HuaweiCredentials, LoadCredentials};
use crate::cache::Expiring;
use crate::error::{Error, Idempotency, Result};
use crate::secret::SecretString;
use crate::transport::{BoxFuture, HttpClient, HttpRequest};

/// The variable holding the pod-identity URI.
pub const HC_CONTAINER_CREDENTIALS_FULL_URI: &str = "HC_CONTAINER_CREDENTIALS_FULL_URI";
/// The variable naming the file whose contents go in `Authorization`.
pub const HC_CONTAINER_AUTHORIZATION_TOKEN_FILE: &str = "HC_CONTAINER_AUTHORIZATION_TOKEN_FILE";

/// Temporary credentials from CCE pod identity (FACTS.md §2): `POST <uri>` with
/// `Authorization: <token file contents>` and body `{}` →
/// `{"credentials":{"accessKeyId","secretAccessKey","securityToken","expiration"}}`.
///
/// The URI is `HC_CONTAINER_CREDENTIALS_FULL_URI` (plain `http://` allowed to exactly that
/// address), the token file `HC_CONTAINER_AUTHORIZATION_TOKEN_FILE`; the file is read
/// again on every load, since the kubelet rotates it. Once the URI is set, pod identity is
/// the pod's identity: a service that does not answer is an error, not a reason to fall
/// back to the node's agency.
pub struct HuaweiPodIdentity {
    client: MetadataClient,
    token_file: PathBuf,
}

impl fmt::Debug for HuaweiPodIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HuaweiPodIdentity")
            .field("uri", &self.client.describe())
            .field("token_file", &self.token_file)
            .finish()
    }
}

impl HuaweiPodIdentity {
    /// From the environment: `Ok(None)` when `HC_CONTAINER_CREDENTIALS_FULL_URI` is unset;
    /// an error naming the variable when the URI is unusable or the token file variable
    /// is missing.
    pub fn from_env(env: &Environment) -> Result<Option<Self>> {
        let Some(uri) = env.get(HC_CONTAINER_CREDENTIALS_FULL_URI) else {
            return Ok(None);
        };
        let client = MetadataClient::overridden(HC_CONTAINER_CREDENTIALS_FULL_URI, &uri)?;
        let Some(file) = env.get(HC_CONTAINER_AUTHORIZATION_TOKEN_FILE) else {
            return Err(Error::credentials(
                "pod identity",
                format!(
                    "{HC_CONTAINER_CREDENTIALS_FULL_URI} is set but \
                     {HC_CONTAINER_AUTHORIZATION_TOKEN_FILE} is not"
                ),
            ));
        };
        Ok(Some(Self::new(client, file)))
    }

    /// Asks `client`'s base URL, sending the contents of `token_file`.
    pub fn new(client: MetadataClient, token_file: impl Into<PathBuf>) -> Self {
        Self {
            client,
            token_file: token_file.into(),
        }
    }

    /// Sends through another HTTP client (tests).
    pub fn with_http_client(mut self, http: Arc<dyn HttpClient>) -> Self {
        self.client = self.client.with_http_client(http);
        self
    }

    fn name(&self) -> String {
        format!("pod identity ({})", self.client.describe())
    }

    async fn load_once(&self) -> Result<Expiring<HuaweiCredentials>> {
        let token = read_token_file(
            &self.name(),
            &self.token_file,
            HC_CONTAINER_AUTHORIZATION_TOKEN_FILE,
        )?;
        let mut request =
            HttpRequest::new(Method::POST, self.client.base().clone(), "/{pod-identity}")
                // Reads credentials, creates nothing.
                .with_idempotency(Idempotency::Idempotent)
                .json(&serde_json::json!({}))?;
        request = request.secret_header(AUTHORIZATION, &token, "Authorization")?;
        let response = self.client.send(request).await.map_err(|e| {
            let hint = if is_unreachable(&e) {
                " (the pod-identity service did not answer)"
            } else {
                ""
            };
            Error::credentials(self.name(), format!("{e}{hint}"))
        })?;
        if !response.is_success() {
            return Err(Error::credentials(
                self.name(),
                format!("refused: {}", error_summary(&response)),
            ));
        }
        parse_temporary(&self.name(), &response)
    }
}

/// Reads a token file (re-read on every load: it is rotated), trimmed; an error names the
/// variable and the path, never the contents.
pub(crate) fn read_token_file(
    source: &str,
    path: &std::path::Path,
    variable: &str,
) -> Result<SecretString> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        Error::credentials(
            source,
            format!("cannot read {variable} file {}: {e}", path.display()),
        )
    })?);
    let token = SecretString::new(text.trim());
    if token.is_empty() {
        return Err(Error::credentials(
            source,
            format!("the {variable} file {} is empty", path.display()),
        ));
    }
    Ok(token)
}

impl LoadCredentials<HuaweiCredentials> for HuaweiPodIdentity {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<HuaweiCredentials>>> {
        Box::pin(self.load_once())
    }

    fn describe(&self) -> String {
        self.name()
    }
}
