use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::{check_endpoint, Transport};
use crate::clock::Clock;
use crate::error::{Error, Result};

/// The transport settings every client builder offers (`timeout`, `max_attempts`,
/// `allow_insecure_http`, `clock`, or a whole prebuilt [`Transport`]), resolved once at
/// `build()`. The builders' setters for them are written once, by
/// [`transport_setters!`](crate::transport_setters).
///
/// Keeping them here makes the clients behave alike: a prebuilt transport brings its own
/// timeout, attempts and clock, so combining it with any of them is refused rather than
/// one of the two being silently ignored.
#[derive(Default, Clone)]
#[non_exhaustive]
pub struct TransportOptions {
    /// Per-attempt timeout.
    pub timeout: Option<Duration>,
    /// Attempts in all.
    pub max_attempts: Option<u32>,
    /// Whether plain `http://` may go to hosts other than loopback.
    pub allow_insecure_http: bool,
    /// The clock the built transport reads (signing times, expiry, backoff); default the
    /// system clock.
    pub clock: Option<Arc<dyn Clock>>,
    /// A prebuilt transport (shared with other clients, or with an injected clock or HTTP
    /// client).
    pub transport: Option<Transport>,
}

impl fmt::Debug for TransportOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportOptions")
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("clock", &self.clock.as_ref().map(|_| "given"))
            .field("transport", &self.transport.as_ref().map(|_| "given"))
            .finish()
    }
}

impl TransportOptions {
    /// The transport these options describe; `user_agent` names the client crate.
    pub fn build(&self, user_agent: &str) -> Result<Transport> {
        if let Some(t) = &self.transport {
            for (field, set) in [
                ("timeout", self.timeout.is_some()),
                ("max_attempts", self.max_attempts.is_some()),
                ("clock", self.clock.is_some()),
            ] {
                if set {
                    return Err(Error::invalid_input(
                        field,
                        "a given transport brings its own: set it on the Transport passed to .transport(), not on the client builder as well",
                    ));
                }
            }
            return Ok(t.clone());
        }
        let mut b = Transport::builder()
            .user_agent(user_agent)
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
        if let Some(c) = &self.clock {
            b = b.clock(c.clone());
        }
        b.build()
    }

    /// Whether plain HTTP was allowed, on the builder or on the given transport.
    pub fn allows_insecure_http(&self) -> bool {
        self.allow_insecure_http
            || self
                .transport
                .as_ref()
                .is_some_and(|t| t.config().allow_insecure_http)
    }
}

/// Parses a client's base URL: trimmed, checked by [`check_endpoint`], without query or
/// fragment, and without a trailing `/` so that paths join cleanly (a path prefix such as
/// `/kms/v1` is kept).
///
/// ```
/// use token_common::transport::parse_endpoint;
/// let u = parse_endpoint("endpoint", " http://127.0.0.1:8080/kms/v1/ ", false).unwrap();
/// assert_eq!(u.as_str(), "http://127.0.0.1:8080/kms/v1");
/// assert!(parse_endpoint("endpoint", "http://example.com", false).is_err());
/// ```
pub fn parse_endpoint(field: &str, raw: &str, allow_insecure_http: bool) -> Result<Url> {
    let mut url = Url::parse(raw.trim())
        .map_err(|e| Error::invalid_input(field, format!("is not a URL: {e}")))?;
    check_endpoint(field, &url, allow_insecure_http)?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid_input(
            field,
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
    fn a_given_transport_with_timeout_or_attempts_is_refused_by_field() {
        let t = Transport::builder().build().unwrap();
        let opts = TransportOptions {
            timeout: Some(Duration::from_secs(1)),
            transport: Some(t.clone()),
            ..Default::default()
        };
        assert_eq!(opts.build("ua").unwrap_err().field(), Some("timeout"));
        let opts = TransportOptions {
            max_attempts: Some(2),
            transport: Some(t),
            ..Default::default()
        };
        assert_eq!(opts.build("ua").unwrap_err().field(), Some("max_attempts"));
        let opts = TransportOptions {
            clock: Some(Arc::new(crate::clock::ManualClock::at_unix_seconds(1))),
            transport: Some(Transport::builder().build().unwrap()),
            ..Default::default()
        };
        let e = opts.build("ua").unwrap_err();
        assert_eq!(e.field(), Some("clock"));
        assert!(e.to_string().contains(".transport()"), "{e}");
    }

    #[test]
    fn a_given_clock_is_the_transports_clock() {
        let opts = TransportOptions {
            clock: Some(Arc::new(crate::clock::ManualClock::at_unix_seconds(
                1_700_000_000,
            ))),
            ..Default::default()
        };
        let t = opts.build("ua").unwrap();
        assert_eq!(crate::clock::unix_seconds(t.now()), 1_700_000_000);
        assert!(format!("{opts:?}").contains("clock: Some(\"given\")"));
    }

    #[test]
    fn options_reach_the_transport() {
        let opts = TransportOptions {
            timeout: Some(Duration::from_secs(7)),
            max_attempts: Some(5),
            ..Default::default()
        };
        let t = opts.build("x/1").unwrap();
        assert_eq!(t.config().attempt_timeout, Duration::from_secs(7));
        assert_eq!(
            (t.config().max_attempts, t.config().user_agent.as_str()),
            (5, "x/1")
        );
        let zero = TransportOptions {
            timeout: Some(Duration::ZERO),
            ..Default::default()
        };
        assert_eq!(zero.build("x").unwrap_err().field(), Some("timeout"));
    }

    #[test]
    fn endpoints_keep_their_prefix_and_refuse_query_fragment_and_user_info() {
        let u = parse_endpoint("endpoint", "http://127.0.0.1:9/prefix/kms/v1/", false).unwrap();
        assert_eq!(u.path(), "/prefix/kms/v1");
        for bad in [
            "http://example.com/kms/v1",
            "ftp://127.0.0.1/kms/v1",
            "https://h/kms/v1?x=1",
            "https://h/kms/v1#f",
            "https://user:pw@h/kms/v1",
            "not a url",
        ] {
            let e = parse_endpoint("endpoint", bad, false).unwrap_err();
            assert_eq!(e.field(), Some("endpoint"), "{bad}");
        }
        assert!(parse_endpoint("endpoint", "http://example.com/kms/v1", true).is_ok());
    }
}
