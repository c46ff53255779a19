use std::fmt::{self, Debug};
use std::future::Future;
use std::pin::Pin;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use url::Url;

use crate::error::{Error, Result};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A request as the transport sends it: cloned and signed afresh for every attempt.
///
/// `Debug` shows the body's length only (it may hold a password or a refresh token), and
/// headers marked sensitive print as `Sensitive`.
#[derive(Clone)]
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
        }
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

    /// Adds a header; refuses (naming `field`) a value that cannot travel in a header.
    pub fn header(mut self, name: HeaderName, value: &str, field: &str) -> Result<Self> {
        crate::signing::check_header_text(field, value)?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| Error::invalid_input(field, "is not a valid HTTP header value"))?;
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
        crate::signing::check_header_text(field, secret.expose_secret())?;
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
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
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
            .field("headers", &self.headers)
            .field("body", &BodyLen(self.body.as_ref().map(Vec::len)))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &BodyLen(Some(self.body.len())))
            .finish()
    }
}

impl HttpResponse {
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
