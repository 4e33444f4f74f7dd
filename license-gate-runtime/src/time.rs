//! Wall-clock time: the [`Clock`](crate::time::Clock) the runtime reads, a guard against clocks set
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

/// How far trusted time must move ahead of the monotonic clock at once to
/// count as a jump (ordinary clock slewing moves it by microseconds).
pub(crate) const JUMP_US: i64 = 1_000_000;

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
            process_clock().observe(t);
        }
        m
    }

    fn monotonic_us(&self) -> i64 {
        i64::try_from(self.base.elapsed().as_micros()).unwrap_or(i64::MAX)
    }

    /// Trusted wall time given the clock's reading `wall`.
    pub(crate) fn observe(&self, wall: SystemTime) -> SystemTime {
        self.observe_jump(wall).0
    }

    /// Trusted wall time given `wall`, and whether it jumped ahead of the
    /// monotonic clock by more than [`JUMP_US`] microseconds since the last reading (a wall
    /// clock set forward): answers cached until the next published change
    /// must then be decided again.
    pub(crate) fn observe_jump(&self, wall: SystemTime) -> (SystemTime, bool) {
        let monotonic = self.monotonic_us();
        let candidate = to_micros(wall).saturating_sub(monotonic);
        let mut offset = self.offset_us.load(Ordering::Acquire);
        let mut jumped = false;
        if candidate > offset {
            let previous = self.offset_us.fetch_max(candidate, Ordering::AcqRel);
            jumped = previous != i64::MIN && candidate.saturating_sub(previous) > JUMP_US;
            offset = previous.max(candidate);
        }
        (from_micros(monotonic.saturating_add(offset)), jumped)
    }

    /// Re-anchors trusted time on an authentic server reply: the server's
    /// `Date` (or the wall clock, when that is later) becomes the latest
    /// trusted instant, even when it is earlier than what was trusted before.
    ///
    /// This is the one way trusted time moves back. It is what keeps a clock
    /// that was once far ahead from locking out a paying user for good, and it
    /// catches a clock set back the moment the server answers.
    pub(crate) fn reanchor(&self, server: SystemTime, wall: SystemTime) -> SystemTime {
        let at = saturate(server.max(wall));
        self.set_latest(at);
        process_clock().set_latest(at);
        at
    }

    /// Makes `at` the latest trusted instant, earlier or not.
    fn set_latest(&self, at: SystemTime) {
        self.offset_us.store(
            to_micros(at).saturating_sub(self.monotonic_us()),
            Ordering::Release,
        );
    }

    /// The latest trusted instant.
    pub(crate) fn latest(&self) -> Option<SystemTime> {
        match self.offset_us.load(Ordering::Acquire) {
            i64::MIN => None,
            offset => Some(from_micros(self.monotonic_us().saturating_add(offset))),
        }
    }
}

/// 0000-01-01T00:00:00Z, in seconds before the Unix epoch: the earliest
/// instant that formats.
const MIN_INSTANT_SECS_BEFORE_EPOCH: u64 = 62_167_219_200;

/// `t` brought into the years 0000..=9999, the instants that format.
fn clamp_to_years(t: SystemTime) -> SystemTime {
    let earliest = UNIX_EPOCH
        .checked_sub(Duration::from_secs(MIN_INSTANT_SECS_BEFORE_EPOCH))
        .unwrap_or(UNIX_EPOCH);
    saturate(t).max(earliest)
}

/// `t + d`, saturating at [`max_date`] instead of panicking on overflow.
pub(crate) fn saturating_add(t: SystemTime, d: Duration) -> SystemTime {
    t.checked_add(d).map_or_else(max_date, saturate)
}

/// Trusted time for code that has no gate at hand (`ProductState::has_feature`):
/// the later of the wall clock and every trusted instant any gate of this
/// process has seen, carried forward by the monotonic clock.
///
/// Give it to the methods that take the instant to decide at
/// ([`ProductState::grants_access_at`](crate::ProductState::grants_access_at),
/// `ExisOneClient::validate_offline_at`), so a clock set back does not
/// revive an expired license there either.
///
/// ```
/// let now = license_gate::provider::trusted_now();
/// assert!(now >= std::time::SystemTime::now() - std::time::Duration::from_secs(1));
/// ```
pub fn trusted_now() -> SystemTime {
    process_clock().observe(SystemTime::now())
}

fn process_clock() -> &'static Monotonic {
    static PROCESS: std::sync::OnceLock<Monotonic> = std::sync::OnceLock::new();
    PROCESS.get_or_init(|| Monotonic::new(None))
}

fn to_micros(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn from_micros(us: i64) -> SystemTime {
    saturating_add(
        UNIX_EPOCH,
        Duration::from_micros(u64::try_from(us).unwrap_or(0)),
    )
}

pub(crate) fn to_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Seconds from the Unix epoch to 9999-12-31T23:59:59Z.
const MAX_DATE_SECS: u64 = 253_402_300_799;

/// The latest instant the runtime works with: 9999-12-31T23:59:59Z, the last
/// one RFC 3339 can write. Later dates from a server, and every instant the
/// runtime computes, saturate to it, so no date arithmetic can overflow and
/// every instant formats.
pub(crate) fn max_date() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(MAX_DATE_SECS)
}

/// `t`, or [`max_date`] when `t` is later.
pub(crate) fn saturate(t: SystemTime) -> SystemTime {
    t.min(max_date())
}

/// Formats an instant as RFC 3339 in UTC, for messages and logs.
///
/// Never panics: an instant RFC 3339 cannot write (after 9999-12-31, or
/// before year 1) is written in seconds from the Unix epoch.
pub fn format_rfc3339(t: SystemTime) -> String {
    // Whole seconds from the epoch, rounded down (towards the past), and the
    // nanoseconds after them: 0.001 s after a second before 1970 is that
    // second plus 1 ms, not the next second.
    let (seconds, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(after) => (i64::try_from(after.as_secs()).ok(), after.subsec_nanos()),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).ok();
            match before.subsec_nanos() {
                0 => (whole.map(|s| -s), 0),
                n => (
                    whole.and_then(|s| s.checked_add(1)).map(|s| -s),
                    1_000_000_000 - n,
                ),
            }
        }
    };
    let formatted = seconds
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|d| d.replace_nanosecond(nanos).ok())
        .and_then(|d| d.format(&Rfc3339).ok());
    match (formatted, t.duration_since(UNIX_EPOCH)) {
        (Some(text), _) => text,
        (None, Ok(after)) => format!(
            "{} s after the Unix epoch (past 9999-12-31)",
            after.as_secs()
        ),
        (None, Err(before)) => format!(
            "{} s before the Unix epoch (before year 1)",
            before.duration().as_secs()
        ),
    }
}

/// Parses an ISO-8601 date or date-time as license servers send them.
///
/// Accepts a zone (`Z`, `+02:00`) or none (read as UTC), any number of fractional
/// digits (.NET writes seven), and a bare date (midnight UTC). Years past
/// 9999 do not parse (`None`); use `parse_iso8601_checked` for the reason.
pub fn parse_iso8601(text: &str) -> Option<SystemTime> {
    parse_iso8601_checked(text).ok()
}

/// Like [`parse_iso8601`], with an error saying what is wrong with `text`.
pub(crate) fn parse_iso8601_checked(text: &str) -> Result<SystemTime, String> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Iso8601::DEFAULT) {
        return Ok(from_offset(t));
    }
    if let Ok(t) = PrimitiveDateTime::parse(text, &Iso8601::DEFAULT) {
        return Ok(from_offset(t.assume_utc()));
    }
    if let Ok(d) = ::time::Date::parse(text, &Iso8601::DEFAULT) {
        return Ok(from_offset(d.midnight().assume_utc()));
    }
    let shown: String = text.chars().take(40).collect();
    let year = text
        .strip_prefix('+')
        .unwrap_or(text)
        .split('-')
        .next()
        .unwrap_or("");
    if year.len() > 4 && year.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{shown:?} has a year past 9999, which this client does not read"
        ));
    }
    Err(format!(
        "{shown:?} is not an ISO-8601 date such as `2030-01-01T00:00:00Z`"
    ))
}

/// A date-time as a `SystemTime`, without the `From` conversion's panics.
fn from_offset(t: OffsetDateTime) -> SystemTime {
    let seconds = t.unix_timestamp();
    let nanos = t.nanosecond();
    let instant = if seconds >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(seconds.unsigned_abs(), nanos))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(seconds.unsigned_abs()))
            .and_then(|t| t.checked_add(Duration::from_nanos(u64::from(nanos))))
    };
    // Clamped into years 0000..=9999, so what is read formats and reads back.
    clamp_to_years(instant.unwrap_or(UNIX_EPOCH))
}

/// Unix seconds as an instant, saturating at [`max_date`].
// Only the ECOSIRE provider reads these.
#[cfg_attr(not(feature = "ecosire"), allow(dead_code))]
pub(crate) fn from_unix_seconds(seconds: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_secs(seconds))
        .map_or_else(max_date, saturate)
}

/// Unix milliseconds as an instant, saturating at [`max_date`].
pub(crate) fn from_unix_millis(millis: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_millis(millis))
        .map_or_else(max_date, saturate)
}

/// Parses an HTTP `Date` header (RFC 9110): the IMF-fixdate form
/// `Sun, 06 Nov 1994 08:49:37 GMT`, and the obsolete RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`)
/// forms. `None` for anything else.
// Only the providers read these (cargo feature `http`).
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) fn parse_http_date(text: &str) -> Option<SystemTime> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let (day, month, year, clock) = match words.as_slice() {
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        [_, day, month, year, clock, "GMT"] => (*day, *month, year.parse::<i32>().ok()?, *clock),
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        [_, date, clock, "GMT"] => {
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            let year: i32 = year.parse().ok()?;
            let year = if year < 70 { 2000 + year } else { 1900 + year };
            (day, month, year, *clock)
        }
        // asctime: Sun Nov  6 08:49:37 1994
        [_, month, day, clock, year] => (*day, *month, year.parse::<i32>().ok()?, *clock),
        _ => return None,
    };
    let month = match month {
        "Jan" => ::time::Month::January,
        "Feb" => ::time::Month::February,
        "Mar" => ::time::Month::March,
        "Apr" => ::time::Month::April,
        "May" => ::time::Month::May,
        "Jun" => ::time::Month::June,
        "Jul" => ::time::Month::July,
        "Aug" => ::time::Month::August,
        "Sep" => ::time::Month::September,
        "Oct" => ::time::Month::October,
        "Nov" => ::time::Month::November,
        "Dec" => ::time::Month::December,
        _ => return None,
    };
    let date = ::time::Date::from_calendar_date(year, month, day.parse().ok()?).ok()?;
    let mut hms = clock.split(':').map(|p| p.parse::<u8>().ok());
    let time = ::time::Time::from_hms(hms.next()??, hms.next()??, hms.next()??).ok()?;
    if hms.next().is_some() {
        return None;
    }
    Some(from_offset(PrimitiveDateTime::new(date, time).assume_utc()))
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
    fn far_instants_format_without_panicking() {
        let far = UNIX_EPOCH + Duration::from_millis(300_000_000_000_000);
        assert!(format_rfc3339(far).contains("past 9999-12-31"));
        assert_eq!(format_rfc3339(max_date()), "9999-12-31T23:59:59Z");
        let early = UNIX_EPOCH - Duration::from_secs(70_000_000_000);
        assert!(format_rfc3339(early).contains("before the Unix epoch"));
        assert_eq!(
            format_rfc3339(UNIX_EPOCH - Duration::from_secs(1)),
            "1969-12-31T23:59:59Z"
        );
        assert_eq!(from_unix_millis(u64::MAX), max_date());
        assert_eq!(from_unix_seconds(u64::MAX), max_date());
        let err = parse_iso8601_checked("+12000-01-01T00:00:00Z").unwrap_err();
        assert!(err.contains("past 9999"), "{err}");
        let err = parse_iso8601_checked("soon").unwrap_err();
        assert!(err.contains("not an ISO-8601 date"), "{err}");
    }

    #[test]
    fn http_dates_reject_nonsense() {
        assert_eq!(parse_http_date("Sun, 31 Feb 2030 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 CET"), None);
        assert_eq!(parse_http_date(""), None);
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

    /// Found by the `iso8601` fuzz target: an instant before 1970 with a
    /// fraction of a second was written one second late, without its
    /// fraction (`1015-01-01T00:00:00.0010000` as `1015-01-01T00:00:01Z`).
    #[test]
    fn instants_before_1970_with_a_fraction_format_and_read_back() {
        let at = parse_iso8601("1015-01-01T00:00:00.0010000").unwrap();
        assert_eq!(format_rfc3339(at), "1015-01-01T00:00:00.001Z");
        assert_eq!(parse_iso8601(&format_rfc3339(at)), Some(at));
        let just_before = UNIX_EPOCH - Duration::from_millis(1);
        assert_eq!(format_rfc3339(just_before), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            parse_iso8601(&format_rfc3339(just_before)),
            Some(just_before)
        );
        let first = parse_iso8601("0000-01-01T00:00:00.5Z").unwrap();
        assert_eq!(format_rfc3339(first), "0000-01-01T00:00:00.5Z");
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
        let t1 = from_unix_millis(10_000_000);
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

    // The examples these functions documented while they were public.
    #[test]
    fn format_rfc3339_examples() {
        assert_eq!(
            format_rfc3339(UNIX_EPOCH + Duration::from_secs(1_900_000_000)),
            "2030-03-17T17:46:40Z"
        );
        let far = UNIX_EPOCH + Duration::from_secs(300_000_000_000_000);
        assert_eq!(
            format_rfc3339(far),
            "300000000000000 s after the Unix epoch (past 9999-12-31)"
        );
    }

    #[test]
    fn parse_iso8601_examples() {
        let a = parse_iso8601("2030-01-01T00:00:00Z").unwrap();
        let b = parse_iso8601("2030-01-01T00:00:00.0000000").unwrap();
        let c = parse_iso8601("2030-01-01").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert!(parse_iso8601("next tuesday").is_none());
        assert!(parse_iso8601("+12000-01-01T00:00:00Z").is_none());
    }

    #[test]
    fn parse_http_date_examples() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(t));
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
