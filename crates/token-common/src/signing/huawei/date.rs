//! `X-Sdk-Date`: UTC `YYYYMMDDTHHMMSSZ`, formatted without allocating.

use std::time::SystemTime;

use crate::clock::{civil_from_days, civil_seconds, decimal_field};

/// A signing time formatted as `YYYYMMDDTHHMMSSZ`, held on the stack.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use token_common::signing::huawei::SdkDate;
/// let d = SdkDate::new(UNIX_EPOCH + Duration::from_secs(1_735_732_800));
/// assert_eq!(d.as_str(), "20250101T120000Z");
/// assert_eq!(d.day(), "20250101");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SdkDate {
    text: [u8; 16],
    days: i64,
}

impl SdkDate {
    /// Formats `t` (UTC). Years outside 0..=9999 are clamped to those bounds' digits, which
    /// no gateway accepts anyway.
    pub fn new(t: SystemTime) -> Self {
        let secs = crate::clock::unix_seconds(t);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        let mut text = *b"00000000T000000Z";
        put(&mut text[0..4], y.clamp(0, 9999));
        put(&mut text[4..6], m);
        put(&mut text[6..8], d);
        put(&mut text[9..11], rem / 3600);
        put(&mut text[11..13], (rem % 3600) / 60);
        put(&mut text[13..15], rem % 60);
        Self { text, days }
    }

    /// The whole date, `YYYYMMDDTHHMMSSZ`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text).expect("only ASCII digits, `T` and `Z` are written")
    }

    /// The date as bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.text
    }

    /// The calendar day, `YYYYMMDD` (what V11 derives its key for).
    pub fn day(&self) -> &str {
        &self.as_str()[..8]
    }

    /// Days since the Unix epoch (the key of V11's derived-key cache).
    pub fn days_since_epoch(&self) -> i64 {
        self.days
    }
}

impl std::fmt::Debug for SdkDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SdkDate").field(&self.as_str()).finish()
    }
}

/// Writes `v` as zero-padded decimal filling `out`.
fn put(out: &mut [u8], mut v: i64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Formats a time as `YYYYMMDDTHHMMSSZ` (UTC).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_secs(1_735_732_800);
/// assert_eq!(token_common::signing::huawei::format_sdk_date(t), "20250101T120000Z");
/// ```
pub fn format_sdk_date(t: SystemTime) -> String {
    SdkDate::new(t).as_str().to_owned()
}

/// Parses `YYYYMMDDTHHMMSSZ`; `None` when malformed.
pub fn parse_sdk_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r| decimal_field(s, r);
    let secs = civil_seconds(
        [num(0..4)?, num(4..6)?, num(6..8)?],
        [num(9..11)?, num(11..13)?, num(13..15)?],
    )?;
    Some(crate::clock::from_unix_seconds(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_date_round_trips() {
        for secs in [0i64, 951_782_400, 1_735_732_800, 4_102_444_799] {
            let t = crate::clock::from_unix_seconds(secs);
            assert_eq!(parse_sdk_date(&format_sdk_date(t)), Some(t), "{secs}");
        }
        assert_eq!(parse_sdk_date("20250101T120000"), None);
        assert_eq!(parse_sdk_date("2025010xT120000Z"), None);
        // The calendar rule shared with `parse_rfc3339`: days and times that do not exist.
        assert_eq!(parse_sdk_date("20210229T120000Z"), None);
        assert_eq!(parse_sdk_date("20251301T120000Z"), None);
        assert_eq!(parse_sdk_date("20250101T240000Z"), None);
        assert!(parse_sdk_date("20240229T120000Z").is_some());
    }

    #[test]
    fn every_second_of_a_leap_day_boundary_formats_like_the_calendar() {
        // 2024-02-28T23:59:59Z .. 2024-03-01T00:00:01Z
        let cases = [
            (1_709_164_799, "20240228T235959Z", 19_781),
            (1_709_164_800, "20240229T000000Z", 19_782),
            (1_709_251_199, "20240229T235959Z", 19_782),
            (1_709_251_200, "20240301T000000Z", 19_783),
        ];
        for (secs, text, days) in cases {
            let d = SdkDate::new(crate::clock::from_unix_seconds(secs));
            assert_eq!(d.as_str(), text);
            assert_eq!(d.days_since_epoch(), days);
        }
    }
}
