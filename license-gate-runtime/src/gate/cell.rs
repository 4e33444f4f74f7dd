//! The cell that holds a gate's current snapshot.

use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use tokio::sync::watch;

use crate::state::{LicenseSnapshot, SharedSnapshot};
use crate::time::{Clock, Monotonic};

/// The current snapshot of one gate (or one test override), its clock and its
/// subscribers. Publishing swaps the whole snapshot and moves the global epoch,
/// so every call site recomputes its cached answer once.
#[derive(Debug)]
pub(crate) struct StateCell {
    current: ArcSwap<LicenseSnapshot>,
    clock: Arc<dyn Clock>,
    monotonic: Monotonic,
    changes: watch::Sender<SharedSnapshot>,
}

impl StateCell {
    pub(crate) fn new(
        mut snapshot: LicenseSnapshot,
        clock: Arc<dyn Clock>,
        latest_seen: Option<SystemTime>,
    ) -> Self {
        snapshot.sequence = snapshot.sequence.max(1);
        let snapshot = Arc::new(snapshot);
        let (changes, _) = watch::channel(snapshot.clone());
        // A new cell may sit where a dropped one was: moving the epoch keeps
        // any view kept for that address from answering for this one.
        super::epoch::advance();
        StateCell {
            current: ArcSwap::new(snapshot),
            clock,
            monotonic: Monotonic::new(latest_seen),
            changes,
        }
    }

    /// The current snapshot (one `load` per unit of work).
    pub(crate) fn snapshot(&self) -> SharedSnapshot {
        self.current.load_full()
    }

    /// Swaps in `snapshot` as the next state and tells everyone.
    pub(crate) fn publish(&self, mut snapshot: LicenseSnapshot) -> SharedSnapshot {
        snapshot.sequence = self.current.load().sequence + 1;
        let snapshot = Arc::new(snapshot);
        self.current.store(snapshot.clone());
        super::epoch::advance();
        self.changes.send_replace(snapshot.clone());
        snapshot
    }

    /// Wall time as the runtime trusts it: never earlier than the latest seen.
    ///
    /// A wall clock set forward can bring an expiry or end-of-grace instant
    /// to now at once; the epoch then moves so that no call site or thread
    /// keeps an answer cached past it.
    pub(crate) fn now(&self) -> SystemTime {
        let (now, jumped) = self.monotonic.observe_jump(self.clock.now());
        if jumped {
            super::epoch::advance();
        }
        now
    }

    /// Re-anchors trusted time on the server's clock reading (see
    /// [`Monotonic::reanchor`]).
    pub(crate) fn reanchor(&self, server: SystemTime) -> SystemTime {
        self.monotonic.reanchor(server, self.clock.now())
    }

    /// The latest wall time this cell has seen.
    pub(crate) fn latest_seen(&self) -> Option<SystemTime> {
        self.monotonic.latest()
    }

    pub(crate) fn subscribe(&self) -> watch::Receiver<SharedSnapshot> {
        self.changes.subscribe()
    }
}
