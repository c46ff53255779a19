//! Configuring a [`KmsClient`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use token_common::credentials::{
    CredentialsCache, CredentialsSetting, LoadChain, LoadCredentials, NcpCredentials,
    NcpEnvironment, NcpProfile, NcpServerRole, ProvideCredentials,
};
use token_common::transport::{parse_endpoint, TransportOptions};

use crate::account::AccountKeys;
use crate::client::{Auth, Inner, KmsClient, TokenMode};
use crate::token_source::{HookError, KmsTokenSource, RenewHook};
use crate::{Error, Result, SecretString, TokenSet, TokenSetOptions, Transport};

/// Which NCP site the client talks to; each has its own KMS endpoint.
///
/// The financial site's endpoint is not published: give it with
/// [`KmsClientBuilder::endpoint`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Site {
    /// The public site, `https://ocapi.ncloud.com/kms/v1` (the default).
    #[default]
    Public,
    /// The public site for Korea-isolated keys, `https://ocapi-kr.ncloud.com/kms/v1`.
    Kr,
    /// The public site for Japan-isolated keys, `https://ocapi-jp.ncloud.com/kms/v1`.
    Jp,
    /// The government site, `https://ocapi.gov-ncloud.com/kms/v1`.
    Gov,
}

impl Site {
    /// The KMS base URL of the site, `/kms/v1` included.
    pub fn base_url(self) -> &'static str {
        match self {
            Site::Public => "https://ocapi.ncloud.com/kms/v1",
            Site::Kr => "https://ocapi-kr.ncloud.com/kms/v1",
            Site::Jp => "https://ocapi-jp.ncloud.com/kms/v1",
            Site::Gov => "https://ocapi.gov-ncloud.com/kms/v1",
        }
    }

    /// The site's name as [`FromStr`] reads it: `public`, `kr`, `jp` or `gov`.
    pub fn as_str(self) -> &'static str {
        match self {
            Site::Public => "public",
            Site::Kr => "kr",
            Site::Jp => "jp",
            Site::Gov => "gov",
        }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads `public`, `kr`, `jp` or `gov` (any case).
impl FromStr for Site {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "public" => Ok(Site::Public),
            "kr" => Ok(Site::Kr),
            "jp" => Ok(Site::Jp),
            "gov" => Ok(Site::Gov),
            _ => Err(Error::invalid_input(
                "site",
                "must be one of public, kr, jp, gov (give the financial site's URL as the endpoint)",
            )),
        }
    }
}

/// Builds a [`KmsClient`]; see [`KmsClient::builder`].
///
/// Every setting is checked at [`build`](Self::build), which names the field at fault.
///
/// Without [`credentials`](Self::credentials), a [provider](Self::credentials_provider) or
/// a [loader](Self::credentials_loader) (say an
/// [`StsCredentialsProvider`](crate::StsCredentialsProvider) or a
/// [`NcpServerRole`](crate::NcpServerRole); temporary keys refused by the gateway, 401
/// `errorCode` 200, are reloaded once), the client uses NCP's default chain
/// ([`LoadChain::ncp_default`](token_common::credentials::LoadChain::ncp_default)): the
/// environment (`NCLOUD_ACCESS_KEY_ID` / `NCLOUD_SECRET_ACCESS_KEY`, or the short names),
/// then `~/.ncloud/configure`, then the server role from instance metadata
/// (`NCLOUD_METADATA_ENDPOINT` or `NCLOUD_METADATA_API_ENDPOINT` overrides
/// `http://169.254.169.254`). The first two are read at `build()`, so a malformed one is
/// refused there; the server role is asked on the first signed call, and its keys are kept
/// fresh from then on.
#[must_use]
pub struct KmsClientBuilder {
    credentials: Option<Keys>,
    refresh_token: Option<(String, SecretString)>,
    token_options: TokenSetOptions,
    on_renew: Option<RenewHook>,
    site: Site,
    endpoint: Option<String>,
    transport: TransportOptions,
}

impl fmt::Debug for KmsClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsClientBuilder")
            .field("credentials", &self.credentials)
            .field(
                "token_mode_key_tag",
                &self.refresh_token.as_ref().map(|(tag, _)| tag),
            )
            .field("token_options", &self.token_options)
            .field("site", &self.site)
            .field("endpoint", &self.endpoint)
            .field("transport", &self.transport)
            .finish()
    }
}

impl KmsClientBuilder {
    pub(crate) fn new() -> Self {
        Self {
            credentials: None,
            refresh_token: None,
            token_options: TokenSetOptions::new(),
            on_renew: None,
            site: Site::Public,
            endpoint: None,
            transport: TransportOptions::default(),
        }
    }

    token_common::credentials_setters!(NcpCredentials);

    /// **Token mode**: the client holds only this refresh token, for `key_tag`, and never
    /// reads or needs account keys. The crypto calls on that key carry an access token the
    /// client refreshes ahead of expiry (one refresh for all concurrent callers); the set
    /// is renewed ahead of the refresh token's expiry, each new set going to
    /// [`on_renew`](Self::on_renew) before it is used; a refused access token is replaced
    /// once and the call sent once more; a refused refresh token is
    /// [`Error::SessionExpired`]. Calls signed with account keys (creating sets, the token
    /// generator, the key list) are refused before sending. Combining it with
    /// [`credentials`](Self::credentials) is refused at [`build`](Self::build).
    ///
    /// ```
    /// use ncp_kms_client::KmsClient;
    ///
    /// let client = KmsClient::builder()
    ///     .refresh_token("my-key-tag", std::env::var("NCLOUD_KMS_REFRESH_TOKEN").unwrap_or("eyJ.x.y".into()))
    ///     .on_renew(|set| {
    ///         // store set.refresh_token somewhere safe before it is used
    ///         Ok(())
    ///     })
    ///     .endpoint("http://127.0.0.1:8080/kms/v1")
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn refresh_token(mut self, key_tag: &str, refresh_token: impl Into<SecretString>) -> Self {
        self.refresh_token = Some((key_tag.to_owned(), refresh_token.into()));
        self
    }

    /// The validities asked for on refresh (`accessTokenHours` only) and renewal (both);
    /// left out, the service's defaults apply. Token mode only.
    pub fn token_options(mut self, options: TokenSetOptions) -> Self {
        self.token_options = options;
        self
    }

    /// In token mode, called with every renewed set before its refresh token is used: the
    /// place to persist the new refresh token. See [`RenewHook`].
    pub fn on_renew(
        mut self,
        hook: impl Fn(&TokenSet) -> std::result::Result<(), HookError> + Send + Sync + 'static,
    ) -> Self {
        self.on_renew = Some(Arc::new(hook));
        self
    }

    /// Talks to a site's KMS endpoint (default [`Site::Public`]). An
    /// [`endpoint`](Self::endpoint), when given, wins.
    pub fn site(mut self, site: Site) -> Self {
        self.site = site;
        self
    }

    /// Talks to this KMS base URL, `/kms/v1` included (the emulator, a proxy, the
    /// financial site), e.g. `http://127.0.0.1:8080/kms/v1`. Its path is kept as the prefix
    /// of every call and is signed with it. Must be `https://`, or `http://` to a loopback
    /// host, unless [`allow_insecure_http`](Self::allow_insecure_http).
    pub fn endpoint(mut self, url: &str) -> Self {
        self.endpoint = Some(url.to_owned());
        self
    }

    token_common::transport_setters!();

    /// Checks the settings, resolves the credentials and builds the client.
    pub fn build(self) -> Result<KmsClient> {
        let transport = self.transport.build(crate::USER_AGENT)?;
        let base = parse_endpoint(
            "endpoint",
            self.endpoint.as_deref().unwrap_or(self.site.base_url()),
            self.transport.allows_insecure_http(),
        )?;
        let auth = match self.refresh_token {
            Some((key_tag, refresh_token)) => {
                if self.credentials.is_some() {
                    return Err(Error::invalid_input(
                        "credentials",
                        "token mode (a refresh token) uses no account keys: give one or the other",
                    ));
                }
                let bare = KmsClient {
                    inner: Arc::new(Inner {
                        transport: transport.clone(),
                        auth: Auth::Bare,
                        base: base.clone(),
                    }),
                };
                let source = KmsTokenSource::from_refresh_token(
                    bare,
                    &key_tag,
                    refresh_token,
                    self.token_options,
                )?
                .with_hook(self.on_renew);
                Auth::Token(TokenMode {
                    key_tag,
                    cache: source.into_cache(),
                })
            }
            None => {
                if self.on_renew.is_some() {
                    return Err(Error::invalid_input(
                        "on_renew",
                        "applies to token mode (refresh_token); give it to KmsTokenSource::on_renew otherwise",
                    ));
                }
                let keys = self.credentials.unwrap_or(Keys::Default);
                Auth::Account(keys.resolve(&transport)?)
            }
        };
        Ok(KmsClient {
            inner: Arc::new(Inner {
                transport,
                auth,
                base,
            }),
        })
    }
}

/// Where a builder's account keys come from.
pub(crate) enum Keys {
    /// NCP's default chain: environment → configure file → server role.
    Default,
    /// Given in code.
    Fixed(NcpCredentials),
    /// A static provider, asked once at `build()`.
    Provider(Box<dyn ProvideCredentials<NcpCredentials>>),
    /// Temporary keys, reloaded ahead of expiry.
    Loader(Box<dyn LoadCredentials<NcpCredentials>>),
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Keys::Default => f.write_str("Default"),
            Keys::Fixed(c) => f.debug_tuple("Fixed").field(c).finish(),
            Keys::Provider(p) => f.debug_tuple("Provider").field(&p.describe()).finish(),
            Keys::Loader(l) => f.debug_tuple("Loader").field(&l.describe()).finish(),
        }
    }
}

impl From<CredentialsSetting<NcpCredentials>> for Keys {
    fn from(setting: CredentialsSetting<NcpCredentials>) -> Self {
        match setting {
            CredentialsSetting::Fixed(c) => Keys::Fixed(c),
            CredentialsSetting::Provider(p) => Keys::Provider(p),
            CredentialsSetting::Loader(l) => Keys::Loader(l),
        }
    }
}

impl Keys {
    /// The client's keys; static ones are read (and checked) now.
    pub(crate) fn resolve(self, transport: &Transport) -> Result<AccountKeys> {
        let refreshing = |l: Box<dyn LoadCredentials<NcpCredentials>>| {
            AccountKeys::refreshing(CredentialsCache::new(l).with_clock(transport.clock().clone()))
        };
        match self {
            Keys::Default => {
                // The static sources are read now, so a malformed one is refused at
                // build(); only the server role waits for the first signed call (the
                // chain reads the other two again, to list them if nothing is found).
                let (env, profile) = (NcpEnvironment::new(), NcpProfile::new());
                if let Some(c) = env.try_provide()? {
                    return AccountKeys::fixed(c);
                }
                if let Some(c) = profile.try_provide()? {
                    return AccountKeys::fixed(c);
                }
                Ok(refreshing(Box::new(LoadChain::ncp(
                    env,
                    profile,
                    NcpServerRole::new(),
                ))))
            }
            Keys::Fixed(c) => AccountKeys::fixed(c),
            Keys::Provider(p) => AccountKeys::fixed(p.provide()?),
            Keys::Loader(l) => Ok(refreshing(l)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_parse_and_have_their_urls() {
        for (name, url) in [
            ("public", "https://ocapi.ncloud.com/kms/v1"),
            ("KR", "https://ocapi-kr.ncloud.com/kms/v1"),
            ("jp", "https://ocapi-jp.ncloud.com/kms/v1"),
            ("gov", "https://ocapi.gov-ncloud.com/kms/v1"),
        ] {
            assert_eq!(name.parse::<Site>().unwrap().base_url(), url);
        }
        assert_eq!("fin".parse::<Site>().unwrap_err().field(), Some("site"));
    }
}
