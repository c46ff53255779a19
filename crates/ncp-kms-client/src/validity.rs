//! How long a token lives: whole hours 1..=17520, or unlimited.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// The longest validity in whole hours the service accepts (two years).
pub const MAX_HOURS: u16 = 17_520;

/// The service's default access-token validity when none is given, in hours.
pub const DEFAULT_ACCESS_TOKEN_HOURS: u16 = 72;

/// The service's default refresh-token validity when none is given, in hours.
pub const DEFAULT_REFRESH_TOKEN_HOURS: u16 = 2_160;

/// How long a token stays valid: whole hours from 1 to [`MAX_HOURS`], or unlimited.
///
/// On the wire it is the integer or the string `"UL"`. Build hours with
/// [`TokenValidity::hours`], which refuses 0 and anything above 17520; the client checks
/// the range again before sending, so a `Hours(0)` written by hand never leaves the
/// process either.
///
/// ```
/// use ncp_kms_client::TokenValidity;
///
/// assert_eq!(TokenValidity::hours(72).unwrap(), TokenValidity::Hours(72));
/// assert!(TokenValidity::hours(0).is_err());
/// assert!(TokenValidity::hours(17_521).is_err());
/// assert_eq!("UL".parse::<TokenValidity>().unwrap(), TokenValidity::Unlimited);
/// assert_eq!(serde_json::to_string(&TokenValidity::Unlimited).unwrap(), r#""UL""#);
/// assert_eq!(serde_json::to_string(&TokenValidity::Hours(72)).unwrap(), "72");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenValidity {
    /// Whole hours, 1..=17520.
    Hours(u16),
    /// The token never expires (`"UL"`); it carries no `exp` claim.
    Unlimited,
}

impl TokenValidity {
    /// Whole hours; refuses (as the field `hours`) anything outside 1..=17520.
    pub fn hours(hours: u32) -> Result<Self> {
        match u16::try_from(hours) {
            Ok(h) if (1..=MAX_HOURS).contains(&h) => Ok(TokenValidity::Hours(h)),
            _ => Err(out_of_range("hours")),
        }
    }

    /// Checks the range, naming `field` in the error.
    pub(crate) fn check(self, field: &str) -> Result<()> {
        match self {
            TokenValidity::Hours(h) if h == 0 || h > MAX_HOURS => Err(out_of_range(field)),
            _ => Ok(()),
        }
    }

    /// The number of hours, or `None` when unlimited.
    pub fn as_hours(self) -> Option<u16> {
        match self {
            TokenValidity::Hours(h) => Some(h),
            TokenValidity::Unlimited => None,
        }
    }
}

fn out_of_range(field: &str) -> Error {
    Error::invalid_input(
        field,
        format!("must be a whole number of hours from 1 to {MAX_HOURS}, or UL for unlimited"),
    )
}

impl fmt::Display for TokenValidity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenValidity::Hours(h) => write!(f, "{h}"),
            TokenValidity::Unlimited => f.write_str("UL"),
        }
    }
}

/// Parses `UL` or a whole number of hours 1..=17520 (for command lines and configuration).
impl FromStr for TokenValidity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s == "UL" {
            return Ok(TokenValidity::Unlimited);
        }
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(out_of_range("hours"));
        }
        let hours = s.parse::<u32>().map_err(|_| out_of_range("hours"))?;
        TokenValidity::hours(hours)
    }
}

impl Serialize for TokenValidity {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            TokenValidity::Hours(h) => serializer.serialize_u16(*h),
            TokenValidity::Unlimited => serializer.serialize_str("UL"),
        }
    }
}

impl<'de> Deserialize<'de> for TokenValidity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Number(u64),
            Text(String),
        }
        let invalid =
            || serde::de::Error::custom("expected whole hours from 1 to 17520, or \"UL\"");
        match Wire::deserialize(deserializer)? {
            Wire::Number(n) => u32::try_from(n)
                .ok()
                .and_then(|n| TokenValidity::hours(n).ok())
                .ok_or_else(invalid),
            Wire::Text(s) => s.parse().map_err(|_| invalid()),
        }
    }
}

/// The validities asked for when creating or renewing a token set. Left out (`None`),
/// a validity is not sent at all and the service's default applies: 72 hours for the
/// access token, 2160 hours for the refresh token.
///
/// ```
/// use ncp_kms_client::{TokenSetOptions, TokenValidity};
///
/// let options = TokenSetOptions::new()
///     .with_access_token_hours(TokenValidity::hours(72).unwrap())
///     .with_refresh_token_hours(TokenValidity::Unlimited);
/// assert_eq!(
///     serde_json::to_string(&options).unwrap(),
///     r#"{"accessTokenHours":72,"refreshTokenHours":"UL"}"#
/// );
/// assert_eq!(serde_json::to_string(&TokenSetOptions::new()).unwrap(), "{}");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TokenSetOptions {
    /// The access token's validity (`accessTokenHours`); `None` for the default, 72 hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_hours: Option<TokenValidity>,
    /// The refresh token's validity (`refreshTokenHours`); `None` for the default, 2160
    /// hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_hours: Option<TokenValidity>,
}

impl TokenSetOptions {
    /// No validity given: the service's defaults apply.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for an access-token validity.
    #[must_use]
    pub fn with_access_token_hours(mut self, validity: TokenValidity) -> Self {
        self.access_token_hours = Some(validity);
        self
    }

    /// Asks for a refresh-token validity.
    #[must_use]
    pub fn with_refresh_token_hours(mut self, validity: TokenValidity) -> Self {
        self.refresh_token_hours = Some(validity);
        self
    }

    /// Checks both validities, naming `access_token_hours` or `refresh_token_hours`.
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(v) = self.access_token_hours {
            v.check("access_token_hours")?;
        }
        if let Some(v) = self.refresh_token_hours {
            v.check("refresh_token_hours")?;
        }
        Ok(())
    }
}

/// The body of a refresh call: only the access token's validity.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RefreshBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) access_token_hours: Option<TokenValidity>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_range_is_1_to_17520() {
        assert!(TokenValidity::hours(1).is_ok());
        assert!(TokenValidity::hours(17_520).is_ok());
        for bad in [0, 17_521, 65_536 + 72, u32::MAX] {
            let e = TokenValidity::hours(bad).unwrap_err();
            assert_eq!(e.field(), Some("hours"), "{bad}");
        }
    }

    #[test]
    fn parses_ul_and_integers_only() {
        assert_eq!(
            "UL".parse::<TokenValidity>().unwrap(),
            TokenValidity::Unlimited
        );
        assert_eq!(
            "2160".parse::<TokenValidity>().unwrap(),
            TokenValidity::Hours(2160)
        );
        for bad in [
            "",
            "0",
            "17521",
            "-1",
            "+5",
            "1.5",
            "ul",
            "unlimited",
            "72h",
        ] {
            assert!(bad.parse::<TokenValidity>().is_err(), "{bad}");
        }
    }

    #[test]
    fn serializes_and_deserializes_as_integer_or_ul() {
        for (v, json) in [
            (TokenValidity::Hours(72), "72"),
            (TokenValidity::Unlimited, "\"UL\""),
        ] {
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
            assert_eq!(serde_json::from_str::<TokenValidity>(json).unwrap(), v);
        }
        assert!(serde_json::from_str::<TokenValidity>("0").is_err());
        assert!(serde_json::from_str::<TokenValidity>("\"x\"").is_err());
    }

    #[test]
    fn options_check_names_the_field() {
        let o = TokenSetOptions::new().with_refresh_token_hours(TokenValidity::Hours(0));
        assert_eq!(o.check().unwrap_err().field(), Some("refresh_token_hours"));
        let o = TokenSetOptions::new().with_access_token_hours(TokenValidity::Hours(17_521));
        assert_eq!(o.check().unwrap_err().field(), Some("access_token_hours"));
        assert!(TokenSetOptions::new().check().is_ok());
    }

    #[test]
    fn absent_hours_are_left_out_of_the_body() {
        let body = |o: TokenSetOptions| serde_json::to_string(&o).unwrap();
        assert_eq!(body(TokenSetOptions::new()), "{}");
        assert_eq!(
            body(TokenSetOptions::new().with_access_token_hours(TokenValidity::Hours(72))),
            r#"{"accessTokenHours":72}"#
        );
        let refresh = RefreshBody {
            access_token_hours: None,
        };
        assert_eq!(serde_json::to_string(&refresh).unwrap(), "{}");
    }
}
