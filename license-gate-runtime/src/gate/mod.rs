//! The gate: the running license state of an application and the checks
//! against it.

mod builder;
pub(crate) mod callsite;
pub(crate) mod cell;
pub(crate) mod config;
pub(crate) mod engine;
mod epoch;
pub(crate) mod global;
mod handle;
mod own_runtime;
pub(crate) mod scope;

use tokio::sync::watch;

pub use builder::LicenseGateBuilder;
use callsite::Ask;
pub use callsite::{CallSite, Denied, Requirement};
pub use engine::{CHECK_STOPPED, GATE_DROPPED, GATE_SHUT_DOWN, RUNTIME_STOPPED};
pub use handle::LicenseGate;
pub use scope::{CurrentScope, ScopeGuard, Scoped};

use crate::error::LicenseError;
use crate::state::SharedSnapshot;
use cell::StateCell;

/// Checks that the default product's license includes `feature`, against the
/// gate this thread sees (a test scope, else the global gate).
///
/// For code that cannot carry an attribute: menus, UI state, command routing.
/// Costs a few nanoseconds while the state is unchanged, and a denial, which
/// names the feature, allocates nothing.
///
/// ```
/// use license_gate::{check_feature, testing::TestLicense};
/// let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
/// assert!(check_feature("pro").is_ok());
/// let denied = check_feature("team").unwrap_err();
/// assert_eq!(denied.required_features().collect::<Vec<_>>(), ["team"]);
/// ```
pub fn check_feature(feature: &str) -> Result<(), LicenseError> {
    callsite::check_current(|view| view.has_feature(feature), Ask::Feature(feature))
}

/// Whether the default product's license includes `feature` now.
///
/// Answers without building an error, from what this thread last read of the
/// state while no change has been published (a few nanoseconds; expiry and
/// end-of-grace instants are published at their instant).
///
/// ```
/// use license_gate::{has_feature, testing::TestLicense};
/// let _license = TestLicense::unlicensed().scoped();
/// assert!(!has_feature("pro"));
/// ```
pub fn has_feature(feature: &str) -> bool {
    callsite::with_current_view(|view| view.has_feature(feature)).0
}

/// Checks that `product` is licensed (any features).
pub fn check_product(product: &str) -> Result<(), LicenseError> {
    callsite::check_current(|view| view.has_product(product), Ask::Product(product))
}

/// The snapshot this thread sees (a test scope, else the global gate), or
/// `None` when no gate runs.
pub fn snapshot() -> Option<SharedSnapshot> {
    global::with_current(|cell| cell.map(StateCell::snapshot))
}

/// Subscribes to the changes of the global gate, or `None` when none runs.
pub fn subscribe() -> Option<watch::Receiver<SharedSnapshot>> {
    global::installed().map(|cell| cell.subscribe())
}
