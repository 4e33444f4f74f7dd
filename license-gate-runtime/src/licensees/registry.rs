//! The registry behind [`Licensees`](super::Licensees): every licensee's
//! state cell, its one scheduler task, the request budget and the store.
//!
//! Rules (the same as a gate's, per licensee):
//! - **one writer per licensee**: every change of a licensee's state is
//!   derived from its latest snapshot under its own lock, so no update is lost;
//! - **one scheduler for all**: a heap of next-due instants, one task; a
//!   validation runs as a task of its own (at most `max_in_flight` at once),
//!   takes its place in the provider's [`RequestBudget`] first, and is spread
//!   over the heartbeat period with jitter;
//! - **isolated failures**: backoff and grace are per licensee; a licensee
//!   whose server calls fail or hang holds only its own slot, bounded by the
//!   request timeout, never another licensee's schedule or state;
//! - **fail closed**: when the registry stops (shutdown, last handle dropped,
//!   runtime gone) every licensee's state denies with the reason, and a
//!   validation job that panics denies its licensee with `Reason::CheckStopped`.

use std::cmp::Ordering as CmpOrdering;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

use super::budget::{RequestBudget, RequestKind};
use super::coordination::{Coordination, Turn};
use super::record::{LicenseeRecord, RecordSeal};
use super::store::{LicenseeId, LicenseeStore, StoredRecord};
use crate::error::{GateError, LicenseesMisuse, ProviderError, redact_text};
use crate::gate::cell::StateCell;
use crate::gate::config::GateConfig;
use crate::gate::engine::needs_activation;
use crate::grace;
use crate::provider::{Deadline, LicenseAnswer, LicenseRequest, Provider};
use crate::reason::Reason;
use crate::retry::jitter;
use crate::secret::LicenseKey;
use crate::state::{LicenseSnapshot, LicenseStatus, ProductState, SharedSnapshot, Source};
use crate::time::{from_unix_millis, to_millis};

/// How long after a call's deadline the registry still waits for the
/// provider's own answer (as the gate's engine does).
const DEADLINE_GRACE: Duration = Duration::from_millis(100);

/// The longest the scheduler waits before it looks at a licensee whose
/// access ends by itself (expiry, end of grace): a wall clock moved forward
/// brings the instant closer without any timer knowing. Gated calls decide
/// at trusted time in any case; this only publishes the change.
const DEADLINE_RECHECK: Duration = Duration::from_secs(3600);

/// How often queued record writes go to the store (at most).
pub(crate) const SAVE_EVERY: Duration = Duration::from_secs(1);
/// How many queued record writes make the scheduler write at once.
const SAVE_BATCH: usize = 1024;

/// A provider call.
#[derive(Clone, Debug)]
enum Call {
    Validate,
    Activate,
    ActivateAfter(LicenseAnswer),
    Deactivate,
}

impl Call {
    fn kind(&self) -> RequestKind {
        match self {
            Call::Validate => RequestKind::Validation,
            Call::Activate | Call::ActivateAfter(_) => RequestKind::Activation,
            Call::Deactivate => RequestKind::Deactivation,
        }
    }
}

/// One licensee: who, with which key and machine identity, and its state.
#[derive(Debug)]
pub(crate) struct Licensee {
    pub(crate) id: LicenseeId,
    key: Option<LicenseKey>,
    /// The machine identity the provider sends (ExisOne's hardware ID,
    /// ECOSIRE's domain or fingerprint when the provider has no domain set).
    machine: Box<str>,
    pub(crate) cell: Arc<StateCell>,
    seal: RecordSeal,
    /// The one writer: every change of this licensee's state is made while
    /// this is held.
    inner: Mutex<LicenseeInner>,
    /// One round of provider calls at a time: a refresh and a scheduled
    /// validation never interleave (an activation is not raced by a
    /// validation that would report "not activated").
    round: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct LicenseeInner {
    /// Bumped at every reschedule: a heap entry with another token is stale.
    token: u64,
    /// Consecutive rounds that could not reach the server.
    failures: u32,
    /// When the next validation is due.
    next_validation: Instant,
    /// A validation job runs.
    busy: bool,
    /// The license is known to be activated on this licensee's identity.
    activated: bool,
    /// This run has made its one automatic activation for this licensee.
    activation_spent: bool,
    /// The generation of the last record written or read.
    generation: u64,
    /// Removed from the registry: nothing publishes, schedules or saves.
    removed: bool,
    /// When the record this replica holds was written (its own, or one
    /// another replica published): an older one is not applied.
    applied_seen: Option<SystemTime>,
}

/// An entry of the schedule: look at `licensee` at `at`.
struct Due {
    at: Instant,
    token: u64,
    licensee: Arc<Licensee>,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.token == other.token
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    /// Earliest first in a max-heap.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        other
            .at
            .cmp(&self.at)
            .then_with(|| other.token.cmp(&self.token))
    }
}

/// Everything the registry shares between its handles, its scheduler and
/// its jobs.
pub(crate) struct Core {
    pub(crate) product: String,
    provider: Arc<dyn Provider>,
    pub(crate) config: GateConfig,
    budget: Arc<dyn RequestBudget>,
    store: Arc<dyn LicenseeStore>,
    /// Replicas sharing the checking (Redis), if any.
    coordination: Option<Arc<dyn Coordination>>,
    pub(crate) table: RwLock<HashMap<LicenseeId, Arc<Licensee>>>,
    /// Records loaded at start whose licensee has not been added yet.
    unclaimed: Mutex<HashMap<LicenseeId, Vec<u8>>>,
    /// The latest trusted time any licensee has seen (Unix ms): the floor of
    /// every new licensee's clock.
    floor_ms: AtomicU64,
    schedule: Mutex<BinaryHeap<Due>>,
    /// Licensees due while every job slot was taken, in order.
    waiting: Mutex<VecDeque<Arc<Licensee>>>,
    wake: Notify,
    slots: Arc<Semaphore>,
    /// Sealed records waiting for the next write to the store.
    saves: Mutex<Vec<StoredRecord>>,
    /// Held while writing to the store or forgetting in it, so a removed
    /// licensee's queued write never lands after its record was forgotten.
    store_lock: tokio::sync::Mutex<()>,
    stopped: AtomicBool,
    /// The reason the registry stopped with (for licensees added later).
    stop_reason: Mutex<Option<Reason>>,
    /// The state every gated call outside a licensee's scope sees.
    pub(crate) outside: Arc<StateCell>,
}

impl std::fmt::Debug for Core {
    /// The product, the provider and how many licensees (never their keys).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Licensees")
            .field("product", &self.product)
            .field("provider", &self.provider.name())
            .field("licensees", &self.len())
            .field("stopped", &self.is_stopped())
            .finish_non_exhaustive()
    }
}

/// What `Core::new` takes.
pub(crate) struct CoreParts {
    pub(crate) product: String,
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) config: GateConfig,
    pub(crate) budget: Arc<dyn RequestBudget>,
    pub(crate) store: Arc<dyn LicenseeStore>,
    pub(crate) max_in_flight: usize,
    pub(crate) loaded: Vec<StoredRecord>,
    pub(crate) coordination: Option<Arc<dyn Coordination>>,
}

impl Core {
    pub(crate) fn new(parts: CoreParts) -> Core {
        let outside = Arc::new(StateCell::new(
            LicenseSnapshot::new(vec![ProductState {
                status: LicenseStatus::Unlicensed {
                    reason: Reason::NoLicenseeInScope,
                },
                ..ProductState::pending(&parts.product)
            }]),
            parts.config.clock.clone(),
            None,
        ));
        Core {
            product: parts.product,
            provider: parts.provider,
            config: parts.config,
            budget: parts.budget,
            store: parts.store,
            coordination: parts.coordination,
            table: RwLock::new(HashMap::new()),
            unclaimed: Mutex::new(
                parts
                    .loaded
                    .into_iter()
                    .map(|r| (r.licensee, r.sealed))
                    .collect(),
            ),
            floor_ms: AtomicU64::new(0),
            schedule: Mutex::new(BinaryHeap::new()),
            waiting: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            slots: Arc::new(Semaphore::new(parts.max_in_flight.max(1))),
            saves: Mutex::new(Vec::new()),
            store_lock: tokio::sync::Mutex::new(()),
            stopped: AtomicBool::new(false),
            stop_reason: Mutex::new(None),
            outside,
        }
    }

    pub(crate) fn get(&self, id: &LicenseeId) -> Option<Arc<Licensee>> {
        self.table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    pub(crate) fn len(&self) -> usize {
        self.table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(crate) fn ids(&self) -> Vec<LicenseeId> {
        self.table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    fn floor(&self) -> Option<SystemTime> {
        match self.floor_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(from_unix_millis(ms)),
        }
    }

    fn raise_floor(&self, at: Option<SystemTime>) {
        if let Some(at) = at {
            self.floor_ms.fetch_max(to_millis(at), Ordering::Relaxed);
        }
    }

    /// Adds a licensee: its stored record, if one opens, bridges the start
    /// (held to its last confirmation plus grace, and granting only with the
    /// vendor secret); it is validated at once if it has no usable state,
    /// else at a jittered instant within the heartbeat interval.
    pub(crate) fn add(
        self: &Arc<Self>,
        id: LicenseeId,
        key: Option<LicenseKey>,
        machine: String,
    ) -> Result<SharedSnapshot, GateError> {
        if self.stopped.load(Ordering::Acquire) {
            return Err(GateError::ShutDown);
        }
        if machine.trim().is_empty() {
            return Err(GateError::licensees(
                LicenseesMisuse::BlankMachine,
                format!(
                    "licensee `{id}` has a blank machine identity: give each licensee a stable identifier of its own (for ExisOne its per-user hardware ID, for ECOSIRE its domain)"
                ),
            ));
        }
        let seal = RecordSeal::new(
            self.config.vendor_secret.as_ref(),
            &self.product,
            &id,
            key.as_ref(),
            &machine,
        );
        let stored = self
            .unclaimed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        let opened = stored.and_then(|sealed| {
            match seal.open(&sealed, &id, &self.product, 0) {
                Ok(opened) => Some(opened),
                Err(reason) => {
                    tracing::warn!(licensee = %id, product = %self.product, %reason, "licensee record rejected; waiting for the server");
                    None
                }
            }
        });
        self.raise_floor(opened.as_ref().map(|o| o.record.latest_seen));
        let applied_seen = opened.as_ref().map(|o| o.record.latest_seen);
        let clock = self.config.clock.clone();
        let cell = Arc::new(StateCell::new(
            LicenseSnapshot::new(vec![ProductState::pending(&self.product)]),
            clock,
            self.floor(),
        ));
        let now = cell.now();
        let (state, activated, generation) = match opened {
            Some(opened) if opened.grants_on_its_own => (
                grace::from_cache(opened.record.state, Ok(()), now, self.config.grace_period),
                opened.record.activated,
                opened.record.generation,
            ),
            Some(opened) => {
                tracing::info!(licensee = %id, product = %self.product, "the licensee's record was written without a vendor secret, so it does not grant on its own; waiting for the server");
                (
                    ProductState::pending(&self.product),
                    false,
                    opened.record.generation,
                )
            }
            None => (ProductState::pending(&self.product), false, 0),
        };
        let ready = state.source != Source::None;
        let snapshot = cell.publish(LicenseSnapshot::new(vec![state]));
        let first = if ready {
            // A usable record bridges the start: validate within the
            // heartbeat interval, spread so a restart does not ask for
            // every licensee at once.
            Instant::now() + self.config.heartbeat_interval.mul_f64(unit_random())
        } else {
            Instant::now()
        };
        let licensee = Arc::new(Licensee {
            id: id.clone(),
            key,
            machine: machine.into_boxed_str(),
            cell,
            seal,
            inner: Mutex::new(LicenseeInner {
                token: 0,
                failures: 0,
                next_validation: first,
                busy: false,
                activated,
                activation_spent: false,
                generation,
                removed: false,
                applied_seen,
            }),
            round: tokio::sync::Mutex::new(()),
        });
        {
            let mut table = self.table.write().unwrap_or_else(PoisonError::into_inner);
            if table.contains_key(&id) {
                return Err(GateError::licensees(
                    LicenseesMisuse::AlreadyAdded,
                    format!(
                        "licensee `{id}` is already added: remove it first to change its key or machine identity"
                    ),
                ));
            }
            table.insert(id.clone(), licensee.clone());
        }
        tracing::debug!(licensee = %id, product = %self.product, status = snapshot.products[0].status.name(), "licensee added");
        let mut inner = licensee.lock();
        self.reschedule(&licensee, &mut inner);
        drop(inner);
        Ok(snapshot)
    }

    /// Puts `licensee` back in the schedule at its next due instant (the
    /// next validation, or sooner when its access ends by itself).
    fn reschedule(&self, licensee: &Arc<Licensee>, inner: &mut LicenseeInner) {
        if inner.removed || self.stopped.load(Ordering::Acquire) {
            return;
        }
        inner.token = inner.token.wrapping_add(1);
        let mut at = inner.next_validation;
        if let Some(deadline) = licensee.cell.snapshot().next_deadline() {
            let left = deadline
                .duration_since(licensee.cell.now())
                .unwrap_or(Duration::ZERO)
                .min(DEADLINE_RECHECK);
            at = at.min(Instant::now() + left + Duration::from_millis(1));
        }
        let mut schedule = self.schedule.lock().unwrap_or_else(PoisonError::into_inner);
        let earliest = schedule.peek().is_none_or(|head| at < head.at);
        schedule.push(Due {
            at,
            token: inner.token,
            licensee: licensee.clone(),
        });
        drop(schedule);
        if earliest {
            self.wake.notify_one();
        }
    }

    /// The scheduler: one task for every licensee.
    pub(crate) async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        self.follow_replicas();
        let mut last_save = Instant::now();
        loop {
            let next = self
                .schedule
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .peek()
                .map(|d| d.at);
            let save_at = (!self.saves_empty()).then(|| last_save + SAVE_EVERY);
            let wake_at = match (next, save_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            tokio::select! {
                biased;
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                () = self.wake.notified() => {}
                () = sleep_until_opt(wake_at) => {}
            }
            self.start_waiting();
            let now = Instant::now();
            loop {
                let due = {
                    let mut schedule = self.schedule.lock().unwrap_or_else(PoisonError::into_inner);
                    match schedule.peek() {
                        Some(head) if head.at <= now => schedule.pop(),
                        _ => None,
                    }
                };
                let Some(due) = due else { break };
                self.look_at(due);
            }
            let pending = self
                .saves
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len();
            if pending >= SAVE_BATCH || (pending > 0 && now >= last_save + SAVE_EVERY) {
                last_save = now;
                let core = self.clone();
                tokio::spawn(async move { core.flush().await });
            }
        }
    }

    fn saves_empty(&self) -> bool {
        self.saves
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// One due entry: publish the deadlines that passed, then start a
    /// validation if one is due (or queue it for a free slot).
    fn look_at(self: &Arc<Self>, due: Due) {
        let licensee = due.licensee;
        let mut inner = licensee.lock();
        if inner.token != due.token || inner.removed || inner.busy {
            return;
        }
        self.settle_locked(&licensee, &inner);
        if inner.next_validation > Instant::now() {
            self.reschedule(&licensee, &mut inner);
            return;
        }
        inner.busy = true;
        drop(inner);
        match self.slots.clone().try_acquire_owned() {
            Ok(permit) => self.spawn_job(licensee, permit),
            Err(_) => self
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push_back(licensee),
        }
    }

    /// Starts the waiting validations that now have a slot.
    fn start_waiting(self: &Arc<Self>) {
        loop {
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                return;
            };
            let next = self
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            let Some(licensee) = next else { return };
            self.spawn_job(licensee, permit);
        }
    }

    /// A scheduled validation: when another replica holds the licensee's
    /// lease, the licensee's record in the store (what that replica
    /// learned) instead of the service.
    async fn scheduled(&self, licensee: &Arc<Licensee>) {
        let period = self.config.heartbeat_interval;
        match self.store.lease(&licensee.id, period).await {
            Ok(false) => self.adopt_stored(licensee).await,
            Ok(true) => {
                self.validate(licensee).await;
            }
            Err(error) => {
                tracing::warn!(licensee = %licensee.id, %error, "could not take the licensee's lease; asking the service");
                self.validate(licensee).await;
            }
        }
    }

    /// Takes the licensee's state from its record in the store, written by
    /// the replica that holds its lease: only a record that opens for this
    /// licensee's key and identity, sealed with the vendor secret, and no
    /// older than the last one seen. Otherwise the state stays (and its
    /// grace runs); the next look is a heartbeat later.
    async fn adopt_stored(&self, licensee: &Arc<Licensee>) {
        let _round = licensee.round.lock().await;
        let stored = self.store.load(&licensee.id).await;
        let mut inner = licensee.lock();
        inner.next_validation =
            Instant::now() + jitter(self.config.heartbeat_interval, self.config.jitter);
        let sealed = match stored {
            Ok(Some(record)) => record.sealed,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(licensee = %licensee.id, %error, "could not read the licensee's record written by another replica");
                return;
            }
        };
        match licensee
            .seal
            .open(&sealed, &licensee.id, &self.product, inner.generation)
        {
            Ok(opened) if opened.grants_on_its_own => {
                inner.generation = opened.record.generation;
                inner.applied_seen = Some(opened.record.latest_seen);
                inner.activated = opened.record.activated;
                self.raise_floor(Some(opened.record.latest_seen));
                let now = licensee.cell.now();
                let state =
                    grace::from_cache(opened.record.state, Ok(()), now, self.config.grace_period);
                self.publish_locked(licensee, &inner, "another replica", state);
            }
            Ok(_) => {
                tracing::info!(licensee = %licensee.id, "the record another replica wrote has no vendor secret behind it, so it does not grant on its own");
            }
            Err(reason) => {
                tracing::warn!(licensee = %licensee.id, %reason, "the licensee's record written by another replica was rejected");
            }
        }
    }

    /// Runs one scheduled validation as a task; a panic in it denies the
    /// licensee (never the others) and retries after the retry policy's delay.
    fn spawn_job(self: &Arc<Self>, licensee: Arc<Licensee>, permit: OwnedSemaphorePermit) {
        let core = self.clone();
        tokio::spawn(async move {
            let job = tokio::spawn({
                let core = core.clone();
                let licensee = licensee.clone();
                async move { core.scheduled(&licensee).await }
            });
            let outcome = job.await;
            drop(permit);
            let mut inner = licensee.lock();
            inner.busy = false;
            if let Err(failure) = outcome
                && failure.is_panic()
            {
                tracing::error!(licensee = %licensee.id, product = %core.product, "the license check of this licensee stopped on an internal error; its access is denied until it answers again");
                core.publish_locked(
                    &licensee,
                    &inner,
                    "internal error",
                    ProductState {
                        status: LicenseStatus::Unlicensed {
                            reason: Reason::CheckStopped,
                        },
                        ..ProductState::pending(&core.product)
                    },
                );
                inner.next_validation =
                    Instant::now() + core.config.retry.delay(inner.failures, None);
                inner.failures = inner.failures.saturating_add(1);
            }
            core.reschedule(&licensee, &mut inner);
            drop(inner);
            core.wake.notify_one();
        });
    }

    /// Validates `licensee` when it is this replica's turn (always, without
    /// replicas). `urgent`: asked for by the application.
    pub(crate) async fn validate(&self, licensee: &Arc<Licensee>) -> SharedSnapshot {
        self.validate_turn(licensee, false).await
    }

    /// Validates `licensee` now (activating it when due), publishes the
    /// result and plans its next validation. Returns the new snapshot and
    /// the sealed record queued for the store.
    async fn validate_here(&self, licensee: &Arc<Licensee>) -> (SharedSnapshot, Option<Vec<u8>>) {
        let _round = licensee.round.lock().await;
        let mut outcome = self.call(licensee, Call::Validate).await;
        if self.activation_due(licensee, &outcome) {
            tracing::info!(licensee = %licensee.id, product = %self.product, "the license is not activated for this licensee yet; activating it");
            let validated = outcome;
            let call = match &validated {
                Ok(answer) => Call::ActivateAfter(answer.clone()),
                Err(_) => Call::Activate,
            };
            outcome = self.call(licensee, call).await;
            match &outcome {
                Ok(answer) if answer.status.grants_access() => {
                    licensee.lock().activated = true;
                }
                Err(error) if error.is_transient() => {
                    licensee.lock().activation_spent = false;
                    if validated
                        .as_ref()
                        .is_ok_and(|answer| answer.status.grants_access())
                    {
                        tracing::warn!(licensee = %licensee.id, product = %self.product, %error, "activation failed; retrying at the next validation");
                        outcome = validated;
                    }
                }
                _ => {}
            }
        }
        if let Err(error) = &outcome {
            if error.is_credentials_fault() {
                tracing::error!(licensee = %licensee.id, product = %self.product, provider = self.provider.name(), %error, "the license server refused this application's credentials: fix the access token (ExisOne) or the license secret (ECOSIRE); the licensee's license is kept only until its grace period ends");
            } else {
                tracing::warn!(licensee = %licensee.id, product = %self.product, provider = self.provider.name(), %error, "licensee validation failed");
            }
        }
        if let Ok(LicenseAnswer {
            server_time: Some(at),
            ..
        }) = &outcome
        {
            licensee.cell.reanchor(*at);
        }
        let unreachable = outcome.as_ref().is_err_and(ProviderError::is_transient);
        let server_asked = outcome.as_ref().err().and_then(ProviderError::retry_after);
        let mut inner = licensee.lock();
        let now = licensee.cell.now();
        let current = licensee.cell.snapshot();
        let next = grace::next_state(
            &current.products[0],
            &outcome,
            now,
            self.config.grace_period,
        );
        // Queued before it is published: whoever sees the new state and then
        // flushes the store writes it.
        let sealed = self.queue_save(licensee, &mut inner, &next);
        let snapshot = self.publish_locked(licensee, &inner, "validation", next);
        let delay = if unreachable {
            let delay = self.config.retry.delay(inner.failures, server_asked);
            inner.failures = inner.failures.saturating_add(1);
            delay.min(
                self.config
                    .heartbeat_interval
                    .max(server_asked.unwrap_or_default()),
            )
        } else {
            inner.failures = 0;
            jitter(self.config.heartbeat_interval, self.config.jitter)
        };
        inner.next_validation = Instant::now() + delay;
        (snapshot, sealed)
    }

    /// Whether to activate after the validation `outcome` (the gate's rule,
    /// per licensee: at most once per run).
    fn activation_due(
        &self,
        licensee: &Licensee,
        outcome: &Result<LicenseAnswer, ProviderError>,
    ) -> bool {
        let on_first_validation = self.provider.activates_on_first_validation();
        let not_here = needs_activation(outcome);
        let grants = outcome
            .as_ref()
            .is_ok_and(|answer| answer.status.grants_access());
        let mut inner = licensee.lock();
        if not_here {
            inner.activated = false;
        }
        let wanted = (not_here && (self.config.activate_on_first_use || on_first_validation))
            || (on_first_validation && grants && !inner.activated);
        if wanted && !inner.activation_spent {
            inner.activation_spent = true;
            true
        } else {
            false
        }
    }

    /// The request for `licensee`: its key and machine identity.
    fn request(&self, licensee: &Licensee) -> LicenseRequest {
        let mut request = LicenseRequest::new(&self.product, licensee.key.clone())
            .at(licensee.cell.now())
            .with_machine_id(&*licensee.machine);
        if let Some(version) = &self.config.app_version {
            request = request.with_app_version(version.clone());
        }
        request
    }

    /// One provider call for `licensee`: its place in the budget first, then
    /// the call by its deadline, run as a task of its own (a provider that
    /// panics denies, it does not crash the registry). The key is masked in
    /// whatever comes back.
    async fn call(&self, licensee: &Licensee, call: Call) -> Result<LicenseAnswer, ProviderError> {
        self.budget.take(call.kind()).await;
        let provider = self.provider.clone();
        let deadline = Deadline::after(self.config.request_timeout);
        let request = self.request(licensee).with_deadline(deadline);
        let mut task = tokio::spawn(async move {
            match call {
                Call::Validate => provider.validate(&request).await,
                Call::Activate => provider.activate(&request).await,
                Call::ActivateAfter(validated) => {
                    provider
                        .activate_after_validation(&request, validated)
                        .await
                }
                Call::Deactivate => provider
                    .deactivate(&request)
                    .await
                    .map(|()| LicenseAnswer::licensed(None::<String>)),
            }
        });
        let joined = match tokio::time::timeout_at(deadline.at(), &mut task).await {
            Ok(joined) => Ok(joined),
            Err(_) => tokio::time::timeout(DEADLINE_GRACE, &mut task).await,
        };
        let outcome = match joined {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(failure)) => {
                tracing::error!(licensee = %licensee.id, product = %self.product, provider = self.provider.name(), panicked = failure.is_panic(), "the license provider failed inside; the licensee's access is denied until it answers");
                Ok(LicenseAnswer::denied(LicenseStatus::Unlicensed {
                    reason: Reason::CheckStopped,
                }))
            }
            Err(_) => {
                task.abort();
                Err(ProviderError::Timeout {
                    host: self.provider.name().to_owned(),
                    after: deadline.budget(),
                })
            }
        };
        match (&licensee.key, outcome) {
            (None, outcome) => outcome,
            (Some(key), Ok(mut answer)) => {
                if let LicenseStatus::Invalid { reason } = &mut answer.status {
                    *reason = redact_text(reason.to_string(), key.expose(), &key.masked()).into();
                }
                Ok(answer)
            }
            (Some(key), Err(error)) => Err(error.redact_key(key)),
        }
    }

    /// Publishes the expiry and end-of-grace instants that have passed.
    fn settle_locked(&self, licensee: &Licensee, inner: &LicenseeInner) {
        let now = licensee.cell.now();
        let current = licensee.cell.snapshot();
        let settled = grace::settle(current.products[0].clone(), now);
        if settled != current.products[0] {
            self.publish_locked(licensee, inner, "deadline", settled);
        }
    }

    /// Publishes `next` as the licensee's state if it differs, logging the
    /// transition with the licensee's ID (never its key). The licensee's lock
    /// is held; nothing publishes once the registry stopped or the licensee
    /// was removed.
    fn publish_locked(
        &self,
        licensee: &Licensee,
        inner: &LicenseeInner,
        cause: &'static str,
        next: ProductState,
    ) -> SharedSnapshot {
        let current = licensee.cell.snapshot();
        if inner.removed || self.stopped.load(Ordering::Acquire) || current.products[0] == next {
            return current;
        }
        let old = &current.products[0];
        if old.status != next.status || old.features != next.features {
            tracing::info!(
                licensee = %licensee.id,
                product = %next.product,
                from = old.status.name(),
                to = next.status.name(),
                reason = %next.status,
                features = ?next.features,
                cause,
                "licensee's license state changed"
            );
        }
        self.raise_floor(licensee.cell.latest_seen());
        licensee.cell.publish(LicenseSnapshot::new(vec![next]))
    }

    /// Seals the licensee's current state as its next record generation and
    /// queues it for the store (a state with nothing confirmed is not kept).
    fn queue_save(
        &self,
        licensee: &Licensee,
        inner: &mut LicenseeInner,
        state: &ProductState,
    ) -> Option<Vec<u8>> {
        if inner.removed || self.stopped.load(Ordering::Acquire) {
            return None;
        }
        if matches!(state.status, LicenseStatus::Pending { .. }) || state.source == Source::None {
            return None;
        }
        inner.generation = inner.generation.wrapping_add(1);
        let record = LicenseeRecord {
            state: state.clone(),
            latest_seen: licensee
                .cell
                .latest_seen()
                .unwrap_or_else(|| licensee.cell.now()),
            activated: inner.activated,
            generation: inner.generation,
        };
        let sealed = licensee.seal.seal(&licensee.id, &record);
        inner.applied_seen = Some(record.latest_seen);
        self.saves
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(StoredRecord {
                licensee: licensee.id.clone(),
                sealed: sealed.clone(),
            });
        Some(sealed)
    }

    /// Writes the queued records to the store in one step (the latest of
    /// each licensee). A failed write is logged; the records are queued
    /// again unless a newer one came meanwhile.
    pub(crate) async fn flush(&self) {
        let _store = self.store_lock.lock().await;
        let queued =
            std::mem::take(&mut *self.saves.lock().unwrap_or_else(PoisonError::into_inner));
        if queued.is_empty() {
            return;
        }
        let mut latest: HashMap<LicenseeId, StoredRecord> = HashMap::with_capacity(queued.len());
        for record in queued {
            latest.insert(record.licensee.clone(), record);
        }
        let batch: Vec<StoredRecord> = latest.into_values().collect();
        let count = batch.len();
        if let Err(error) = self.store.save(batch.clone()).await {
            tracing::warn!(records = count, %error, "could not write licensee records; they are kept to try again");
            let mut saves = self.saves.lock().unwrap_or_else(PoisonError::into_inner);
            let newer: std::collections::HashSet<LicenseeId> =
                saves.iter().map(|r| r.licensee.clone()).collect();
            saves.extend(batch.into_iter().filter(|r| !newer.contains(&r.licensee)));
        }
    }

    /// Deactivates `id` (its seat is freed), then removes it: its state
    /// denies with [`Reason::LicenseeRemoved`] for code still in its scope, and its
    /// record is forgotten. A deactivation the service refuses or cannot
    /// take keeps the licensee, and the error says why.
    pub(crate) async fn remove(&self, id: &LicenseeId) -> Result<(), GateError> {
        let Some(licensee) = self.get(id) else {
            return Err(GateError::licensees(
                LicenseesMisuse::NotAdded,
                format!(
                    "licensee `{id}` is not added to this server, so there is nothing to remove"
                ),
            ));
        };
        let _round = licensee.round.lock().await;
        self.call(&licensee, Call::Deactivate)
            .await
            .map_err(GateError::Provider)?;
        self.drop_licensee(&licensee, Reason::LicenseeRemoved).await;
        tracing::info!(licensee = %id, product = %self.product, "licensee removed; its seat is released");
        Ok(())
    }

    /// Removes `licensee` without asking the service: publishes `reason`,
    /// stops its schedule and forgets its record.
    pub(crate) async fn drop_licensee(&self, licensee: &Arc<Licensee>, reason: Reason) {
        {
            let mut table = self.table.write().unwrap_or_else(PoisonError::into_inner);
            if table
                .get(&licensee.id)
                .is_some_and(|held| Arc::ptr_eq(held, licensee))
            {
                table.remove(&licensee.id);
            }
        }
        {
            let mut inner = licensee.lock();
            let deny = ProductState {
                status: LicenseStatus::Unlicensed { reason },
                source: Source::Online,
                ..ProductState::pending(&self.product)
            };
            self.publish_locked(licensee, &inner, "removal", deny);
            inner.removed = true;
            inner.token = inner.token.wrapping_add(1);
        }
        let _store = self.store_lock.lock().await;
        self.saves
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|r| r.licensee != licensee.id);
        if let Err(error) = self.store.forget(&licensee.id).await {
            tracing::warn!(licensee = %licensee.id, %error, "could not forget the licensee's record; it no longer grants (it is tied to the key and machine identity), but it stays in the store");
        }
    }

    /// Validates `id` now, outside its schedule.
    pub(crate) async fn refresh(&self, id: &LicenseeId) -> Option<SharedSnapshot> {
        let licensee = self.get(id)?;
        if self.stopped.load(Ordering::Acquire) {
            return Some(licensee.cell.snapshot());
        }
        let snapshot = self.validate_turn(&licensee, true).await;
        let mut inner = licensee.lock();
        if !inner.busy {
            self.reschedule(&licensee, &mut inner);
        }
        Some(snapshot)
    }

    /// Ends checking for good: every licensee's state denies with `reason`
    /// (the first reason stays), nothing publishes after it. Needs no
    /// runtime, so it works from a `Drop`.
    pub(crate) fn stop(&self, reason: Reason) {
        {
            let mut held = self
                .stop_reason
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if held.is_some() {
                return;
            }
            *held = Some(reason.clone());
        }
        let licensees: Vec<Arc<Licensee>> = self
            .table
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let deny = |product: &ProductState| ProductState {
            status: LicenseStatus::Unlicensed {
                reason: reason.clone(),
            },
            features: Default::default(),
            ..product.clone()
        };
        for licensee in &licensees {
            let inner = licensee.lock();
            let current = licensee.cell.snapshot();
            self.publish_locked(licensee, &inner, "stop", deny(&current.products[0]));
        }
        self.stopped.store(true, Ordering::Release);
        let current = self.outside.snapshot();
        self.outside
            .publish(LicenseSnapshot::new(vec![deny(&current.products[0])]));
        self.schedule
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        tracing::debug!(%reason, product = %self.product, "licensees stopped; every licensee's state denies");
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }
}

impl Licensee {
    fn lock(&self) -> std::sync::MutexGuard<'_, LicenseeInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A random number in [0, 1) (no cryptographic quality needed).
fn unit_random() -> f64 {
    1.0 - jitter(Duration::from_secs(1), 1.0).as_secs_f64()
}

// Replicas sharing the checking: whose turn a validation is, and the results
// other replicas published (a child module, so it reads the cells' insides).
#[path = "replica_turns.rs"]
mod replica_turns;
