//! The one place that reads the time.
//!
//! Signing, clock-skew correction and token expiry all ask a [`Clock`] for the wall-clock
//! time, so tests can run them against injected or paused time instead of sleeping.
//! (`clippy.toml` bans `SystemTime::now` everywhere else.)

use std::fmt::Debug;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time.
pub trait Clock: Send + Sync + Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one sanctioned read of the system clock
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Wall-clock time that advances with tokio's clock.
///
/// It reads the system clock once, when built, and then adds the time elapsed on
/// `tokio::time::Instant`. Under `#[tokio::test(start_paused = true)]` it therefore moves
/// only when the test advances time, which makes expiry logic testable without sleeping.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    wall_start: SystemTime,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock starting at the current system time.
    pub fn new() -> Self {
        Self::starting_at(SystemClock.now())
    }

    /// A clock starting at `wall_start`.
    pub fn starting_at(wall_start: SystemTime) -> Self {
        Self {
            wall_start,
            start: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> SystemTime {
        self.wall_start + self.start.elapsed()
    }
}

/// A clock that moves only when told to: for tests.
#[derive(Debug)]
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    /// A clock showing `time`.
    pub fn new(time: SystemTime) -> Self {
        Self(Mutex::new(time))
    }

    /// A clock showing `secs` seconds after the Unix epoch.
    pub fn at_unix_seconds(secs: u64) -> Self {
        Self::new(UNIX_EPOCH + Duration::from_secs(secs))
    }

    /// Sets the time.
    pub fn set(&self, time: SystemTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = time;
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Milliseconds since the Unix epoch (0 for times before it).
pub fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Whole seconds since the Unix epoch (negative for times before it).
pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// The time `secs` seconds after the Unix epoch (before it when negative).
pub fn from_unix_seconds(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

/// Parses an RFC 3339 / ISO 8601 timestamp as the credentials services write them:
/// `2020-01-08T03:50:07.574000Z`, `2020-01-08T03:50:07Z`, `2024-10-10T17:58:28+09:00`,
/// `…+0000` (NCP's Java SDK form). Fractional seconds are kept to the nanosecond; a time
/// without an offset is UTC. `None` when malformed.
///
/// ```
/// use token_common::clock::{parse_rfc3339, unix_seconds};
/// let t = parse_rfc3339("2020-01-08T03:50:07.574000Z").unwrap();
/// assert_eq!(unix_seconds(t), 1_578_455_407);
/// assert_eq!(parse_rfc3339("2020-01-08T12:50:07+09:00"), parse_rfc3339("2020-01-08T03:50:07Z"));
/// assert_eq!(parse_rfc3339("2020-01-08T03:50:07+0000"), parse_rfc3339("2020-01-08T03:50:07Z"));
/// assert!(parse_rfc3339("2020-13-08T03:50:07Z").is_none());
/// assert!(parse_rfc3339("2021-02-29T03:50:07Z").is_none()); // no such day: refused, not moved
/// assert!(parse_rfc3339("2024-02-29T03:50:07Z").is_some());
/// ```
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r| decimal_field(s, r);
    let local = civil_seconds(
        [num(0..4)?, num(5..7)?, num(8..10)?],
        [num(11..13)?, num(14..16)?, num(17..19)?],
    )?;
    let mut rest = &s[19..];
    let mut nanos: u32 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        for (i, c) in frac[..digits].bytes().enumerate().take(9) {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &frac[digits..];
    }
    let offset_secs: i64 = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hm = rest[1..].replace(':', "");
            if hm.len() != 4 || !hm.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (oh, om): (i64, i64) = (hm[..2].parse().ok()?, hm[2..].parse().ok()?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(from_unix_seconds(local - offset_secs) + Duration::from_nanos(u64::from(nanos)))
}

/// The number written in `s[range]`, ASCII digits only (no sign, no spaces): the fields of
/// the dates parsed here.
pub(crate) fn decimal_field(s: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = s.get(range)?;
    if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// Seconds since the Unix epoch of a UTC `[year, month, day]` and `[hour, minute,
/// second]`; `None` for a date that does not exist (2021-02-29, month 13) or a time out of
/// range (a leap second, 60, is accepted).
pub(crate) fn civil_seconds([y, mo, d]: [i64; 3], [h, mi, se]: [i64; 3]) -> Option<i64> {
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 60
    {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

// The UTC calendar, for every crate here that formats or parses dates: Howard Hinnant's
// civil-calendar algorithms (public domain).

/// Year, month (1..=12) and day (1..=31) of the day `z` days after 1970-01-01.
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

/// Days from 1970-01-01 to the given date (negative before it).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The number of days in month `m` (1..=12) of year `y`, leap years counted.
pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod calendar_tests {
    use super::*;

    #[test]
    fn month_lengths_agree_with_the_day_count_between_month_starts() {
        for y in 1899..=2101 {
            for m in 1..=12 {
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                let len = days_from_civil(ny, nm, 1) - days_from_civil(y, m, 1);
                assert_eq!(days_in_month(y, m), len, "{y}-{m}");
                for d in [1, len] {
                    assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
                }
            }
        }
    }
}
