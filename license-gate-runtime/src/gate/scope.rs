//! Scoped views: a thread or an async task that sees a given state instead of
//! the installed gate (test overrides, non-global gates).

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
/// Made by `TestLicense::scope` and [`LicenseGate::scope`](crate::LicenseGate::scope).
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Scoped<F> {
    cell: Arc<StateCell>,
    _lease: OverrideLease,
    future: Pin<Box<F>>,
}

impl<F> Scoped<F> {
    pub(crate) fn new(cell: Arc<StateCell>, future: F) -> Self {
        Scoped {
            cell,
            _lease: OverrideLease::acquire(),
            future: Box::pin(future),
        }
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
        global::push_scope(this.cell.clone());
        let _pop = PopOnDrop(&this.cell);
        this.future.as_mut().poll(cx)
    }
}
