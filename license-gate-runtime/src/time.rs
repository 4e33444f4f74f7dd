//! Wall-clock time: the [`Clock`] the runtime reads, a guard against clocks set
//! backwards, and the ISO-8601 dates license servers send.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};
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
/// Trusted time is the later of the wall clock and the latest instant trusted
/// so far carried forward by the monotonic clock. Both are kept as one number:
/// the largest `wall - monotonic` offset seen (in microseconds), so reading
/// trusted time is one atomic load, plus one `fetch_max` only when the wall
/// clock has moved ahead of the monotonic clock. Setting the clock back thus
/// neither extends a license, an offline code or a grace period, nor freezes
/// time so that a grace period would last longer than it should. The latest
/// trusted instant is also kept in the cache, so a restart does not forget it.
#[derive(Debug)]
pub(crate) struct Monotonic {
    base: tokio::time::Instant,
    /// The largest `wall - monotonic` seen, in microseconds; `i64::MIN`: none yet.
    offset_us: AtomicI64,
}

impl Monotonic {
    pub(crate) fn new(latest_seen: Option<SystemTime>) -> Self {
        let m = Monotonic {
            base: tokio::time::Instant::now(),
            offset_us: AtomicI64::new(i64::MIN),
        };
        if let Some(t) = latest_seen {
            m.observe(t);
            process_observe(t);
        }
        m
    }

    fn monotonic_us(&self) -> i64 {
        i64::try_from(self.base.elapsed().as_micros()).unwrap_or(i64::MAX)
    }

    /// Trusted wall time given the clock's reading `wall`.
    pub(crate) fn observe(&self, wall: SystemTime) -> SystemTime {
        let monotonic = self.monotonic_us();
        let candidate = to_micros(wall).saturating_sub(monotonic);
        let mut offset = self.offset_us.load(Ordering::Acquire);
        if candidate > offset {
            offset = self
                .offset_us
                .fetch_max(candidate, Ordering::AcqRel)
                .max(candidate);
        }
        from_micros(monotonic.saturating_add(offset))
    }

    /// Re-anchors trusted time on an authentic server reply: the server's
    /// `Date` (or the wall clock, when that is later) becomes the latest
    /// trusted instant, even when it is earlier than what was trusted before.
    ///
    /// This is the one way trusted time moves back. It is what keeps a clock
    /// that was once far ahead from locking out a paying user for good, and it
    /// catches a clock set back the moment the server answers.
    pub(crate) fn reanchor(&self, server: SystemTime, wall: SystemTime) -> SystemTime {
        let monotonic = self.monotonic_us();
        let at = clamp(server.max(wall));
        self.offset_us
            .store(to_micros(at).saturating_sub(monotonic), Ordering::Release);
        let process = process_clock();
        process.offset_us.store(
            to_micros(at).saturating_sub(process.monotonic_us()),
            Ordering::Release,
        );
        at
    }

    /// The latest trusted instant.
    pub(crate) fn latest(&self) -> Option<SystemTime> {
        match self.offset_us.load(Ordering::Acquire) {
            i64::MIN => None,
            offset => Some(from_micros(self.monotonic_us().saturating_add(offset))),
        }
    }
}

/// The latest instant the runtime works with: 9999-12-31T23:59:59Z. Every
/// instant it computes is clamped to it, so no date arithmetic can overflow
/// and every instant can be formatted.
pub(crate) const MAX_INSTANT_SECS: u64 = 253_402_300_799;

/// 0000-01-01T00:00:00Z, in seconds before the Unix epoch: the earliest
/// instant that formats.
const MIN_INSTANT_SECS_BEFORE_EPOCH: u64 = 62_167_219_200;

/// `t` brought into the years 0000..=9999, the instants that format.
fn clamp_to_years(t: SystemTime) -> SystemTime {
    let earliest = UNIX_EPOCH
        .checked_sub(Duration::from_secs(MIN_INSTANT_SECS_BEFORE_EPOCH))
        .unwrap_or(UNIX_EPOCH);
    clamp(t).max(earliest)
}

/// [`MAX_INSTANT_SECS`] as an instant.
pub(crate) fn max_instant() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(MAX_INSTANT_SECS)
}

/// `t`, or [`max_instant`] when `t` is later.
pub(crate) fn clamp(t: SystemTime) -> SystemTime {
    t.min(max_instant())
}

/// `t + d`, saturating at [`max_instant`] instead of panicking on overflow.
pub(crate) fn saturating_add(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d).map_or_else(max_instant, clamp)
}

/// Trusted time for code that has no gate at hand (`ProductState::has_feature`):
/// the later of the wall clock and every trusted instant any gate of this
/// process has seen, carried forward by the monotonic clock.
pub fn trusted_now() -> SystemTime {
    process_clock().observe(SystemTime::now())
}

fn process_clock() -> &'static Monotonic {
    static PROCESS: std::sync::OnceLock<Monotonic> = std::sync::OnceLock::new();
    PROCESS.get_or_init(|| Monotonic {
        base: tokio::time::Instant::now(),
        offset_us: AtomicI64::new(i64::MIN),
    })
}

/// Lets the process-wide trusted time know of an instant a gate trusts.
fn process_observe(t: SystemTime) {
    let process = process_clock();
    let candidate = to_micros(t).saturating_sub(process.monotonic_us());
    if candidate > process.offset_us.load(Ordering::Relaxed) {
        process.offset_us.fetch_max(candidate, Ordering::AcqRel);
    }
}

fn to_micros(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn from_micros(us: i64) -> SystemTime {
    clamp(saturating_add(
        UNIX_EPOCH,
        Duration::from_micros(u64::try_from(us).unwrap_or(0)),
    ))
}

pub(crate) fn to_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn from_millis(ms: u64) -> SystemTime {
    saturating_add(UNIX_EPOCH, Duration::from_millis(ms))
}

/// Formats an instant as RFC 3339 in UTC, for messages and logs.
pub fn format_rfc3339(t: SystemTime) -> String {
    // `OffsetDateTime::from` panics outside the years it can hold (±9999):
    // bring every instant into 0000..=9999 first.
    OffsetDateTime::from(clamp_to_years(t))
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
    // An offset or a fraction can carry 9999-12-31 past the last instant the
    // runtime works with, and a signed year (`-003010`) reads before year 0:
    // clamp, like every other instant, so what is read formats and reads back.
    parse_iso8601_unclamped(text.trim()).map(clamp_to_years)
}

fn parse_iso8601_unclamped(text: &str) -> Option<SystemTime> {
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

    /// Found by the `iso8601` fuzz target: an offset, or a fraction of the
    /// last second without a zone, carried 9999-12-31 past the last instant
    /// that formats (formatting it panicked, or the text did not read back);
    /// a signed year read before year 0 did not read back either.
    #[test]
    fn dates_outside_0000_to_9999_read_format_and_read_back() {
        for text in ["9999-12-31T23:59:59,99-01", "9999-12-31T2359:59,99999"] {
            let at = parse_iso8601(text).unwrap();
            assert_eq!(format_rfc3339(at), "9999-12-31T23:59:59Z", "{text}");
            assert_eq!(parse_iso8601(&format_rfc3339(at)), Some(at), "{text}");
        }
        // Found next: a signed year before year 0.
        let at = parse_iso8601("-003010-01-01T00:00:09.00-00").unwrap();
        assert_eq!(format_rfc3339(at), "0000-01-01T00:00:00Z");
        assert_eq!(parse_iso8601(&format_rfc3339(at)), Some(at));
    }

    #[test]
    fn any_instant_formats_without_panicking() {
        let far = UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 1_000);
        assert!(!format_rfc3339(far).is_empty());
        let early = UNIX_EPOCH - Duration::from_secs(100_000_000_000);
        assert!(!format_rfc3339(early).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn monotonic_never_goes_back_and_keeps_running() {
        let m = Monotonic::new(None);
        let t1 = from_millis(10_000_000);
        assert_eq!(m.observe(t1), t1);
        // The clock is set back an hour: time stays put...
        assert_eq!(m.observe(t1 - Duration::from_secs(3600)), t1);
        // ...and still moves on with real (monotonic) time.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(
            m.observe(t1 - Duration::from_secs(3540)),
            t1 + Duration::from_secs(60)
        );
        // A clock ahead of the trusted time wins.
        let later = t1 + Duration::from_secs(7200);
        assert_eq!(m.observe(later), later);
    }
}
