//! # cloud-tokens
//!
//! Client SDKs that mint and manage access tokens on three clouds, re-exported behind
//! features (all on by default):
//!
//! * `ncp` — [`ncp`]: NCP Key Management Service token sets and their lifecycle;
//! * `huawei` — [`huawei`]: Huawei Cloud IAM Identity Center SCIM bearer tokens;
//! * `cloudforet` — [`cloudforet`]: Cloudforet identity issue/grant, MFA and sessions.
//!
//! [`common`] is the shared ground: secrets, credentials, signing, transport, errors.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use token_common as common;
pub use token_common::{Error, Result, SecretString};

#[cfg(feature = "ncp")]
pub use ncp_kms_client as ncp;

#[cfg(feature = "huawei")]
pub use huawei_identity_client as huawei;

#[cfg(feature = "cloudforet")]
pub use cloudforet_identity_client as cloudforet;

/// The README's code, compiled as a doc test so it stays true (it uses all three clients).
#[cfg(all(doctest, feature = "ncp", feature = "huawei", feature = "cloudforet"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
