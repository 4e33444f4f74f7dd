//! Scoped views: a thread or an async task that sees a given state instead of
//! the installed gate (test overrides, non-global gates), and the way to carry
//! one into work started elsewhere.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::cell::StateCell;
use super::global::{self, OverrideLease};

/// While it lives, gated code on this thread sees the state it was made for.
///
/// Made by `TestLicense::scoped` and [`LicenseGate::enter`](crate::LicenseGate::enter).
/// It is not `Send`: the scope belongs to the thread that made it. For an async
/// task that may move between threads, use the `scope(future)` forms instead.
#[must_use = "the scope ends when the guard is dropped; bind it with `let _guard = ...`"]
#[derive(Debug)]
pub struct ScopeGuard {
    cell: Arc<StateCell>,
    _lease: OverrideLease,
    _not_send: PhantomData<*const ()>,
}

impl ScopeGuard {
    pub(crate) fn enter(cell: Arc<StateCell>) -> Self {
        let lease = OverrideLease::acquire();
        global::push_scope(cell.clone());
        ScopeGuard {
            cell,
            _lease: lease,
            _not_send: PhantomData,
        }
    }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        global::pop_scope(&self.cell);
    }
}

/// A future that sees a given state on every poll, whichever thread polls it.
///
/// Made by `TestLicense::scope`, [`LicenseGate::scope`](crate::LicenseGate::scope)
/// and [`CurrentScope::scope`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Scoped<F> {
    /// `None`: no override to carry, the future sees what its thread sees.
    cell: Option<(Arc<StateCell>, OverrideLease)>,
    future: Pin<Box<F>>,
}

impl<F> Scoped<F> {
    pub(crate) fn new(cell: Arc<StateCell>, future: F) -> Self {
        Scoped {
            cell: Some((cell, OverrideLease::acquire())),
            future: Box::pin(future),
        }
    }

    fn unscoped(future: F) -> Self {
        Scoped {
            cell: None,
            future: Box::pin(future),
        }
    }
}

/// The scope this thread or task sees now, captured to carry into work it
/// starts elsewhere.
///
/// A test license (`TestLicense::scoped`, `TestLicense::scope`: the
/// [`testing`](crate::testing) helpers) or an entered
/// gate is seen only by the thread or task that scoped it: a task started with
/// `tokio::spawn`, or a closure run by `spawn_blocking` or `std::thread::spawn`,
/// runs elsewhere and sees the global gate instead. Code that starts such work
/// captures the scope where it starts it and carries it along, as
/// `tracing` code carries a span with `in_current_span`:
///
/// ```
/// use license_gate::{CurrentScope, LicenseError, check_feature, testing::TestLicense};
///
/// async fn export_all() -> Result<(), LicenseError> {
///     let scope = CurrentScope::capture();
///     let task = tokio::spawn(scope.scope(async { check_feature("pro") }));
///     let blocking = tokio::task::spawn_blocking({
///         let scope = scope.clone();
///         move || scope.run(|| check_feature("pro"))
///     });
///     task.await.expect("task")?;
///     blocking.await.expect("blocking task")
/// }
///
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() {
/// let license = TestLicense::product("Atlas").features(["pro"]);
/// assert!(license.scope(export_all()).await.is_ok());
/// # }
/// ```
///
/// Outside any scope (in production, with the global gate), capturing finds
/// nothing and carrying costs nothing: the work sees the global gate as it
/// would anyway.
#[derive(Clone, Debug)]
pub struct CurrentScope {
    cell: Option<Arc<StateCell>>,
}

impl CurrentScope {
    /// The scope gated code on this thread (or in this task) sees now.
    pub fn capture() -> Self {
        CurrentScope {
            cell: global::innermost_scope(),
        }
    }

    /// Whether a scope was captured (`false`: the global gate is in force).
    pub fn is_scoped(&self) -> bool {
        self.cell.is_some()
    }

    /// `future`, seeing the captured scope on every poll, on whichever thread
    /// polls it: pass it to `tokio::spawn`.
    pub fn scope<F: Future>(&self, future: F) -> Scoped<F> {
        match &self.cell {
            Some(cell) => Scoped::new(cell.clone(), future),
            None => Scoped::unscoped(future),
        }
    }

    /// Runs `f` on this thread seeing the captured scope: call it inside a
    /// `spawn_blocking` or `std::thread::spawn` closure.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.cell.clone().map(ScopeGuard::enter);
        f()
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // Pops on unwind too, so a panicking test leaves no stale scope behind.
        struct PopOnDrop<'a>(&'a Arc<StateCell>);
        impl Drop for PopOnDrop<'_> {
            fn drop(&mut self) {
                global::pop_scope(self.0);
            }
        }
        let this = &mut *self;
        let Some((cell, _)) = &this.cell else {
            return this.future.as_mut().poll(cx);
        };
        global::push_scope(cell.clone());
        let _pop = PopOnDrop(cell);
        this.future.as_mut().poll(cx)
    }
}
