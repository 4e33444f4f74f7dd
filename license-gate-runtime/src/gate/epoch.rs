//! The epoch that invalidates every cached answer: the lowest layer of the
//! gate. The cell moves it when it publishes; the global view raises its
//! override flag; call sites and per-thread views compare against it.

use std::sync::atomic::{AtomicU64, Ordering};

/// Moves by 2 on every published change; bit 0 is set while any scoped override
/// lives anywhere in the process. A call site caches the epoch at which it was
/// last allowed and call sites never cache an odd epoch, so one load and one
/// compare decide the fast path, and overrides always take the slow path.
static EPOCH: AtomicU64 = AtomicU64::new(2);

/// The current epoch.
#[inline(always)]
pub(crate) fn current() -> u64 {
    EPOCH.load(Ordering::Acquire)
}

/// Moves the epoch on a published change (or a clock jump).
pub(crate) fn advance() {
    EPOCH.fetch_add(2, Ordering::AcqRel);
}

/// Sends every call site down the slow path while a test override lives.
pub(crate) fn raise_override_flag() {
    EPOCH.fetch_or(1, Ordering::AcqRel);
}

/// Lets call sites cache again once no test override lives.
pub(crate) fn lower_override_flag() {
    EPOCH.fetch_and(!1, Ordering::AcqRel);
}
