//! What the calls return.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use token_common::SecretString;

/// A time as the service sends it: milliseconds since the Unix epoch.
///
/// The service may send these as JSON integers or as floats (`1754278569275.0`); both
/// decode to the same exact integer (a float's sub-millisecond fraction, if any, is
/// dropped). A value that is not finite or does not fit in an `i64` is refused.
///
/// ```
/// use huawei_identity_client::EpochMillis;
/// let a: EpochMillis = serde_json::from_str("1754278569275").unwrap();
/// let b: EpochMillis = serde_json::from_str("1754278569275.0").unwrap();
/// assert_eq!(a, b);
/// assert_eq!(b.as_millis(), 1_754_278_569_275);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct EpochMillis(pub i64);

impl EpochMillis {
    /// The milliseconds since the Unix epoch.
    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// The same instant as a [`SystemTime`].
    pub fn as_system_time(self) -> SystemTime {
        let ms = Duration::from_millis(self.0.unsigned_abs());
        if self.0 >= 0 {
            UNIX_EPOCH + ms
        } else {
            UNIX_EPOCH - ms
        }
    }

    /// The instant `t` in milliseconds (truncated; saturating at the `i64` range).
    pub fn from_system_time(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Self(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            Err(e) => Self(-i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX)),
        }
    }
}

impl fmt::Display for EpochMillis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for EpochMillis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EpochMillisVisitor)
    }
}

struct EpochMillisVisitor;

// 2^63 as f64: every finite float strictly below it (and at or above its negation) fits.
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

impl Visitor<'_> for EpochMillisVisitor {
    type Value = EpochMillis;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("milliseconds since the Unix epoch, as a JSON number")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<EpochMillis, E> {
        Ok(EpochMillis(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<EpochMillis, E> {
        i64::try_from(v)
            .map(EpochMillis)
            .map_err(|_| E::custom("epoch milliseconds out of range"))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<EpochMillis, E> {
        if !v.is_finite() {
            return Err(E::custom("epoch milliseconds must be a finite number"));
        }
        let whole = v.trunc();
        if !(-I64_BOUND..I64_BOUND).contains(&whole) {
            return Err(E::custom("epoch milliseconds out of range"));
        }
        // In range and integral, so the cast is exact.
        Ok(EpochMillis(whole as i64))
    }

    // Some gateways quote numbers; accept a string of digits too.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<EpochMillis, E> {
        let v = v.trim();
        if let Ok(n) = v.parse::<i64>() {
            return Ok(EpochMillis(n));
        }
        match v.parse::<f64>() {
            Ok(f) => self.visit_f64(f),
            Err(_) => Err(E::custom("epoch milliseconds must be a number")),
        }
    }
}

/// A SCIM bearer token just created: the only time the service shows its value.
///
/// The identity provider sends it as `Authorization: Bearer <token>` to
/// `https://scim.{region}.myhuaweicloud.com/{tenant_id}/scim/v2/...`. `Debug` prints the
/// token as a redaction; read it with [`SecretString::expose_secret`].
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct BearerToken {
    /// The token's id (not secret; what [`delete_bearer_token`] takes).
    ///
    /// [`delete_bearer_token`]: crate::IdentityStoreClient::delete_bearer_token
    pub token_id: String,
    /// The token itself.
    pub token: SecretString,
    /// When it was created.
    pub creation_time: EpochMillis,
    /// When it stops being accepted.
    pub expiration_time: EpochMillis,
}

impl BearerToken {
    /// How long the token remains valid after `now` (zero once it has expired).
    ///
    /// Pass the time from the client's clock (`client.transport().now()`) or any
    /// `SystemTime`.
    pub fn time_to_expiry(&self, now: SystemTime) -> Duration {
        self.expiration_time
            .as_system_time()
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
    }

    /// The lifetime the service gave the token (`expiration_time − creation_time`).
    pub fn lifetime(&self) -> Duration {
        let ms = self
            .expiration_time
            .0
            .saturating_sub(self.creation_time.0)
            .max(0);
        Duration::from_millis(ms.unsigned_abs())
    }
}

/// A bearer token as listed: its id and times, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct BearerTokenInfo {
    /// The token's id.
    pub token_id: String,
    /// When it was created.
    pub creation_time: EpochMillis,
    /// When it stops being accepted.
    pub expiration_time: EpochMillis,
}

impl BearerTokenInfo {
    /// How long the token remains valid after `now` (zero once it has expired).
    pub fn time_to_expiry(&self, now: SystemTime) -> Duration {
        self.expiration_time
            .as_system_time()
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
    }
}

/// A provisioning tenant: the SCIM endpoint an identity provider provisions users into.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ProvisioningTenant {
    /// The tenant's id (what the bearer-token calls take).
    pub tenant_id: String,
    /// The SCIM base URL for this tenant.
    pub scim_endpoint: String,
    /// When it was created.
    pub creation_time: EpochMillis,
}

#[derive(Deserialize)]
pub(crate) struct BearerTokenList {
    #[serde(default)]
    pub bearer_tokens: Vec<BearerTokenInfo>,
}

#[derive(Deserialize)]
pub(crate) struct ProvisioningTenantList {
    #[serde(default)]
    pub provisioning_tenants: Vec<ProvisioningTenant>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_millis_decodes_integers_and_floats_exactly() {
        for text in [
            "1754278569275",
            "1754278569275.0",
            "1.754278569275e12",
            "\"1754278569275\"",
        ] {
            let v: EpochMillis = serde_json::from_str(text).unwrap();
            assert_eq!(v, EpochMillis(1_754_278_569_275), "{text}");
        }
        let v: EpochMillis = serde_json::from_str("1754278569275.9").unwrap();
        assert_eq!(v.0, 1_754_278_569_275);
        let v: EpochMillis = serde_json::from_str("-5.0").unwrap();
        assert_eq!(v.0, -5);
    }

    #[test]
    fn epoch_millis_refuses_out_of_range_and_non_numbers() {
        for text in [
            "1e300",
            "-1e19",
            "18446744073709551615",
            "\"soon\"",
            "true",
            "null",
        ] {
            assert!(serde_json::from_str::<EpochMillis>(text).is_err(), "{text}");
        }
    }

    #[test]
    fn epoch_millis_round_trips_system_time() {
        let t = EpochMillis(1_754_278_569_275);
        assert_eq!(EpochMillis::from_system_time(t.as_system_time()), t);
        assert_eq!(
            EpochMillis::from_system_time(EpochMillis(-1500).as_system_time()),
            EpochMillis(-1500)
        );
    }

    #[test]
    fn time_to_expiry_saturates_at_zero() {
        let token: BearerToken = serde_json::from_str(
            r#"{"token_id":"t","token":"v","creation_time":1000,"expiration_time":61000.0}"#,
        )
        .unwrap();
        assert_eq!(token.lifetime(), Duration::from_secs(60));
        let now = EpochMillis(31_000).as_system_time();
        assert_eq!(token.time_to_expiry(now), Duration::from_secs(30));
        let later = EpochMillis(99_000).as_system_time();
        assert_eq!(token.time_to_expiry(later), Duration::ZERO);
    }
}
