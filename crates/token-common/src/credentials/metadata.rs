//! [`MetadataClient`]: HTTP to an instance-metadata or pod-identity endpoint, for the
//! credentials providers of every cloud (Huawei ECS metadata and CCE pod identity, NCP
//! server role).
//!
//! What differs from the client [`Transport`]'s defaults, and why:
//! * **3 s per request, one attempt** ([`METADATA_TIMEOUT`]): the official SDKs' timeout.
//!   Off a cloud server nothing listens at `169.254.169.254`, and a chain must move on
//!   quickly; the providers do the few retries their protocol documents themselves (a
//!   stale session token is fetched again once).
//! * **Plain `http://` only where metadata lives**: to a link-local address
//!   (`169.254.0.0/16`, `fe80::/10`), a loopback address, or the exact address (scheme,
//!   host and port) an override variable names. Anything else must be `https://`; the
//!   error names the URL and the setting.
//! * **No proxy**: a metadata address is local to the machine; `HTTP_PROXY` must not
//!   receive the credentials.
//! * A connection that fails or an answer that does not come within the timeout is
//!   "unreachable" ([`is_unreachable`]): a provider reports it as
//!   [`Error::CredentialsNotFound`] ("not on a cloud server") so that a
//!   [`LoadChain`](super::LoadChain) moves on.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::Environment;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::signing::NoSigning;
use crate::transport::{
    HttpClient, HttpRequest, HttpResponse, ReqwestClient, Transport, TransportConfig,
};

/// The time allowed for one metadata request, connecting included.
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(3);

/// Sends requests to one metadata (or pod-identity) endpoint: one attempt each, within
/// [`METADATA_TIMEOUT`], plain HTTP only where allowed (see the [module](self) docs).
/// Cheap to clone.
///
/// ```
/// use token_common::credentials::{Environment, MetadataClient};
///
/// let env = Environment::from_pairs([("MY_METADATA_ENDPOINT", "http://10.1.2.3:8080")]);
/// let m = MetadataClient::from_env(&env, &["MY_METADATA_ENDPOINT"], "http://169.254.169.254").unwrap();
/// assert_eq!(m.base().as_str(), "http://10.1.2.3:8080/");
/// assert_eq!(m.describe(), "http://10.1.2.3:8080 (MY_METADATA_ENDPOINT)");
/// // The override's exact address may use plain HTTP; another host may not.
/// assert!(m.url("/openstack/latest/securitykey").is_ok());
/// assert!(MetadataClient::new("http://10.1.2.3:8080").is_err());
/// assert!(MetadataClient::new("http://169.254.169.254").is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct MetadataClient {
    base: Url,
    /// The variable the address came from, when an override named it.
    variable: Option<String>,
    http: Arc<dyn HttpClient>,
    transport: Transport,
}

impl MetadataClient {
    /// A client for a built-in address: `https://`, or `http://` to a link-local or
    /// loopback address.
    pub fn new(base: &str) -> Result<Self> {
        Self::build("metadata endpoint", base, None)
    }

    /// A client for the address `variable` names: plain `http://` is allowed to that
    /// exact address (scheme, host and port).
    pub fn overridden(variable: &str, value: &str) -> Result<Self> {
        Self::build(variable, value, Some(variable.to_owned()))
    }

    /// The first of `variables` that is set in `env` (see [`overridden`](Self::overridden)),
    /// else `default` (see [`new`](Self::new)).
    pub fn from_env(env: &Environment, variables: &[&str], default: &str) -> Result<Self> {
        for v in variables {
            if let Some(value) = env.get(v) {
                return Self::overridden(v, &value);
            }
        }
        Self::new(default)
    }

    fn build(field: &str, raw: &str, variable: Option<String>) -> Result<Self> {
        let base = Url::parse(raw.trim()).map_err(|e| {
            Error::invalid_input(field, format!("`{}` is not a URL: {e}", raw.trim()))
        })?;
        let allowed = variable.is_some().then_some(&base);
        check_metadata_url(field, &base, allowed)?;
        if base.query().is_some() || base.fragment().is_some() {
            return Err(Error::invalid_input(
                field,
                format!("`{base}` must not have a query or a fragment"),
            ));
        }
        let http = default_http_client()?;
        Ok(Self {
            base,
            variable,
            transport: metadata_transport(http.clone(), None),
            http,
        })
    }

    /// Sends through another HTTP client (tests). The timeout and single attempt stay.
    pub fn with_http_client(mut self, http: Arc<dyn HttpClient>) -> Self {
        let clock = self.transport.clock().clone();
        self.transport = metadata_transport(http.clone(), Some(clock));
        self.http = http;
        self
    }

    /// Reads time from another clock (tests; the timeout itself runs on tokio's clock).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.transport = metadata_transport(self.http.clone(), Some(clock));
        self
    }

    /// The endpoint's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The variable that named the address, when an override did.
    pub fn variable(&self) -> Option<&str> {
        self.variable.as_deref()
    }

    /// The base URL (without a trailing `/`) and the variable that named it, for errors:
    /// `http://169.254.169.254` or `http://10.1.2.3:8080 (MY_METADATA_ENDPOINT)`.
    pub fn describe(&self) -> String {
        let url = self.base.as_str().trim_end_matches('/');
        match &self.variable {
            Some(v) => format!("{url} ({v})"),
            None => url.to_owned(),
        }
    }

    /// `path` (starting with `/`) under the base URL, checked like the base.
    pub fn url(&self, path: &str) -> Result<Url> {
        let mut url = self.base.clone();
        let joined = format!("{}{path}", self.base.path().trim_end_matches('/'));
        url.set_path(&joined);
        self.check(&url)?;
        Ok(url)
    }

    fn check(&self, url: &Url) -> Result<()> {
        let field = self.variable.as_deref().unwrap_or("metadata endpoint");
        let allowed = self.variable.is_some().then_some(&self.base);
        check_metadata_url(field, url, allowed)
    }

    /// Sends `request` once, within [`METADATA_TIMEOUT`], after checking its URL. Any
    /// answer is returned whatever its status; a connection failure or timeout is an error
    /// that [`is_unreachable`] recognises.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        self.check(&request.url)?;
        self.transport.send(request, &NoSigning, None).await
    }
}

fn default_http_client() -> Result<Arc<dyn HttpClient>> {
    let client = reqwest::Client::builder()
        .connect_timeout(METADATA_TIMEOUT)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(TransportConfig::default().user_agent)
        .build()
        .map_err(|e| Error::transport(e.to_string(), true))?;
    Ok(Arc::new(ReqwestClient::from_client(client)))
}

fn metadata_transport(http: Arc<dyn HttpClient>, clock: Option<Arc<dyn Clock>>) -> Transport {
    let mut b = Transport::builder()
        .connect_timeout(METADATA_TIMEOUT)
        .attempt_timeout(METADATA_TIMEOUT)
        .max_attempts(1)
        .allow_insecure_http(true)
        .http_client(http);
    if let Some(c) = clock {
        b = b.clock(c);
    }
    b.build()
        .expect("the metadata transport settings are valid")
}

/// Whether a metadata request failed without an answer: the connection could not be made
/// or nothing came back within the timeout. Off a cloud server this is what asking
/// `169.254.169.254` gives, so a provider reports it as "not found here".
pub fn is_unreachable(e: &Error) -> bool {
    e.is_connect() || e.is_timeout()
}

/// Whether `url` may be used for metadata: `https://`; or `http://` to a link-local
/// (`169.254.0.0/16`, `fe80::/10`) or loopback address, or to exactly the address of
/// `override_url` (scheme, host, port). The error names `field` and the URL.
pub fn check_metadata_url(field: &str, url: &Url, override_url: Option<&Url>) -> Result<()> {
    let shown = url.as_str().trim_end_matches('/');
    match url.scheme() {
        "https" => {}
        "http" => {
            let same_as_override = override_url.is_some_and(|o| {
                o.scheme() == url.scheme()
                    && o.host() == url.host()
                    && o.port_or_known_default() == url.port_or_known_default()
            });
            if !same_as_override && !is_metadata_host(url) {
                return Err(Error::invalid_input(
                    field,
                    format!(
                        "`{shown}` uses plain http:// to an address that is neither link-local \
                         (169.254.0.0/16, fe80::/10) nor loopback; use https://, or name the \
                         address in the override variable"
                    ),
                ));
            }
        }
        other => {
            return Err(Error::invalid_input(
                field,
                format!("`{shown}`: scheme `{other}` is not supported; use http:// or https://"),
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_input(
            field,
            format!("`{shown}` has no host"),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input(
            field,
            "must not carry a user name or password",
        ));
    }
    Ok(())
}

/// Whether the host is link-local or loopback (`localhost` included).
fn is_metadata_host(url: &Url) -> bool {
    let ip = match url.host() {
        Some(url::Host::Domain(d)) => return d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        None => return false,
    };
    match ip {
        IpAddr::V4(ip) => ip.is_loopback() || ip.is_link_local(),
        IpAddr::V6(ip) => {
            ip.is_loopback()
                || (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_link_local())
        }
    }
}

#[cfg(test)]
#[path = "metadata_tests.rs"]
mod tests;
