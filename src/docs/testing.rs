//! # Testing licensed code
//!
//! Three levels, from the unit test to the end-to-end test.
//!
//! ## Scoped test licenses
//!
//! [`TestLicense`](crate::testing::TestLicense) sets the license that gated
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
//! [`MockProvider`](crate::mock::MockProvider) plays a licensing service for a
//! whole gate; its [`MockHandle`](crate::mock::MockHandle) changes features,
//! revokes, expires, and makes the next calls fail or hang while the gate
//! runs. The gate picks changes up through its normal heartbeat path (or at
//! once with [`refresh`](crate::LicenseGate::refresh)). Together with
//! [`TestClock`](crate::testing::TestClock) and tokio's paused time, weeks of
//! heartbeats and grace run in milliseconds:
//!
//! ```
//! use std::time::Duration;
//! use license_gate::{LicenseGate, LicenseStatus, mock::MockProvider, testing::TestClock};
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
//! The `license-gate-testkit` crate runs loopback emulators of the ExisOne and
//! ECOSIRE services over real HTTP (or HTTPS with a generated certificate),
//! with a control handle that revokes, suspends, expires, changes features,
//! fails the next requests with a chosen status, delays, drops connections or
//! takes the service down, and a log of every request received. Add it as a
//! dev-dependency for integration tests of your application against the real
//! wire protocols.
