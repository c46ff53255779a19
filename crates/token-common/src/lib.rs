//! # token-common
//!
//! The shared ground of the cloud-tokens clients (`ncp-kms-client`,
//! `huawei-identity-client`, `cloudforet-identity-client`):
//!
//! * [`signing`] — NCP API Gateway signature v2 and Huawei Cloud `SDK-HMAC-SHA256`, each a
//!   pipeline of pure stages checked byte for byte against the official signers' vectors;
//! * [`credentials`] — NCP and Huawei credentials and the providers that read them from the
//!   environment and profile files, with the official variable names and precedence;
//! * [`SecretString`] — secrets that never print and are zeroized on drop;
//! * [`request`] — `HttpRequest`/`HttpResponse`, the `HttpClient` and `Signer` traits: what
//!   both `signing` and `transport` build on;
//! * [`transport`] — one HTTP layer: timeouts, bounded retries with full-jitter backoff,
//!   `Retry-After`, clock-skew correction, capped bodies, https-only;
//! * [`Error`] — the one error type of every client;
//! * [`jwt`] — reading a JWT's claims (for expiry) without verifying it;
//! * [`cache`] — a refresh-ahead token cache that fetches once for any number of callers;
//! * [`clock`] — the one place that reads the time, so all of the above is testable
//!   without sleeping.
//!
//! Most users never touch this crate directly: the client crates re-export what they need.
//!
//! ## Signing a request by hand
//!
//! ```
//! use token_common::credentials::NcpCredentials;
//! use token_common::signing::NcpSigner;
//!
//! let signer = NcpSigner::new(&NcpCredentials::new("AK", "SK")).unwrap();
//! let headers = signer.headers("POST", "/kms/v1/keys/tag/token-set", 1_700_000_000_123);
//! assert_eq!(headers.timestamp, "1700000000123");
//! ```
//!
//! ## What it refuses to do
//! * send plain `http://` to anything but loopback, unless told to;
//! * print a secret in `Debug`, `Display`, an error or a log line;
//! * retry a call that may have created something, unless it provably never reached the
//!   server or the server said it did not act (429, 503): see [`Idempotency`];
//! * read an unbounded response body.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cache;
pub mod clock;
pub mod credentials;
pub mod encoding;
pub mod error;
pub mod jwt;
pub mod request;
pub mod secret;
pub mod signing;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transport;

pub use cache::{Expiring, TokenCache, TokenReader, TokenSource};
pub use error::{Error, Idempotency, Result, ServiceError};
pub use secret::SecretString;
pub use transport::{HttpRequest, HttpResponse, Transport};

/// Re-exported so clients and users name the same versions.
pub use reqwest;
pub use url;

/// The README's code, compiled as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
