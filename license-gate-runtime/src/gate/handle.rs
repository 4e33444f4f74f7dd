//! The handle an application holds: [`LicenseGate`], its state, activation,
//! deactivation and shutdown. Made by the builder (`builder.rs`), which sits
//! above it; the engine it drives sits below.

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::callsite::{self, Ask};
use super::cell::StateCell;
use super::engine::Engine;
use super::engine::{GATE_DROPPED, GATE_SHUT_DOWN};
use super::scope::{ScopeGuard, Scoped};
use super::{global, own_runtime};
use crate::error::{GateError, LicenseError};
use crate::state::{LicenseStatus, ProductState, SharedSnapshot};

/// The handle of the installed global gate, kept by the process from `start`
/// to `shutdown`: what keeps the global gate's heartbeat running when the
/// application drops every handle of its own.
static INSTALLED_GATE: Mutex<Option<LicenseGate>> = Mutex::new(None);

/// A running license gate: the license state of the application, kept right by
/// a heartbeat, and the checks against it.
///
/// Build one with [`LicenseGate::builder`]. `start` installs it as the global
/// gate that `#[requires_feature]`, `#[licensed]`, [`check_feature`](crate::check_feature) and
/// [`has_feature`](crate::has_feature) consult. The handle is cheap to clone; the gate runs until
/// [`LicenseGate::shutdown`].
///
/// # Dropping the handle
///
/// Dropping a handle never leaves a grant that nobody checks any more:
///
/// - **The global gate keeps running** when every handle is dropped: the
///   process holds one until [`LicenseGate::shutdown`], so
///   `LicenseGate::builder()…start().await?;` without `let` is enough for the
///   attributes, and [`LicenseGate::global`] gives the handle back (to shut
///   the gate down, activate, or subscribe).
/// - **A gate started with `.install_global(false)` stops** when its last
///   handle is dropped, and its state, as scopes and subscribers still see
///   it, denies with the reason [`GATE_DROPPED`](crate::GATE_DROPPED).
/// - **Whenever a gate stops checking** — [`shutdown`](LicenseGate::shutdown)
///   ([`GATE_SHUT_DOWN`](crate::GATE_SHUT_DOWN)), or the tokio runtime that ran
///   it shut down, as when `#[tokio::main]` returns
///   ([`RUNTIME_STOPPED`](crate::RUNTIME_STOPPED)) — its state denies from
///   then on; the cache keeps the last confirmed state for the next start.
///
/// ```
/// use license_gate::{LicenseGate, providers::mock::MockProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (provider, _handle) = MockProvider::licensed(["pro"]);
/// // No `let`: the global gate runs on without the handle.
/// LicenseGate::builder()
///     .product("Atlas Studio")
///     .provider(provider)
///     .no_cache() // an example keeps nothing on disk
///     .start()
///     .await?;
/// assert!(license_gate::has_feature("pro"));
///
/// // A gate that is not the global one stops when its last handle goes.
/// let (provider, _handle) = MockProvider::licensed(["pro"]);
/// let local = LicenseGate::builder()
///     .product("Atlas Render")
///     .provider(provider)
///     .install_global(false)
///     .no_cache()
///     .start()
///     .await?;
/// let changes = local.subscribe();
/// drop(local);
/// assert!(!changes.borrow().products[0].status.grants_access());
///
/// // The global gate runs until it is shut down.
/// if let Some(gate) = LicenseGate::global() {
///     gate.shutdown().await;
/// }
/// assert!(!license_gate::has_feature("pro"));
/// # Ok(())
/// # }
/// ```
///
/// Starting and shutting down, with the handle kept:
///
/// ```
/// use license_gate::{LicenseGate, providers::mock::MockProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (provider, _handle) = MockProvider::licensed(["pro"]);
/// let gate = LicenseGate::builder()
///     .product("Atlas Studio")
///     .provider(provider)
///     .license_key("AAAA-BBBB-CCCC-DDDD")
///     .no_cache() // an example keeps nothing on disk
///     .start()
///     .await?;
/// assert!(license_gate::has_feature("pro"));
/// gate.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct LicenseGate {
    pub(super) inner: Arc<GateInner>,
}

#[derive(Debug)]
pub(super) struct GateInner {
    pub(super) engine: Arc<Engine>,
    pub(super) global: bool,
    pub(super) stop: watch::Sender<bool>,
    pub(super) task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    pub(super) own_runtime: Mutex<Option<own_runtime::OwnRuntime>>,
}

impl Drop for GateInner {
    /// The last handle is gone (never the case for the installed global
    /// gate, which the process holds): the heartbeat ends, so the state
    /// denies now, not when the task next runs.
    fn drop(&mut self) {
        self.engine.stop(GATE_DROPPED);
    }
}

impl LicenseGate {
    fn cell(&self) -> &Arc<StateCell> {
        &self.inner.engine.cell
    }

    /// A handle of the installed global gate, if one runs: the way back to a
    /// gate started without keeping its handle (`start().await?;`), to shut
    /// it down, activate or subscribe.
    ///
    /// ```no_run
    /// # async fn at_exit() {
    /// if let Some(gate) = license_gate::LicenseGate::global() {
    ///     gate.shutdown().await;
    /// }
    /// # }
    /// # let _ = at_exit;
    /// ```
    pub fn global() -> Option<LicenseGate> {
        INSTALLED_GATE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Makes the process hold this (global) gate until it is shut down.
    pub(super) fn keep_installed(&self) {
        *INSTALLED_GATE.lock().unwrap_or_else(|e| e.into_inner()) = Some(self.clone());
    }

    /// The current state of every product.
    pub fn snapshot(&self) -> SharedSnapshot {
        self.cell().snapshot()
    }

    /// The current state of the default product.
    pub fn product_state(&self) -> ProductState {
        self.snapshot().products[0].clone()
    }

    /// The status of the default product as of now (an expiry instant that
    /// has passed reads as expired at once).
    pub fn status(&self) -> LicenseStatus {
        let now = self.cell().now();
        self.snapshot().products[0].effective_status(now)
    }

    /// Whether the default product's license includes `feature` now.
    ///
    /// Costs a few nanoseconds while the state is unchanged: each thread keeps
    /// what it last read of this gate until a change is published (expiry and
    /// end-of-grace instants are published at their instant).
    pub fn has_feature(&self, feature: &str) -> bool {
        callsite::with_cell_view(self.cell(), |view| view.has_feature(feature))
    }

    /// Checks that the default product's license includes `feature`; a denial
    /// says what was needed and allocates nothing.
    pub fn check_feature(&self, feature: &str) -> Result<(), LicenseError> {
        callsite::check_cell(
            self.cell(),
            |view| view.has_feature(feature),
            Ask::Feature(feature),
        )
    }

    /// Checks that `product` is licensed.
    pub fn check_product(&self, product: &str) -> Result<(), LicenseError> {
        callsite::check_cell(
            self.cell(),
            |view| view.has_product(product),
            Ask::Product(product),
        )
    }

    /// A receiver that sees every published snapshot.
    ///
    /// ```no_run
    /// # async fn demo(gate: license_gate::LicenseGate) {
    /// let mut changes = gate.subscribe();
    /// while changes.changed().await.is_ok() {
    ///     let snapshot = changes.borrow_and_update().clone();
    ///     println!("license is now {}", snapshot.products[0].status);
    /// }
    /// # }
    /// # let _ = demo;
    /// ```
    pub fn subscribe(&self) -> watch::Receiver<SharedSnapshot> {
        self.cell().subscribe()
    }

    /// Validates every product now, outside the heartbeat schedule, and
    /// returns the resulting snapshot. A gate that has stopped asks nobody
    /// and returns its (denying) state.
    pub async fn refresh(&self) -> SharedSnapshot {
        if self.ensure_running().is_err() {
            return self.snapshot();
        }
        self.inner.engine.refresh().await.snapshot
    }

    /// The index of the product whose license key `key` spells, in any
    /// spelling.
    #[cfg(feature = "webhooks")]
    pub(crate) fn product_with_key(&self, key: &str) -> Option<usize> {
        self.inner.engine.product_with_key(key)
    }

    /// Activates the license of the default product on this installation.
    pub async fn activate(&self) -> Result<SharedSnapshot, GateError> {
        self.ensure_running()?;
        self.inner.engine.activate(None).await
    }

    /// Activates the license of `product` on this installation.
    pub async fn activate_product(&self, product: &str) -> Result<SharedSnapshot, GateError> {
        self.ensure_running()?;
        self.inner.engine.activate(Some(product)).await
    }

    /// Releases this installation's activation of the default product (on
    /// uninstall), so the seat can be used elsewhere. The product reads as
    /// unlicensed afterwards and the cache is removed.
    pub async fn deactivate(&self) -> Result<(), GateError> {
        self.ensure_running()?;
        self.inner.engine.deactivate(None).await
    }

    /// Like [`LicenseGate::deactivate`] for `product`.
    pub async fn deactivate_product(&self, product: &str) -> Result<(), GateError> {
        self.ensure_running()?;
        self.inner.engine.deactivate(Some(product)).await
    }

    /// Makes gated code on this thread see this gate (for gates started with
    /// `.install_global(false)`, as parallel tests do).
    pub fn enter(&self) -> ScopeGuard {
        ScopeGuard::enter(self.cell().clone())
    }

    /// Makes gated code inside `future` see this gate, on whichever thread it runs.
    pub fn scope<F: Future>(&self, future: F) -> Scoped<F> {
        Scoped::new(self.cell().clone(), future)
    }

    /// Whether this gate is the global gate.
    pub fn is_global(&self) -> bool {
        self.inner.global
    }

    /// Stops the heartbeat, removes the gate from the global slot and waits for
    /// its task to end. Gated code denies afterwards (no gate is running), and
    /// so does what still holds this gate's state (a scope, a subscriber, a
    /// clone of the handle): every product reads
    /// `Unlicensed` with the reason [`GATE_SHUT_DOWN`](crate::GATE_SHUT_DOWN).
    pub async fn shutdown(self) {
        self.inner.engine.stop(GATE_SHUT_DOWN);
        self.inner.stop.send_replace(true);
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
        self.tear_down();
    }

    /// [`LicenseGate::shutdown`] for programs without an async runtime: stops
    /// the heartbeat, removes the global gate and ends the gate's own runtime.
    pub fn shutdown_blocking(self) {
        self.inner.engine.stop(GATE_SHUT_DOWN);
        self.inner.stop.send_replace(true);
        // Dropping the gate's own runtime (if any) ends the heartbeat task.
        self.tear_down();
    }

    /// Refuses calls to the server through a clone of a gate that has
    /// stopped (shut down, or its runtime gone).
    fn ensure_running(&self) -> Result<(), GateError> {
        if *self.inner.stop.borrow() || self.inner.engine.is_stopped() {
            return Err(GateError::ShutDown);
        }
        Ok(())
    }

    /// The one teardown: the global slot is freed and the gate's own runtime
    /// (if any) ends; the heartbeat has been told to stop.
    fn tear_down(&self) {
        let inner = &self.inner;
        if inner.global {
            global::uninstall(&inner.engine.cell);
            let kept = {
                let mut installed = INSTALLED_GATE.lock().unwrap_or_else(|e| e.into_inner());
                match &*installed {
                    Some(gate) if Arc::ptr_eq(&gate.inner, inner) => installed.take(),
                    _ => None,
                }
            };
            // Dropped outside the lock.
            drop(kept);
        }
        let own = inner
            .own_runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(own) = own {
            own.stop();
        }
        tracing::debug!("license gate shut down");
    }
}
