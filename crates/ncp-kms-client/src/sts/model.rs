//! What STS calls send and answer.

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::{json, Map, Value};
use token_common::clock::parse_rfc3339;

use super::{missing, MAX_STS_DURATION_SECS, MIN_STS_DURATION_SECS};
use crate::lenient::opt_bool;
use crate::{Error, Result, SecretString};

/// What [`StsClient::create_credentials`](super::StsClient::create_credentials) asks for.
/// Left empty, STS's defaults apply (a key of 3600 s, no MFA).
///
/// ```
/// use ncp_kms_client::StsOptions;
/// let options = StsOptions::new().with_duration_secs(900).with_mfa("nrn:mfa:device", 123456);
/// # let _ = options;
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StsOptions {
    /// `durationSec`: the key's lifetime in seconds, 600..=43200 (STS default 3600).
    pub duration_secs: Option<u32>,
    /// `serialNumber`: the OTP device's NRN or serial number (with `token_code`).
    pub serial_number: Option<String>,
    /// `tokenCode`: the OTP code shown by that device, sent as an integer.
    pub token_code: Option<u32>,
}

impl std::fmt::Debug for StsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The one-time code is left out: it authenticates for a few seconds.
        f.debug_struct("StsOptions")
            .field("duration_secs", &self.duration_secs)
            .field("serial_number", &self.serial_number)
            .field("token_code", &self.token_code.map(|_| "** redacted **"))
            .finish()
    }
}

impl StsOptions {
    /// No options: STS's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for a key living `secs` seconds (600..=43200, checked before sending).
    pub fn with_duration_secs(mut self, secs: u32) -> Self {
        self.duration_secs = Some(secs);
        self
    }

    /// Authenticates the creation with an OTP device and its current code.
    pub fn with_mfa(mut self, serial_number: impl Into<String>, token_code: u32) -> Self {
        self.serial_number = Some(serial_number.into());
        self.token_code = Some(token_code);
        self
    }

    /// The request body; refuses (naming the field) what STS would refuse.
    pub(crate) fn body(&self) -> Result<Map<String, Value>> {
        let mut body = Map::new();
        if let Some(secs) = self.duration_secs {
            check_duration(secs)?;
            body.insert("durationSec".into(), json!(secs));
        }
        match (&self.serial_number, self.token_code) {
            (None, None) => {}
            (Some(serial), Some(code)) => {
                if serial.trim().is_empty() {
                    return Err(Error::invalid_input("serial_number", "must not be empty"));
                }
                body.insert("serialNumber".into(), json!(serial));
                body.insert("tokenCode".into(), json!(code));
            }
            (Some(_), None) => {
                return Err(Error::invalid_input(
                    "token_code",
                    "is needed with serial_number (the OTP device's current code)",
                ))
            }
            (None, Some(_)) => {
                return Err(Error::invalid_input(
                    "serial_number",
                    "is needed with token_code (the OTP device's NRN or serial number)",
                ))
            }
        }
        Ok(body)
    }
}

pub(crate) fn check_duration(secs: u32) -> Result<()> {
    if (MIN_STS_DURATION_SECS..=MAX_STS_DURATION_SECS).contains(&secs) {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "duration_secs",
            format!(
                "must be from {MIN_STS_DURATION_SECS} to {MAX_STS_DURATION_SECS} seconds (STS durationSec)"
            ),
        ))
    }
}

/// A temporary key created by STS. `Debug` shows no secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StsCredentials {
    /// `accessKey`.
    pub access_key: String,
    /// `keySecret`, the secret key.
    pub key_secret: SecretString,
    /// `createTime`, when STS gave one that reads as ISO 8601.
    pub create_time: Option<SystemTime>,
    /// `expireTime`: the key is refused from then on.
    pub expire_time: SystemTime,
    /// `useMfa`: whether the creation was MFA-authenticated.
    pub use_mfa: bool,
}

impl StsCredentials {
    /// How long the key had to live when created (`None` without a `createTime`).
    pub fn lifetime(&self) -> Option<Duration> {
        self.expire_time.duration_since(self.create_time?).ok()
    }
}

/// The key a request was signed with, as `GET /api/v1/credentials` describes it. A
/// permanent key has only its access key and creation time; a temporary key has all.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StsKeyInfo {
    /// `accessKey`.
    pub access_key: String,
    /// `keySecret` (temporary keys only).
    pub key_secret: Option<SecretString>,
    /// `createTime`.
    pub create_time: Option<SystemTime>,
    /// `expireTime` (temporary keys only).
    pub expire_time: Option<SystemTime>,
    /// `useMfa` (temporary keys only).
    pub use_mfa: Option<bool>,
}

/// The documented STS refusals, told apart from an [`Error`].
///
/// ```
/// use ncp_kms_client::{Error, ServiceError, StsErrorKind};
/// let e = Error::from(ServiceError::new(404, "404", "Invalid or expired access key/STS"));
/// assert_eq!(StsErrorKind::of(&e), Some(StsErrorKind::InvalidOrExpiredKey));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StsErrorKind {
    /// 400: `durationSec` outside 600..=43200 (the client checks first, so this means the
    /// service's range changed).
    DurationOutOfRange,
    /// 401 (other than the gateway's own authentication codes 200 and 210): the OTP code
    /// was refused.
    InvalidOtp,
    /// 404: the signing key is invalid or expired.
    InvalidOrExpiredKey,
}

impl StsErrorKind {
    /// Which documented refusal `error` is, if any. The gateway's 401 `errorCode` 200
    /// (a bad signature, a stale timestamp, an expired temporary key) is none of them.
    pub fn of(error: &Error) -> Option<Self> {
        let e = error.service_error()?;
        match (e.status, e.code.as_str()) {
            (400, _) => Some(Self::DurationOutOfRange),
            (401, "200" | "210") => None,
            (401, _) => Some(Self::InvalidOtp),
            (404, _) => Some(Self::InvalidOrExpiredKey),
            _ => None,
        }
    }
}

/// Both answers' body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StsBody {
    #[serde(default)]
    access_key: Option<String>,
    #[serde(default)]
    key_secret: Option<SecretString>,
    #[serde(default)]
    create_time: Option<String>,
    #[serde(default)]
    expire_time: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    use_mfa: Option<bool>,
}

impl StsBody {
    fn time(field: &str, text: Option<&str>, status: u16) -> Result<Option<SystemTime>> {
        match text {
            None => Ok(None),
            Some(t) => parse_rfc3339(t)
                .map(Some)
                .ok_or_else(|| Error::decode(status, format!("`{field}` is not an ISO 8601 time"))),
        }
    }

    fn access_key(&mut self, status: u16) -> Result<String> {
        self.access_key
            .take()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| missing("accessKey", status))
    }

    pub(crate) fn into_credentials(mut self, status: u16) -> Result<StsCredentials> {
        let access_key = self.access_key(status)?;
        let key_secret = self
            .key_secret
            .take()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| missing("keySecret", status))?;
        let expire_time = Self::time("expireTime", self.expire_time.as_deref(), status)?
            .ok_or_else(|| missing("expireTime", status))?;
        Ok(StsCredentials {
            access_key,
            key_secret,
            create_time: Self::time("createTime", self.create_time.as_deref(), status)?,
            expire_time,
            use_mfa: self.use_mfa.unwrap_or(false),
        })
    }

    pub(crate) fn into_info(mut self, status: u16) -> Result<StsKeyInfo> {
        Ok(StsKeyInfo {
            access_key: self.access_key(status)?,
            key_secret: self.key_secret.take().filter(|s| !s.is_empty()),
            create_time: Self::time("createTime", self.create_time.as_deref(), status)?,
            expire_time: Self::time("expireTime", self.expire_time.as_deref(), status)?,
            use_mfa: self.use_mfa,
        })
    }
}
