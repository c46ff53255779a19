//! Huawei Cloud AK/SK signing as the official SDKs do it: `SDK-HMAC-SHA256` (the default),
//! `SDK-HMAC-SM3` ([`sm3`]) and the derived-key `V11-HMAC-SHA256` ([`v11`]).
//!
//! The stages are plain functions, each checked against the official signer's vectors:
//! [`canonical_uri`] and [`canonical_query`] → [`canonical_request`] → [`string_to_sign`] →
//! [`signature`] → [`authorization`] (and the [`sm3`] and [`v11`] counterparts of the last
//! three). [`HuaweiSigner`] applies them to a request, adding `X-Sdk-Date`, `Host`,
//! `X-Project-Id` or `X-Domain-Id`, and `X-Security-Token` (signed) for temporary
//! credentials. It does not call the stages one by one: it streams the canonical request
//! straight into the hash, with every per-credential constant prepared once; a property
//! test proves it produces what the stages produce.

pub(crate) mod date;
mod fast;
mod reference;
mod signer;
pub mod sm3;
mod stages;
pub mod v11;

pub use date::{format_sdk_date, parse_sdk_date, SdkDate};
pub use reference::authorization_by_stages;
pub use signer::HuaweiSigner;
pub use stages::{
    authorization, canonical_query, canonical_query_from_raw, canonical_request, canonical_uri,
    payload_hash, signature, signs_payload, string_to_sign, CanonicalRequest,
};

use crate::error::{Error, Result};

/// The algorithm name that opens the `Authorization` header.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
/// Header carrying the signing time, `YYYYMMDDTHHMMSSZ`.
pub const DATE_HEADER: &str = "x-sdk-date";
/// Header carrying the security token of temporary credentials.
pub const SECURITY_TOKEN_HEADER: &str = "x-security-token";
/// Header carrying the project id for regional services.
pub const PROJECT_ID_HEADER: &str = "x-project-id";
/// Header carrying the account (domain) id for global services.
pub const DOMAIN_ID_HEADER: &str = "x-domain-id";
/// Header announcing an unsigned payload.
pub const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";
/// The payload hash used when the body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Hex SHA-256 of the empty string: the payload hash of a request without a body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Which of the official signing algorithms a [`HuaweiSigner`] uses.
///
/// ```
/// use token_common::signing::huawei::HuaweiAlgorithm;
/// assert_eq!(HuaweiAlgorithm::default().name(), "SDK-HMAC-SHA256");
/// assert_eq!(HuaweiAlgorithm::v11("cn-north-4", "iam").name(), "V11-HMAC-SHA256");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HuaweiAlgorithm {
    /// `SDK-HMAC-SHA256`: what the official SDKs use unless configured otherwise.
    #[default]
    HmacSha256,
    /// `SDK-HMAC-SM3`: SM3 for every hash (required in some Chinese regulated
    /// environments).
    HmacSm3,
    /// `V11-HMAC-SHA256`: HMAC-SHA256 keyed with a key derived (HKDF) from the secret key
    /// for each day, region and service. Build it with [`HuaweiAlgorithm::v11`].
    V11HmacSha256 {
        /// The region the key is derived for ([`v11::GLOBAL_REGION`] for global services).
        region: String,
        /// The service the key is derived for.
        service: String,
    },
}

impl HuaweiAlgorithm {
    /// `V11-HMAC-SHA256` deriving its keys for `region` and `service`.
    pub fn v11(region: impl Into<String>, service: impl Into<String>) -> Self {
        HuaweiAlgorithm::V11HmacSha256 {
            region: region.into(),
            service: service.into(),
        }
    }

    /// The name that opens the `Authorization` header.
    pub fn name(&self) -> &'static str {
        match self {
            HuaweiAlgorithm::HmacSha256 => ALGORITHM,
            HuaweiAlgorithm::HmacSm3 => sm3::ALGORITHM,
            HuaweiAlgorithm::V11HmacSha256 { .. } => v11::ALGORITHM,
        }
    }

    /// Refuses a V11 region or service that is empty or could not travel in the
    /// `Authorization` header's `Credential=` part.
    pub fn check(&self) -> Result<()> {
        if let HuaweiAlgorithm::V11HmacSha256 { region, service } = self {
            for (field, value) in [("region", region), ("service", service)] {
                if value.is_empty() {
                    return Err(Error::invalid_input(
                        field,
                        "must not be empty for V11-HMAC-SHA256",
                    ));
                }
                if !value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
                {
                    return Err(Error::invalid_input(
                        field,
                        "may hold only ASCII letters, digits, `-`, `_` and `.` (it is written into the Authorization header)",
                    ));
                }
            }
        }
        Ok(())
    }
}

impl std::str::FromStr for HuaweiAlgorithm {
    type Err = Error;

    /// `sha256` (or `SDK-HMAC-SHA256`) and `sm3` (or `SDK-HMAC-SM3`), case-insensitive.
    /// V11 needs a region and a service: build it with [`HuaweiAlgorithm::v11`].
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "sha256" | "hmac-sha256" | "sdk-hmac-sha256" => Ok(HuaweiAlgorithm::HmacSha256),
            "sm3" | "hmac-sm3" | "sdk-hmac-sm3" => Ok(HuaweiAlgorithm::HmacSm3),
            _ => Err(Error::invalid_input(
                "signing_algorithm",
                "must be `sha256` or `sm3`",
            )),
        }
    }
}
