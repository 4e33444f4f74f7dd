//! Instants as the real services write them: RFC 3339 in UTC with at most
//! seven fractional digits (.NET's precision), so every client parses them;
//! Python's `datetime.fromisoformat` before 3.11 rejects nine digits.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use license_gate_runtime::time::format_rfc3339;

/// `at` in RFC 3339 (UTC), cut to 100-nanosecond ticks so at most seven
/// fractional digits are written (none for whole seconds).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use license_gate_testkit::instant::format_instant;
/// let at = UNIX_EPOCH + Duration::new(1_800_000_000, 952_612_769);
/// assert_eq!(format_instant(at), "2027-01-15T08:00:00.9526127Z");
/// assert_eq!(format_instant(UNIX_EPOCH + Duration::from_secs(60)), "1970-01-01T00:01:00Z");
/// ```
pub fn format_instant(at: SystemTime) -> String {
    let cut = match at.duration_since(UNIX_EPOCH) {
        Ok(since) => {
            let nanos = since.subsec_nanos();
            UNIX_EPOCH + Duration::new(since.as_secs(), nanos - nanos % 100)
        }
        // Before 1970 no license lives; whole seconds are plenty there.
        Err(before) => {
            let before = before.duration();
            let whole = before.as_secs() + u64::from(before.subsec_nanos() > 0);
            UNIX_EPOCH - Duration::from_secs(whole)
        }
    };
    format_rfc3339(cut)
}
