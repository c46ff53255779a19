//! Configuring a [`KmsClient`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use token_common::credentials::{
    CredentialsChain, NcpCredentials, ProvideCredentials, StaticCredentials,
};
use token_common::signing::NcpSigner;
use token_common::transport::check_endpoint;
use url::Url;

use crate::client::{Inner, KmsClient};
use crate::{Error, Result, Transport};

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
#[must_use]
pub struct KmsClientBuilder {
    credentials: Option<Box<dyn ProvideCredentials<NcpCredentials>>>,
    site: Site,
    endpoint: Option<String>,
    timeout: Option<Duration>,
    max_attempts: Option<u32>,
    allow_insecure_http: bool,
    transport: Option<Transport>,
}

impl fmt::Debug for KmsClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsClientBuilder")
            .field("credentials", &self.credentials)
            .field("site", &self.site)
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("transport", &self.transport.as_ref().map(|_| "given"))
            .finish()
    }
}

impl KmsClientBuilder {
    pub(crate) fn new() -> Self {
        Self {
            credentials: None,
            site: Site::Public,
            endpoint: None,
            timeout: None,
            max_attempts: None,
            allow_insecure_http: false,
            transport: None,
        }
    }

    /// Signs with these credentials.
    pub fn credentials(mut self, credentials: NcpCredentials) -> Self {
        self.credentials = Some(Box::new(StaticCredentials::new(credentials)));
        self
    }

    /// Takes the credentials from a provider, asked once at [`build`](Self::build). The
    /// default is [`CredentialsChain::ncp_default`]: the environment
    /// (`NCLOUD_ACCESS_KEY_ID` / `NCLOUD_SECRET_ACCESS_KEY`, or the short names), then the
    /// profile file `~/.ncloud/configure`.
    pub fn credentials_provider(
        mut self,
        provider: impl ProvideCredentials<NcpCredentials> + 'static,
    ) -> Self {
        self.credentials = Some(Box::new(provider));
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

    /// Time allowed for one attempt (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Attempts in all, the first included (default 3).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = Some(attempts);
        self
    }

    /// Allows plain `http://` to hosts other than loopback (default: refused).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Sends through this transport (shared with other clients, or with an injected clock
    /// or HTTP client). Its own settings then apply: combining it with
    /// [`timeout`](Self::timeout) or [`max_attempts`](Self::max_attempts) is refused.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Checks the settings, resolves the credentials and builds the client.
    pub fn build(self) -> Result<KmsClient> {
        let transport = match self.transport {
            Some(t) => {
                if self.timeout.is_some() || self.max_attempts.is_some() {
                    return Err(Error::invalid_input(
                        "transport",
                        "a given transport brings its own timeout and attempts: set them on its builder",
                    ));
                }
                t
            }
            None => {
                let mut b = Transport::builder()
                    .user_agent(concat!(
                        env!("CARGO_PKG_NAME"),
                        "/",
                        env!("CARGO_PKG_VERSION")
                    ))
                    .allow_insecure_http(self.allow_insecure_http);
                if let Some(t) = self.timeout {
                    if t.is_zero() {
                        return Err(Error::invalid_input("timeout", "must be longer than zero"));
                    }
                    b = b.attempt_timeout(t);
                }
                if let Some(n) = self.max_attempts {
                    b = b.max_attempts(n);
                }
                b.build()?
            }
        };
        let allow_http = self.allow_insecure_http || transport.config().allow_insecure_http;
        let base = parse_endpoint(
            self.endpoint.as_deref().unwrap_or(self.site.base_url()),
            allow_http,
        )?;
        let provider = self
            .credentials
            .unwrap_or_else(|| Box::new(CredentialsChain::ncp_default()));
        let signer = NcpSigner::new(&provider.provide()?)?;
        Ok(KmsClient {
            inner: Arc::new(Inner {
                transport,
                signer,
                base,
            }),
        })
    }
}

/// Parses and checks the base URL, and drops a trailing `/` so paths join cleanly.
fn parse_endpoint(text: &str, allow_http: bool) -> Result<Url> {
    let mut url = Url::parse(text.trim())
        .map_err(|e| Error::invalid_input("endpoint", format!("is not a URL: {e}")))?;
    check_endpoint("endpoint", &url, allow_http)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(
            "endpoint",
            "must not have a query or a fragment",
        ));
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_keeps_its_path_without_trailing_slash() {
        let u = parse_endpoint("http://127.0.0.1:9/prefix/kms/v1/", false).unwrap();
        assert_eq!(u.path(), "/prefix/kms/v1");
        let u = parse_endpoint(Site::Gov.base_url(), false).unwrap();
        assert_eq!(u.as_str(), "https://ocapi.gov-ncloud.com/kms/v1");
    }

    #[test]
    fn endpoint_refuses_plain_http_to_other_hosts_and_queries() {
        for bad in [
            "http://example.com/kms/v1",
            "ftp://127.0.0.1/kms/v1",
            "https://h/kms/v1?x=1",
            "https://h/kms/v1#f",
            "https://user:pw@h/kms/v1",
            "not a url",
        ] {
            let e = parse_endpoint(bad, false).unwrap_err();
            assert_eq!(e.field(), Some("endpoint"), "{bad}");
        }
        assert!(parse_endpoint("http://example.com/kms/v1", true).is_ok());
    }

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
