//! What a request and its answer are, and what may sign one: the ground that both
//! [`signing`](crate::signing) (which adds headers to an [`HttpRequest`]) and
//! [`transport`](crate::transport) (which sends it through an [`HttpClient`], calling a
//! [`Signer`] on every attempt) stand on, so that neither imports the other.
//!
//! The old paths stay: `transport::{HttpRequest, HttpResponse, HttpClient, …}` and
//! `signing::{Signer, NoSigning}` re-export these.

mod signer;

pub use signer::{NoSigning, Signer};

use std::fmt::{self, Debug};
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use url::Url;

use crate::error::{Error, Idempotency, Result};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Headers that carry credentials: their values are marked sensitive when added through
/// [`HttpRequest::header`], and never shown by the `Debug` of [`HttpRequest`] or
/// [`HttpResponse`] even if something inserted them unmarked.
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-auth-token",
    "x-subject-token",
    "x-security-token",
    "x-metadata-token",
    "x-ncp-apigw-signature-v2",
    "x-ncp-iam-access-key",
    "x-ncp-ocapi-token",
    "x-ncp-metadata-token",
];

/// Headers a signer may add to a request (Huawei writes up to five: `X-Sdk-Date`, the
/// scope, `X-Security-Token`, `Host`, `Authorization`; NCP three), room for which
/// [`HttpRequest::for_attempt`] keeps.
const SIGNER_HEADROOM: usize = 6;

/// Whether a header's value carries a credential (see [`SENSITIVE_HEADERS`]).
pub fn is_sensitive_header(name: &HeaderName) -> bool {
    SENSITIVE_HEADERS.contains(&name.as_str())
}

/// A request as the transport sends it: copied ([`for_attempt`](Self::for_attempt)) and
/// signed afresh for every attempt.
///
/// `Debug` shows the body's length only (it may hold a password or a refresh token), and
/// headers that are marked sensitive or carry credentials ([`SENSITIVE_HEADERS`]) print
/// as `Sensitive`. The transport zeroizes the body once the last attempt is over.
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The full URL, path parameters already encoded.
    pub url: Url,
    /// Headers other than authentication (the signer adds those).
    pub headers: HeaderMap,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// The path with placeholders (`/keys/{keyTag}/token-set`): what tracing records, so
    /// ids never reach logs.
    pub path_template: &'static str,
    /// The call's own classification, when it differs from its method's.
    idempotency: Option<Idempotency>,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: Url, path_template: &'static str) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            path_template,
            idempotency: None,
        }
    }

    /// The copy the transport signs and sends on each attempt: equal to a clone, with room
    /// in its header map for the headers a signer adds.
    ///
    /// A cloned `HeaderMap` keeps no spare capacity, so the four headers a Huawei signer
    /// writes would grow its entries twice, moving every header each time: that alone cost
    /// more than the hashing around it. This copy is sized once.
    ///
    /// ```
    /// use reqwest::header::{HeaderValue, CONTENT_TYPE};
    /// let url = "https://example.com/v1/x".parse().unwrap();
    /// let mut req = token_common::HttpRequest::new(reqwest::Method::POST, url, "/v1/x");
    /// req.headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    /// req.headers.append("x-many", HeaderValue::from_static("1"));
    /// req.headers.append("x-many", HeaderValue::from_static("2"));
    /// let copy = req.for_attempt();
    /// assert_eq!(copy.headers, req.headers);
    /// assert!(copy.headers.capacity() >= req.headers.len() + 6);
    /// ```
    pub fn for_attempt(&self) -> Self {
        let mut headers = HeaderMap::with_capacity(self.headers.len() + SIGNER_HEADROOM);
        for (name, value) in &self.headers {
            headers.append(name.clone(), value.clone());
        }
        Self {
            method: self.method.clone(),
            url: self.url.clone(),
            headers,
            body: self.body.clone(),
            path_template: self.path_template,
            idempotency: self.idempotency,
        }
    }

    /// Classifies the call explicitly, overriding its method's default
    /// ([`Idempotency::of_method`]): a `PUT` that mints a new token is
    /// [`NonIdempotent`](Idempotency::NonIdempotent), a `POST` that only reads is
    /// [`Idempotent`](Idempotency::Idempotent). The transport's retries follow it.
    pub fn with_idempotency(mut self, idempotency: Idempotency) -> Self {
        self.idempotency = Some(idempotency);
        self
    }

    /// The classification the transport retries by: the explicit one, else the method's.
    pub fn idempotency(&self) -> Idempotency {
        self.idempotency
            .unwrap_or_else(|| Idempotency::of_method(&self.method))
    }

    /// Sets a JSON body (and `Content-Type: application/json`).
    pub fn json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::invalid_input("body", format!("cannot be written as JSON: {e}")))?;
        self.body = Some(bytes);
        self.headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(self)
    }

    /// Adds a header; refuses (naming `field`) a value that cannot travel in a header. A
    /// header that carries credentials ([`SENSITIVE_HEADERS`]) is marked sensitive before
    /// it enters the map.
    pub fn header(mut self, name: HeaderName, value: &str, field: &str) -> Result<Self> {
        check_header_text(field, value)?;
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid_input(field, "is not a valid HTTP header value"))?;
        if is_sensitive_header(&name) {
            value.set_sensitive(true);
        }
        self.headers.insert(name, value);
        Ok(self)
    }

    /// Adds a header holding a secret (a token): marked sensitive so HTTP libraries keep it
    /// out of their debug output.
    pub fn secret_header(
        mut self,
        name: HeaderName,
        secret: &crate::SecretString,
        field: &str,
    ) -> Result<Self> {
        check_header_text(field, secret.expose_secret())?;
        let mut value = HeaderValue::from_str(secret.expose_secret())
            .map_err(|_| Error::invalid_input(field, "is not a valid HTTP header value"))?;
        value.set_sensitive(true);
        self.headers.insert(name, value);
        Ok(self)
    }
}

/// An answer, its body read in full (up to the transport's cap).
///
/// `Debug` shows the body's length only: a success body may hold tokens.
#[derive(Clone)]
#[non_exhaustive]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
    /// The classification of the request that got this answer, recorded by the transport
    /// ([`Idempotency::NonIdempotent`] until then), so that the error a client builds from
    /// it ([`ServiceError::with_response`](crate::ServiceError::with_response)) knows
    /// whether a 502 or 504 may be retried.
    pub idempotency: Idempotency,
}

/// How headers appear in `Debug`: names, and values unless marked sensitive or named in
/// [`SENSITIVE_HEADERS`].
struct ShownHeaders<'a>(&'a HeaderMap);

impl fmt::Debug for ShownHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            if value.is_sensitive() || is_sensitive_header(name) {
                map.entry(name, &format_args!("Sensitive"));
            } else {
                map.entry(name, value);
            }
        }
        map.finish()
    }
}

/// How a body appears in `Debug`: its length, never its bytes.
struct BodyLen(Option<usize>);

impl fmt::Debug for BodyLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, "<{n} bytes>"),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("path_template", &self.path_template)
            .field("headers", &ShownHeaders(&self.headers))
            .field("body", &BodyLen(self.body.as_ref().map(Vec::len)))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &ShownHeaders(&self.headers))
            .field("body", &BodyLen(Some(self.body.len())))
            .field("idempotency", &self.idempotency)
            .finish()
    }
}

impl HttpResponse {
    /// An answer with the given status, headers and body (for [`HttpClient`]
    /// implementations and test doubles).
    pub fn new(status: u16, headers: HeaderMap, body: Vec<u8>) -> Self {
        Self {
            status,
            headers,
            body,
            idempotency: Idempotency::NonIdempotent,
        }
    }

    /// The wait the answer's `Retry-After` asks for: whole seconds, or an HTTP date
    /// measured against the same answer's `Date` header (the server's clock, so a skewed
    /// local clock does not stretch or cut the wait), or against `now` (the local clock)
    /// when the answer has no readable `Date`. `None` when absent or malformed.
    pub fn retry_after(&self, now: SystemTime) -> Option<Duration> {
        let server_now = self
            .header("date")
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .unwrap_or(now);
        parse_retry_after(self.header("retry-after")?, server_now)
    }

    /// The body of an error answer as a one-line excerpt for an error message (see
    /// [`crate::error::excerpt`]); `None` when empty or blank.
    pub fn body_excerpt(&self) -> Option<String> {
        crate::error::excerpt(&String::from_utf8_lossy(&self.body))
    }

    /// The `X-Request-Id` the service stamped on the answer (all three services use this
    /// header), trimmed; `None` when absent or blank.
    pub fn request_id(&self) -> Option<&str> {
        self.header("x-request-id")
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// A header's value as text, when present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Decodes a JSON body. The error names the status and the type but never quotes the
    /// body, which may hold tokens.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::decode(
                self.status,
                format!(
                    "expected {} as JSON: {} at line {} column {}",
                    short_type_name::<T>(),
                    classify(&e),
                    e.line(),
                    e.column()
                ),
            )
        })
    }
}

fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

// serde_json's messages can quote the offending value (`invalid type: string "eyJ…"`), so
// only the category and position are reported.
fn classify(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "read error".to_owned(),
        Category::Syntax => "not valid JSON".to_owned(),
        Category::Eof => "the body ended early".to_owned(),
        Category::Data => {
            let msg = e.to_string();
            if let Some(field) = msg
                .strip_prefix("missing field `")
                .and_then(|r| r.split('`').next())
            {
                format!("missing field `{field}`")
            } else {
                "a field has the wrong type or value".to_owned()
            }
        }
    }
}

/// Sends one request and reads its answer. The transport adds signing, timeouts and
/// retries around it; implement it to send through something other than reqwest.
pub trait HttpClient: Send + Sync + Debug {
    /// Sends `request` and reads the body, refusing one larger than `max_body_bytes` with
    /// [`Error::ResponseTooLarge`].
    fn execute(
        &self,
        request: HttpRequest,
        max_body_bytes: usize,
    ) -> BoxFuture<'_, Result<HttpResponse>>;
}

/// Refuses text that cannot be an HTTP header value (line breaks and other control
/// characters), naming the field without echoing the value.
pub(crate) fn check_header_text(field: &str, value: &str) -> Result<()> {
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(Error::invalid_input(
            field,
            "contains a line break or another control character, which cannot travel in an HTTP header",
        ));
    }
    Ok(())
}

/// Parses a `Retry-After` value: whole seconds, or an HTTP date (measured from `now`; a
/// date in the past means no wait). `None` when malformed.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn retry_after_seconds_and_http_date() {
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
