//! The heartbeat: the task that keeps a gate's state right while the program
//! runs. It validates every product on a jittered interval, backs off while the
//! server cannot be reached, and flips the state at expiry and end-of-grace
//! instants even when no heartbeat is due.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Notify, oneshot, watch};
use tokio::time::Instant;

use crate::cache::{CacheLocation, ProductCache};
use crate::error::{GateError, ProviderError, redact_text};
use crate::gate::cell::StateCell;
use crate::grace;
use crate::provider::{LicenseAnswer, LicenseRequest, Provider};
use crate::retry::{RetryPolicy, jitter};
use crate::secret::LicenseKey;
use crate::state::{LicenseSnapshot, LicenseStatus, ProductState, SharedSnapshot, Source};
use crate::time::Clock;

/// The longest the deadline timer sleeps before it reads the clock again.
const DEADLINE_RECHECK: Duration = Duration::from_secs(60);

/// The settings of a gate's heartbeat.
#[derive(Debug, Clone)]
pub(crate) struct GateConfig {
    pub(crate) heartbeat_interval: Duration,
    pub(crate) jitter: f64,
    pub(crate) retry: RetryPolicy,
    pub(crate) grace_period: Duration,
    pub(crate) startup_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) cache: CacheLocation,
    pub(crate) hardware_id: Option<String>,
}

/// One configured product.
#[derive(Debug)]
pub(crate) struct ProductSlot {
    pub(crate) name: String,
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) license_key: Option<LicenseKey>,
}

impl ProductSlot {
    fn request(&self) -> LicenseRequest {
        LicenseRequest::new(&self.name, self.license_key.clone())
    }
}

/// What one round of validation found.
#[derive(Debug, Clone)]
pub(crate) struct RefreshReport {
    pub(crate) snapshot: SharedSnapshot,
    /// Some product could not reach its server.
    pub(crate) unreachable: bool,
    /// The longest wait a server asked for (rate limiting).
    pub(crate) server_asked: Option<Duration>,
}

/// The state machine behind a gate, shared by its handle and its task.
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) cell: Arc<StateCell>,
    products: Vec<ProductSlot>,
    /// The cache of each product (`None`: caching is off).
    caches: Vec<Option<ProductCache>>,
    /// Every product started from a valid cache.
    from_cache: bool,
    config: GateConfig,
    /// One provider round at a time: a manual refresh and the heartbeat never
    /// interleave their writes.
    round: Mutex<()>,
    /// The number and outcome of the latest round, manual or scheduled: the
    /// heartbeat plans its next call (backoff or interval) from it, once per round.
    last_round: std::sync::Mutex<Option<(u64, RefreshReport)>>,
    round_done: Notify,
}

impl Engine {
    pub(crate) fn new(
        cell: Arc<StateCell>,
        products: Vec<ProductSlot>,
        caches: Vec<Option<ProductCache>>,
        from_cache: bool,
        config: GateConfig,
    ) -> Self {
        Engine {
            cell,
            products,
            caches,
            from_cache,
            config,
            round: Mutex::new(()),
            last_round: std::sync::Mutex::new(None),
            round_done: Notify::new(),
        }
    }

    async fn call<'a, F>(
        &self,
        slot: &'a ProductSlot,
        op: F,
    ) -> Result<LicenseAnswer, ProviderError>
    where
        F: std::future::Future<Output = Result<LicenseAnswer, ProviderError>> + 'a,
    {
        let outcome = match tokio::time::timeout(self.config.request_timeout, op).await {
            Ok(outcome) => outcome,
            Err(_) => Err(ProviderError::Timeout {
                host: slot.provider.name().to_owned(),
                after: self.config.request_timeout,
            }),
        };
        // A server may quote the key back (in a message or a reply excerpt);
        // errors and reasons go to logs and statuses, so mask it there.
        let Some(key) = &slot.license_key else {
            return outcome;
        };
        match outcome {
            Ok(mut answer) => {
                if let LicenseStatus::Invalid { reason } = &mut answer.status {
                    *reason = redact_text(reason.to_string(), key.expose(), &key.masked()).into();
                }
                Ok(answer)
            }
            Err(error) => Err(error.redact_key(key)),
        }
    }

    /// Validates every product and publishes the result.
    pub(crate) async fn refresh(&self) -> RefreshReport {
        let _round = self.round.lock().await;
        let mut outcomes = Vec::with_capacity(self.products.len());
        for slot in &self.products {
            let request = slot.request();
            let outcome = self.call(slot, slot.provider.validate(&request)).await;
            if let Err(error) = &outcome {
                tracing::warn!(product = %slot.name, provider = slot.provider.name(), %error, "license validation failed");
            }
            outcomes.push(outcome);
        }
        let unreachable = outcomes
            .iter()
            .any(|o| o.as_ref().is_err_and(ProviderError::is_transient));
        let server_asked = outcomes
            .iter()
            .filter_map(|o| o.as_ref().err()?.retry_after())
            .max();
        let now = self.cell.now();
        let current = self.cell.snapshot();
        let next = current
            .products
            .iter()
            .zip(&outcomes)
            .map(|(previous, outcome)| {
                grace::next_state(previous, outcome, now, self.config.grace_period)
            })
            .collect();
        let snapshot = self.publish(next, "validation");
        let report = RefreshReport {
            snapshot,
            unreachable,
            server_asked,
        };
        {
            let mut last = self.last_round.lock().unwrap_or_else(|e| e.into_inner());
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
        let outcome = self
            .call(slot, slot.provider.activate(&slot.request()))
            .await;
        let now = self.cell.now();
        let current = self.cell.snapshot();
        let mut next = current.products.clone();
        next[index] = grace::next_state(
            &current.products[index],
            &outcome,
            now,
            self.config.grace_period,
        );
        let snapshot = self.publish(next, "activation");
        match outcome {
            Ok(_) => Ok(snapshot),
            Err(error) => Err(GateError::Provider(error)),
        }
    }

    pub(crate) async fn deactivate(&self, product: Option<&str>) -> Result<(), GateError> {
        let (index, slot) = self.slot(product)?;
        let _round = self.round.lock().await;
        let request = slot.request();
        let outcome = self
            .call(slot, async {
                slot.provider
                    .deactivate(&request)
                    .await
                    .map(|()| LicenseAnswer::licensed(None::<String>))
            })
            .await;
        outcome.map_err(GateError::Provider)?;
        let mut next = self.cell.snapshot().products.clone();
        next[index] = ProductState {
            status: LicenseStatus::Unlicensed {
                reason: "the license was deactivated on this installation".into(),
            },
            source: Source::Online,
            ..ProductState::pending(&slot.name)
        };
        self.publish(next, "deactivation");
        if let Some(cache) = &self.caches[index] {
            cache.remove();
        }
        Ok(())
    }

    /// Publishes `next` if it differs from the current state, logging each
    /// product's transition (never a key or secret).
    fn publish(&self, next: Vec<ProductState>, cause: &'static str) -> SharedSnapshot {
        let current = self.cell.snapshot();
        if current.products == next {
            return current;
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
        let snapshot = self.cell.publish(LicenseSnapshot::new(next));
        self.store_caches(&current, &snapshot);
        snapshot
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
            if old == new || new.status == LicenseStatus::Pending || new.source == Source::None {
                continue;
            }
            if let Err(error) = cache.store(new, latest_seen) {
                tracing::warn!(product = %new.product, path = %cache.path().display(), %error, "could not write the license cache; the previous one is kept");
            }
        }
    }

    /// Publishes the effect of expiry and end-of-grace instants that have passed.
    pub(crate) fn settle_deadlines(&self) {
        let now = self.cell.now();
        let current = self.cell.snapshot();
        let next = current
            .products
            .iter()
            .map(|p| grace::settle(p.clone(), now))
            .collect();
        self.publish(next, "deadline");
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

    /// When the first heartbeat of a gate started from its cache is due: one
    /// interval after the cached confirmation (at once if that has passed).
    fn first_heartbeat_from_cache(&self) -> Instant {
        let now = self.cell.now();
        let snapshot = self.cell.snapshot();
        let due = snapshot
            .products
            .iter()
            .map(|p| match p.last_confirmed {
                Some(at) => (at + self.config.heartbeat_interval)
                    .duration_since(now)
                    .unwrap_or(Duration::ZERO),
                None => Duration::ZERO,
            })
            .min()
            .unwrap_or(Duration::ZERO);
        Instant::now() + due.min(self.config.heartbeat_interval)
    }

    /// The heartbeat task.
    pub(crate) async fn run(
        self: Arc<Self>,
        stop: watch::Receiver<bool>,
        started: oneshot::Sender<()>,
    ) {
        if self.from_cache {
            // A valid cache is as good as a heartbeat: start at once, ask later.
            let _ = started.send(());
            let next_heartbeat = self.first_heartbeat_from_cache();
            return self.heartbeat_loop(stop, next_heartbeat).await;
        }
        let first = self.refresh();
        tokio::pin!(first);
        tokio::select! {
            _ = &mut first => {
                let _ = started.send(());
            }
            () = tokio::time::sleep(self.config.startup_timeout) => {
                tracing::warn!(
                    timeout = ?self.config.startup_timeout,
                    "no license answer yet; running as pending while the check goes on"
                );
                let _ = started.send(());
                first.await;
            }
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
                    self.settle_deadlines();
                }
                _ = changes.changed() => {}
                () = tokio::time::sleep_until(next_heartbeat) => {
                    self.refresh().await;
                }
            }
            let latest = self
                .last_round
                .lock()
                .unwrap_or_else(|e| e.into_inner())
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
