//! The process-wide view the gated call sites read: the installed gate, the
//! scoped overrides of tests, and the epoch that invalidates call-site caches.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwapOption;

use super::cell::StateCell;
use super::epoch;

/// The gate installed by `LicenseGate::start`.
static INSTALLED: ArcSwapOption<StateCell> = ArcSwapOption::const_empty();

/// How many scoped overrides are alive, on any thread.
static LIVE_OVERRIDES: Mutex<usize> = Mutex::new(0);

thread_local! {
    /// The overrides in scope on this thread, innermost last.
    static SCOPES: RefCell<Vec<Arc<StateCell>>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn install(cell: Arc<StateCell>) -> bool {
    let previous = INSTALLED.compare_and_swap(&None::<Arc<StateCell>>, Some(cell));
    let installed = previous.is_none();
    if installed {
        epoch::advance();
    }
    installed
}

/// Removes `cell` if it is the installed gate.
pub(crate) fn uninstall(cell: &Arc<StateCell>) {
    let current = INSTALLED.load_full();
    if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, cell)) {
        INSTALLED.compare_and_swap(&current, None);
        epoch::advance();
    }
}

pub(crate) fn installed() -> Option<Arc<StateCell>> {
    INSTALLED.load_full()
}

/// Runs `f` with the state this thread sees: its innermost override, else the
/// installed gate, else `None`.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&StateCell>) -> R) -> R {
    let scoped = SCOPES.with(|s| s.borrow().last().cloned());
    match scoped {
        Some(cell) => f(Some(&cell)),
        None => {
            let installed = INSTALLED.load();
            f(installed.as_deref())
        }
    }
}

fn count_override(delta: isize) {
    let mut live = LIVE_OVERRIDES.lock().unwrap_or_else(|e| e.into_inner());
    *live = live.saturating_add_signed(delta);
    if *live > 0 {
        epoch::raise_override_flag();
    } else {
        epoch::lower_override_flag();
    }
}

/// This thread's innermost override, if any (to carry into work it starts).
pub(crate) fn innermost_scope() -> Option<Arc<StateCell>> {
    SCOPES.with(|s| s.borrow().last().cloned())
}

/// The address of this thread's innermost override, if any: what a view
/// kept for it is keyed by (no reference count touched).
#[inline]
pub(crate) fn innermost_scope_address() -> Option<usize> {
    SCOPES
        .try_with(|s| {
            s.try_borrow()
                .ok()?
                .last()
                .map(|cell| Arc::as_ptr(cell) as usize)
        })
        .ok()
        .flatten()
}

/// Makes `cell` the state this thread sees until [`pop_scope`].
pub(crate) fn push_scope(cell: Arc<StateCell>) {
    SCOPES.with(|s| s.borrow_mut().push(cell));
}

/// Removes `cell` from this thread's scopes (the innermost match).
pub(crate) fn pop_scope(cell: &Arc<StateCell>) {
    SCOPES.with(|s| {
        let mut scopes = s.borrow_mut();
        if let Some(at) = scopes.iter().rposition(|c| Arc::ptr_eq(c, cell)) {
            scopes.remove(at);
        }
    });
}

/// Keeps the override flag raised while it lives.
#[derive(Debug)]
pub(crate) struct OverrideLease(());

impl OverrideLease {
    pub(crate) fn acquire() -> Self {
        count_override(1);
        OverrideLease(())
    }
}

impl Drop for OverrideLease {
    fn drop(&mut self) {
        count_override(-1);
    }
}
