//! The engine of a gate: the heartbeat task that keeps its state right while
//! the program runs. It validates every product on a jittered interval, backs off while the
//! server cannot be reached, and flips the state at expiry and end-of-grace
//! instants even when no heartbeat is due.
//!
//! Three rules shape it:
//! - **one writer**: every change of state (a validation round, a deadline, an
//!   activation, a deactivation, a failure) is derived from the latest
//!   snapshot under one lock ([`Engine::update`]), so no update is lost;
//! - **fail closed**: the task is supervised ([`supervise`]); if it ever
//!   panics, every product becomes unlicensed with [`CHECK_STOPPED`] and the
//!   task restarts. A provider that panics is an explicit denial, not a crash.
//!   When the task ends for good (shutdown, every handle of a gate that is
//!   not the global one dropped, the runtime it ran on shut down), the state
//!   is left denying with a reason that says which ([`Engine::stop`]) and
//!   nothing publishes after it;
//! - **a start from cache checks at once**: the cache bridges the start, and
//!   the first validation runs right after it in the background;
//! - **one activation per installation**: the engine, not the provider,
//!   decides when to activate ([`Engine::activation_due`]), at most once per
//!   start, and records a successful activation in the cache so later starts
//!   only validate.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::{Mutex, Notify, oneshot, watch};
use tokio::time::Instant;

use super::cell::StateCell;
use super::config::{GateConfig, ProductSlot};
use crate::cache::{ProductCache, TimeAnchor};
use crate::clock_floor;
use crate::error::{GateError, ProviderError, redact_text};
use crate::grace;
use crate::provider::{Deadline, LicenseAnswer, LicenseRequest};
use crate::retry::jitter;
use crate::state::{LicenseSnapshot, LicenseStatus, ProductState, SharedSnapshot, Source};

/// The longest the deadline timer sleeps before it reads the clock again.
const DEADLINE_RECHECK: Duration = Duration::from_secs(60);

/// How long after a call's deadline the gate still waits for the provider's
/// own answer before it gives up on the call: a provider that honours the
/// deadline (the HTTP providers do) ends the call with its own error at that
/// instant, and that error is the one reported.
const DEADLINE_GRACE: Duration = Duration::from_millis(100);

/// The reason every product shows when the license check itself failed.
pub const CHECK_STOPPED: &str = "license check stopped: internal error";

/// The reason every product shows after [`LicenseGate::shutdown`](crate::LicenseGate::shutdown),
/// to whatever still holds the gate's state (a scope, a subscriber, a clone).
pub const GATE_SHUT_DOWN: &str =
    "license check stopped: the gate was shut down; start a new gate to check again";

/// The reason every product shows when every handle of a gate that is not
/// the global one was dropped: its heartbeat ends, and nothing keeps the
/// state right any more.
pub const GATE_DROPPED: &str = "license check stopped: every handle of this gate was dropped; keep the `LicenseGate` for as long as gated code runs";

/// The reason every product shows when the tokio runtime that ran the gate's
/// heartbeat shut down (for example `#[tokio::main]` returned, or a test's
/// runtime ended) while the gate was still installed or held.
pub const RUNTIME_STOPPED: &str = "license check stopped: the async runtime it ran on shut down; start the gate on a runtime that lives as long as the gated code";

/// What one round of validation found.
#[derive(Debug, Clone)]
pub(crate) struct RefreshReport {
    pub(crate) snapshot: SharedSnapshot,
    /// Some product could not reach its server.
    pub(crate) unreachable: bool,
    /// The longest wait a server asked for (rate limiting).
    pub(crate) server_asked: Option<Duration>,
}

/// A provider call, run as a task of its own so that a provider that panics
/// cannot take the heartbeat down with it.
#[derive(Clone, Debug)]
enum Call {
    Validate,
    Activate,
    /// Activate on the gate's own account, right after this validation.
    ActivateAfter(LicenseAnswer),
    Deactivate,
}

/// What the gate asks `slot`'s provider at trusted time `now`: the product,
/// its key and this installation's identity (the builder's `.hardware_id(..)`,
/// else the machine's, resolved by the request). A call to the server adds
/// its deadline ([`Engine::call`]).
pub(crate) fn slot_request(
    config: &GateConfig,
    slot: &ProductSlot,
    now: SystemTime,
) -> LicenseRequest {
    let mut request = LicenseRequest::new(&slot.name, slot.license_key.clone()).at(now);
    if let Some(version) = &config.app_version {
        request = request.with_app_version(version.clone());
    }
    match &config.hardware_id {
        Some(id) => request.with_machine_id(id.clone()),
        None => request,
    }
}

/// The state machine behind a gate, shared by its handle and its task.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) cell: Arc<StateCell>,
    products: Vec<ProductSlot>,
    /// The cache of each product (`None`: caching is off).
    caches: Vec<Option<ProductCache>>,
    /// Where the latest trusted time is kept besides the caches.
    anchors: Arc<[TimeAnchor]>,
    /// Every product had a usable state at start (cache or local evidence).
    ready_at_start: bool,
    config: GateConfig,
    /// One provider round at a time: a manual refresh and the heartbeat never
    /// interleave their calls.
    round: Mutex<()>,
    /// The one writer: every change of state is derived from the latest
    /// snapshot while this is held.
    writer: std::sync::Mutex<()>,
    /// The number and outcome of the latest round, manual or scheduled: the
    /// heartbeat plans its next call (backoff or interval) from it, once per round.
    last_round: std::sync::Mutex<Option<(u64, RefreshReport)>>,
    round_done: Notify,
    /// Features granted but not declared have been logged once.
    unknown_features_logged: AtomicBool,
    /// The clock was set back at start (see `clock_floor`): local grants are
    /// withheld until an authentic server `Date` re-anchors trusted time.
    clock_set_back: AtomicBool,
    /// The heartbeat has ended for good ([`Engine::stop`]): the state denies
    /// and nothing publishes any more. Read and set under the writer lock.
    stopped: AtomicBool,
    /// Per product: the license is known to be activated on this
    /// installation (an authentic cache record, or an activation made here).
    activated_here: Vec<AtomicBool>,
    /// Per product: this start has made its one automatic activation (or
    /// deactivated the license), so it makes no other on its own.
    activation_spent: Vec<AtomicBool>,
}

impl Engine {
    pub(crate) fn new(
        cell: Arc<StateCell>,
        products: Vec<ProductSlot>,
        caches: Vec<Option<ProductCache>>,
        anchors: Vec<TimeAnchor>,
        ready_at_start: bool,
        config: GateConfig,
    ) -> Self {
        let products_len = products.len();
        Engine {
            cell,
            products,
            caches,
            anchors: anchors.into(),
            ready_at_start,
            config,
            round: Mutex::new(()),
            writer: std::sync::Mutex::new(()),
            last_round: std::sync::Mutex::new(None),
            round_done: Notify::new(),
            unknown_features_logged: AtomicBool::new(false),
            clock_set_back: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            activated_here: (0..products_len).map(|_| AtomicBool::new(false)).collect(),
            activation_spent: (0..products_len).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// The same engine knowing which products an authentic cache records as
    /// activated on this installation.
    pub(crate) fn activated_here(self, recorded: &[bool]) -> Self {
        for (flag, recorded) in self.activated_here.iter().zip(recorded) {
            flag.store(*recorded, Ordering::Release);
        }
        self
    }

    /// Whether the gate activates product `index` on its own after the
    /// validation `outcome`, spending this start's one automatic activation
    /// when it does. It does when the service says the license is not
    /// activated here (and `.activate_on_first_use(true)` or the provider
    /// asks for it), or when the provider activates on first validation, the
    /// validation granted access and no activation is known here.
    fn activation_due(
        &self,
        index: usize,
        slot: &ProductSlot,
        outcome: &Result<LicenseAnswer, ProviderError>,
    ) -> bool {
        let on_first_validation = slot.provider.activates_on_first_validation();
        let not_here = needs_activation(outcome);
        if not_here {
            // The service's word beats the record.
            self.note_activation(index, false);
        }
        let grants = outcome
            .as_ref()
            .is_ok_and(|answer| answer.status.grants_access());
        let wanted = (not_here && (self.config.activate_on_first_use || on_first_validation))
            || (on_first_validation
                && grants
                && !self.activated_here[index].load(Ordering::Acquire));
        wanted && !self.activation_spent[index].swap(true, Ordering::AcqRel)
    }

    /// Records whether product `index` is activated on this installation;
    /// the cache stores the record at its next write.
    fn note_activation(&self, index: usize, activated: bool) {
        self.activated_here[index].store(activated, Ordering::Release);
        if let Some(cache) = &self.caches[index] {
            cache.record_activation(activated);
        }
    }

    /// Withholds local grants until the server answers (the clock was set
    /// back at start).
    pub(crate) fn hold_for_clock_set_back(&self, set_back: bool) {
        self.clock_set_back.store(set_back, Ordering::Release);
    }

    /// The next state of one product after `outcome`: the lifecycle rules,
    /// then, while the clock is set back, local grants withheld.
    fn next_product(
        &self,
        previous: &ProductState,
        outcome: &Result<LicenseAnswer, ProviderError>,
        now: SystemTime,
    ) -> ProductState {
        let next = grace::next_state(previous, outcome, now, self.config.grace_period);
        if self.clock_set_back.load(Ordering::Acquire) {
            clock_floor::hold(previous, next, outcome)
        } else {
            next
        }
    }

    /// The index of the product whose license key `key` spells, in any
    /// spelling.
    #[cfg(feature = "webhooks")]
    pub(crate) fn product_with_key(&self, key: &str) -> Option<usize> {
        self.products.iter().position(|slot| {
            slot.license_key
                .as_ref()
                .is_some_and(|held| held.is_spelled_by(key))
        })
    }

    /// Makes one provider call by its deadline. The provider is asked to be
    /// over by then (the built-in providers bound their HTTP requests by it,
    /// and their timeout error is what the gate reports); a provider that
    /// ignores it is cut off here, [`DEADLINE_GRACE`] after the deadline.
    async fn call(&self, slot: &ProductSlot, call: Call) -> Result<LicenseAnswer, ProviderError> {
        let provider = slot.provider.clone();
        let deadline = Deadline::after(self.config.request_timeout);
        let request = slot_request(&self.config, slot, self.cell.now()).with_deadline(deadline);
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
            // The deadline has passed: a provider that honours it is ending
            // the call with its own error at this very instant.
            Err(_) => tokio::time::timeout(DEADLINE_GRACE, &mut task).await,
        };
        let outcome = match joined {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(failure)) => {
                // A provider that panics has no answer to give: deny, with a
                // reason, rather than keep a grant nobody confirmed.
                tracing::error!(product = %slot.name, provider = slot.provider.name(), panicked = failure.is_panic(), "the license provider failed inside; access is denied until it answers");
                Ok(LicenseAnswer::denied(LicenseStatus::Unlicensed {
                    reason: CHECK_STOPPED.into(),
                }))
            }
            Err(_) => {
                task.abort();
                tracing::debug!(product = %slot.name, provider = slot.provider.name(), "the license provider ignored the call's deadline; the call is cut off");
                Err(ProviderError::Timeout {
                    host: slot.provider.name().to_owned(),
                    after: deadline.budget(),
                })
            }
        };
        // A server may quote the key back (in a message or a reply excerpt);
        // errors and reasons go to logs and statuses, so mask it there.
        let outcome = match (&slot.license_key, outcome) {
            (None, outcome) => outcome,
            (Some(key), Ok(mut answer)) => {
                if let LicenseStatus::Invalid { reason } = &mut answer.status {
                    *reason = redact_text(reason.to_string(), key.expose(), &key.masked()).into();
                }
                Ok(answer)
            }
            (Some(key), Err(error)) => Err(error.redact_key(key)),
        };
        if let Err(error) = &outcome
            && error.is_credentials_fault()
        {
            // The vendor's configuration, not the user's license: grace
            // applies, and whoever reads the logs must fix it before it ends.
            tracing::error!(product = %slot.name, provider = slot.provider.name(), %error, "the license server refused this application's credentials: fix the access token (ExisOne) or the license secret (ECOSIRE) configured in the application; the license is kept only until its grace period ends");
        }
        outcome
    }

    /// Lets an authentic server reply re-anchor trusted time.
    fn reanchor(&self, outcome: &Result<LicenseAnswer, ProviderError>) {
        if let Ok(LicenseAnswer {
            server_time: Some(at),
            ..
        }) = outcome
        {
            self.cell.reanchor(*at);
            // Trusted time is the server's now: the clock no longer matters.
            self.clock_set_back.store(false, Ordering::Release);
        }
    }

    /// Validates every product and publishes the result.
    pub(crate) async fn refresh(&self) -> RefreshReport {
        let _round = self.round.lock().await;
        let mut outcomes = Vec::with_capacity(self.products.len());
        for (index, slot) in self.products.iter().enumerate() {
            let mut outcome = self.call(slot, Call::Validate).await;
            if self.activation_due(index, slot, &outcome) {
                tracing::info!(product = %slot.name, "the license is not activated on this installation yet; activating it");
                let validated = outcome;
                let call = match &validated {
                    Ok(answer) => Call::ActivateAfter(answer.clone()),
                    Err(_) => Call::Activate,
                };
                outcome = self.call(slot, call).await;
                match &outcome {
                    Ok(answer) if answer.status.grants_access() => {
                        self.note_activation(index, true);
                    }
                    Err(error) if error.is_transient() => {
                        // The server was not reached: try again at the next
                        // validation; a validation that granted still counts.
                        self.activation_spent[index].store(false, Ordering::Release);
                        if validated
                            .as_ref()
                            .is_ok_and(|answer| answer.status.grants_access())
                        {
                            tracing::warn!(product = %slot.name, provider = slot.provider.name(), %error, "activation failed; retrying at the next validation");
                            outcome = validated;
                        }
                    }
                    _ => {}
                }
            }
            if let Err(error) = &outcome
                && !error.is_credentials_fault()
            {
                tracing::warn!(product = %slot.name, provider = slot.provider.name(), %error, "license validation failed");
            }
            self.reanchor(&outcome);
            outcomes.push(outcome);
        }
        let unreachable = outcomes
            .iter()
            .any(|o| o.as_ref().is_err_and(ProviderError::is_transient));
        let server_asked = outcomes
            .iter()
            .filter_map(|o| o.as_ref().err()?.retry_after())
            .max();
        let snapshot = self.update("validation", |current, now| {
            current
                .products
                .iter()
                .zip(&outcomes)
                .map(|(previous, outcome)| self.next_product(previous, outcome, now))
                .collect()
        });
        self.store_anchors().await;
        let report = RefreshReport {
            snapshot,
            unreachable,
            server_asked,
        };
        {
            let mut last = self
                .last_round
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let number = last.as_ref().map_or(1, |(number, _)| number + 1);
            *last = Some((number, report.clone()));
        }
        self.round_done.notify_one();
        report
    }

    fn slot(&self, product: Option<&str>) -> Result<(usize, &ProductSlot), GateError> {
        match product {
            None => Ok((0, &self.products[0])),
            Some(name) => self
                .products
                .iter()
                .enumerate()
                .find(|(_, s)| s.name == name)
                .ok_or_else(|| {
                    GateError::Config(format!("product `{name}` is not configured on this gate"))
                }),
        }
    }

    pub(crate) async fn activate(
        &self,
        product: Option<&str>,
    ) -> Result<SharedSnapshot, GateError> {
        let (index, slot) = self.slot(product)?;
        let _round = self.round.lock().await;
        let outcome = self.call(slot, Call::Activate).await;
        if outcome
            .as_ref()
            .is_ok_and(|answer| answer.status.grants_access())
        {
            self.note_activation(index, true);
        }
        self.reanchor(&outcome);
        let snapshot = self.update("activation", |current, now| {
            let mut next = current.products.clone();
            next[index] = self.next_product(&current.products[index], &outcome, now);
            next
        });
        self.store_anchors().await;
        match outcome {
            Ok(_) => Ok(snapshot),
            Err(error) => Err(GateError::Provider(error)),
        }
    }

    pub(crate) async fn deactivate(&self, product: Option<&str>) -> Result<(), GateError> {
        let (index, slot) = self.slot(product)?;
        let _round = self.round.lock().await;
        let outcome = self.call(slot, Call::Deactivate).await;
        outcome.map_err(GateError::Provider)?;
        // Released: not activated here any more, and this start does not
        // activate again on its own.
        self.note_activation(index, false);
        self.activation_spent[index].store(true, Ordering::Release);
        self.update("deactivation", |current, _| {
            let mut next = current.products.clone();
            next[index] = ProductState {
                status: LicenseStatus::Unlicensed {
                    reason: "the license was deactivated on this installation".into(),
                },
                source: Source::Online,
                ..ProductState::pending(&slot.name)
            };
            next
        });
        if let Some(cache) = &self.caches[index] {
            cache.remove();
        }
        Ok(())
    }

    /// The one way state changes: `change` derives the next products from the
    /// latest snapshot at trusted time `now`, under the writer lock, and the
    /// result is published (if it differs), logged and cached.
    pub(crate) fn update(
        &self,
        cause: &'static str,
        change: impl FnOnce(&LicenseSnapshot, SystemTime) -> Vec<ProductState>,
    ) -> SharedSnapshot {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let current = self.cell.snapshot();
        if self.stopped.load(Ordering::Relaxed) {
            // A round that was under way when the gate stopped brings no
            // grant back: the stopped state is the last one.
            return current;
        }
        let now = self.cell.now();
        let next = change(&current, now);
        self.publish_locked(&current, next, cause)
    }

    /// Publishes `next` if it differs from `current` (the latest snapshot,
    /// read under the writer lock), logging each product's transition (never
    /// a key or secret).
    fn publish_locked(
        &self,
        current: &SharedSnapshot,
        next: Vec<ProductState>,
        cause: &'static str,
    ) -> SharedSnapshot {
        if current.products == next {
            // The state stays, but a new activation record is written.
            self.store_caches(current, current);
            return current.clone();
        }
        for (old, new) in current.products.iter().zip(&next) {
            if old.status != new.status || old.features != new.features {
                tracing::info!(
                    product = %new.product,
                    from = old.status.name(),
                    to = new.status.name(),
                    reason = %new.status,
                    features = ?new.features,
                    cause,
                    "license state changed"
                );
            }
        }
        self.note_unknown_features(&next);
        let snapshot = self.cell.publish(LicenseSnapshot::new(next));
        self.store_caches(current, &snapshot);
        snapshot
    }

    /// Logs, once per gate, the granted features the application did not
    /// declare (`LicenseGateBuilder::known_features`): usually a typo on one
    /// side or a plan the application does not know yet.
    fn note_unknown_features(&self, products: &[ProductState]) {
        let Some(known) = &self.config.known_features else {
            return;
        };
        let unknown: BTreeSet<&str> = products
            .iter()
            .filter(|p| p.status.grants_access())
            .flat_map(|p| p.features.iter())
            .filter(|f| !known.contains(*f))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() && !self.unknown_features_logged.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                ?unknown,
                ?known,
                "the license grants features this application does not declare; check the spelling on both sides"
            );
        }
    }

    /// Writes the changed products' states to their caches. A failed write
    /// keeps the old cache and is logged; the running state is not affected.
    fn store_caches(&self, previous: &LicenseSnapshot, next: &LicenseSnapshot) {
        let latest_seen = self.cell.latest_seen().unwrap_or_else(|| self.cell.now());
        for ((old, new), cache) in previous
            .products
            .iter()
            .zip(&next.products)
            .zip(&self.caches)
        {
            let Some(cache) = cache else { continue };
            // A grant withheld for a clock set back is not cached: once the
            // date is right, the cached state counts again.
            if (old == new && !cache.activation_record_stale())
                || new.status == LicenseStatus::Pending
                || new.source == Source::None
                || clock_floor::is_withheld(&new.status)
            {
                continue;
            }
            if let Err(error) = cache.store(new, latest_seen) {
                tracing::warn!(product = %new.product, path = %cache.path().display(), %error, "could not write the license cache; the previous one is kept");
            }
        }
    }

    /// Records the latest trusted time, and the generation of every cache
    /// written so far, in every anchor: always after the caches it vouches
    /// for, so a crash in between leaves the anchor one write behind (still
    /// vouched for), never ahead. On tokio's blocking
    /// threads: a record is a file write with two `fsync`s, which on the
    /// runtime's own thread would hold up a current-thread application for
    /// as long as the disk takes. Awaited, so records keep their order; one
    /// that fails (or never runs because the runtime is shutting down) keeps
    /// the previous anchor, as a failed write does.
    async fn store_anchors(&self) {
        let Some(latest) = self.cell.latest_seen() else {
            return;
        };
        if self.anchors.is_empty() {
            return;
        }
        let anchors = Arc::clone(&self.anchors);
        let _ = tokio::task::spawn_blocking(move || {
            for anchor in anchors.iter() {
                anchor.store(latest);
            }
        })
        .await;
    }

    /// Publishes the effect of expiry and end-of-grace instants that have
    /// passed; `true` when that changed the state (and so the caches).
    pub(crate) fn settle_deadlines(&self) -> bool {
        let before = self.cell.snapshot();
        let after = self.update("deadline", |current, now| {
            current
                .products
                .iter()
                .map(|p| grace::settle(p.clone(), now))
                .collect()
        });
        !Arc::ptr_eq(&before, &after)
    }

    /// Denies every product with [`CHECK_STOPPED`]: what is left when the
    /// heartbeat task died (it restarts). Reads no clock, so it works
    /// whatever failed.
    pub(crate) fn fail_closed(&self) {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if !self.stopped.load(Ordering::Relaxed) {
            self.deny_all_locked(CHECK_STOPPED);
        }
    }

    /// Ends the gate's checking for good: every product is denied with
    /// `reason` ([`GATE_SHUT_DOWN`], [`GATE_DROPPED`], [`RUNTIME_STOPPED`])
    /// and no later update publishes, so a gate that no longer checks never
    /// keeps its last grant. The first reason stays. Writes no file (the
    /// cache keeps the last confirmed state for the next start), reads no
    /// clock and needs no runtime, so it works from a `Drop`.
    pub(crate) fn stop(&self, reason: &'static str) {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if self.stopped.swap(true, Ordering::Relaxed) {
            return;
        }
        self.deny_all_locked(reason);
        // Debug, not louder: every program stops its gates at exit, and a
        // server may drop one gate per licensee as a matter of course.
        tracing::debug!(reason, "license gate stopped; its state denies");
    }

    /// Whether [`Engine::stop`] has run.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Publishes every product as unlicensed with `reason`, features gone;
    /// the writer lock is held.
    fn deny_all_locked(&self, reason: &'static str) {
        let current = self.cell.snapshot();
        let next = current
            .products
            .iter()
            .map(|p| ProductState {
                status: LicenseStatus::Unlicensed {
                    reason: reason.into(),
                },
                features: BTreeSet::new(),
                ..p.clone()
            })
            .collect();
        if current.products != next {
            self.cell.publish(LicenseSnapshot::new(next));
        }
    }

    /// How long until the next expiry or end-of-grace instant.
    fn until_next_deadline(&self) -> Option<Duration> {
        let deadline = self.cell.snapshot().next_deadline()?;
        let now = self.cell.now();
        let left = deadline.duration_since(now).unwrap_or(Duration::ZERO);
        // Look again at least once a minute: a wall clock moved forward brings
        // the instant closer without any timer knowing.
        Some(left.min(DEADLINE_RECHECK))
    }

    fn next_heartbeat(&self, report: &RefreshReport, failures: &mut u32) -> Instant {
        let delay = if report.unreachable {
            let delay = self.config.retry.delay(*failures, report.server_asked);
            *failures = failures.saturating_add(1);
            delay.min(
                self.config
                    .heartbeat_interval
                    .max(report.server_asked.unwrap_or_default()),
            )
        } else {
            *failures = 0;
            jitter(self.config.heartbeat_interval, self.config.jitter)
        };
        Instant::now() + delay
    }

    /// The heartbeat task (one life of it; [`supervise`] restarts it).
    async fn run(
        self: Arc<Self>,
        stop: watch::Receiver<bool>,
        mut started: Option<oneshot::Sender<()>>,
    ) {
        let mut announce_start = || {
            if let Some(started) = started.take() {
                let _ = started.send(());
            }
        };
        if self.ready_at_start {
            // The cache (or a verified offline code) bridges the start; the
            // first validation runs at once, in the background.
            announce_start();
            self.refresh().await;
        } else {
            let first = self.refresh();
            tokio::pin!(first);
            tokio::select! {
                _ = &mut first => {}
                () = tokio::time::sleep(self.config.startup_timeout) => {
                    tracing::warn!(
                        timeout = ?self.config.startup_timeout,
                        "no license answer yet; running as pending while the check goes on"
                    );
                    announce_start();
                    first.await;
                }
            }
            announce_start();
        }
        // The first round's notification sets the real schedule at once.
        let next_heartbeat = Instant::now() + self.config.heartbeat_interval;
        self.heartbeat_loop(stop, next_heartbeat).await;
    }

    async fn heartbeat_loop(&self, mut stop: watch::Receiver<bool>, mut next_heartbeat: Instant) {
        let mut failures = 0;
        let mut planned_round = 0;
        // A refresh made through the handle can bring an earlier deadline.
        let mut changes = self.cell.subscribe();
        loop {
            let deadline = self.until_next_deadline();
            tokio::select! {
                biased;
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                // Every round, manual or scheduled, plans the next heartbeat
                // once: backoff after a failure, the interval after a success.
                () = self.round_done.notified() => {}
                () = tokio::time::sleep(deadline.unwrap_or_default() + Duration::from_millis(1)), if deadline.is_some() => {
                    // A cache rewritten here is followed by its anchor.
                    if self.settle_deadlines() {
                        self.store_anchors().await;
                    }
                }
                _ = changes.changed() => {}
                () = tokio::time::sleep_until(next_heartbeat) => {
                    self.refresh().await;
                }
            }
            let latest = self
                .last_round
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if let Some((round, report)) = latest
                && round > planned_round
            {
                planned_round = round;
                next_heartbeat = self.next_heartbeat(&report, &mut failures);
            }
        }
    }
}

/// Whether a validation outcome says the license exists but is not activated
/// on this installation yet.
pub(crate) fn needs_activation(outcome: &Result<LicenseAnswer, ProviderError>) -> bool {
    matches!(outcome, Ok(LicenseAnswer { status: LicenseStatus::Unlicensed { reason }, .. }) if &**reason == crate::state::NOT_ACTIVATED)
}

/// Stops the engine ([`Engine::stop`]) when the supervised heartbeat ends in
/// any way: it returned (shutdown, or the stop channel closed because every
/// handle was dropped), or its future was dropped unfinished (the runtime
/// shut down, also before it first ran).
struct StopOnExit {
    engine: Arc<Engine>,
    stop: watch::Receiver<bool>,
}

impl Drop for StopOnExit {
    fn drop(&mut self) {
        let reason = if *self.stop.borrow() {
            GATE_SHUT_DOWN
        } else if self.stop.has_changed().is_err() {
            GATE_DROPPED
        } else {
            RUNTIME_STOPPED
        };
        self.engine.stop(reason);
    }
}

/// Runs the heartbeat task and keeps the gate closed if it ever dies: a panic
/// anywhere in it denies every product with [`CHECK_STOPPED`], is logged as an
/// error, and the task starts again after the retry policy's delay (the next
/// good answer restores the license). However the task ends — shutdown, the
/// stop channel closed, the runtime shutting down, the future dropped before
/// it ran — the engine stops and its state denies ([`StopOnExit`]).
pub(crate) fn supervise(
    engine: Arc<Engine>,
    stop: watch::Receiver<bool>,
    started: oneshot::Sender<()>,
) -> impl Future<Output = ()> + Send + 'static {
    // Made now, not when the future first runs: a runtime that shuts down
    // before polling it still drops it, and with it this guard.
    let on_exit = StopOnExit {
        engine: engine.clone(),
        stop: stop.clone(),
    };
    async move {
        let _on_exit = on_exit;
        supervise_lives(engine, stop, started).await;
    }
}

async fn supervise_lives(
    engine: Arc<Engine>,
    stop: watch::Receiver<bool>,
    started: oneshot::Sender<()>,
) {
    let mut started = Some(started);
    let mut restarts: u32 = 0;
    loop {
        let life = tokio::spawn(engine.clone().run(stop.clone(), started.take()));
        match life.await {
            Ok(()) => return,
            Err(failure) if failure.is_panic() => {
                engine.fail_closed();
                tracing::error!(
                    restarts,
                    "the license check stopped on an internal error; access is denied until it answers again"
                );
                let delay = engine.config.retry.ceiling(restarts);
                restarts = restarts.saturating_add(1);
                let mut stop = stop.clone();
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stop.wait_for(|stopped| *stopped) => return,
                }
            }
            // Cancelled: the runtime is shutting down.
            Err(_) => return,
        }
    }
}
