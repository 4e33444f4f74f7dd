//! # Testing licensed code
//!
//! Three levels, from the unit test to the end-to-end test. The test helpers
//! sit behind the `testing` cargo feature, so they never ship in your
//! application; the emulators are a crate of their own:
//!
//! ```toml
//! [dev-dependencies]
//! license-gate = { version = "0.1", features = ["testing"] }
//! # the loopback emulators, for end-to-end tests
//! license-gate-testkit = "0.1"
//! # for `#[tokio::test]` and paused time
//! tokio = { version = "1", features = ["macros", "rt", "test-util"] }
//! ```
//!
#![cfg_attr(
    not(feature = "testing"),
    doc = "*These docs were built without the `testing` feature, so the test helpers are not in them and their links lead to pages that say so: build the docs with it (`cargo doc --features license-gate/testing` in your application).*",
    doc = ""
)]
//! ## Scoped test licenses
//!
//! [`TestLicense`] sets the license that gated
//! code sees on **this thread** (or inside one future, with `.scope(..)`), so
//! tests running in parallel each see their own and no gate has to run:
//!
//! ```
//! use license_gate::{check_feature, testing::TestLicense, LicenseStatus};
//!
//! let _pro = TestLicense::product("Atlas Studio").features(["pro"]).scoped();
//! assert!(check_feature("pro").is_ok());
//!
//! let _revoked = TestLicense::product("Atlas Studio").status(LicenseStatus::Revoked).scoped();
//! assert!(check_feature("pro").is_err());
//! ```
//!
//! `TestLicense::unlicensed()` denies everything. Nested scopes stack; the
//! innermost wins until its guard drops.
//!
//! ## The mock provider
//!
//! [`MockProvider`] plays a licensing service for a
//! whole gate; its [`MockHandle`] changes features,
//! revokes, expires, and makes the next calls fail or hang while the gate
//! runs. The gate picks changes up through its normal heartbeat path (or at
//! once with [`refresh`](crate::LicenseGate::refresh)). Together with
//! [`TestClock`] and tokio's paused time, weeks of
//! heartbeats and grace run in milliseconds:
//!
//! ```
//! use std::time::Duration;
//! use license_gate::{LicenseGate, LicenseStatus, providers::mock::MockProvider, testing::TestClock};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let (provider, server) = MockProvider::licensed(["pro"]);
//! let gate = LicenseGate::builder()
//!     .product("Atlas Studio")
//!     .provider(provider)
//!     .clock(TestClock::now_system())
//!     .install_global(false) // parallel tests: use gate.enter() / gate.scope(..)
//!     .no_cache()
//!     .start()
//!     .await
//!     .unwrap();
//! server.go_offline();
//! tokio::time::sleep(Duration::from_secs(25 * 3600)).await; // a heartbeat fails
//! assert!(matches!(gate.status(), LicenseStatus::Grace { .. }));
//! server.revoke();
//! server.go_online();
//! gate.refresh().await;
//! assert_eq!(gate.status(), LicenseStatus::Revoked);
//! # }
//! ```
//!
//! ## The emulators
//!
//! The [`license-gate-testkit`](https://docs.rs/license-gate-testkit) crate
//! runs loopback emulators of the ExisOne and ECOSIRE services over real
//! HTTP (or HTTPS with a generated certificate), with a control handle that
//! revokes, suspends, expires, changes features, fails the next requests with
//! a chosen status, delays, drops connections or takes the service down, and
//! a log of every request received. It also mints ExisOne offline codes with
//! a test key. Point your real provider at the emulator's URL and test your
//! application against the real wire protocols:
//!
//! ```
//! use license_gate::providers::HttpOptions;
//! use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
//! use license_gate::{LicenseGate, LicenseStatus};
//! use license_gate_testkit::exisone::{EmulatedLicense, ExisOneEmulator};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In a test: `#[tokio::test] async fn revocation_denies_export() { .. }`
//! let server = ExisOneEmulator::start().await?; // 127.0.0.1, a free port
//! let control = server.control();
//! control.add_license(
//!     EmulatedLicense::new("ATLS-7Q2M-K9PD-X4RW", "Atlas Studio")
//!         .features(["pro"])
//!         .activated_on("TEST-MACHINE"),
//! );
//!
//! let options = ExisOneClientOptions::new(server.url())
//!     .access_token(ExisOneEmulator::TOKEN)
//!     .http(HttpOptions::new().allow_insecure_loopback()) // the emulator serves plain http on loopback
//!     .hardware_id_override("TEST-MACHINE");
//! let gate = LicenseGate::builder()
//!     .product("Atlas Studio")
//!     .provider(ExisOneProvider::from_options(options)?)
//!     .license_key("ATLS-7Q2M-K9PD-X4RW")
//!     .install_global(false)
//!     .no_cache()
//!     .start()
//!     .await?;
//! assert!(gate.has_feature("pro"));
//!
//! control.revoke("ATLS-7Q2M-K9PD-X4RW");
//! gate.refresh().await; // or wait for the heartbeat
//! assert_eq!(gate.status(), LicenseStatus::Revoked);
//!
//! server.faults().go_down(); // the server is unreachable: grace, not denial
//! # gate.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The repository's examples (`exisone_app`, `ecosire_app`, `axum_service`,
//! `desktop`, `air_gapped`: `cargo run -p examples-providers --example NAME`)
//! run whole applications against the emulators.
//!
// The test helpers exist with the `testing` cargo feature only. Built without
// it (as `cargo doc` builds an application's dependencies), the links lead to
// the stand-in pages of `testing` and `providers::mock`, which say to turn the
// feature on.
#![cfg_attr(
    feature = "testing",
    doc = "[`TestLicense`]: crate::testing::TestLicense",
    doc = "[`TestClock`]: crate::testing::TestClock",
    doc = "[`MockProvider`]: crate::providers::mock::MockProvider",
    doc = "[`MockHandle`]: crate::providers::mock::MockHandle"
)]
#![cfg_attr(
    not(feature = "testing"),
    doc = "[`TestLicense`]: crate::testing",
    doc = "[`TestClock`]: crate::testing",
    doc = "[`MockProvider`]: crate::providers::mock",
    doc = "[`MockHandle`]: crate::providers::mock"
)]
