//! Wall-clock time: the [`Clock`] the runtime reads, a guard against clocks set
//! backwards, and the ISO-8601 dates license servers send.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::time::format_description::well_known::{Iso8601, Rfc3339};
use ::time::{OffsetDateTime, PrimitiveDateTime};

/// A source of wall-clock time.
///
/// The gate reads every instant (expiry, grace, last confirmation) through its
/// clock, so tests can move time; see `testing::TestClock`.
pub trait Clock: Send + Sync + Debug + 'static {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Wall time that never goes backwards.
///
/// Remembers the latest instant it has seen (also across restarts, through the
/// cache) and answers that instant when the clock reads earlier, so setting the
/// clock back cannot extend a license, an offline code or a grace period.
#[derive(Debug, Default)]
pub(crate) struct Monotonic {
    latest_ms: AtomicU64,
}

impl Monotonic {
    pub(crate) fn new(latest_seen: Option<SystemTime>) -> Self {
        let m = Monotonic::default();
        if let Some(t) = latest_seen {
            m.observe(t);
        }
        m
    }

    /// Records `now` and returns the later of it and the latest instant seen.
    pub(crate) fn observe(&self, now: SystemTime) -> SystemTime {
        let ms = to_millis(now);
        let previous = self.latest_ms.fetch_max(ms, Ordering::AcqRel);
        from_millis(previous.max(ms))
    }

    /// The latest instant seen.
    #[allow(dead_code)] // read by the cache (next change)
    pub(crate) fn latest(&self) -> Option<SystemTime> {
        match self.latest_ms.load(Ordering::Acquire) {
            0 => None,
            ms => Some(from_millis(ms)),
        }
    }
}

pub(crate) fn to_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// Formats an instant as RFC 3339 in UTC, for messages and logs.
pub fn format_rfc3339(t: SystemTime) -> String {
    OffsetDateTime::from(t)
        .format(&Rfc3339)
        .unwrap_or_else(|_| format!("{}ms after the Unix epoch", to_millis(t)))
}

/// Parses an ISO-8601 date or date-time as license servers send them.
///
/// Accepts a zone (`Z`, `+02:00`) or none (read as UTC), any number of fractional
/// digits (.NET writes seven), and a bare date (midnight UTC).
///
/// ```
/// use license_gate_runtime::time::parse_iso8601;
/// let a = parse_iso8601("2030-01-01T00:00:00Z").unwrap();
/// let b = parse_iso8601("2030-01-01T00:00:00.0000000").unwrap();
/// let c = parse_iso8601("2030-01-01").unwrap();
/// assert_eq!(a, b);
/// assert_eq!(a, c);
/// assert!(parse_iso8601("next tuesday").is_none());
/// ```
pub fn parse_iso8601(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(t.into());
    }
    if let Ok(t) = PrimitiveDateTime::parse(text, &Iso8601::DEFAULT) {
        return Some(t.assume_utc().into());
    }
    if let Ok(d) = ::time::Date::parse(text, &Iso8601::DEFAULT) {
        return Some(d.midnight().assume_utc().into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_fractional_digits_and_offsets_parse() {
        let a = parse_iso8601("2030-06-01T12:00:00.1234567Z").unwrap();
        let b = parse_iso8601("2030-06-01T14:00:00.1234567+02:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(to_millis(a) % 1000, 123);
    }

    #[test]
    fn monotonic_never_goes_back() {
        let m = Monotonic::new(None);
        let t1 = from_millis(10_000);
        assert_eq!(m.observe(t1), t1);
        assert_eq!(m.observe(from_millis(5_000)), t1);
        assert_eq!(m.observe(from_millis(20_000)), from_millis(20_000));
    }
}
