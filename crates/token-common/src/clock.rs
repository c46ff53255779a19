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
