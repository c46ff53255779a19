//! # ncp-kms-client
//!
//! A client of NCP (Naver Cloud Platform) Key Management Service's token calls: create a
//! token set for a key, keep an access token valid for months with the refresh token,
//! renew the set, and manage the key's token generator.
//!
//! * Account-authenticated calls (API Gateway signature v2, from an access key and secret
//!   key): [`KmsClient::create_token_set`], [`KmsClient::enable_token_generator`],
//!   [`KmsClient::get_token_generator`], [`KmsClient::replace_token_generator`],
//!   [`KmsClient::disable_token_generator`], [`KmsClient::list_keys`],
//!   [`KmsClient::list_all_keys`].
//! * Token-authenticated calls (the refresh token in `x-ncp-ocapi-token`, no signature):
//!   [`KmsClient::refresh_access_token`], [`KmsClient::renew_token_set`].
//! * [`KmsTokenSource`] and [`KmsClient::token_source`]: an access token kept fresh by a
//!   refresh-ahead cache.
//! * Temporary account keys: the server role ([`NcpServerRole`], instance metadata) and
//!   Secure Token Service ([`StsClient`], [`StsCredentialsProvider`]), through
//!   [`KmsClientBuilder::credentials_loader`]. The default chain is the environment, then
//!   `~/.ncloud/configure`, then the server role.
//!
//! ## Getting a token set
//!
//! ```no_run
//! use ncp_kms_client::{KmsClient, Site, TokenSetOptions, TokenValidity};
//!
//! # async fn run() -> ncp_kms_client::Result<()> {
//! // Credentials: NCLOUD_ACCESS_KEY_ID / NCLOUD_SECRET_ACCESS_KEY (or the short names),
//! // else ~/.ncloud/configure, else the server's role (instance metadata).
//! let client = KmsClient::builder().site(Site::Public).build()?;
//! let options = TokenSetOptions::new()
//!     .with_access_token_hours(TokenValidity::hours(24)?)
//!     .with_refresh_token_hours(TokenValidity::Unlimited);
//! let set = client.create_token_set("my-key-tag", options).await?;
//! println!("access token expires at {:?}", set.access_token_expires_at);
//! // Later, without the account keys:
//! let access = client
//!     .refresh_access_token("my-key-tag", &set.refresh_token, None)
//!     .await?;
//! # let _ = access;
//! # Ok(()) }
//! ```
//!
//! ## Against a local server
//!
//! ```
//! use ncp_kms_client::{KmsClient, NcpCredentials};
//!
//! let client = KmsClient::builder()
//!     .credentials(NcpCredentials::new("ncp_iam_AK", "ncp_iam_SK"))
//!     .endpoint("http://127.0.0.1:8080/kms/v1")
//!     .build()
//!     .unwrap();
//! assert_eq!(client.endpoint().as_str(), "http://127.0.0.1:8080/kms/v1");
//! assert!(!format!("{client:?}").contains("ncp_iam_SK"));
//! ```
//!
//! ## What it checks and refuses
//! * Validities are whole hours 1..=17520 or unlimited ([`TokenValidity`]); a validity
//!   left out is not sent, so the service's defaults (72 and 2160 hours) apply.
//! * A key tag travels as exactly one percent-encoded path segment whatever it holds
//!   (`/`, `?`, `#`, `%`, spaces, non-ASCII); the empty tag, `.` and `..` are refused.
//! * Page sizes are 1..=200 and page numbers start at 1.
//! * Endpoints are `https://`, or `http://` to loopback, unless explicitly allowed.
//! * Tokens are [`SecretString`]s: `Debug` and `Display` print a redaction, errors never
//!   hold them, and success bodies are never quoted in decode errors.
//!
//! ## Errors and retries
//! Every call returns [`Error`]. The API Gateway's error body (`errorCode` as text or
//! number, `message`, `details`) and KMS's own (`code`, `msg`) both become
//! [`Error::Service`] with the HTTP status and the service's code; a 200 whose `code` is
//! not `SUCCESS` is an error too. Connection failures, 429, 502, 503 and 504 are retried
//! (at most 3 attempts by default, honouring `Retry-After`); other 4xx never are. A
//! signature refused for its timestamp (401 with `errorCode` 200) is re-signed once with
//! the server's clock when the two clocks differ.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// What the client's requests say in `User-Agent`: this crate and its version.
const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

mod account;
mod builder;
mod client;
mod crypto;
mod error;
mod lenient;
mod model;
pub mod sts;
mod token_source;
mod validity;

pub use builder::{KmsClientBuilder, Site};
pub use client::{KmsClient, MAX_PAGE_SIZE, TOKEN_HEADER};
pub use crypto::{
    Ciphertext, CustomKey, CustomKeyOptions, KeyBits, SecretBytes, Signature, MAX_CONTEXT_BYTES,
    MAX_PLAINTEXT_BYTES, MAX_SIGN_DATA_BYTES,
};
#[allow(deprecated)]
pub use model::AccessToken;
pub use model::{
    GeneratorStatus, KeyInfo, KeyPage, KeyType, KmsAccessToken, TokenGenerator, TokenSet,
};
pub use sts::{
    StsClient, StsClientBuilder, StsCredentials, StsCredentialsProvider, StsErrorKind, StsKeyInfo,
    StsOptions,
};
pub use token_source::{HookError, KmsTokenSource, RenewHook, DEFAULT_REFRESH_TOKEN_MARGIN};
pub use validity::{
    TokenSetOptions, TokenValidity, DEFAULT_ACCESS_TOKEN_HOURS, DEFAULT_REFRESH_TOKEN_HOURS,
    MAX_HOURS,
};

pub use token_common::credentials::{
    CredentialsCache, CredentialsChain, LoadChain, LoadCredentials, NcpCredentials, NcpEnvironment,
    NcpProfile, NcpServerRole, ProvideCredentials,
};
// The set every cloud-tokens client re-exports from token-common, the same in all three,
// so `cloud_tokens::{ncp, huawei, cloudforet}::…` name the same shared things.
pub use token_common::cache::{Expiring, TokenCache, TokenReader, TokenSource};
pub use token_common::transport::{Backoff, BoxFuture, HttpRequest, HttpResponse, Transport};
pub use token_common::{Error, Idempotency, Result, SecretString, ServiceError};
