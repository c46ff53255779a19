use std::time::Duration;

/// Full-jitter exponential backoff: before retry `n` (1-based) wait a random time between
/// zero and `min(max, base × 2^(n-1))`.
///
/// Full jitter spreads the retries of many clients that failed together, so a throttled
/// service is not hit again in lockstep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backoff {
    /// The ceiling of the first wait.
    pub base: Duration,
    /// The largest ceiling.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(200),
            max: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// Waits drawn below `base × 2^(n-1)`, never above `max`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use token_common::transport::Backoff;
    /// let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
    /// assert_eq!(b.ceiling(3), Duration::from_millis(400));
    /// ```
    pub fn new(base: Duration, max: Duration) -> Self {
        Self { base, max }
    }

    /// The ceiling of the wait before retry `n` (1-based).
    pub fn ceiling(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// A random wait before retry `n`, between zero and [`ceiling`](Self::ceiling).
    pub fn delay(&self, n: u32) -> Duration {
        self.delay_from(n, &mut fastrand::Rng::new())
    }

    /// [`delay`](Self::delay) drawing from `rng` (the transport's, which a test can seed).
    pub(crate) fn delay_from(&self, n: u32, rng: &mut fastrand::Rng) -> Duration {
        let ceiling = u64::try_from(self.ceiling(n).as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.u64(0..=ceiling))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_and_cap() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(b.ceiling(1), Duration::from_millis(100));
        assert_eq!(b.ceiling(2), Duration::from_millis(200));
        assert_eq!(b.ceiling(4), Duration::from_millis(800));
        assert_eq!(b.ceiling(5), Duration::from_secs(1));
        assert_eq!(b.ceiling(64), Duration::from_secs(1));
    }

    #[test]
    fn seeded_delays_are_drawn_below_the_ceiling_and_spread_over_it() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let mut rng = fastrand::Rng::with_seed(7);
        let draws: Vec<Duration> = (0..200).map(|_| b.delay_from(3, &mut rng)).collect();
        assert!(draws.iter().all(|d| *d <= b.ceiling(3)));
        // Full jitter: the draws cover the range, they are not pinned at zero or the top.
        let low = draws
            .iter()
            .filter(|d| **d < Duration::from_millis(100))
            .count();
        let high = draws
            .iter()
            .filter(|d| **d > Duration::from_millis(300))
            .count();
        assert!(low > 20 && high > 20, "low {low}, high {high}");
        // The same seed gives the same waits (what the transport tests rely on).
        let mut again = fastrand::Rng::with_seed(7);
        assert_eq!(b.delay_from(3, &mut again), draws[0]);
    }
}
