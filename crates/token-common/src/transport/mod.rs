//! The HTTP layer every client sends through.
//!
//! [`Transport::send`] takes an unsigned [`HttpRequest`] and a [`Signer`], and:
//! * signs each attempt afresh, with the time corrected for any measured clock skew;
//! * bounds each attempt by a timeout (and connecting by its own, shorter one);
//! * retries, with full-jitter exponential backoff, only what cannot have created anything
//!   or is a declared throttle (see [`Idempotency`]): for every request a connection that
//!   failed before any byte was written, 429 and 503; for idempotent requests also 502,
//!   504, timeouts and resets. `Retry-After` (seconds or an HTTP date) is honoured, capped;
//! * after a signature refused for its time, measures the offset from the server's `Date`
//!   header, re-signs once with corrected time, and keeps the offset for later calls to
//!   the same endpoint (`host:port`): one transport may serve several services, and each
//!   server's clock is its own. Only requests whose signer signs the time
//!   ([`Signer::signs_time`]) are corrected;
//! * reads response bodies up to a cap (1 MiB by default);
//! * records each attempt as a `tracing` event with method, path template, attempt, status
//!   and latency — never a header, a body or a URL query.
//!
//! It returns the final answer whatever its status: mapping an error body to an
//! [`Error::Service`] is each client's business, since each service
//! shapes its errors differently.

mod backoff;
mod options;
mod reqwest_client;
mod setters;
mod skew;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::request::Signer;

pub use crate::error::Idempotency;

/// These live in [`request`](crate::request), which `signing` depends on too; the paths
/// here stay for every existing user.
pub use crate::request::{
    is_sensitive_header, parse_retry_after, BoxFuture, HttpClient, HttpRequest, HttpResponse,
    SENSITIVE_HEADERS,
};
pub use backoff::Backoff;
pub use options::{parse_endpoint, TransportOptions};
pub use reqwest_client::ReqwestClient;

/// Tells whether an answer is a signature refused for its time (so clock-skew correction
/// may help). Each client knows its service's way of saying so.
pub type TimeRefusal = fn(&HttpResponse) -> bool;

/// Transport settings; see [`TransportBuilder`] for the defaults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportConfig {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one attempt, from sending to the last byte of the body.
    pub attempt_timeout: Duration,
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Backoff between attempts.
    pub backoff: Backoff,
    /// The longest `Retry-After` honoured; a longer one ends the retries.
    pub max_retry_after: Duration,
    /// The largest response body read.
    pub max_body_bytes: usize,
    /// Whether plain `http://` is allowed to hosts other than loopback.
    pub allow_insecure_http: bool,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(30),
            max_attempts: 3,
            backoff: Backoff::default(),
            max_retry_after: Duration::from_secs(20),
            max_body_bytes: 1024 * 1024,
            allow_insecure_http: false,
            user_agent: concat!("cloud-tokens/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Builds a [`Transport`].
///
/// ```
/// use std::time::Duration;
/// let transport = token_common::transport::Transport::builder()
///     .attempt_timeout(Duration::from_secs(10))
///     .max_attempts(5)
///     .build()
///     .unwrap();
/// assert_eq!(transport.config().max_attempts, 5);
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct TransportBuilder {
    config: TransportConfig,
    http: Option<Arc<dyn HttpClient>>,
    clock: Option<Arc<dyn Clock>>,
    jitter_seed: Option<u64>,
}

impl TransportBuilder {
    /// Time allowed to open a connection (default 5 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d;
        self
    }

    /// Time allowed for one attempt (default 30 s).
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.config.attempt_timeout = d;
        self
    }

    /// Attempts in all, the first included (default 3).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.config.max_attempts = n;
        self
    }

    /// Backoff between attempts (default: full jitter from 200 ms, at most 5 s).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = backoff;
        self
    }

    /// The longest `Retry-After` honoured (default 20 s).
    pub fn max_retry_after(mut self, d: Duration) -> Self {
        self.config.max_retry_after = d;
        self
    }

    /// The largest response body read (default 1 MiB).
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.config.max_body_bytes = n;
        self
    }

    /// Allows plain `http://` to hosts other than loopback (default: refused).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.config.allow_insecure_http = allow;
        self
    }

    /// Sets the `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.config.user_agent = ua.into();
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: TransportConfig) -> Self {
        self.config = config;
        self
    }

    /// Sends through another HTTP client (a test double, a proxy-aware client).
    pub fn http_client(mut self, http: Arc<dyn HttpClient>) -> Self {
        self.http = Some(http);
        self
    }

    /// Reads time from another clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Seeds the random backoff jitter, so the waits are reproducible (tests). By default
    /// each transport draws its own seed.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.jitter_seed = Some(seed);
        self
    }

    /// Checks the settings and builds the transport.
    pub fn build(self) -> Result<Transport> {
        let c = &self.config;
        if c.max_attempts == 0 {
            return Err(Error::invalid_input("max_attempts", "must be at least 1"));
        }
        for (field, d) in [
            ("connect_timeout", c.connect_timeout),
            ("attempt_timeout", c.attempt_timeout),
        ] {
            if d.is_zero() {
                return Err(Error::invalid_input(field, "must be longer than zero"));
            }
        }
        if c.max_body_bytes == 0 {
            return Err(Error::invalid_input("max_body_bytes", "must be at least 1"));
        }
        crate::request::check_header_text("user_agent", &c.user_agent)?;
        let http = match self.http {
            Some(h) => h,
            None => Arc::new(ReqwestClient::new(&self.config)?),
        };
        Ok(Transport {
            inner: Arc::new(Inner {
                http,
                config: self.config,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                skew: skew::SkewTable::default(),
                jitter: Mutex::new(match self.jitter_seed {
                    Some(seed) => fastrand::Rng::with_seed(seed),
                    None => fastrand::Rng::new(),
                }),
            }),
        })
    }
}

/// The HTTP layer shared by the clients. Cheap to clone; clones share the connection pool
/// and the clock skew measured for each endpoint.
#[derive(Debug, Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: Arc<dyn HttpClient>,
    config: TransportConfig,
    clock: Arc<dyn Clock>,
    skew: skew::SkewTable,
    jitter: Mutex<fastrand::Rng>,
}

/// A refused signature is put down to the clock only when the server's clock differs from
/// ours by at least this much (the services' windows are minutes wide; `Date` has 1 s
/// resolution).
const MIN_SKEW_CORRECTION: Duration = Duration::from_secs(30);

impl Transport {
    /// A builder with the defaults.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// The settings in force.
    pub fn config(&self) -> &TransportConfig {
        &self.inner.config
    }

    /// The clock the transport reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The local clock's time, uncorrected: what to measure local intervals and
    /// unsigned services' lifetimes with. For the time a server believes, see
    /// [`now_at`](Self::now_at).
    pub fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    /// The current time at `endpoint`'s server as best known: the local clock corrected
    /// by the skew measured for that endpoint (`host:port`; the path does not matter).
    /// This is the time signed requests to it carry.
    pub fn now_at(&self, endpoint: &url::Url) -> SystemTime {
        skew::shifted(self.inner.clock.now(), self.inner.skew.get(endpoint))
    }

    /// The measured offset of `endpoint`'s server clock from ours, in milliseconds
    /// (positive when the server is ahead; 0 until a refusal measured one).
    pub fn clock_skew_ms_at(&self, endpoint: &url::Url) -> i64 {
        self.inner.skew.get(endpoint)
    }

    /// Checks that an endpoint may be used: `https://`, or `http://` to a loopback host,
    /// or `http://` anywhere when explicitly allowed. `field` names the setting in errors.
    pub fn check_endpoint(&self, field: &str, url: &url::Url) -> Result<()> {
        check_endpoint(field, url, self.inner.config.allow_insecure_http)
    }

    /// Sends a request: signs each attempt, retries, corrects clock skew, and returns the
    /// final answer whatever its status.
    pub async fn send(
        &self,
        request: HttpRequest,
        signer: &dyn Signer,
        time_refusal: Option<TimeRefusal>,
    ) -> Result<HttpResponse> {
        use tracing::Instrument as _;
        // Only the method and the path template: never the URL (ids, query), a header or
        // a body.
        let span = tracing::debug_span!(
            "http_request",
            method = %request.method,
            path = request.path_template,
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        self.send_in_span(request, signer, time_refusal)
            .instrument(span)
            .await
    }

    async fn send_in_span(
        &self,
        request: HttpRequest,
        signer: &dyn Signer,
        time_refusal: Option<TimeRefusal>,
    ) -> Result<HttpResponse> {
        // However the call ends (an answer, an error, or the caller dropping the future),
        // the body — a password, a refresh token — is zeroized after the last attempt.
        let request = ZeroizeBody(request);
        let request = &request.0;
        let cfg = &self.inner.config;
        let idempotency = request.idempotency();
        let mut attempt: u32 = 0;
        let mut skew_corrected = false;
        loop {
            attempt += 1;
            let mut signed = request.for_attempt();
            if let Err(e) = signer.sign(&mut signed, self.now_at(&request.url)) {
                zeroize::Zeroize::zeroize(&mut signed.body);
                return Err(e);
            }
            let started = tokio::time::Instant::now();
            let outcome = match tokio::time::timeout(
                cfg.attempt_timeout,
                self.inner.http.execute(signed, cfg.max_body_bytes),
            )
            .await
            {
                Ok(r) => r,
                Err(_) => Err(Error::timeout(cfg.attempt_timeout)),
            };
            let latency_ms = started.elapsed().as_millis() as u64;
            let last = attempt >= cfg.max_attempts;
            match outcome {
                Ok(mut response) => {
                    response.idempotency = idempotency;
                    tracing::debug!(
                        attempt,
                        status = response.status,
                        latency_ms,
                        "answer received"
                    );
                    // An unsigned request (a token call) carries no time to correct, so its
                    // refusal says nothing about the clocks.
                    if !skew_corrected
                        && signer.signs_time()
                        && time_refusal.is_some_and(|f| f(&response))
                    {
                        if let Some(offset) = self.measure_skew(&request.url, &response) {
                            tracing::info!(
                                skew_ms = offset,
                                "signature refused for its time; re-signing with the server's clock"
                            );
                            self.inner.skew.set(&request.url, offset);
                            skew_corrected = true;
                            attempt -= 1; // the correction does not use up an attempt
                            continue;
                        }
                    }
                    if last || !idempotency.retries_status(response.status) {
                        let span = tracing::Span::current();
                        span.record("attempts", attempt);
                        span.record("status", response.status);
                        return Ok(response);
                    }
                    // An HTTP date is measured against the answer's own `Date` (the
                    // server's clock); the local clock only when it has none.
                    let delay = match response.retry_after(self.inner.clock.now()) {
                        Some(d) if d > cfg.max_retry_after => return Ok(response),
                        Some(d) => d,
                        None => self.backoff(attempt),
                    };
                    tokio::time::sleep(delay).await;
                }
                Err(e) => {
                    let e = e.with_idempotency(idempotency);
                    tracing::debug!(
                        attempt,
                        latency_ms,
                        error = %e,
                        "attempt failed"
                    );
                    // The same rule callers get from `is_retryable`, so the two agree.
                    if last || !e.is_retryable() {
                        return Err(e);
                    }
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
            }
        }
    }

    /// The wait before retry `attempt`, from the transport's own (seedable) generator.
    fn backoff(&self, attempt: u32) -> Duration {
        let mut rng = self
            .inner
            .jitter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.inner.config.backoff.delay_from(attempt, &mut rng)
    }

    /// The server's clock minus ours, from the `Date` header, when it is large enough to
    /// explain a refusal and differs from the correction already in force for `endpoint`.
    fn measure_skew(&self, endpoint: &url::Url, response: &HttpResponse) -> Option<i64> {
        let date = httpdate::parse_http_date(response.header("date")?).ok()?;
        let offset_ms = skew::offset_ms(date, self.inner.clock.now());
        let current = self.inner.skew.get(endpoint);
        let change = offset_ms.abs_diff(current);
        (change >= MIN_SKEW_CORRECTION.as_millis() as u64).then_some(offset_ms)
    }
}

/// Zeroizes a request's body when dropped. Each attempt's copy goes to the
/// [`HttpClient`], which owns it from then on; [`ReqwestClient`] zeroizes it when reqwest
/// drops it.
struct ZeroizeBody(HttpRequest);

impl Drop for ZeroizeBody {
    fn drop(&mut self) {
        use zeroize::Zeroize as _;
        self.0.body.zeroize();
    }
}

/// Whether `url` may be used; see [`Transport::check_endpoint`].
pub fn check_endpoint(field: &str, url: &url::Url, allow_insecure_http: bool) -> Result<()> {
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure_http || is_loopback(url) => {}
        "http" => {
            return Err(Error::invalid_input(
                field,
                format!(
                    "`{}` uses plain http:// to a non-loopback host; use https:// or allow insecure HTTP explicitly",
                    url.host_str().unwrap_or_default()
                ),
            ))
        }
        other => {
            return Err(Error::invalid_input(
                field,
                format!("scheme `{other}` is not supported; use https://"),
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid_input(field, "has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid_input(
            field,
            "must not carry a user name or password",
        ));
    }
    Ok(())
}

/// Whether the URL's host is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests;
