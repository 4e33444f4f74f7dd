//! Put premium functions behind a license with one attribute, and keep the
//! license state right while the program runs.
//!
//! ```
//! use license_gate::{requires_feature, LicenseError, testing::TestLicense};
//!
//! #[derive(Debug, thiserror::Error)]
//! enum AppError {
//!     #[error(transparent)]
//!     License(#[from] LicenseError),
//! }
//!
//! #[requires_feature("pro")]
//! fn export_pdf(pages: u32) -> Result<Vec<u8>, AppError> {
//!     Ok(vec![0; pages as usize])
//! }
//!
//! let _license = TestLicense::product("Atlas Studio").features(["pro"]).scoped();
//! assert_eq!(export_pdf(2).unwrap().len(), 2);
//! ```
//!
//! ## Cargo features
//!
//! | feature | default | gives |
//! |---|:---:|---|
//! | `macros` | yes | the [`requires_feature`] and [`licensed`] attributes, [`embed_secret!`] |
//! | `exisone` | yes | [`providers::exisone`]: the ExisOne client, provider and offline codes |
//! | `ecosire` | yes | [`providers::ecosire`]: the ECOSIRE client and provider |
//! | `webhooks` | no | [`providers::ecosire::webhook`](providers::ecosire): a tower service for ECOSIRE webhooks that makes the gate validate at once (a nudge, never authority) |
//! | `aws-lc` | yes | TLS cryptography for rustls from aws-lc-rs |
//! | `ring` | no | TLS cryptography for rustls from ring (with `default-features = false`) |
//! | `testing` | no | `TestLicense`, `TestClock` and the mock provider, for tests |
//!
//! Tests of your own add the `testing` feature in `[dev-dependencies]`:
//!
//! ```toml
//! [dependencies]
//! license-gate = "0.1"
//! thiserror = "2"
//!
//! [dev-dependencies]
//! license-gate = { version = "0.1", features = ["testing"] }
//! license-gate-testkit = "0.1"
//! ```
//!
//! ## Where to go next
//!
//! The [`docs`] module holds the guide: [gating](docs::gating) functions,
//! [the ExisOne flow](docs::exisone_flow) from activation to deactivation,
//! [plain `fn main` programs](docs::plain_main), the
//! [lifecycle](docs::lifecycle) rules, [testing](docs::testing),
//! [providers](docs::providers) and [security](docs::security). Runnable
//! programs are in the repository's `examples/` folder.

#![doc(test(attr(deny(warnings))))]
#![warn(missing_docs)]
// On docs.rs, items behind a cargo feature carry a badge naming it.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod docs;

#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[doc(inline)]
pub use license_gate_macros::{declared_features, embed_secret, licensed, requires_feature};

#[doc(inline)]
pub use license_gate_runtime::{
    CHECK_STOPPED, CLOCK_SET_BACK, CacheLocation, Clock, ClockFloor, CurrentScope, Deadline,
    FeatureIter, Features, GATE_DROPPED, GATE_SHUT_DOWN, GRACE_OVER, GateError, LicenseAnswer,
    LicenseError, LicenseGate, LicenseGateBuilder, LicenseKey, LicenseRequest, LicenseSnapshot,
    LicenseStatus, NOT_ACTIVATED, Name, ProductState, Provider, ProviderError, RUNTIME_STOPPED,
    Required, RetryPolicy, ScopeGuard, Scoped, SeatUsage, Secret, SharedSnapshot, Source,
    SystemClock, VendorSecret, check_feature, check_product, has_feature, snapshot, subscribe,
    trusted_now,
};

// The function only: the runtime's module of the same name is not API.
#[doc(inline)]
pub use license_gate_runtime::hardware_id::hardware_id;

// The ExisOne SDK's hardware ID, for applications that move from an SDK.
#[doc(inline)]
pub use license_gate_runtime::exisone_sdk_hardware_id;

pub use license_gate_runtime::testing;

/// Many licensees in one server process: each user or tenant with its own
/// license key and machine identity, gated by the licensee in scope.
pub use license_gate_runtime::licensees;

/// HTTP services and licenses: the layer that gates each request by its
/// licensee, and denials as `application/problem+json` replies (cargo
/// feature `tower`).
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use license_gate_runtime::tower;

/// Replicas of one server sharing the checking through Redis.
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use license_gate_runtime::replicas;

/// The licensing services a gate can ask: ExisOne and ECOSIRE (each behind
/// its cargo feature), and the mock provider for tests (feature `testing`).
///
/// Any other service plugs in through the [`Provider`]
/// trait; the [providers guide](crate::docs::providers) shows how.
pub mod providers {
    /// The ExisOne client and provider (cargo feature `exisone`).
    #[cfg(feature = "exisone")]
    #[cfg_attr(docsrs, doc(cfg(feature = "exisone")))]
    pub use license_gate_runtime::providers::exisone;

    /// The ECOSIRE client and provider (cargo feature `ecosire`).
    #[cfg(feature = "ecosire")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ecosire")))]
    pub use license_gate_runtime::providers::ecosire;

    pub use license_gate_runtime::providers::mock;
}

/// Everything an application usually needs, for `use license_gate::prelude::*`.
pub mod prelude {
    pub use crate::{LicenseError, LicenseGate, LicenseStatus, check_feature, has_feature};
    #[cfg(feature = "macros")]
    pub use crate::{licensed, requires_feature};
}

/// The README's Rust code, compiled as doc tests so that it keeps compiling
/// as a user would paste it.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// Not public API: the items that code generated by `#[requires_feature]`,
/// `#[licensed]` and `embed_secret!` calls. Anything here may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    use core::future::Future;
    use core::pin::Pin;

    pub use license_gate_runtime::__private::{CallSite, Denied, Requirement};
    // What `embed_secret!` expands to.
    pub use license_gate_runtime::__private::{embedded_secret, read_share};
    pub use license_gate_runtime::LicenseError;

    /// Checks a call site; the generated code calls this first thing. A
    /// denial's error is built by [`Deny::deny`], where it is returned.
    #[inline(always)]
    pub fn check(site: &'static CallSite) -> ::core::result::Result<(), Denied> {
        site.decide()
    }

    /// Not public API: what a denied call of a gated function returns.
    ///
    /// The type system, not the spelling of the return type, decides which
    /// functions can be gated without a fallback: aliases (`io::Result<T>`,
    /// `AppResult<T>`) and associated types resolve to an implementation here.
    #[diagnostic::on_unimplemented(
        message = "a gated function cannot return `{Self}` when access is denied",
        label = "a denied call has no `{Self}` to return",
        note = "return `Result<T, E>` with `E: From<LicenseError>` (any alias of it works), or a boxed future of one",
        note = "or name a function to call instead when access is denied, with the same arguments and return type: `#[requires_feature(\"pro\", fallback = basic_version)]`"
    )]
    pub trait Deny: Sized {
        /// The value a denied call returns.
        fn deny(denied: Denied) -> Self;
    }

    impl<T, E: From<LicenseError>> Deny for ::core::result::Result<T, E> {
        #[inline]
        fn deny(denied: Denied) -> Self {
            Err(E::from(denied.error()))
        }
    }

    impl<'a, R: Deny + Send + 'a> Deny for Pin<Box<dyn Future<Output = R> + Send + 'a>> {
        fn deny(denied: Denied) -> Self {
            Box::pin(::core::future::ready(R::deny(denied)))
        }
    }

    impl<'a, R: Deny + 'a> Deny for Pin<Box<dyn Future<Output = R> + 'a>> {
        fn deny(denied: Denied) -> Self {
            Box::pin(::core::future::ready(R::deny(denied)))
        }
    }

    /// Whether `name` is one of `declared`, at compile time (feature names
    /// given as constants are checked against the manifest's list).
    pub const fn is_declared(name: &str, declared: &[&str]) -> bool {
        let mut i = 0;
        while i < declared.len() {
            if eq(name.as_bytes(), declared[i].as_bytes()) {
                return true;
            }
            i += 1;
        }
        false
    }

    const fn eq(a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
}
