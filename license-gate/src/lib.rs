//! Put premium functions behind a license with one attribute, and keep the
//! license state right while the program runs.
//!
//! A gated function and a running gate that answers for it. Here the mock
//! provider plays the licensing service, so this runs with no server, no key
//! and no network (as `cargo run --example quickstart` in the repository
//! does); an application starts the gate with the [ExisOne][exisone]
//! or [ECOSIRE][ecosire] provider instead, the same way.
//!
//! ```
//! use license_gate::providers::mock::MockProvider;
//! use license_gate::{LicenseError, LicenseGate, requires_feature};
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
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The mock plays the service; `service` changes its answers.
//!     let (provider, service) = MockProvider::licensed(["pro"]);
//!     let gate = LicenseGate::builder()
//!         .product("Atlas Studio")
//!         .provider(provider)
//!         .license_key("DEMO-A1B2-C3D4-E5F6")
//!         .no_cache()
//!         .start()
//!         .await?;
//!     assert_eq!(export_pdf(2)?.len(), 2);
//!
//!     service.revoke(); // the vendor revokes the license
//!     gate.refresh().await; // the next heartbeat, now
//!     let denied = export_pdf(2).unwrap_err();
//!     println!("{denied}"); // "Atlas Studio is not licensed (license revoked): ..."
//!
//!     gate.shutdown().await;
//!     Ok(())
//! }
//! ```
//!
//! The mock provider and the test helpers come with the `testing` feature,
//! which tests turn on in `[dev-dependencies]`. A unit test sets the license
//! its own thread sees, with no gate running:
//!
//! ```
//! # use license_gate::{requires_feature, LicenseError};
//! # #[derive(Debug, thiserror::Error)]
//! # enum AppError {
//! #     #[error(transparent)]
//! #     License(#[from] LicenseError),
//! # }
//! # #[requires_feature("pro")]
//! # fn export_pdf(pages: u32) -> Result<Vec<u8>, AppError> {
//! #     Ok(vec![0; pages as usize])
//! # }
//! use license_gate::testing::TestLicense;
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
//! | `exisone` | yes | [`providers::exisone`][exisone]: the ExisOne client, provider and offline codes |
//! | `ecosire` | yes | [`providers::ecosire`][ecosire]: the ECOSIRE client and provider |
//! | `webhooks` | no | [`providers::ecosire::webhook`][ecosire]: a tower service for ECOSIRE webhooks that makes the gate validate at once (a nudge, never authority) |
//! | `aws-lc` | yes | TLS cryptography for rustls from aws-lc-rs, with post-quantum key exchange |
//! | `ring` | no | TLS cryptography for rustls from ring: a smaller build, no post-quantum key exchange (with `default-features = false`) |
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
//!
// The providers' pages exist with their cargo features; docs built without
// one link to the `providers` page, which names the features.
#![cfg_attr(feature = "exisone", doc = "[exisone]: providers::exisone")]
#![cfg_attr(not(feature = "exisone"), doc = "[exisone]: providers")]
#![cfg_attr(feature = "ecosire", doc = "[ecosire]: providers::ecosire")]
#![cfg_attr(not(feature = "ecosire"), doc = "[ecosire]: providers")]
#![doc(test(attr(deny(warnings))))]
#![warn(missing_docs)]
// On docs.rs, items behind a cargo feature carry a badge naming it.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod docs;

#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[doc(inline)]
pub use license_gate_macros::{declared_features, embed_secret, licensed, requires_feature};

// What applications use, at the root. What provider authors use is in
// `provider`; the parts of the error types are in `error`. Each item has one
// path; `tests/public_face.rs` lists them all.
#[doc(inline)]
pub use license_gate_runtime::{
    CacheLocation, ClockFloor, CurrentScope, GateError, LicenseError, LicenseGate,
    LicenseGateBuilder, LicenseKey, LicenseSnapshot, LicenseStatus, ProductState, ProviderError,
    Reason, Required, RetryPolicy, ScopeGuard, Scoped, SeatUsage, Secret, Source, VendorSecret,
    VendorSecretWarning, check_feature, check_product, has_feature, snapshot, subscribe,
};

// The function only: the runtime's module of the same name is not API.
#[doc(inline)]
pub use license_gate_runtime::hardware_id::hardware_id;

// The ExisOne SDK's hardware ID, for applications that move from an SDK.
#[doc(inline)]
pub use license_gate_runtime::exisone_sdk_hardware_id;

pub use license_gate_runtime::testing;

/// The parts of the error types: the names and feature lists a
/// [`LicenseError`] carries, and the builder [`Setting`](error::Setting)
/// a [`GateError::InvalidSetting`] names.
pub mod error {
    #[doc(inline)]
    pub use license_gate_runtime::errors::{
        FeatureIter, Features, LicenseesMisuse, Name, ProductSetting, Setting,
    };
}

/// For provider authors: the [`Provider`](provider::Provider) trait a
/// licensing service plugs in through, the request it is given, the answer
/// it returns, the deadline of a call, and the clock a gate keeps time with
/// (tests set one with [`LicenseGateBuilder::clock`]).
///
/// The [providers guide](crate::docs::providers) shows a provider of your own.
pub mod provider {
    #[doc(inline)]
    pub use license_gate_runtime::provider::{
        Clock, Deadline, LicenseAnswer, LicenseRequest, Provider, SystemClock, trusted_now,
    };
}

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
/// Any other service plugs in through the [`Provider`](crate::provider::Provider)
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

    #[cfg(any(feature = "exisone", feature = "ecosire"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "exisone", feature = "ecosire"))))]
    #[doc(inline)]
    pub use license_gate_runtime::providers::HttpOptions;

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
    pub use license_gate_runtime::__private::{development_secret, embedded_secret, read_share};
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
