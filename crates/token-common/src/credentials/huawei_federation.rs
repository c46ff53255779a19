//! [`HuaweiFederation`]: temporary keys for an OIDC ID token (a CI job, a Kubernetes
//! projected service-account token), through IAM.

use std::fmt;
use std::path::PathBuf;

use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use url::Url;

use super::huawei_pod::read_token_file;
use super::huawei_temporary::{error_summary, parse_temporary};
use super::{Environment, HuaweiCredentials, LoadCredentials};
use crate::cache::Expiring;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use crate::signing::NoSigning;
use crate::transport::{parse_endpoint, BoxFuture, HttpRequest, Transport};

/// The variable naming the identity provider.
pub const HUAWEICLOUD_SDK_IDP_ID: &str = "HUAWEICLOUD_SDK_IDP_ID";
/// The variable naming the ID token file.
pub const HUAWEICLOUD_SDK_ID_TOKEN_FILE: &str = "HUAWEICLOUD_SDK_ID_TOKEN_FILE";
/// The variable overriding the IAM endpoint (the official SDK's name).
pub const HUAWEICLOUD_SDK_IAM_ENDPOINT: &str = "HUAWEICLOUD_SDK_IAM_ENDPOINT";

/// The regions with their own IAM endpoint `https://iam.{region}.myhuaweicloud.com`;
/// every other region uses `https://iam.myhuaweicloud.com` (FACTS.md §2).
pub const IAM_REGIONS: &[&str] = &[
    "cn-north-1",
    "cn-north-2",
    "cn-north-4",
    "cn-north-9",
    "cn-north-12",
    "cn-east-2",
    "cn-east-3",
    "cn-east-4",
    "cn-east-5",
    "cn-south-1",
    "cn-south-2",
    "cn-southwest-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "af-south-1",
    "sa-brazil-1",
    "la-south-2",
    "la-north-2",
    "na-mexico-1",
    "eu-west-0",
    "my-kualalumpur-1",
    "ru-moscow-1",
    "me-east-1",
    "ae-ad-1",
    "tr-west-1",
];

/// What the securitytokens call asks for (the official SDK's value; IAM allows
/// 900..=86400).
pub const FEDERATION_DURATION_SECONDS: u32 = 21_600;

/// The IAM endpoint for `region`: `https://iam.{region}.myhuaweicloud.com` for the
/// regions in [`IAM_REGIONS`], else the global `https://iam.myhuaweicloud.com`.
///
/// ```
/// use token_common::credentials::iam_endpoint_for_region;
/// assert_eq!(iam_endpoint_for_region(Some("cn-north-4")), "https://iam.cn-north-4.myhuaweicloud.com");
/// assert_eq!(iam_endpoint_for_region(Some("ap-southeast-5")), "https://iam.myhuaweicloud.com");
/// assert_eq!(iam_endpoint_for_region(None), "https://iam.myhuaweicloud.com");
/// ```
pub fn iam_endpoint_for_region(region: Option<&str>) -> String {
    match region {
        Some(r) if IAM_REGIONS.contains(&r) => format!("https://iam.{r}.myhuaweicloud.com"),
        _ => "https://iam.myhuaweicloud.com".to_owned(),
    }
}

/// Where the federation settings came from, for errors and the IAM endpoint's precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FederationOrigin {
    /// `HUAWEICLOUD_SDK_IDP_ID` and `HUAWEICLOUD_SDK_ID_TOKEN_FILE`.
    Environment,
    /// `idp_id` and `id_token_file` in the profile file.
    Profile,
}

/// Temporary credentials for an OIDC ID token (FACTS.md §2):
/// 1. `POST {iam}/v3.0/OS-AUTH/id-token/tokens` with `X-Idp-Id: <idp_id>` and
///    `{"auth":{"id_token":{"id":"<file contents, trimmed>"}}}`, unsigned → the IAM token
///    in the `X-Subject-Token` response header;
/// 2. `POST {iam}/v3.0/OS-CREDENTIAL/securitytokens` with
///    `{"auth":{"identity":{"methods":["token"],"token":{"id":"<IAM token>","duration_seconds":21600}}}}`
///    → `{"credential":{"access","secret","securitytoken","expires_at"}}`.
///
/// The ID token file is read again on every load (it is rotated).
pub struct HuaweiFederation {
    idp_id: String,
    id_token_file: PathBuf,
    iam: Url,
    origin: FederationOrigin,
    transport: Transport,
}

impl fmt::Debug for HuaweiFederation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HuaweiFederation")
            .field("idp_id", &self.idp_id)
            .field("id_token_file", &self.id_token_file)
            .field("iam", &self.iam.as_str())
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl HuaweiFederation {
    /// Federation with `idp_id` and the ID token in `id_token_file`, through the IAM
    /// endpoint `iam` (`https://`, or `http://` to loopback).
    pub fn new(
        idp_id: &str,
        id_token_file: impl Into<PathBuf>,
        iam: &str,
        origin: FederationOrigin,
    ) -> Result<Self> {
        let field = match origin {
            FederationOrigin::Environment => "idp_id (HUAWEICLOUD_SDK_IDP_ID)",
            FederationOrigin::Profile => "idp_id",
        };
        if idp_id.trim().is_empty() {
            return Err(Error::invalid_input(field, "is empty"));
        }
        crate::request::check_header_text(field, idp_id)?;
        let iam = parse_endpoint("iam_endpoint", iam, false)?;
        let transport = Transport::builder()
            .user_agent(concat!("cloud-tokens/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            idp_id: idp_id.trim().to_owned(),
            id_token_file: id_token_file.into(),
            iam,
            origin,
            transport,
        })
    }

    /// From `HUAWEICLOUD_SDK_IDP_ID` and `HUAWEICLOUD_SDK_ID_TOKEN_FILE`: `Ok(None)` when
    /// neither is set, an error when only one is. The IAM endpoint is
    /// `HUAWEICLOUD_SDK_IAM_ENDPOINT`, else the region's.
    pub fn from_env(env: &Environment, region: Option<&str>) -> Result<Option<Self>> {
        let idp = env.get(HUAWEICLOUD_SDK_IDP_ID);
        let file = env.get(HUAWEICLOUD_SDK_ID_TOKEN_FILE);
        let (idp, file) = match (idp, file) {
            (None, None) => return Ok(None),
            (Some(i), Some(f)) => (i, f),
            (Some(_), None) => {
                return Err(Error::credentials(
                    "the environment",
                    format!(
                    "{HUAWEICLOUD_SDK_IDP_ID} is set but {HUAWEICLOUD_SDK_ID_TOKEN_FILE} is not"
                ),
                ))
            }
            (None, Some(_)) => {
                return Err(Error::credentials(
                    "the environment",
                    format!(
                    "{HUAWEICLOUD_SDK_ID_TOKEN_FILE} is set but {HUAWEICLOUD_SDK_IDP_ID} is not"
                ),
                ))
            }
        };
        let iam = match env.get(HUAWEICLOUD_SDK_IAM_ENDPOINT) {
            Some(e) => {
                parse_endpoint(HUAWEICLOUD_SDK_IAM_ENDPOINT, &e, false)?;
                e
            }
            None => iam_endpoint_for_region(region),
        };
        Self::new(&idp, file, &iam, FederationOrigin::Environment).map(Some)
    }

    /// Sends through another transport (an injected HTTP client or clock).
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The IAM endpoint in use.
    pub fn iam_endpoint(&self) -> &Url {
        &self.iam
    }

    fn name(&self) -> String {
        let from = match self.origin {
            FederationOrigin::Environment => "HUAWEICLOUD_SDK_IDP_ID",
            FederationOrigin::Profile => "the profile's idp_id",
        };
        format!(
            "OIDC federation (identity provider {} from {from}, IAM {})",
            self.idp_id,
            self.iam.as_str().trim_end_matches('/')
        )
    }

    fn url(&self, path: &str) -> Result<Url> {
        let base = self.iam.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path}"))
            .map_err(|e| Error::invalid_input("iam_endpoint", format!("makes an invalid URL: {e}")))
    }

    async fn load_once(&self) -> Result<Expiring<HuaweiCredentials>> {
        let name = self.name();
        let id_token = read_token_file(&name, &self.id_token_file, "id_token_file")?;

        // 1. ID token → IAM token.
        let body = serde_json::json!({"auth": {"id_token": {"id": id_token.expose_secret()}}});
        let path = "/v3.0/OS-AUTH/id-token/tokens";
        let mut request = HttpRequest::new(Method::POST, self.url(path)?, path).json(&body)?;
        request.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        );
        let request =
            request.header(HeaderName::from_static("x-idp-id"), &self.idp_id, "idp_id")?;
        let response = self
            .transport
            .send(request, &NoSigning, None)
            .await
            .map_err(|e| Error::credentials(&name, format!("{path}: {e}")))?;
        if !response.is_success() {
            return Err(Error::credentials(
                &name,
                format!("IAM refused the ID token: {}", error_summary(&response)),
            ));
        }
        let Some(iam_token) = response.header("x-subject-token").filter(|t| !t.is_empty()) else {
            return Err(Error::credentials(
                &name,
                "IAM accepted the ID token but sent no X-Subject-Token header",
            ));
        };
        let iam_token = SecretString::new(iam_token);

        // 2. IAM token → temporary keys.
        let body = serde_json::json!({"auth": {"identity": {
            "methods": ["token"],
            "token": {"id": iam_token.expose_secret(), "duration_seconds": FEDERATION_DURATION_SECONDS},
        }}});
        let path = "/v3.0/OS-CREDENTIAL/securitytokens";
        let mut request = HttpRequest::new(Method::POST, self.url(path)?, path).json(&body)?;
        request.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        );
        let response = self
            .transport
            .send(request, &NoSigning, None)
            .await
            .map_err(|e| Error::credentials(&name, format!("{path}: {e}")))?;
        if !response.is_success() {
            return Err(Error::credentials(
                &name,
                format!(
                    "IAM refused the security token request: {}",
                    error_summary(&response)
                ),
            ));
        }
        parse_temporary(&name, &response)
    }
}

impl LoadCredentials<HuaweiCredentials> for HuaweiFederation {
    fn load(&self) -> BoxFuture<'_, Result<Expiring<HuaweiCredentials>>> {
        Box::pin(self.load_once())
    }

    fn describe(&self) -> String {
        self.name()
    }
}
