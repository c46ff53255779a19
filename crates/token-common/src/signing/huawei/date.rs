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
        // Unsigned division where it can be (every time after 1970): it is cheaper.
        let (days, rem) = match u64::try_from(secs) {
            Ok(s) => ((s / 86_400) as i64, (s % 86_400) as u32),
            Err(_) => (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32),
        };
        let (y, m, d) = match civil_from_days_fast(days) {
            Some(ymd) => ymd,
            None => {
                let (y, m, d) = civil_from_days(days);
                (y.clamp(0, 9999) as u32, m as u32, d as u32)
            }
        };
        let (hour, rem) = (rem / 3600, rem % 3600);
        let mut text = *b"00000000T000000Z";
        put2(&mut text[0..2], y / 100);
        put2(&mut text[2..4], y % 100);
        put2(&mut text[4..6], m);
        put2(&mut text[6..8], d);
        put2(&mut text[9..11], hour);
        put2(&mut text[11..13], rem / 60);
        put2(&mut text[13..15], rem % 60);
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

/// The two digits of every number below 100.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        pairs[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    pairs
};

/// Writes `v` (below 100) as two digits into `out`.
#[inline]
fn put2(out: &mut [u8], v: u32) {
    out.copy_from_slice(&DIGIT_PAIRS[v.min(99) as usize]);
}

/// The civil date of a day counted from 1970-01-01, for years 0 to 9999 (`None` outside):
/// Neri and Schneider's Euclidean affine form ("Euclidean affine functions and their
/// application to calendar algorithms", 2022), whose divisions are by constants and short
/// chains of 32-bit multiplications, where [`civil_from_days`] (the same calendar, for any
/// day) chains 64-bit divisions. A test checks the two agree on every day of those years.
fn civil_from_days_fast(days: i64) -> Option<(u32, u32, u32)> {
    // 0000-01-01 and 9999-12-31.
    if !(-719_528..=2_932_896).contains(&days) {
        return None;
    }
    // Days since 0000-03-01, shifted by 82 eras of 400 years so that the count is positive.
    const SHIFT: u32 = 82;
    const K: i64 = 719_468 + 146_097 * SHIFT as i64;
    let n = (days + K) as u32;
    let n1 = 4 * n + 3;
    let century = n1 / 146_097;
    let n_c = n1 % 146_097 / 4;
    let n2 = 4 * n_c + 3;
    let p2 = 2_939_745u64 * u64::from(n2);
    let year_of_century = (p2 >> 32) as u32;
    let day_of_year = (p2 as u32) / 2_939_745 / 4;
    let n3 = 2_141 * day_of_year + 197_913;
    let (month, day) = (n3 >> 16, (n3 & 0xffff) / 2_141 + 1);
    // Days from March on belong to the next calendar year's January and February.
    let january_or_february = day_of_year >= 306;
    let year = 100 * century + year_of_century + u32::from(january_or_february) - 400 * SHIFT;
    let month = if january_or_february {
        month - 12
    } else {
        month
    };
    Some((year, month, day))
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
    fn the_fast_civil_date_agrees_with_the_general_one_on_every_day_of_years_0_to_9999() {
        for days in -719_528..=2_932_896i64 {
            let (y, m, d) = civil_from_days(days);
            let fast = civil_from_days_fast(days)
                .map(|(y, m, d)| (i64::from(y), i64::from(m), i64::from(d)));
            assert_eq!(fast, Some((y, m, d)), "day {days}");
        }
        assert_eq!(civil_from_days_fast(-719_529), None);
        assert_eq!(civil_from_days_fast(2_932_897), None);
        // Outside those years the slow path clamps the year, as before.
        let d = SdkDate::new(crate::clock::from_unix_seconds(-62_167_219_201)); // -0001-12-31T23:59:59Z
        assert_eq!(d.as_str(), "00001231T235959Z");
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
