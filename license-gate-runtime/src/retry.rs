//! The one retry policy, used by the heartbeat for every provider: one quick
//! retry for a blip, then jittered waits at the cap, so that a fleet which
//! lost the server together does not come back together.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// How the heartbeat retries while the server cannot be reached: once after
/// `initial` (most failures are blips), then every `max / 2` to `max`.
///
/// Why not exponential backoff: after an outage, a client comes back at the
/// end of the wait it is in. With waits doubling from 30 s, the clients that
/// failed last are in short waits and all return at once: in the fleet
/// simulation (`examples/fleet.rs`, 10,000 clients, a one-hour outage) the
/// load in the five minutes after recovery was 5x the steady load. With
/// every wait after the first drawn from the upper half of the cap, the
/// clients that met the outage return spread over the hour after it. A
/// client waiting holds its license through the grace period meanwhile, and
/// `LicenseGate::refresh` asks at once when the application knows better.
///
/// ```
/// use std::time::Duration;
/// use license_gate::RetryPolicy;
/// let policy = RetryPolicy::new(Duration::from_secs(30), Duration::from_secs(3600));
/// assert_eq!(policy.ceiling(0), Duration::from_secs(30));
/// assert_eq!(policy.ceiling(1), Duration::from_secs(3600));
/// assert_eq!(policy.ceiling(30), Duration::from_secs(3600));
/// let wait = policy.delay(3, None);
/// assert!(Duration::from_secs(1800) <= wait && wait <= Duration::from_secs(3600));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// The delay after the first failure.
    pub initial: Duration,
    /// The longest delay, and the one after every later failure.
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
    /// A policy retrying once after `initial`, then every `max / 2` to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        RetryPolicy {
            initial,
            max: max.max(initial),
        }
    }

    /// The longest delay after `failures` consecutive failures (0 = first):
    /// `initial` for the first, `max` for every later one.
    pub fn ceiling(&self, failures: u32) -> Duration {
        if failures == 0 {
            self.initial
        } else {
            self.max
        }
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
    fn one_quick_retry_then_jittered_waits_at_the_cap() {
        let policy = RetryPolicy::new(Duration::from_secs(10), Duration::from_secs(100));
        let first = policy.delay(0, None);
        assert!((5..=10).contains(&first.as_secs()), "{first:?}");
        let mut spread = std::collections::BTreeSet::new();
        for failures in 1..200 {
            let d = policy.delay(failures, None);
            assert!(
                d <= Duration::from_secs(100) && d >= Duration::from_secs(50),
                "{d:?}"
            );
            spread.insert(d.as_secs());
        }
        // Jittered: the waits of a fleet do not line up.
        assert!(spread.len() > 10, "{spread:?}");
        assert!(policy.delay(0, Some(Duration::from_secs(500))) >= Duration::from_secs(500));
        assert!(policy.delay(5, Some(Duration::from_secs(500))) >= Duration::from_secs(500));
        // A cap below the first delay is raised to it.
        assert_eq!(
            RetryPolicy::new(Duration::from_secs(60), Duration::from_secs(1)).ceiling(3),
            Duration::from_secs(60)
        );
    }
}
