//! RFC 3339 / ISO 8601 times as services send them: NCP metadata `Expiration`
//! (`2024-10-10T17:58:28Z`, or with `+0000` as the Java SDK sees it), NCP STS
//! `createTime`/`expireTime`, Huawei metadata `expires_at` (`…T06:56:50.513000Z`).
//!
//! A small reader rather than a date crate: the services send UTC times of one shape, and
//! every caller needs only a [`SystemTime`].

use std::time::{Duration, SystemTime};

use crate::clock::{from_unix_seconds, unix_seconds};

/// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`; `None` when malformed.
///
/// The `T` may be a space or lowercase `t`, `Z` may be lowercase; fractions of any length
/// are kept to the nanosecond. An offset is applied (`+09:00` is nine hours ahead of UTC).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use token_common::timestamp::parse_rfc3339;
///
/// let t = UNIX_EPOCH + Duration::from_secs(1_728_583_108);
/// assert_eq!(parse_rfc3339("2024-10-10T17:58:28Z"), Some(t));
/// assert_eq!(parse_rfc3339("2024-10-10T17:58:28+0000"), Some(t));
/// assert_eq!(parse_rfc3339("2024-10-11T02:58:28+09:00"), Some(t));
/// assert_eq!(parse_rfc3339("2024-10-10T17:58:28"), None); // no zone: refused
/// ```
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 20 || !s.is_ascii() {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut nanos: u32 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (i, c) in frac.bytes().take(digits.min(9)).enumerate() {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &frac[digits..];
    }
    let offset_secs = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] => {
            let digits = &rest[1..];
            let (oh, om) = match digits.len() {
                5 if digits.as_bytes()[2] == b':' => (digits.get(0..2)?, digits.get(3..5)?),
                4 => (digits.get(0..2)?, digits.get(2..4)?),
                _ => return None,
            };
            if !oh.bytes().chain(om.bytes()).all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (oh, om): (i64, i64) = (oh.parse().ok()?, om.parse().ok()?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = oh * 3600 + om * 60;
            if *sign == b'+' {
                secs
            } else {
                -secs
            }
        }
        _ => return None,
    };
    let local = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se;
    Some(from_unix_seconds(local - offset_secs) + Duration::from_nanos(u64::from(nanos)))
}

/// Formats `t` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use token_common::timestamp::format_rfc3339;
/// let t = UNIX_EPOCH + Duration::from_secs(1_728_583_108);
/// assert_eq!(format_rfc3339(t), "2024-10-10T17:58:28Z");
/// ```
pub fn format_rfc3339(t: SystemTime) -> String {
    let secs = unix_seconds(t);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

// Howard Hinnant's civil-calendar algorithms (public domain).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn reads_both_utc_suffixes_and_offsets() {
        let t = at(1_728_583_108);
        for s in [
            "2024-10-10T17:58:28Z",
            "2024-10-10t17:58:28z",
            "2024-10-10 17:58:28Z",
            "2024-10-10T17:58:28+0000",
            "2024-10-10T17:58:28+00:00",
            "2024-10-10T17:58:28-00:00",
            "2024-10-11T02:58:28+09:00",
            "2024-10-10T08:58:28-0900",
        ] {
            assert_eq!(parse_rfc3339(s), Some(t), "{s}");
        }
    }

    #[test]
    fn keeps_fractions() {
        assert_eq!(
            parse_rfc3339("2020-06-23T06:56:50.513000Z"),
            Some(at(1_592_895_410) + Duration::from_millis(513))
        );
        assert_eq!(
            parse_rfc3339("2020-06-23T06:56:50.1234567891Z"),
            Some(at(1_592_895_410) + Duration::from_nanos(123_456_789))
        );
    }

    #[test]
    fn refuses_malformed_times() {
        for s in [
            "",
            "2024-10-10T17:58:28",
            "2024-10-10T17:58:28+000",
            "2024-10-10T17:58:28+00:0",
            "2024-10-10T17:58:28Zjunk",
            "2024-10-10T17:58:28.Z",
            "2024-13-10T17:58:28Z",
            "2023-02-29T17:58:28Z",
            "2024-10-10T24:58:28Z",
            "2024/10/10T17:58:28Z",
            "2024-10-10T17:58:28+24:00",
            "２０２４-10-10T17:58:28Z",
            "+024-10-10T17:58:28Z",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
        assert!(parse_rfc3339("2024-02-29T00:00:00Z").is_some());
    }

    #[test]
    fn formats_and_reads_back() {
        for secs in [0u64, 951_782_400, 1_728_583_108, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&format_rfc3339(at(secs))), Some(at(secs)));
        }
    }
}
