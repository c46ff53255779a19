//! The emulator's own signature verifiers: NCP signature v2 ([`ncp`]) and Huawei Cloud
//! `SDK-HMAC-SHA256`, `SDK-HMAC-SM3` and `V11-HMAC-SHA256` ([`huawei`]).
//!
//! They are written from the services' documented rules (FACTS.md §1 "Signature v2", §2
//! "AK/SK signing" and "Other signing algorithms"), not from the clients: nothing here uses
//! token-common's `signing` or `encoding` modules, and the HMACs come from RustCrypto
//! (`hmac`, `sha2`, `sm3`) while the clients use ring. A bug shared by a signer and its
//! verifier passes every round-trip test; two independent implementations that must agree
//! on thousands of odd requests (the differential test in `tests/verify_differential.rs`)
//! and on the official signers' vectors (`tests/verify_vectors.rs`) do not share bugs
//! easily.
//!
//! Each verifier takes the request as received ([`RequestParts`]: the wire path and query,
//! still percent-encoded, the headers with every repeated value, the body), the current
//! time, and a lookup from access key to secret. The lookup decides which keys exist and
//! until when (a temporary key past its expiry answers [`Refusal::ExpiredAccessKey`]), so
//! every route that accepts signatures — account keys, temporary keys handed out by the
//! emulator's metadata or STS routes — verifies the same way:
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use axum::http::{HeaderMap, HeaderValue};
//! use token_common::SecretString;
//! use token_emulator::verify::{ncp, Refusal, RequestParts};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("x-ncp-apigw-timestamp", HeaderValue::from_static("1700000000123"));
//! headers.insert("x-ncp-iam-access-key", HeaderValue::from_static("AK"));
//! headers.insert("x-ncp-apigw-signature-v2", HeaderValue::from_static("bm90IGEgc2lnbmF0dXJl"));
//! let parts = RequestParts::new("GET", "/kms/v1/keys", None, &headers, b"");
//! let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
//! let lookup = |ak: &str| match ak {
//!     "AK" => Ok(SecretString::new("SK")),
//!     _ => Err(Refusal::UnknownAccessKey),
//! };
//! assert_eq!(ncp::verify(&parts, now, lookup), Err(Refusal::SignatureMismatch));
//! ```
//!
//! A refusal says what was wrong (it becomes the error message of the emulator's 401) but
//! never carries a secret, a signature or a security token.

pub mod huawei;
pub mod ncp;
mod percent;

use std::fmt;

use axum::http::HeaderMap;

/// A request as the server received it: what a signature verifier needs to see.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RequestParts<'a> {
    /// The method, e.g. `POST`.
    pub method: &'a str,
    /// The path exactly as received, still percent-encoded (`/kms/v1/keys/a%2Fb/token-set`).
    pub path: &'a str,
    /// The query exactly as received, without `?`; `None` when the request line had no `?`.
    pub query: Option<&'a str>,
    /// Every header, repeated values included.
    pub headers: &'a HeaderMap,
    /// The body as received.
    pub body: &'a [u8],
}

impl<'a> RequestParts<'a> {
    /// Collects the parts of one received request.
    pub fn new(
        method: &'a str,
        path: &'a str,
        query: Option<&'a str>,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> Self {
        Self {
            method,
            path,
            query,
            headers,
            body,
        }
    }

    /// The single value of a header: `Ok(None)` when absent, an error when repeated or not
    /// visible ASCII (an authentication header is never legitimately either).
    fn single_header(&self, name: &'static str) -> Result<Option<&'a str>, Refusal> {
        let mut values = self.headers.get_all(name).iter();
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(Refusal::RepeatedHeader(name));
        }
        first
            .to_str()
            .map(Some)
            .map_err(|_| Refusal::Malformed(name))
    }

    /// The single value of a header that must be present.
    fn required_header(&self, name: &'static str) -> Result<&'a str, Refusal> {
        self.single_header(name)?
            .ok_or(Refusal::MissingHeader(name))
    }
}

/// Why a signed request was refused.
///
/// `Display` gives the reason in words a person can act on; no variant holds a secret, a
/// signature or a security token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// A header the algorithm needs is absent.
    MissingHeader(&'static str),
    /// An authentication header appears more than once.
    RepeatedHeader(&'static str),
    /// A header or field is not of the documented form (named).
    Malformed(&'static str),
    /// The `Authorization` header names an algorithm this verifier does not know.
    UnsupportedAlgorithm,
    /// The signing time is too far from the server's clock.
    Expired,
    /// No such access key.
    UnknownAccessKey,
    /// The access key existed but has expired (temporary credentials).
    ExpiredAccessKey,
    /// The path has a bad percent-escape, or decodes to bytes that are not UTF-8.
    BadPath,
    /// The query has a bad percent-escape, or decodes to bytes that are not UTF-8.
    BadQuery,
    /// A header listed in `SignedHeaders` is not on the request (named).
    SignedHeaderMissing(String),
    /// A header that must be covered by the signature is not in `SignedHeaders` (named).
    NotSigned(&'static str),
    /// Temporary credentials were used without their security token.
    SecurityTokenMissing,
    /// The security token is not the one that belongs to the access key (or the key has
    /// none).
    SecurityTokenMismatch,
    /// The signature is not the one the request's parts give with the key's secret.
    SignatureMismatch,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingHeader(name) => write!(f, "the {name} header is required"),
            Self::RepeatedHeader(name) => write!(f, "the {name} header must appear only once"),
            Self::Malformed(name) => write!(f, "malformed {name}"),
            Self::UnsupportedAlgorithm => f.write_str("unsupported signing algorithm"),
            Self::Expired => {
                f.write_str("signature expired (the signing time is too far from the server time)")
            }
            Self::UnknownAccessKey => f.write_str("the access key does not exist"),
            Self::ExpiredAccessKey => f.write_str("the access key has expired"),
            Self::BadPath => f.write_str(
                "verify aksk signature fail (the path has a bad percent-escape or is not UTF-8)",
            ),
            Self::BadQuery => f.write_str(
                "verify aksk signature fail (the query has a bad percent-escape or is not UTF-8)",
            ),
            Self::SignedHeaderMissing(name) => write!(
                f,
                "verify aksk signature fail (the signed header {name} is missing)"
            ),
            Self::NotSigned(name) => write!(f, "{name} must be signed"),
            Self::SecurityTokenMissing => {
                f.write_str("a security token is required for temporary credentials")
            }
            Self::SecurityTokenMismatch => f.write_str("invalid security token"),
            Self::SignatureMismatch => f.write_str("verify aksk signature fail"),
        }
    }
}

impl std::error::Error for Refusal {}

/// Lower-case hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Compares without stopping at the first difference.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
