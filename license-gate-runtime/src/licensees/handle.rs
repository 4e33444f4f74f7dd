//! The handle a server holds: [`Licensees`], made by [`LicenseesBuilder`]
//! (from `LicenseGate::builder()...licensees()`).

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use super::budget::{RequestBudget, Unlimited};
use super::coordination::Coordination;
use super::registry::{Core, CoreParts};
use super::store::{LicenseeId, LicenseeStore, MemoryStore};
use crate::LicenseGateBuilder;
use crate::error::{GateError, LicenseError, LicenseesMisuse};
use crate::gate::callsite::{self, Ask};
use crate::gate::cell::StateCell;
use crate::gate::global;
use crate::gate::scope::{ScopeGuard, Scoped};
use crate::reason::Reason;
use crate::secret::LicenseKey;
use crate::state::{LicenseSnapshot, LicenseStatus, ProductState, SharedSnapshot};

/// How many licensees' validations run at once by default.
const DEFAULT_IN_FLIGHT: usize = 64;

/// Configures a server's [`Licensees`]; made by
/// [`LicenseGateBuilder::licensees`], which brings the product, its provider
/// and the gate's settings (heartbeat interval, jitter, retry policy, grace
/// period, request timeout, vendor secret, clock, `activate_on_first_use`,
/// `app_version`, `install_global`). The gate's cache settings do not apply:
/// licensees' records live in the [store](LicenseesBuilder::store).
#[derive(Debug)]
#[must_use = "a builder does nothing until `.start()`"]
pub struct LicenseesBuilder {
    gate: LicenseGateBuilder,
    store: Option<Arc<dyn LicenseeStore>>,
    budget: Option<Arc<dyn RequestBudget>>,
    max_in_flight: usize,
    coordination: Option<Arc<dyn Coordination>>,
}

impl LicenseesBuilder {
    pub(crate) fn new(gate: LicenseGateBuilder) -> Self {
        LicenseesBuilder {
            gate,
            store: None,
            budget: None,
            max_in_flight: DEFAULT_IN_FLIGHT,
            coordination: None,
        }
    }

    /// Where licensees' records live between runs (default: a
    /// [`MemoryStore`], which keeps nothing past the process).
    pub fn store(self, store: impl LicenseeStore) -> Self {
        self.shared_store(Arc::new(store))
    }

    /// A store already shared elsewhere.
    pub fn shared_store(mut self, store: Arc<dyn LicenseeStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The provider's request limits, held across every licensee (default:
    /// [`Unlimited`]; for ECOSIRE use
    /// [`TokenBucketBudget::ecosire`](super::TokenBucketBudget::ecosire)).
    pub fn budget(self, budget: impl RequestBudget) -> Self {
        self.shared_budget(Arc::new(budget))
    }

    /// A budget already shared elsewhere (for example with another server
    /// of the same vendor account).
    pub fn shared_budget(mut self, budget: Arc<dyn RequestBudget>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// How many licensees' validations may run at once (default 64): a
    /// licensee whose server hangs holds one of these until the request
    /// timeout, never another licensee's.
    pub fn max_in_flight(mut self, validations: usize) -> Self {
        self.max_in_flight = validations.max(1);
        self
    }

    /// Replicas of this server sharing the checking (with the `redis`
    /// feature: `replicas::RedisCoordination`): each licensee is validated
    /// by one replica per period, and every replica applies the others'
    /// results. Default: none, this process validates every licensee itself.
    pub fn coordination(mut self, coordination: impl Coordination) -> Self {
        self.coordination = Some(Arc::new(coordination));
        self
    }

    /// Loads the store and starts the one scheduler. Licensees are added
    /// with [`Licensees::add`]; a stored record is used when its licensee is
    /// added with the same key and machine identity.
    ///
    /// With `install_global` (the default), gated code outside any licensee's
    /// scope is denied with [`Reason::NoLicenseeInScope`](crate::Reason::NoLicenseeInScope).
    /// Runs on the current tokio runtime.
    pub async fn start(self) -> Result<Licensees, GateError> {
        let (slots, config, install) = self.gate.validate()?;
        let mut slots = slots.into_iter();
        let (Some(slot), None) = (slots.next(), slots.next()) else {
            return Err(GateError::licensees(
                LicenseesMisuse::NotOneProduct,
                "a gate with licensees holds one product: configure one `.product(..)` (start one `Licensees` per product)".to_owned(),
            ));
        };
        if slot.license_key.is_some() {
            return Err(GateError::licensees(
                LicenseesMisuse::KeyOnBuilder,
                "a gate with licensees takes each licensee's key in `Licensees::add`: remove `.license_key(..)` from the builder".to_owned(),
            ));
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            GateError::licensees(
                LicenseesMisuse::NoRuntime,
                "licensees run on a tokio runtime: call `.start().await` inside one".to_owned(),
            )
        })?;
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let loaded = store
            .load_all()
            .await
            .map_err(|e| GateError::Store(e.to_string()))?;
        let core = Arc::new(Core::new(CoreParts {
            product: slot.name,
            provider: slot.provider,
            config,
            budget: self.budget.unwrap_or_else(|| Arc::new(Unlimited)),
            store,
            max_in_flight: self.max_in_flight,
            loaded,
            coordination: self.coordination,
        }));
        if install && !global::install(core.outside.clone()) {
            return Err(GateError::AlreadyInstalled);
        }
        let (stop, stop_rx) = watch::channel(false);
        let on_exit = StopOnExit {
            core: core.clone(),
            stop: stop_rx.clone(),
        };
        let task = runtime.spawn({
            let core = core.clone();
            async move {
                let _on_exit = on_exit;
                core.run(stop_rx).await;
            }
        });
        Ok(Licensees {
            shared: Arc::new(Shared {
                core,
                global: install,
                stop,
                task: Mutex::new(Some(task)),
            }),
        })
    }
}

impl LicenseGateBuilder {
    /// Turns this gate into one that holds many licensees of its one
    /// product, each with its own license key and machine identity (a seat
    /// per signed-in user or tenant): see [`Licensees`] and the licensees
    /// guide (`license_gate::docs::licensees`).
    ///
    /// ```
    /// use license_gate::{LicenseGate, providers::mock::MockProvider};
    /// use license_gate::licensees::{MemoryStore, TokenBucketBudget};
    ///
    /// let (provider, _) = MockProvider::licensed(["pro"]);
    /// let builder = LicenseGate::builder()
    ///     .product("Atlas")
    ///     .provider(provider)
    ///     .licensees()
    ///     .store(MemoryStore::new())
    ///     .budget(TokenBucketBudget::per_minute(30, 10));
    /// # let _ = builder;
    /// ```
    pub fn licensees(self) -> LicenseesBuilder {
        LicenseesBuilder::new(self)
    }
}

/// Many licensees of one product in one server process: each with its own
/// license key and machine identity, its own state, schedule, subscriptions
/// and log lines, gated by the licensee in scope.
///
/// Made by `LicenseGate::builder()...licensees()...start()`. The handle is
/// cheap to clone. Gated code (`#[requires_feature]`, `#[licensed]`,
/// [`check_feature`](crate::check_feature)) answers for the licensee in
/// scope: [`Licensees::scope`] for a request's future (the tower layer does
/// it), [`Licensees::enter`] for a thread, and
/// [`CurrentScope`](crate::CurrentScope) to carry the scope into spawned
/// work. Outside any licensee's scope a gated call is denied; it never falls
/// back to another licensee.
///
/// Dropping the last handle stops the registry: every licensee's state
/// denies with [`Reason::GateDropped`](crate::Reason::GateDropped). Keep it for as long
/// as the server runs, and call [`Licensees::shutdown`] at exit (it also
/// writes the queued records to the store).
///
/// ```
/// use license_gate::{LicenseGate, check_feature, providers::mock::MockProvider};
/// use license_gate::licensees::LicenseeId;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (provider, _handle) = MockProvider::licensed(["pro"]);
/// let licensees = LicenseGate::builder()
///     .product("Atlas")
///     .provider(provider)
///     .install_global(false)
///     .licensees()
///     .start()
///     .await?;
/// let alice = LicenseeId::new("alice");
/// licensees.add(alice.clone(), "AAAA-BBBB-CCCC-DDDD", "user:alice")?;
/// licensees.refresh(&alice).await; // the first validation, now
/// assert!(licensees.scope(&alice, async { check_feature("pro") }).await.is_ok());
/// // Outside any licensee's scope, gated code is denied.
/// let _no_one = licensees.enter_none();
/// assert!(check_feature("pro").is_err());
/// # drop(_no_one);
/// licensees.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Licensees {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    core: Arc<Core>,
    global: bool,
    stop: watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Shared {
    /// The last handle is gone: nothing can scope a licensee any more, so
    /// the registry stops and every state denies.
    fn drop(&mut self) {
        self.core.stop(Reason::GateDropped);
        if self.global {
            global::uninstall(&self.core.outside);
        }
    }
}

/// Stops the registry when its scheduler ends in any way (shutdown, the last
/// handle dropped, the runtime shut down).
struct StopOnExit {
    core: Arc<Core>,
    stop: watch::Receiver<bool>,
}

impl Drop for StopOnExit {
    fn drop(&mut self) {
        let reason = if *self.stop.borrow() {
            Reason::GateShutDown
        } else if self.stop.has_changed().is_err() {
            Reason::GateDropped
        } else {
            Reason::RuntimeStopped
        };
        self.core.stop(reason);
    }
}

impl Licensees {
    fn core(&self) -> &Arc<Core> {
        &self.shared.core
    }

    /// The product every licensee holds.
    pub fn product(&self) -> &str {
        &self.core().product
    }

    /// Adds licensee `id` with its license `key` and its machine identity:
    /// a stable identifier of the licensee that the provider sends in place
    /// of this machine's hardware ID (ExisOne: the per-user hardware ID of
    /// its SDK page, such as `"user:42"`; ECOSIRE: the licensee's domain or
    /// fingerprint, when the provider has no `domain` of its own).
    ///
    /// Returns the licensee's starting status: from its stored record when
    /// one opens for this key and identity (granting only with the vendor
    /// secret), else pending. A pending licensee is validated at once (and
    /// activated on first use when the gate is set to); one started from its
    /// record at a random instant within the heartbeat interval.
    ///
    /// Errors when `id` is already added or the identity is blank.
    pub fn add(
        &self,
        id: impl Into<LicenseeId>,
        key: impl Into<LicenseKey>,
        machine: impl Into<String>,
    ) -> Result<LicenseStatus, GateError> {
        let snapshot = self
            .core()
            .add(id.into(), Some(key.into()), machine.into())?;
        Ok(snapshot.products[0].status.clone())
    }

    /// Deactivates licensee `id` on the service (its seat is freed for
    /// someone else), then removes it: its record is forgotten in the store,
    /// and code still running in its scope is denied with
    /// [`Reason::LicenseeRemoved`](crate::Reason::LicenseeRemoved).
    ///
    /// When the service refuses the deactivation or cannot be reached, the
    /// licensee stays (its seat is still taken) and the error says why: try
    /// again later.
    pub async fn remove(&self, id: &LicenseeId) -> Result<(), GateError> {
        if self.core().is_stopped() {
            return Err(GateError::ShutDown);
        }
        self.core().remove(id).await
    }

    /// Whether licensee `id` is added.
    pub fn contains(&self, id: &LicenseeId) -> bool {
        self.core().get(id).is_some()
    }

    /// How many licensees are added.
    pub fn len(&self) -> usize {
        self.core().len()
    }

    /// Whether no licensee is added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The IDs of every added licensee (in no particular order).
    pub fn ids(&self) -> Vec<LicenseeId> {
        self.core().ids()
    }

    /// The cell gated code sees for `id`: the licensee's own, or for an
    /// unknown licensee a state that denies and says so.
    fn cell_for(&self, id: &LicenseeId) -> Arc<StateCell> {
        match self.core().get(id) {
            Some(licensee) => licensee.cell.clone(),
            None => Arc::new(StateCell::new(
                LicenseSnapshot::new(vec![ProductState {
                    status: LicenseStatus::Unlicensed {
                        reason: format!(
                            "licensee `{id}` is not added to this server: add it with `Licensees::add` before gating its requests"
                        )
                        .into(),
                    },
                    ..ProductState::pending(self.product())
                }]),
                self.core().config.clock.clone(),
                None,
            )),
        }
    }

    /// `future`, with gated code inside it answering for licensee `id`, on
    /// whichever thread polls it. Carry the scope into work it spawns with
    /// [`CurrentScope`](crate::CurrentScope). An unknown `id` is denied
    /// (never another licensee's license).
    pub fn scope<F: Future>(&self, id: &LicenseeId, future: F) -> Scoped<F> {
        Scoped::new(self.cell_for(id), future)
    }

    /// Makes gated code on this thread answer for licensee `id` until the
    /// guard is dropped (for threads; async code uses [`Licensees::scope`]).
    pub fn enter(&self, id: &LicenseeId) -> ScopeGuard {
        ScopeGuard::enter(self.cell_for(id))
    }

    /// Makes gated code on this thread see no licensee until the guard is
    /// dropped: every gated call is denied with
    /// [`Reason::NoLicenseeInScope`](crate::Reason::NoLicenseeInScope) (what a
    /// request without a licensee sees, also when the registry is not
    /// installed as the global gate).
    pub fn enter_none(&self) -> ScopeGuard {
        ScopeGuard::enter(self.core().outside.clone())
    }

    /// `future` seeing no licensee (see [`Licensees::enter_none`]).
    pub fn scope_none<F: Future>(&self, future: F) -> Scoped<F> {
        Scoped::new(self.core().outside.clone(), future)
    }

    /// The current state of licensee `id` (`None`: not added).
    pub fn snapshot(&self, id: &LicenseeId) -> Option<SharedSnapshot> {
        self.core().get(id).map(|l| l.cell.snapshot())
    }

    /// The state of licensee `id`'s license.
    pub fn state(&self, id: &LicenseeId) -> Option<ProductState> {
        self.snapshot(id).map(|s| s.products[0].clone())
    }

    /// The status of licensee `id` as of now (an expiry that has passed reads
    /// as expired at once).
    pub fn status(&self, id: &LicenseeId) -> Option<LicenseStatus> {
        let licensee = self.core().get(id)?;
        let now = licensee.cell.now();
        Some(licensee.cell.snapshot().products[0].effective_status(now))
    }

    /// Whether licensee `id`'s license includes `feature` now (`false` for
    /// an unknown licensee).
    pub fn has_feature(&self, id: &LicenseeId, feature: &str) -> bool {
        self.core().get(id).is_some_and(|licensee| {
            callsite::with_cell_view(&licensee.cell, |view| view.has_feature(feature))
        })
    }

    /// Checks that licensee `id`'s license includes `feature`, without
    /// entering its scope.
    pub fn check_feature(&self, id: &LicenseeId, feature: &str) -> Result<(), LicenseError> {
        let cell = self.cell_for(id);
        callsite::check_cell(
            &cell,
            |view| view.has_feature(feature),
            Ask::Feature(feature),
        )
    }

    /// A receiver that sees every state licensee `id` is published in (the
    /// last one is the removal's or the shutdown's denial).
    pub fn subscribe(&self, id: &LicenseeId) -> Option<watch::Receiver<SharedSnapshot>> {
        self.core().get(id).map(|l| l.cell.subscribe())
    }

    /// Validates licensee `id` now, outside its schedule (through the request
    /// budget), and returns its new state; `None`: not added.
    pub async fn refresh(&self, id: &LicenseeId) -> Option<SharedSnapshot> {
        self.core().refresh(id).await
    }

    /// Writes the records queued since the last write to the store now (the
    /// scheduler writes them at most a second after they change).
    pub async fn flush(&self) {
        self.core().flush().await;
    }

    /// Whether the registry is installed as the global gate.
    pub fn is_global(&self) -> bool {
        self.shared.global
    }

    /// Stops the scheduler, writes the queued records, removes the global
    /// state and waits for the task to end. Every licensee's state denies
    /// afterwards with [`Reason::GateShutDown`](crate::Reason::GateShutDown); their
    /// records keep the last confirmed states for the next start.
    pub async fn shutdown(self) {
        let core = self.core().clone();
        // Stopped first, so no record is queued after the last write.
        core.stop(Reason::GateShutDown);
        self.shared.stop.send_replace(true);
        let task = self
            .shared
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
        core.flush().await;
        if self.shared.global {
            global::uninstall(&core.outside);
        }
        tracing::debug!(product = %core.product, "licensees shut down");
    }
}
