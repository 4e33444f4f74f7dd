//! The registry's side of [`Coordination`]: a validation runs only on this
//! replica's turn, its sealed result goes to the other replicas, and their
//! results are applied to this replica's licensee cells — authenticated by
//! the licensee's seal, and never older than the record already held.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{Core, Licensee, Turn};
use crate::grace;
use crate::licensees::store::StoredRecord;
use crate::retry::jitter;
use crate::state::SharedSnapshot;

impl Core {
    /// Validates `licensee` if it is this replica's turn; otherwise plans
    /// to look again when the other replica's lease or result runs out.
    pub(super) async fn validate_turn(
        &self,
        licensee: &Arc<Licensee>,
        urgent: bool,
    ) -> SharedSnapshot {
        let Some(coordination) = self.coordination.clone() else {
            return self.validate_here(licensee).await.0;
        };
        match coordination.claim(&licensee.id, urgent).await {
            Turn::Wait(after) => {
                let mut inner = licensee.lock();
                inner.next_validation = Instant::now() + after.max(Duration::from_millis(1));
                licensee.cell.snapshot()
            }
            Turn::Validate(ticket) => {
                let (snapshot, sealed) = self.validate_here(licensee).await;
                coordination.publish(&licensee.id, ticket, sealed).await;
                snapshot
            }
        }
    }

    /// Starts applying the records other replicas publish (when there is a
    /// coordination). The task ends when the registry stops or goes away.
    pub(super) fn follow_replicas(self: &Arc<Self>) {
        let Some(mut changes) = self.coordination.as_ref().and_then(|c| c.changes()) else {
            return;
        };
        let core = Arc::downgrade(self);
        tokio::spawn(async move {
            while let Some(record) = changes.recv().await {
                let Some(core) = core.upgrade() else { return };
                if core.is_stopped() {
                    return;
                }
                core.apply_remote(record);
            }
        });
    }

    /// Applies a record another replica published to the licensee's cell:
    /// only if it opens with the licensee's seal, and, when it grants, only
    /// if it was written later than the record held (an older one put back
    /// is refused) and sealed with the vendor secret. A denial applies at
    /// once: at worst an old denial put back denies until the next
    /// validation; it never grants.
    pub(super) fn apply_remote(self: &Arc<Self>, record: StoredRecord) {
        let Some(licensee) = self.get(&record.licensee) else {
            return;
        };
        let opened = match licensee
            .seal
            .open(&record.sealed, &licensee.id, &self.product, 0)
        {
            Ok(opened) => opened,
            Err(reason) => {
                tracing::warn!(licensee = %licensee.id, product = %self.product, %reason, "refused a licensee record from the other replicas");
                return;
            }
        };
        let mut inner = licensee.lock();
        if inner.removed {
            return;
        }
        let state = opened.record.state;
        let grants = state.status.grants_access();
        if grants {
            if !opened.grants_on_its_own {
                tracing::info!(licensee = %licensee.id, product = %self.product, "a record from the other replicas was sealed without a vendor secret, so it does not grant here; this replica validates itself");
                return;
            }
            if let Some(held) = inner.applied_seen
                && opened.record.latest_seen <= held
            {
                if opened.record.latest_seen < held {
                    tracing::warn!(licensee = %licensee.id, product = %self.product, "refused a licensee record from the other replicas older than the one held (an old record put back)");
                }
                return;
            }
        } else if inner
            .applied_seen
            .is_some_and(|held| opened.record.latest_seen == held)
        {
            // The record this replica holds, coming back.
            return;
        }
        inner.applied_seen = Some(opened.record.latest_seen);
        inner.generation = inner.generation.max(opened.record.generation);
        inner.activated |= opened.record.activated;
        let settled = grace::settle(state, licensee.cell.now());
        self.publish_locked(&licensee, &inner, "another replica's validation", settled);
        if !inner.busy {
            inner.failures = 0;
            inner.next_validation =
                Instant::now() + jitter(self.config.heartbeat_interval, self.config.jitter);
            self.reschedule(&licensee, &mut inner);
        }
    }
}
