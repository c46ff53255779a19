//! NCP Secure Token Service: short-lived keys for a sub-account (FACTS.md §1 "Temporary
//! credentials").
//!
//! [`StsClient::create_credentials`] (`POST /api/v1/credentials`) turns a sub-account key
//! into a temporary key of 600 s to 12 h; [`StsClient::get_credentials`]
//! (`GET /api/v1/credentials`) describes the key the request is signed with. Both are
//! signed with signature v2 and carry `Content-Type: application/json`. The default host
//! is `https://sts.apigw.ntruss.com`; the government and financial hosts are not published,
//! so give them as an [`endpoint`](StsClientBuilder::endpoint).
//!
//! [`StsCredentialsProvider`] keeps such a key fresh for a [`KmsClient`](crate::KmsClient)
//! (through [`credentials_loader`](crate::KmsClientBuilder::credentials_loader)).
//!
//! ```
//! use ncp_kms_client::{KmsClient, NcpCredentials, StsClient, StsCredentialsProvider};
//!
//! # fn main() -> ncp_kms_client::Result<()> {
//! let sts = StsClient::builder()
//!     .credentials(NcpCredentials::new("ncp_iam_SUBACCOUNT", "ncp_iam_SECRET"))
//!     .endpoint("http://127.0.0.1:8080") // the emulator; default https://sts.apigw.ntruss.com
//!     .build()?;
//! let kms = KmsClient::builder()
//!     .credentials_loader(StsCredentialsProvider::new(sts).with_duration_secs(3600)?)
//!     .endpoint("http://127.0.0.1:8080/kms/v1")
//!     .build()?;
//! # let _ = kms;
//! # Ok(()) }
//! ```

mod model;
mod provider;

use std::fmt;

use reqwest::header::CONTENT_TYPE;
use reqwest::Method;
use token_common::credentials::NcpCredentials;
use token_common::transport::{parse_endpoint, TransportOptions};
use url::Url;

use crate::account::AccountKeys;
use crate::builder::Keys;
use crate::{error, Error, HttpRequest, Result, Transport};

pub use model::{StsCredentials, StsErrorKind, StsKeyInfo, StsOptions};
pub use provider::StsCredentialsProvider;

/// The Secure Token Service of the public site.
pub const STS_ENDPOINT: &str = "https://sts.apigw.ntruss.com";

/// The shortest temporary key STS creates, in seconds.
pub const MIN_STS_DURATION_SECS: u32 = 600;
/// The longest temporary key STS creates, in seconds (12 hours).
pub const MAX_STS_DURATION_SECS: u32 = 43_200;

const CREDENTIALS_PATH: &str = "/api/v1/credentials";

/// A client of NCP Secure Token Service. Cheap to clone.
#[derive(Clone)]
pub struct StsClient {
    transport: Transport,
    keys: AccountKeys,
    base: Url,
}

impl fmt::Debug for StsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsClient")
            .field("endpoint", &self.base.as_str())
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl StsClient {
    /// A builder: the sub-account key from NCP's default chain (environment, then
    /// `~/.ncloud/configure`, then the server role) unless given, the public STS host
    /// unless an endpoint is given.
    pub fn builder() -> StsClientBuilder {
        StsClientBuilder {
            credentials: None,
            endpoint: None,
            transport: TransportOptions::default(),
        }
    }

    /// The STS base URL in use.
    pub fn endpoint(&self) -> &Url {
        &self.base
    }

    /// The transport the client sends through.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Creates a temporary key (`POST /api/v1/credentials`). `durationSec` is checked
    /// (600..=43200) before anything is sent.
    ///
    /// Not idempotent: each call creates a key, so it is never sent again after a 502, a
    /// 504, a timeout or a reset (only after a connection that never carried it, 429 or
    /// 503). Errors: [`StsErrorKind::of`] tells the documented ones apart.
    pub async fn create_credentials(&self, options: &StsOptions) -> Result<StsCredentials> {
        let body = options.body()?;
        let req = HttpRequest::new(Method::POST, self.url(), CREDENTIALS_PATH).json(&body)?;
        let (body, status): (model::StsBody, u16) = self.send(req).await?;
        body.into_credentials(status)
    }

    /// Describes the key this client signs with (`GET /api/v1/credentials`): for a
    /// temporary key its secret, expiry and MFA state too.
    pub async fn get_credentials(&self) -> Result<StsKeyInfo> {
        // No body, but the Content-Type every STS call documents.
        let req = HttpRequest::new(Method::GET, self.url(), CREDENTIALS_PATH).header(
            CONTENT_TYPE,
            "application/json",
            "content_type",
        )?;
        let (body, status): (model::StsBody, u16) = self.send(req).await?;
        body.into_info(status)
    }

    fn url(&self) -> Url {
        let mut url = self.base.clone();
        let path = format!("{}{CREDENTIALS_PATH}", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }

    async fn send<T: serde::de::DeserializeOwned>(&self, req: HttpRequest) -> Result<(T, u16)> {
        let resp = self.keys.send(&self.transport, req).await?;
        if !resp.is_success() {
            return Err(error::from_response(&resp, self.transport.clock().now()));
        }
        Ok((resp.json()?, resp.status))
    }
}

/// Builds an [`StsClient`]; see [`StsClient::builder`]. Settings are checked at
/// [`build`](Self::build).
#[must_use]
pub struct StsClientBuilder {
    credentials: Option<Keys>,
    endpoint: Option<String>,
    transport: TransportOptions,
}

impl fmt::Debug for StsClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsClientBuilder")
            .field("credentials", &self.credentials)
            .field("endpoint", &self.endpoint)
            .field("transport", &self.transport)
            .finish()
    }
}

impl StsClientBuilder {
    token_common::credentials_setters!(NcpCredentials);

    /// Talks to this STS base URL (default [`STS_ENDPOINT`]); `/api/v1/credentials` is
    /// appended to its path. `https://`, or `http://` to loopback, unless
    /// [`allow_insecure_http`](Self::allow_insecure_http).
    pub fn endpoint(mut self, url: &str) -> Self {
        self.endpoint = Some(url.to_owned());
        self
    }

    token_common::transport_setters!();

    /// Checks the settings, resolves the key and builds the client.
    pub fn build(self) -> Result<StsClient> {
        let transport = self.transport.build(crate::USER_AGENT)?;
        let base = parse_endpoint(
            "endpoint",
            self.endpoint.as_deref().unwrap_or(STS_ENDPOINT),
            self.transport.allows_insecure_http(),
        )?;
        let keys = self
            .credentials
            .unwrap_or(Keys::Default)
            .resolve(&transport)?;
        Ok(StsClient {
            transport,
            keys,
            base,
        })
    }
}

impl From<StsCredentials> for NcpCredentials {
    fn from(c: StsCredentials) -> Self {
        NcpCredentials::new(c.access_key, c.key_secret)
    }
}

/// An STS answer that is not the documented object.
fn missing(field: &str, status: u16) -> Error {
    Error::decode(status, format!("the STS answer has no valid `{field}`"))
}
