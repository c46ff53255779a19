//! # huawei-identity-client
//!
//! A client for Huawei Cloud IAM Identity Center's **IdentityCenterStore** service: the
//! SCIM bearer tokens ("access tokens" for automatic provisioning) that an identity
//! provider sends to `https://scim.{region}.myhuaweicloud.com/{tenant_id}/scim/v2/...`,
//! and the provisioning tenants they belong to.
//!
//! * [`IdentityStoreClient`] — [`create_bearer_token`](IdentityStoreClient::create_bearer_token),
//!   [`list_bearer_tokens`](IdentityStoreClient::list_bearer_tokens),
//!   [`delete_bearer_token`](IdentityStoreClient::delete_bearer_token),
//!   [`create_provisioning_tenant`](IdentityStoreClient::create_provisioning_tenant),
//!   [`list_provisioning_tenants`](IdentityStoreClient::list_provisioning_tenants),
//!   [`delete_provisioning_tenant`](IdentityStoreClient::delete_provisioning_tenant);
//! * [`BearerToken`] — the token (a [`SecretString`]) and its times as exact
//!   [`EpochMillis`], whether the service sent integers or floats;
//! * [`BearerTokenSource`] — keeps a valid token in a [`TokenCache`], creating the next one
//!   ahead of expiry.
//!
//! Requests are signed `SDK-HMAC-SHA256` exactly as the official SDK signs them (checked
//! against its vectors), with `X-Security-Token` for temporary credentials.
//!
//! ## Start here
//!
//! ```no_run
//! use huawei_identity_client::IdentityStoreClient;
//!
//! # async fn run() -> huawei_identity_client::Result<()> {
//! // Credentials: the default chain — HUAWEICLOUD_SDK_AK / _SK (or OIDC federation),
//! // the [basic] section of ~/.huaweicloud/credentials, pod identity, ECS instance
//! // metadata — loaded at the first call and refreshed ahead of expiry. The project id:
//! // HUAWEICLOUD_SDK_PROJECT_ID or the profile.
//! let client = IdentityStoreClient::builder().region("cn-north-4").build()?;
//!
//! let token = client
//!     .create_bearer_token("d-1234567890", "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e")
//!     .await?;
//! println!("token {} expires at {} ms", token.token_id, token.expiration_time);
//! // The value itself: token.token.expose_secret() — never log it.
//!
//! for t in client
//!     .list_bearer_tokens("d-1234567890", "e0d69be4-ee68-4653-97e4-9e8a1b2c3d4e")
//!     .await?
//! {
//!     println!("{} created at {}", t.token_id, t.creation_time);
//! }
//! # Ok(()) }
//! ```
//!
//! ## Errors
//! Every call returns [`Error`]. Input is checked before sending (an empty id, `.` or `..`
//! gives [`Error::InvalidInput`] naming `identity_store_id`, `tenant_id` or `token_id`);
//! ids are percent-encoded as one path segment, so `a/b` travels as `a%2Fb`. An error
//! answer becomes [`Error::Service`] with the HTTP status, the service's `error_code` and
//! `error_msg`, the request id (from `X-Request-Id`, else the body) and
//! `encoded_authorization_message` as [`ServiceError::details`].
//!
//! ## What it refuses to do
//! * send plain `http://` to anything but loopback, unless told to;
//! * print a token, secret key or security token (`Debug`, `Display`, errors, logs);
//! * retry a call that may have created a token (other than on 429, 502, 503, 504).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod builder;
mod client;
mod error;
mod model;
mod region;
mod token_source;

pub use builder::IdentityStoreClientBuilder;
pub use client::IdentityStoreClient;
pub use error::{is_bearer_token_limit, MAX_BEARER_TOKENS_PER_TENANT, SIGNATURE_REFUSED_CODE};
pub use model::{BearerToken, BearerTokenInfo, EpochMillis, ProvisioningTenant};
pub use region::{
    endpoint_override_variable, region_endpoint, ENDPOINT_OVERRIDE_PREFIX, KNOWN_REGIONS,
};
pub use token_source::BearerTokenSource;

pub use token_common::credentials::{
    huawei_default_chain, CredentialsChain, Environment, HuaweiChainOptions, HuaweiCredentials,
    HuaweiEnvironment, HuaweiFederation, HuaweiInstanceMetadata, HuaweiPodIdentity, HuaweiProfile,
    HuaweiProfileSection, LoadChain, LoadCredentials, ProvideCredentials,
};
pub use token_common::signing::huawei::HuaweiAlgorithm;

// The set every cloud-tokens client re-exports from token-common, the same in all three,
// so `cloud_tokens::{ncp, huawei, cloudforet}::…` name the same shared things.
pub use token_common::cache::{Expiring, TokenCache, TokenReader, TokenSource};
pub use token_common::transport::{Backoff, BoxFuture, HttpRequest, HttpResponse, Transport};
pub use token_common::{Error, Idempotency, Result, SecretString, ServiceError};

// Compiles the README's code samples as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
