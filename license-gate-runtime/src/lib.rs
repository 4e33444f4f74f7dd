//! The runtime of [license-gate](https://docs.rs/license-gate): license state,
//! the gate, heartbeat and grace, and the providers.
//!
//! Applications use it through the `license-gate` crate, which re-exports
//! everything here next to the attribute macros.

#![doc(test(attr(deny(warnings))))]
#![warn(missing_docs)]

pub mod cache;
pub mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod gate;
mod grace;
pub mod hardware_id;
pub mod provider;
pub mod providers;
pub mod retry;
pub mod secret;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
/// Test helpers (`TestLicense`, `TestClock`): enable the `testing` cargo
/// feature, from `[dev-dependencies]` only
/// (`license-gate = { version = "0.1", features = ["testing"] }`), so no test
/// override can be compiled into a release build.
#[cfg(not(feature = "testing"))]
pub mod testing {}
pub mod time;
#[cfg(feature = "http")]
pub mod transport;
pub mod vendor_secret;

pub use error::{GateError, LicenseError, ProviderError};
pub use gate::{
    CHECK_STOPPED, CallSite, CurrentScope, Denied, LicenseGate, LicenseGateBuilder, Requirement,
    ScopeGuard, Scoped, check, check_feature, check_product, has_feature, snapshot, subscribe,
};
pub use provider::{LicenseAnswer, LicenseRequest, Provider};
pub use providers::mock;
pub use retry::RetryPolicy;
pub use secret::{LicenseKey, Secret};
pub use state::{GRACE_OVER, NOT_ACTIVATED};
pub use state::{LicenseSnapshot, LicenseStatus, ProductState, SeatUsage, SharedSnapshot, Source};
pub use vendor_secret::VendorSecret;
