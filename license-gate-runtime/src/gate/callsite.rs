//! The hot path: one gated call site and its cached answer, and the
//! per-thread view of the state behind `has_feature`, `check_feature` and
//! `check_product`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::thread::LocalKey;
use std::time::SystemTime;

use super::cell::StateCell;
use super::epoch;
use super::global;
use crate::error::{Features, LicenseError, Name, Required};
use crate::state::{LicenseStatus, ProductState, SharedSnapshot};

/// What a call site needs from the license.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement<'a> {
    /// Only that the product is licensed (`#[licensed]`).
    Licensed,
    /// Every one of these features (`#[requires_feature("a", "b")]`).
    All(&'a [&'a str]),
    /// At least one of these features (`#[requires_feature(any("a", "b"))]`).
    Any(&'a [&'a str]),
}

impl Requirement<'static> {
    /// The requirement as a denial carries it (no copy).
    pub fn to_required(self) -> Required {
        match self {
            Requirement::Licensed => Required::license(),
            Requirement::All(features) => Required::all_of(features),
            Requirement::Any(features) => Required::any_of(features),
        }
    }
}

/// One gated call site: its requirement and its cached answer.
///
/// The attribute macros put one of these in a `static` inside each gated
/// function. [`CallSite::check`] costs one atomic load and one compare while
/// the license state is unchanged: the site remembers the epoch at which it was
/// last allowed, and any published change moves the epoch.
///
/// ```
/// use license_gate::__private::{CallSite, Requirement};
/// static SITE: CallSite = CallSite::new(None, Requirement::All(&["pro"]));
/// // No gate is running here, so the call is denied with a helpful error.
/// assert!(SITE.check().is_err());
/// ```
#[derive(Debug)]
pub struct CallSite {
    product: Option<&'static str>,
    requirement: Requirement<'static>,
    allowed_at: AtomicU64,
}

impl CallSite {
    /// A call site for `product` (`None`: the default product).
    pub const fn new(product: Option<&'static str>, requirement: Requirement<'static>) -> Self {
        CallSite {
            product,
            requirement,
            allowed_at: AtomicU64::new(0),
        }
    }

    /// Whether the license allows this call now.
    #[inline(always)]
    pub fn check(&self) -> Result<(), LicenseError> {
        if self.allowed_at.load(Ordering::Relaxed) == epoch::current() {
            Ok(())
        } else {
            self.check_slow()
        }
    }

    #[cold]
    #[inline(never)]
    fn check_slow(&self) -> Result<(), LicenseError> {
        // The view was read at `epoch`: a change published after that read
        // moves the epoch again, so a stale answer is never cached as current.
        let (result, epoch, cacheable) = with_current_view(|view| view.check(self.ask()));
        if result.is_ok() && cacheable && epoch & 1 == 0 {
            self.allowed_at.store(epoch, Ordering::Relaxed);
        }
        result
    }

    /// Whether the license allows this call now, as [`CallSite::check`]
    /// decides, without building the error of a denial: a [`Denied`] is two
    /// words, returned in registers, and [`Denied::error`] builds the error
    /// once, where the caller returns it. Gated functions call this.
    #[inline(always)]
    pub fn decide(&'static self) -> Result<(), Denied> {
        if self.allowed_at.load(Ordering::Relaxed) == epoch::current() {
            Ok(())
        } else {
            self.decide_slow()
        }
    }

    #[cold]
    #[inline(never)]
    fn decide_slow(&'static self) -> Result<(), Denied> {
        let (allowed, epoch, cacheable) = with_current_view(|view| view.allows(self.ask()));
        if !allowed {
            return Err(Denied { site: self, epoch });
        }
        if cacheable && epoch & 1 == 0 {
            self.allowed_at.store(epoch, Ordering::Relaxed);
        }
        Ok(())
    }

    fn ask(&self) -> Ask<'static> {
        Ask::Site {
            product: self.product,
            requirement: self.requirement,
        }
    }

    /// The requirement of this site.
    pub fn requirement(&self) -> Requirement<'static> {
        self.requirement
    }
}

/// A call that [`CallSite::decide`] denied, before its [`LicenseError`] is
/// built.
///
/// The error says what the call needed and where the license stands: about a
/// hundred bytes that a denied call would otherwise copy through every layer
/// between the decision and the caller. This is two words instead, and
/// [`Denied::error`] builds the error where it is returned.
#[derive(Clone, Copy, Debug)]
pub struct Denied {
    site: &'static CallSite,
    /// The epoch of the state that denied the call.
    epoch: u64,
}

impl Denied {
    /// The error of this denial, from the state that denied the call.
    ///
    /// The state is this thread's view of it, still the one that decided
    /// unless a change was published in between; a call decided against a
    /// state that changed to allow it meanwhile is denied as still pending
    /// (calling again runs it).
    #[cold]
    #[inline(never)]
    pub fn error(self) -> LicenseError {
        // A denial repeated on an unchanged state is cloned from the one this
        // thread built first, straight into the value returned: building it
        // field by field and then moving it costs several times more.
        let scoped = global::innermost_scope_address();
        let slot = if scoped.is_some() { &SCOPED } else { &CURRENT };
        let view = slot.try_with(|slot| slot.try_borrow().ok()?.clone());
        if let Ok(Some(view)) = view
            && scoped.is_none_or(|address| view.cell == address)
            && let Some(error) = view.kept_denial(self.site, self.epoch)
        {
            return LicenseError::clone(&error);
        }
        self.build()
    }

    fn build(self) -> LicenseError {
        let ask = self.site.ask();
        let (result, epoch, _) = with_current_view(|view| {
            let result = view.check(ask);
            if let Err(error) = &result {
                view.keep_denial(self.site, error);
            }
            result
        });
        match result {
            Err(error) => error,
            Ok(()) => {
                debug_assert_ne!(epoch, self.epoch, "one state both denied and allowed");
                LicenseError::NotLicensed {
                    product: ask
                        .product_name()
                        .unwrap_or(Name::from_static("this application")),
                    required: ask.required(),
                    status: LicenseStatus::Pending,
                }
            }
        }
    }
}

/// What one check asks for, and how its denial names it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ask<'a> {
    /// A gated call site (or [`super::check`]): names are `&'static`.
    Site {
        product: Option<&'static str>,
        requirement: Requirement<'static>,
    },
    /// One feature of the default product (`check_feature`).
    Feature(&'a str),
    /// A licensed product (`check_product`).
    Product(&'a str),
}

impl Ask<'_> {
    fn product(&self) -> Option<&str> {
        match self {
            Ask::Site { product, .. } => *product,
            Ask::Feature(_) => None,
            Ask::Product(product) => Some(product),
        }
    }

    fn requirement(&self) -> Requirement<'_> {
        match self {
            Ask::Site { requirement, .. } => *requirement,
            Ask::Feature(feature) => Requirement::All(std::slice::from_ref(feature)),
            Ask::Product(_) => Requirement::Licensed,
        }
    }

    fn required(&self) -> Required {
        match self {
            Ask::Site { requirement, .. } => requirement.to_required(),
            Ask::Feature(feature) => Required::feature(*feature),
            Ask::Product(_) => Required::license(),
        }
    }

    /// The feature at `at` in the requirement's list, as a denial names it.
    fn missing(&self, at: usize) -> Features {
        match self {
            Ask::Site {
                requirement: Requirement::All(features) | Requirement::Any(features),
                ..
            } => features
                .get(at..=at)
                .map_or(Features::none(), Features::from_static),
            _ => Features::none(),
        }
    }

    /// The product the call named, as a denial names it.
    fn product_name(&self) -> Option<Name> {
        match self {
            Ask::Site { product, .. } => product.map(Name::from_static),
            Ask::Feature(_) => None,
            Ask::Product(product) => Some(Name::new(product)),
        }
    }
}

/// The reason of a denial when the state holds no product at all (shared, so
/// a denial copies no string).
static NO_LICENSE: LazyLock<Arc<str>> = LazyLock::new(|| "no license is present".into());

/// How many call sites' denials a view keeps.
const KEPT_DENIALS: usize = 4;

/// The denials a view keeps, in place (keeping one allocates nothing).
#[derive(Debug, Default)]
struct Denials {
    slots: [Option<(usize, LicenseError)>; KEPT_DENIALS],
    /// The slot the next denial goes into.
    next: usize,
}

/// What one thread read of a gate's state, and when.
///
/// Reading the state (an `arc-swap` load, trusted time) costs tens of
/// nanoseconds and writes to memory other threads read; a thread keeps what it
/// read until the epoch moves, so a check on an unchanged state reads only
/// thread-local memory and the epoch.
#[derive(Debug)]
pub(crate) struct View {
    epoch: u64,
    /// The address of the cell read (0: none). A view holds no reference to
    /// the cell, so a gate that shuts down is dropped at once; an address can
    /// only be reused by a new cell, and building one publishes (moving the
    /// epoch) before anyone can check against it.
    cell: usize,
    /// `None`: no gate.
    snapshot: Option<SharedSnapshot>,
    /// Product names ready to put in a denial without allocating.
    names: Vec<Name>,
    /// `Some(now)`: a deadline (expiry, end of grace) had passed when the
    /// state was read but the change was not yet published, so the view
    /// decides as of `now` and is not kept. `None`: no deadline had passed, and
    /// the next one moves the epoch when the gate publishes it.
    now: Option<SystemTime>,
    /// The last denials of call sites built from this view, by the site's
    /// address (the oldest replaced first): a call denied again is copied
    /// from its denial.
    denials: RefCell<Denials>,
}

impl View {
    /// Reads `cell`'s state as of `epoch` (read by the caller before this).
    fn read(cell: Option<&StateCell>, epoch: u64, keep: bool) -> View {
        let Some(cell) = cell else {
            return View {
                epoch,
                cell: 0,
                snapshot: None,
                names: Vec::new(),
                now: None,
                denials: RefCell::new(Denials::default()),
            };
        };
        let now = cell.now();
        let snapshot = cell.snapshot();
        let stale = snapshot.next_deadline().is_some_and(|at| now >= at);
        let names = if keep && !stale {
            snapshot
                .products
                .iter()
                .map(|p| Name::new(&p.product))
                .collect()
        } else {
            Vec::new()
        };
        View {
            epoch,
            cell: std::ptr::from_ref(cell) as usize,
            snapshot: Some(snapshot),
            names,
            now: stale.then_some(now),
            denials: RefCell::new(Denials::default()),
        }
    }

    /// The denial kept for `site` decided at `epoch`, if this view decided it.
    #[inline]
    fn kept_denial(
        &self,
        site: &'static CallSite,
        epoch: u64,
    ) -> Option<std::cell::Ref<'_, LicenseError>> {
        if self.epoch != epoch {
            return None;
        }
        let address = std::ptr::from_ref(site) as usize;
        let kept = self.denials.try_borrow().ok()?;
        std::cell::Ref::filter_map(kept, |kept| {
            kept.slots.iter().find_map(|slot| match slot {
                Some((at, error)) if *at == address => Some(error),
                _ => None,
            })
        })
        .ok()
    }

    /// Keeps `error` as the denial of `site` (only a view kept until the
    /// epoch moves is asked again).
    fn keep_denial(&self, site: &'static CallSite, error: &LicenseError) {
        if self.keepable()
            && let Ok(mut kept) = self.denials.try_borrow_mut()
        {
            let next = kept.next;
            kept.next = (next + 1) % KEPT_DENIALS;
            kept.slots[next] = Some((std::ptr::from_ref(site) as usize, error.clone()));
        }
    }

    /// Whether this view may answer until the epoch moves.
    fn keepable(&self) -> bool {
        self.now.is_none()
    }

    fn state(&self, product: Option<&str>) -> Option<(usize, &ProductState)> {
        let products = &self.snapshot.as_ref()?.products;
        match product {
            None => products.first().map(|p| (0, p)),
            Some(name) => products.iter().enumerate().find(|(_, p)| p.product == name),
        }
    }

    /// Whether `p` grants access as of this view, without building a status.
    fn grants(&self, p: &ProductState) -> bool {
        if !p.status.grants_access() {
            return false;
        }
        let Some(now) = self.now else {
            return true;
        };
        let grace_over = matches!(p.status, LicenseStatus::Grace { until } if now >= until);
        !grace_over && p.expires_at.is_none_or(|at| now < at)
    }

    fn status(&self, p: &ProductState) -> LicenseStatus {
        match self.now {
            Some(now) => p.effective_status(now),
            None => p.status.clone(),
        }
    }

    fn name(&self, at: usize, p: &ProductState) -> Name {
        match self.names.get(at) {
            Some(name) => name.clone(),
            None => Name::new(&p.product),
        }
    }

    /// Whether the default product's license includes `feature` (no error built).
    pub(crate) fn has_feature(&self, feature: &str) -> bool {
        self.state(None)
            .is_some_and(|(_, p)| self.grants(p) && p.features.contains(feature))
    }

    /// Whether `ask` is allowed, as [`View::check`] decides, without building
    /// a denial.
    #[inline]
    pub(crate) fn allows(&self, ask: Ask<'_>) -> bool {
        let Some((_, state)) = self.state(ask.product()) else {
            return false;
        };
        if !self.grants(state) {
            return false;
        }
        match ask.requirement() {
            Requirement::Licensed => true,
            Requirement::All(features) => features.iter().all(|f| state.features.contains(*f)),
            Requirement::Any(features) => features.iter().any(|f| state.features.contains(*f)),
        }
    }

    /// Whether `product` is licensed as of this view (no error built).
    pub(crate) fn has_product(&self, product: &str) -> bool {
        self.state(Some(product))
            .is_some_and(|(_, p)| self.grants(p))
    }

    /// Decides `ask`; a denial names what was asked and allocates nothing
    /// (names are static, inline or shared; reasons are shared).
    pub(crate) fn check(&self, ask: Ask<'_>) -> Result<(), LicenseError> {
        let Some(snapshot) = &self.snapshot else {
            return Err(LicenseError::NoGate {
                product: ask.product_name(),
                required: ask.required(),
            });
        };
        let Some((at, state)) = self.state(ask.product()) else {
            return Err(match ask.product_name() {
                Some(product) if !snapshot.products.is_empty() => LicenseError::UnknownProduct {
                    product,
                    required: ask.required(),
                },
                product => LicenseError::NotLicensed {
                    product: product.unwrap_or(Name::from_static("this application")),
                    required: ask.required(),
                    status: LicenseStatus::Unlicensed {
                        reason: NO_LICENSE.clone(),
                    },
                },
            });
        };
        if !self.grants(state) {
            return Err(LicenseError::NotLicensed {
                product: self.name(at, state),
                required: ask.required(),
                status: self.status(state),
            });
        }
        let missing_at = match ask.requirement() {
            Requirement::Licensed => return Ok(()),
            Requirement::All(features) => {
                match features.iter().position(|f| !state.features.contains(*f)) {
                    Some(at) => Some(at),
                    None => return Ok(()),
                }
            }
            Requirement::Any(features) => {
                if features.iter().any(|f| state.features.contains(*f)) {
                    return Ok(());
                }
                None
            }
        };
        let required = ask.required();
        let missing = match (missing_at, ask) {
            (Some(at), Ask::Site { .. }) => ask.missing(at),
            // One feature, or every alternative of `any(..)`: the whole list,
            // shared with `required` rather than copied again.
            _ => required.features().clone(),
        };
        Err(LicenseError::MissingFeature {
            product: self.name(at, state),
            missing,
            required,
            status: self.status(state),
        })
    }
}

thread_local! {
    /// This thread's view of the gate it sees (the global gate; a scope's
    /// state is never kept).
    static CURRENT: RefCell<Option<Rc<View>>> = const { RefCell::new(None) };
    /// This thread's view of the last gate it checked through a
    /// `LicenseGate` handle.
    static HANDLE: RefCell<Option<Rc<View>>> = const { RefCell::new(None) };
    /// This thread's view of the last scope it checked in (a licensee's or
    /// a test's), kept by the scope's address until the epoch moves: a
    /// server's gated calls inside one licensee's scope read only
    /// thread-local memory and the epoch.
    static SCOPED: RefCell<Option<Rc<View>>> = const { RefCell::new(None) };
}

/// Runs `f` on this thread's view of `slot`'s gate, reading the state again
/// when the epoch (or the cell, `cell != 0`) has changed. Returns the answer,
/// the epoch the view was read at and whether the view may be kept.
#[inline]
fn with_view<R>(
    slot: &'static LocalKey<RefCell<Option<Rc<View>>>>,
    cell: usize,
    keep_odd: bool,
    read: impl Fn(u64, bool) -> View,
    f: impl Fn(&View) -> R,
) -> (R, u64, bool) {
    let epoch = epoch::current();
    // An odd epoch means a test scope lives somewhere: the state this thread
    // sees may differ per thread and per task, so it is read on every call.
    if keep_odd || epoch & 1 == 0 {
        let kept = slot.try_with(|slot| {
            let mut slot = slot.try_borrow_mut().ok()?;
            let hit = slot
                .as_ref()
                .is_some_and(|v| v.epoch == epoch && (cell == 0 || v.cell == cell));
            if !hit {
                let view = read(epoch, true);
                if !view.keepable() {
                    return Some((f(&view), false));
                }
                *slot = Some(Rc::new(view));
            }
            slot.as_ref().map(|view| (f(view), true))
        });
        if let Ok(Some((answer, kept))) = kept {
            return (answer, epoch, kept);
        }
    }
    // Not kept (a scope lives, or the thread is ending): read and decide once.
    let view = read(epoch, false);
    (f(&view), epoch, false)
}

/// Runs `f` on this thread's view of the gate it sees (a test scope, else the
/// global gate).
#[inline]
pub(crate) fn with_current_view<R>(f: impl Fn(&View) -> R) -> (R, u64, bool) {
    match global::innermost_scope_address() {
        // In a scope: the view is kept by the scope's address, so it stays
        // good while the epoch is odd (a scope lives: this one). A cell's
        // address is reused only by a new cell, and making one moves the
        // epoch.
        Some(address) => with_view(
            &SCOPED,
            address,
            true,
            |epoch, keep| global::with_current(|cell| View::read(cell, epoch, keep)),
            f,
        ),
        None => with_view(
            &CURRENT,
            0,
            false,
            |epoch, keep| global::with_current(|cell| View::read(cell, epoch, keep)),
            f,
        ),
    }
}

/// Runs `f` on this thread's view of `cell` (a gate's own state).
#[inline]
pub(crate) fn with_cell_view<R>(cell: &StateCell, f: impl Fn(&View) -> R) -> R {
    let address = std::ptr::from_ref(cell) as usize;
    with_view(
        &HANDLE,
        address,
        true,
        |epoch, keep| View::read(Some(cell), epoch, keep),
        f,
    )
    .0
}

/// Checks `ask` against this thread's view of the gate it sees: decided by
/// `allows` (which answers as [`View::check`] would, without building an
/// error), the error built only for a denial.
#[inline]
pub(crate) fn check_current(
    allows: impl Fn(&View) -> bool,
    ask: Ask<'_>,
) -> Result<(), LicenseError> {
    if with_current_view(allows).0 {
        Ok(())
    } else {
        check_current_denied(ask)
    }
}

/// The answer of a check that was denied, error and all (decided again: a
/// change published in between gives the newer answer).
#[cold]
#[inline(never)]
fn check_current_denied(ask: Ask<'_>) -> Result<(), LicenseError> {
    with_current_view(|view| view.check(ask)).0
}

/// Checks `ask` against this thread's view of `cell`, as [`check_current`].
#[inline]
pub(crate) fn check_cell(
    cell: &StateCell,
    allows: impl Fn(&View) -> bool,
    ask: Ask<'_>,
) -> Result<(), LicenseError> {
    if with_cell_view(cell, allows) {
        Ok(())
    } else {
        check_cell_denied(cell, ask)
    }
}

#[cold]
#[inline(never)]
fn check_cell_denied(cell: &StateCell, ask: Ask<'_>) -> Result<(), LicenseError> {
    with_cell_view(cell, |view| view.check(ask))
}
