//! # cloudforet-identity-client
//!
//! Log in to [Cloudforet](https://cloudforet.io) (SpaceONE) identity v2 and keep a valid
//! access token: `Token.issue` (password, external IdP, MFA), `Token.grant` (scope a token
//! to the system, the domain, a workspace or the user), the domain id for a domain name,
//! and a [`Session`] that re-grants by itself.
//!
//! ## Getting a scoped token
//!
//! ```no_run
//! use cloudforet_identity_client::error::{mfa_required, MfaRequired};
//! use cloudforet_identity_client::{
//!     Credentials, Error, GrantRequest, IdentityClient, IssueRequest, Scope,
//! };
//!
//! # async fn run() -> Result<(), Error> {
//! let client = IdentityClient::builder()
//!     .endpoint("https://console-v2.api.example.com")
//!     .build()?;
//! let domain = client.domain_auth_info("demo").await?;
//! let login = IssueRequest::new(
//!     Credentials::local("alice@example.com", "pa55word"),
//!     domain.domain_id,
//! );
//! let tokens = match client.issue(&login).await {
//!     Ok(tokens) => tokens,
//!     Err(e) => match mfa_required(&e) {
//!         Some(MfaRequired { mfa_type, user_id, .. }) => {
//!             let code = format!("the {mfa_type} code sent to {user_id}"); // ask the user
//!             client.complete_mfa(&login, code).await?
//!         }
//!         None => return Err(e),
//!     },
//! };
//! let granted = client
//!     .grant(&GrantRequest::refresh_token(tokens.refresh_token, Scope::Domain))
//!     .await?;
//! println!("role {:?}, expires {:?}", granted.role_type, granted.expires_at());
//! # Ok(()) }
//! ```
//!
//! ## A session that stays logged in
//!
//! ```no_run
//! use cloudforet_identity_client::{Credentials, IdentityClient, LoginOptions, Scope, Session};
//!
//! # async fn run() -> cloudforet_identity_client::Result<()> {
//! let client = IdentityClient::builder().endpoint("https://console-v2.api.example.com").build()?;
//! let session = Session::login(
//!     &client,
//!     LoginOptions::new(Credentials::local("alice@example.com", "pa55word"), "domain-123")
//!         .scope(Scope::Workspace)
//!         .workspace_id("workspace-1"),
//! )
//! .await?;
//! let token = session.access_token().await?; // re-granted ahead of its expiry
//! // … call an API with `Authorization: token.bearer()`; on a 401:
//! session.report_unauthorized(&token);
//! # Ok(()) }
//! ```
//!
//! ## What it gets right
//! * **Routes.** Deployed Cloudforet serves REST through console-api-v2 at
//!   `/identity/token/issue` ([`RouteStyle::Console`], the default); the proto's
//!   `/identity/v2/token/…` is served only by grpc-gateway builds
//!   ([`RouteStyle::V2Gateway`]). A router 404 says which style to try.
//! * **Wire format.** Request bodies follow protobuf's JSON mapping exactly: snake_case,
//!   enums by name, absent values left out (never `null`, never a field the proto lacks —
//!   the server rejects unknown fields). Answers may leave out any default field.
//! * **Validation before sending**: empty ids, `timeout` outside 1..=604800, WORKSPACE
//!   scope without `workspace_id`, and the PROJECT scope, which exists in the proto but
//!   which servers refuse.
//! * **Errors.** `{"detail":{"code","message"}}` becomes [`Error::Service`] with status,
//!   code and message; the 500 `ERROR_MFA_REQUIRED` becomes an [`MfaRequired`] with
//!   the MFA type and user, carried as [`Error::ServiceSpecific`] and read back with
//!   [`error::mfa_required`]; every authentication failure is a 401
//!   `ERROR_AUTHENTICATE_FAILURE` ([`Error::is_authentication`]).
//! * **Secrets.** Passwords, external credentials, verify codes and tokens are held as
//!   [`SecretString`] (or redacted in `Debug`) and never reach an error or a log line.
//! * **OTP MFA by itself.** Give [`IssueRequest::otp_secret`] (or
//!   [`LoginOptions::otp_secret`]) the user's Base32 TOTP secret and an OTP login completes in
//!   the same call: the RFC 6238 code is computed on the client's clock, and a code that
//!   would arrive in the last [`LATE_IN_STEP`] of its 30 s step waits for the next step (the
//!   server accepts only the current one). A wrong secret surfaces as the server's 400
//!   `ERROR_INVALID_VERIFY_CODE` ([`error::is_invalid_verify_code`]).
//! * **Retries.** Only connection failures, 429, 502, 503 and 504 are retried (at most 3
//!   attempts by default); issue and grant create nothing on failure.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// What the client's requests say in `User-Agent`: this crate and its version.
const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

mod app;
mod builder;
pub mod cfctl;
mod client;
mod domain;
pub mod error;
mod grant;
mod issue;
mod session;
mod source;
mod totp;

pub use app::{AppClaims, AppSecret, AppSecretError};
pub use builder::{IdentityClientBuilder, RouteStyle};
pub use cfctl::{CfctlEnvironment, CfctlSettings, EnvironmentKind};
pub use client::IdentityClient;
pub use domain::DomainAuthInfo;
pub use error::{MfaRequired, MfaType};
pub use grant::{GrantRequest, GrantTokenInfo, GrantType, RoleType, Scope};
pub use issue::{AuthType, Credentials, IssueRequest, TokenInfo, MAX_TIMEOUT_SECONDS};
#[allow(deprecated)]
pub use session::AccessToken;
pub use session::{LoginOptions, Relogin, Session, SessionAccessToken};
pub use source::AccessTokenSource;
pub use totp::{TotpSecret, LATE_IN_STEP};

// The set every cloud-tokens client re-exports from token-common, the same in all three,
// so `cloud_tokens::{ncp, huawei, cloudforet}::…` name the same shared things.
pub use token_common::cache::{Expiring, TokenCache, TokenReader, TokenSource};
pub use token_common::transport::{Backoff, BoxFuture, HttpRequest, HttpResponse, Transport};
pub use token_common::{Error, Idempotency, Result, SecretString, ServiceError};

/// The README's code, compiled as a doc test so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
