//! NCP API Gateway signature v2.
//!
//! ```text
//! string_to_sign = METHOD + " " + REQUEST_URI + "\n" + TIMESTAMP_MS + "\n" + ACCESS_KEY
//! signature      = base64(HMAC-SHA256(secret_key, string_to_sign))
//! ```
//! `REQUEST_URI` is the path and query exactly as they go on the wire (percent-encoded,
//! query in the order sent), as the Go and Java SDKs sign it.

use std::fmt;
use std::time::SystemTime;

use base64::Engine as _;
use reqwest::header::{HeaderName, HeaderValue};

use crate::clock::unix_millis;
use crate::credentials::NcpCredentials;
use crate::error::{Error, Result};
use crate::request::{check_header_text, HttpRequest, Signer};
use crate::signing::{HmacSha256, Mac32, Sha256Backend};

/// Header carrying the timestamp in milliseconds.
pub const TIMESTAMP_HEADER: &str = "x-ncp-apigw-timestamp";
/// Header carrying the access key.
pub const ACCESS_KEY_HEADER: &str = "x-ncp-iam-access-key";
/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-ncp-apigw-signature-v2";

/// The string the signature covers.
///
/// ```
/// let s = token_common::signing::ncp::string_to_sign("GET", "/kms/v1/keys?pageNo=1", 1700000000123, "AK");
/// assert_eq!(s, "GET /kms/v1/keys?pageNo=1\n1700000000123\nAK");
/// ```
pub fn string_to_sign(
    method: &str,
    request_uri: &str,
    timestamp_ms: u64,
    access_key: &str,
) -> String {
    format!("{method} {request_uri}\n{timestamp_ms}\n{access_key}")
}

/// The request URI that NCP signs: the URL's path plus `?query` when there is one.
pub fn request_uri(url: &url::Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The three signature headers for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureHeaders {
    /// `x-ncp-apigw-timestamp`.
    pub timestamp: String,
    /// `x-ncp-iam-access-key`.
    pub access_key: String,
    /// `x-ncp-apigw-signature-v2`.
    pub signature: String,
}

/// Signs requests for one NCP credential.
///
/// The HMAC key schedule is prepared once, when the signer is built, so each signature is a
/// single HMAC over the string to sign, on the [`Sha256Backend`] detected for this CPU
/// unless [`with_backend`](Self::with_backend) names one.
#[derive(Clone)]
pub struct NcpSigner {
    access_key: String,
    /// `\n{access_key}`, the end of every string to sign.
    newline_access_key: Box<[u8]>,
    access_key_header: HeaderValue,
    key: HmacSha256,
}

impl NcpSigner {
    /// Prepares a signer; refuses an empty key or one that cannot travel in a header.
    pub fn new(credentials: &NcpCredentials) -> Result<Self> {
        Self::with_backend(credentials, Sha256Backend::detected())
    }

    /// As [`new`](Self::new), computing HMAC-SHA256 on `backend`.
    pub fn with_backend(credentials: &NcpCredentials, backend: Sha256Backend) -> Result<Self> {
        let access_key = credentials.access_key();
        let secret = credentials.secret_key().expose_secret();
        if access_key.is_empty() {
            return Err(Error::invalid_input("access_key", "must not be empty"));
        }
        if secret.is_empty() {
            return Err(Error::invalid_input("secret_key", "must not be empty"));
        }
        check_header_text("access_key", access_key)?;
        let mut access_key_header = HeaderValue::from_str(access_key)
            .map_err(|_| Error::invalid_input("access_key", "is not a valid HTTP header value"))?;
        // Marked before it enters any HeaderMap, so no Debug output shows it.
        access_key_header.set_sensitive(true);
        // The key's inner and outer pads are hashed here, once.
        let key = HmacSha256::new(backend, secret.as_bytes());
        Ok(Self {
            access_key: access_key.to_owned(),
            newline_access_key: format!("\n{access_key}").into_bytes().into(),
            access_key_header,
            key,
        })
    }

    /// The access key this signer signs with.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The backend this signer computes HMAC-SHA256 on.
    pub fn backend(&self) -> Sha256Backend {
        self.key.backend()
    }

    /// The base64 signature of a request.
    pub fn signature(&self, method: &str, request_uri: &str, timestamp_ms: u64) -> String {
        let tag = self.tag(method, request_uri, None, timestamp_ms);
        base64::engine::general_purpose::STANDARD.encode(tag)
    }

    /// The HMAC of the string to sign whose request URI is `path`, then `?query` if any.
    /// The pieces are streamed into the MAC's blocks on the stack: no string is built.
    fn tag(&self, method: &str, path: &str, query: Option<&str>, timestamp_ms: u64) -> [u8; 32] {
        // Two digits at a time: a digit-by-digit loop cost a twentieth of the whole HMAC.
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(timestamp_ms).as_bytes();
        let (method, path, tail) = (method.as_bytes(), path.as_bytes(), &self.newline_access_key);
        match query {
            Some(q) => {
                let q = q.as_bytes();
                self.key
                    .mac(&[method, b" ", path, b"?", q, b"\n", digits, tail])
            }
            None => self.key.mac(&[method, b" ", path, b"\n", digits, tail]),
        }
    }

    /// The three headers for a request.
    pub fn headers(&self, method: &str, request_uri: &str, timestamp_ms: u64) -> SignatureHeaders {
        SignatureHeaders {
            timestamp: timestamp_ms.to_string(),
            access_key: self.access_key.clone(),
            signature: self.signature(method, request_uri, timestamp_ms),
        }
    }
}

impl fmt::Debug for NcpSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NcpSigner")
            .field("access_key", &self.access_key)
            .field("secret_key", &crate::secret::REDACTED)
            .field("backend", &self.backend())
            .finish()
    }
}

impl Signer for NcpSigner {
    fn sign(&self, request: &mut HttpRequest, now: SystemTime) -> Result<()> {
        let ts = unix_millis(now);
        // The request URI as [`request_uri`] builds it, in pieces.
        let tag = self.tag(
            request.method.as_str(),
            request.url.path(),
            request.url.query(),
            ts,
        );
        let mut signature = [0u8; 44];
        let len = base64::engine::general_purpose::STANDARD
            .encode_slice(tag, &mut signature)
            .expect("32 bytes are 44 base64 characters");
        let h = &mut request.headers;
        h.insert(
            HeaderName::from_static(TIMESTAMP_HEADER),
            HeaderValue::from(ts),
        );
        h.insert(
            HeaderName::from_static(ACCESS_KEY_HEADER),
            self.access_key_header.clone(),
        );
        // NCP signs neither body nor host: a logged signature could be replayed for five
        // minutes, so it is sensitive before it enters the map.
        let mut signature =
            HeaderValue::from_bytes(&signature[..len]).expect("base64 is a valid header value");
        signature.set_sensitive(true);
        h.insert(HeaderName::from_static(SIGNATURE_HEADER), signature);
        Ok(())
    }
}
