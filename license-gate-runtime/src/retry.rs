//! The one retry policy: exponential backoff with a cap and full jitter, used
//! by the heartbeat for every provider.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Exponential backoff with a cap.
///
/// ```
/// use std::time::Duration;
/// use license_gate::RetryPolicy;
/// let policy = RetryPolicy::new(Duration::from_secs(30), Duration::from_secs(3600));
/// assert_eq!(policy.ceiling(0), Duration::from_secs(30));
/// assert_eq!(policy.ceiling(3), Duration::from_secs(240));
/// assert_eq!(policy.ceiling(30), Duration::from_secs(3600));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The delay after the first failure.
    pub initial: Duration,
    /// The longest delay.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_secs(30),
            max: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// A policy from `initial` doubling up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        RetryPolicy {
            initial,
            max: max.max(initial),
        }
    }

    /// The longest delay after `failures` consecutive failures (0 = first).
    pub fn ceiling(&self, failures: u32) -> Duration {
        let factor = 1u32.checked_shl(failures.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The delay to wait: between half the ceiling and the ceiling (jittered so
    /// a fleet that lost the server together does not return together), and at
    /// least what the server asked for.
    pub fn delay(&self, failures: u32, server_asked: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(failures);
        let delay = jitter(ceiling, 0.5);
        match server_asked {
            Some(asked) => delay.max(asked),
            None => delay,
        }
    }
}

/// `base` shortened by a random fraction of at most `spread` (0.0 to 1.0).
pub(crate) fn jitter(base: Duration, spread: f64) -> Duration {
    let spread = spread.clamp(0.0, 1.0);
    let fraction = random_unit() * spread;
    base.mul_f64(1.0 - fraction)
}

/// A random number in [0, 1). Jitter needs no cryptographic quality: the
/// randomly keyed SipHash of std is enough, and it spares a dependency.
fn random_unit() -> f64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0x6c69_6365_6e73_6567);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_bounds_and_honour_the_server() {
        let policy = RetryPolicy::new(Duration::from_secs(10), Duration::from_secs(100));
        for failures in 0..10 {
            let d = policy.delay(failures, None);
            let ceiling = policy.ceiling(failures);
            assert!(d <= ceiling && d >= ceiling / 2, "{d:?} vs {ceiling:?}");
        }
        assert!(policy.delay(0, Some(Duration::from_secs(500))) >= Duration::from_secs(500));
    }
}
