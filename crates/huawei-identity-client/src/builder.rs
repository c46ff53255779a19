//! [`IdentityStoreClientBuilder`]: where the client's configuration is checked.

use std::fmt;
use std::sync::Arc;

use token_common::credentials::{
    huawei_default_chain, huawei_project_id, CredentialsCache, CredentialsSetting, Environment,
    HuaweiChainOptions, HuaweiCredentials, HuaweiScope, LoadCredentials, ProvideCredentials,
    SignerCache, StaticCredentials,
};
use token_common::signing::huawei::HuaweiAlgorithm;
use token_common::signing::HuaweiSigner;
use token_common::transport::{parse_endpoint, TransportOptions};
use token_common::{Error, Result};

use crate::client::{IdentityStoreClient, Inner};
use crate::region;

/// The user agent sent by the default transport.
const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// Builds an [`IdentityStoreClient`]; every setting is checked at [`build`](Self::build).
///
/// Where requests go, in order: [`endpoint`](Self::endpoint) when given; else the region's
/// official override variable `HUAWEICLOUD_SDK_REGION_IDENTITYCENTERSTORE_<REGION>` when
/// set; else `https://identitystore.{region}.myhuaweicloud.com`.
///
/// Credentials come from [`credentials`](Self::credentials) or
/// [`credentials_provider`](Self::credentials_provider) (read once, at `build`), or from
/// [`credentials_loader`](Self::credentials_loader) (loaded when first needed and kept
/// fresh). By default they come from the Huawei default chain
/// ([`huawei_default_chain`]): the environment, the `[basic]` section of
/// `~/.huaweicloud/credentials`, pod identity (when `HC_CONTAINER_CREDENTIALS_FULL_URI` is
/// set), then ECS instance metadata — with OIDC federation where `idp_id` and
/// `id_token_file` are set. Nothing is fetched at `build`: the first call loads the
/// credentials, and temporary ones are refreshed ahead of expiry by one load shared by
/// every call ([`CredentialsCache`]).
///
/// The project id comes from [`project_id`](Self::project_id), else the given
/// credentials, else `HUAWEICLOUD_SDK_PROJECT_ID`, else `project_id` in the profile's
/// `[basic]` section; without one, `build` fails.
#[must_use]
pub struct IdentityStoreClientBuilder {
    region: Option<(String, bool)>,
    endpoint: Option<String>,
    credentials: Option<Credentials>,
    project_id: Option<String>,
    signing_algorithm: HuaweiAlgorithm,
    environment: Environment,
    transport: TransportOptions,
}

/// Where the builder was told to take credentials from.
#[derive(Debug)]
enum Credentials {
    /// Read once at `build`.
    Provided(Box<dyn ProvideCredentials<HuaweiCredentials>>),
    /// Loaded when needed and kept fresh.
    Source(Box<dyn LoadCredentials<HuaweiCredentials>>),
}

impl From<CredentialsSetting<HuaweiCredentials>> for Credentials {
    fn from(setting: CredentialsSetting<HuaweiCredentials>) -> Self {
        match setting {
            CredentialsSetting::Fixed(c) => {
                Credentials::Provided(Box::new(StaticCredentials::new(c)))
            }
            CredentialsSetting::Provider(p) => Credentials::Provided(p),
            CredentialsSetting::Loader(l) => Credentials::Source(l),
        }
    }
}

impl fmt::Debug for IdentityStoreClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityStoreClientBuilder")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials)
            .field("project_id", &self.project_id)
            .field("signing_algorithm", &self.signing_algorithm)
            .field("environment", &self.environment)
            .field("transport", &self.transport)
            .finish()
    }
}

impl Default for IdentityStoreClientBuilder {
    fn default() -> Self {
        Self {
            region: None,
            endpoint: None,
            credentials: None,
            project_id: None,
            signing_algorithm: HuaweiAlgorithm::default(),
            environment: Environment::process(),
            transport: TransportOptions::default(),
        }
    }
}

impl IdentityStoreClientBuilder {
    /// The region, e.g. `cn-north-4`; it must be one of [`KNOWN_REGIONS`](crate::KNOWN_REGIONS)
    /// (use [`custom_region`](Self::custom_region) for one added since).
    pub fn region(mut self, region: &str) -> Self {
        self.region = Some((region.to_owned(), false));
        self
    }

    /// A region this crate does not know yet: used as given (lower-case letters, digits
    /// and `-`) in `https://identitystore.{region}.myhuaweicloud.com`.
    pub fn custom_region(mut self, region: &str) -> Self {
        self.region = Some((region.to_owned(), true));
        self
    }

    /// Sends requests to this base URL instead (an emulator, a proxy, a private endpoint).
    /// It must be `https://`, or `http://` to a loopback host, unless
    /// [`allow_insecure_http`](Self::allow_insecure_http). Wins over the region.
    pub fn endpoint(mut self, url: &str) -> Self {
        self.endpoint = Some(url.to_owned());
        self
    }

    token_common::credentials_setters!(HuaweiCredentials);

    /// The old name of [`credentials_loader`](Self::credentials_loader), the word every
    /// client builder uses for a [`LoadCredentials`] source.
    #[deprecated(note = "renamed credentials_loader, the word every client builder uses")]
    pub fn credentials_source(
        self,
        source: impl LoadCredentials<HuaweiCredentials> + 'static,
    ) -> Self {
        self.credentials_loader(source)
    }

    /// The project id sent as `X-Project-Id`, overriding the credentials' one.
    pub fn project_id(mut self, project_id: &str) -> Self {
        self.project_id = Some(project_id.to_owned());
        self
    }

    /// The request-signing algorithm: `SDK-HMAC-SHA256` by default (what the official SDKs
    /// use), [`HuaweiAlgorithm::HmacSm3`] for `SDK-HMAC-SM3` (some regulated environments
    /// require it), or [`HuaweiAlgorithm::v11`] for the derived-key `V11-HMAC-SHA256`.
    ///
    /// ```
    /// use huawei_identity_client::{HuaweiAlgorithm, HuaweiCredentials, IdentityStoreClient};
    /// let client = IdentityStoreClient::builder()
    ///     .region("cn-north-4")
    ///     .credentials(HuaweiCredentials::new("AK", "SK").with_project_id("p-1"))
    ///     .signing_algorithm(HuaweiAlgorithm::HmacSm3)
    ///     .build()?;
    /// # Ok::<(), huawei_identity_client::Error>(())
    /// ```
    pub fn signing_algorithm(mut self, algorithm: HuaweiAlgorithm) -> Self {
        self.signing_algorithm = algorithm;
        self
    }

    /// Reads environment variables (the endpoint override and, for the default
    /// credentials, `HUAWEICLOUD_SDK_*` and `HOME`) from `env` instead of the process
    /// environment.
    pub fn environment(mut self, env: Environment) -> Self {
        self.environment = env;
        self
    }

    token_common::transport_setters!();

    /// Checks the settings, reads the credentials and builds the client.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the setting at fault (`region`, `custom_region`,
    /// `endpoint`, `project_id`, `timeout`, …), or [`Error::Credentials`] when no
    /// credentials are found or a source is malformed.
    pub fn build(self) -> Result<IdentityStoreClient> {
        let transport = self.transport.build(USER_AGENT)?;
        let allow_http = self.transport.allows_insecure_http();

        let (endpoint, field) =
            match (&self.endpoint, &self.region) {
                (Some(url), _) => (url.clone(), "endpoint".to_owned()),
                (None, Some((name, custom))) => {
                    if *custom {
                        region::check_custom(name)?;
                    } else {
                        region::check_known(name)?;
                    }
                    region::resolve(name, &self.environment)
                }
                (None, None) => return Err(Error::invalid_input(
                    "region",
                    "give a region with `.region(\"cn-north-4\")` or a URL with `.endpoint(..)`",
                )),
            };
        // Its path without a trailing `/`: the client appends `/v1/...` to it.
        let endpoint = parse_endpoint(&field, &endpoint, allow_http)?;

        let clock = transport.clock().clone();
        let mut fixed = None;
        let (cache, given_project) = match self.credentials {
            Some(Credentials::Provided(p)) => {
                let c = p.provide()?;
                let project = c.project_id().map(str::to_owned);
                fixed = Some(c.clone());
                (CredentialsCache::fixed(c), project)
            }
            Some(Credentials::Source(s)) => (CredentialsCache::new(s).with_clock(clock), None),
            None => {
                let mut options = HuaweiChainOptions::default();
                options.environment = self.environment.clone();
                options.region = self.region.as_ref().map(|(r, _)| r.clone());
                options.clock = clock.clone();
                let chain = huawei_default_chain(options)?;
                (CredentialsCache::new(chain).with_clock(clock), None)
            }
        };
        let project_id = self
            .project_id
            .clone()
            .or(given_project)
            .or_else(|| huawei_project_id(&self.environment));
        let project_id = match project_id {
            Some(id) if !id.trim().is_empty() => id,
            _ => {
                return Err(Error::invalid_input(
                    "project_id",
                    "no project id: set HUAWEICLOUD_SDK_PROJECT_ID, `project_id` in the \
                     [basic] section of ~/.huaweicloud/credentials, or call `.project_id(..)`",
                ))
            }
        };
        self.signing_algorithm.check()?;
        let algorithm = self.signing_algorithm.clone();
        let scope = HuaweiScope::Project(project_id.clone());
        if let Some(c) = &fixed {
            // Keys given in code are checked now (an empty key, a token with a line
            // break), not at the first call.
            HuaweiSigner::with_algorithm(c, scope.clone(), algorithm.clone())?;
        }
        // The HMAC key is derived once per credential, not once per request.
        let signers = SignerCache::new(cache, move |c: &HuaweiCredentials| {
            HuaweiSigner::with_algorithm(c, scope.clone(), algorithm.clone())
        });
        Ok(IdentityStoreClient {
            inner: Arc::new(Inner {
                endpoint,
                project_id,
                algorithm: self.signing_algorithm,
                signers,
                transport,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> HuaweiCredentials {
        HuaweiCredentials::new("AK", "SK").with_project_id("p-1")
    }

    fn empty_env() -> Environment {
        Environment::from_pairs::<&str, &str>([])
    }

    #[test]
    fn region_gives_public_endpoint() {
        let c = IdentityStoreClient::builder()
            .region("cn-north-4")
            .credentials(creds())
            .environment(empty_env())
            .build()
            .unwrap();
        assert_eq!(
            c.endpoint().as_str(),
            "https://identitystore.cn-north-4.myhuaweicloud.com/"
        );
        assert_eq!(c.project_id(), "p-1");
    }

    #[test]
    fn unknown_region_is_refused_but_custom_region_works() {
        let e = IdentityStoreClient::builder()
            .region("eu-west-101")
            .credentials(creds())
            .build()
            .unwrap_err();
        assert_eq!(e.field(), Some("region"));
        assert!(e.to_string().contains("custom_region"));
        let c = IdentityStoreClient::builder()
            .custom_region("eu-west-101")
            .credentials(creds())
            .environment(empty_env())
            .build()
            .unwrap();
        assert_eq!(
            c.endpoint().as_str(),
            "https://identitystore.eu-west-101.myhuaweicloud.com/"
        );
    }

    #[test]
    fn override_variable_then_explicit_endpoint() {
        let env = Environment::from_pairs([(
            "HUAWEICLOUD_SDK_REGION_IDENTITYCENTERSTORE_CN_EAST_3",
            "https://ids.internal.example.com/",
        )]);
        let c = IdentityStoreClient::builder()
            .region("cn-east-3")
            .credentials(creds())
            .environment(env.clone())
            .build()
            .unwrap();
        assert_eq!(c.endpoint().as_str(), "https://ids.internal.example.com/");
        let c = IdentityStoreClient::builder()
            .region("cn-east-3")
            .endpoint("http://127.0.0.1:9/base/")
            .credentials(creds())
            .environment(env)
            .build()
            .unwrap();
        assert_eq!(c.endpoint().as_str(), "http://127.0.0.1:9/base");
    }

    #[test]
    fn bad_override_variable_is_named() {
        let env = Environment::from_pairs([(
            "HUAWEICLOUD_SDK_REGION_IDENTITYCENTERSTORE_CN_NORTH_4",
            "http://ids.example.com",
        )]);
        let e = IdentityStoreClient::builder()
            .region("cn-north-4")
            .credentials(creds())
            .environment(env)
            .build()
            .unwrap_err();
        assert_eq!(
            e.field(),
            Some("HUAWEICLOUD_SDK_REGION_IDENTITYCENTERSTORE_CN_NORTH_4")
        );
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        let b = || {
            IdentityStoreClient::builder()
                .endpoint("http://ids.example.com")
                .credentials(creds())
        };
        assert_eq!(b().build().unwrap_err().field(), Some("endpoint"));
        assert!(b().allow_insecure_http(true).build().is_ok());
        let e = IdentityStoreClient::builder()
            .endpoint("https://x.example.com/?a=b")
            .credentials(creds())
            .build()
            .unwrap_err();
        assert_eq!(e.field(), Some("endpoint"));
    }

    #[test]
    fn neither_region_nor_endpoint_is_refused() {
        let e = IdentityStoreClient::builder()
            .credentials(creds())
            .build()
            .unwrap_err();
        assert_eq!(e.field(), Some("region"));
    }

    #[test]
    fn missing_project_id_names_the_variable() {
        let e = IdentityStoreClient::builder()
            .region("cn-north-4")
            .credentials(HuaweiCredentials::new("AK", "SK"))
            .build()
            .unwrap_err();
        assert_eq!(e.field(), Some("project_id"));
        assert!(e.to_string().contains("HUAWEICLOUD_SDK_PROJECT_ID"));
    }

    #[test]
    fn builder_project_id_overrides_credentials() {
        let c = IdentityStoreClient::builder()
            .region("cn-north-4")
            .credentials(creds())
            .project_id("p-2")
            .environment(empty_env())
            .build()
            .unwrap();
        assert_eq!(c.project_id(), "p-2");
    }

    #[test]
    fn default_credentials_come_from_the_given_environment() {
        let env = Environment::from_pairs([
            ("HUAWEICLOUD_SDK_AK", "AK-env"),
            ("HUAWEICLOUD_SDK_SK", "SK-env"),
            ("HUAWEICLOUD_SDK_PROJECT_ID", "p-env"),
        ]);
        let c = IdentityStoreClient::builder()
            .region("cn-north-4")
            .environment(env)
            .build()
            .unwrap();
        assert_eq!(c.project_id(), "p-env");

        // No credentials anywhere: the chain is only asked at the first call, so `build`
        // fails for the project id, which nothing gives.
        let e = IdentityStoreClient::builder()
            .region("cn-north-4")
            .environment(empty_env())
            .build()
            .unwrap_err();
        assert_eq!(e.field(), Some("project_id"), "{e:?}");
    }

    #[test]
    fn signing_algorithm_reaches_the_signer_and_a_bad_v11_service_is_named() {
        let b = || {
            IdentityStoreClient::builder()
                .region("cn-north-4")
                .credentials(creds())
                .environment(empty_env())
        };
        let c = b().build().unwrap();
        assert_eq!(&c.inner.algorithm, &HuaweiAlgorithm::HmacSha256);
        let c = b()
            .signing_algorithm(HuaweiAlgorithm::HmacSm3)
            .build()
            .unwrap();
        assert_eq!(&c.inner.algorithm, &HuaweiAlgorithm::HmacSm3);
        let e = b()
            .signing_algorithm(HuaweiAlgorithm::v11("cn-north-4", "identity store"))
            .build()
            .unwrap_err();
        assert_eq!(e.field(), Some("service"));
    }

    #[test]
    fn zero_timeout_is_refused() {
        let e = IdentityStoreClient::builder()
            .region("cn-north-4")
            .credentials(creds())
            .timeout(std::time::Duration::ZERO)
            .build()
            .unwrap_err();
        assert_eq!(e.field(), Some("timeout"));
    }
}
