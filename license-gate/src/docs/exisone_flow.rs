//! # The ExisOne flow: activation, validation, moving machines
//!
//! An ExisOne license key is bought once and **activated** on each machine
//! that uses it: activation binds the key to the machine's hardware ID and
//! records the buyer's email address. After that the application
//! **validates** the key on every heartbeat, and when the user moves to
//! another machine it **deactivates** the old one so the seat is free again.
//! This page walks that flow with the gate; the runnable version is
//! `cargo run -p examples-providers --example exisone_app` in the repository.
//!
#![cfg_attr(
    not(feature = "exisone"),
    doc = "*These docs were built without the `exisone` feature (on by default), so the provider's items are not in them and their names below are not links.*",
    doc = ""
)]
//! ## Configure the provider
//!
//! The application needs the server's URL, an access token with the `verify`
//! permission (from the ExisOne dashboard), the buyer's email for activation,
//! and its own version, set once on the builder
//! ([`app_version`](crate::LicenseGateBuilder::app_version); the provider's
//! own `.app_version(..)` overrides it), so the server can answer
//! `version_outdated`:
//!
//! ```no_run
//! use license_gate::LicenseGate;
//! use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
//!
//! # async fn run(license_key: String, email: String) -> Result<(), Box<dyn std::error::Error>> {
//! let options = ExisOneClientOptions::new("https://license.example.com")
//!     .access_token("verify-only-token");
//! let provider = ExisOneProvider::from_options(options)?
//!     .email(email); // what the user typed in the activation dialog
//! let gate = LicenseGate::builder()
//!     .app_version(env!("CARGO_PKG_VERSION"))
//!     .product("Atlas Studio") // the product name in ExisOne
//!     .provider(provider)
//!     .license_key(license_key)
//!     .start()
//!     .await?;
//! # let _ = gate;
//! # Ok(())
//! # }
//! # let _ = run;
//! ```
//!
//! ## First run: activate
//!
//! A key that was never activated on this machine is not licensed yet: the
//! server answers `not_activated`, which the gate shows as
//! [`LicenseStatus::Invalid`](crate::LicenseStatus::Invalid). Call
//! [`activate`](crate::LicenseGate::activate) once; it sends the key, the
//! hardware ID, the email and the version, then validates to learn the
//! features. Without `.email(..)` on the provider the server refuses with
//! "'email' is required".
//!
//! ```
//! # use license_gate_testkit::exisone::{EmulatedLicense, ExisOneEmulator};
//! use license_gate::providers::HttpOptions;
//! use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
//! use license_gate::{GateError, LicenseGate, ProviderError};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = ExisOneEmulator::start().await?;
//! # server.control().add_license(EmulatedLicense::new("ATLS-7Q2M-K9PD-X4RW", "Atlas Studio").features(["pro"]));
//! # let (server_url, access_token) = (server.url(), ExisOneEmulator::TOKEN);
//! # let cache = tempfile::tempdir()?;
//! let provider = ExisOneProvider::from_options(
//!     ExisOneClientOptions::new(server_url)
//!         .access_token(access_token)
//!         // Only because this example's server is a local emulator.
//!         .http(HttpOptions::new().allow_insecure_loopback()),
//! )?
//! .email("buyer@example.com");
//! let gate = LicenseGate::builder()
//!     .product("Atlas Studio")
//!     .provider(provider)
//!     .license_key("ATLS-7Q2M-K9PD-X4RW")
//! #   .cache_dir(cache.path())
//!     .start()
//!     .await?;
//!
//! if !gate.status().grants_access() {
//!     // The short way: build the gate with `.activate_on_first_use(true)`.
//!     match gate.activate().await {
//!         Ok(_) => println!("activated: {}", gate.status()),
//!         Err(GateError::Provider(ProviderError::ActivationLimitReached { .. })) => {
//!             println!("every seat is taken: deactivate another machine first");
//!         }
//!         Err(other) => println!("activation failed: {other}"),
//!     }
//! }
//! assert!(gate.has_feature("pro"));
//! # gate.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Activation errors say what to do: an unknown key is
//! [`ProviderError::NotFound`](crate::ProviderError::NotFound) ("check the
//! license key"), a key whose seats are all in use
//! [`ActivationLimitReached`](crate::ProviderError::ActivationLimitReached),
//! a version older than the server accepts ends as
//! [`LicenseStatus::VersionOutdated`](crate::LicenseStatus::VersionOutdated).
//!
//! ## Every run after: validation
//!
//! Nothing more to write. The heartbeat validates the key (every 24 hours by
//! default, see [`lifecycle`](super::lifecycle)) and the state follows the
//! answer:
//!
//! | the server says | status | gated calls |
//! |---|---|---|
//! | valid, with features | `Licensed` | allowed when the features match |
//! | `revoked`, `suspended`, `expired` | `Revoked`, `Suspended`, `Expired` | denied at once |
//! | `version_outdated` | `VersionOutdated { minimum }` | denied at once |
//! | nothing (offline, 5xx, timeout) | `Grace { until }` | allowed until the grace period ends |
//!
//! Subscribe with [`LicenseGate::subscribe`](crate::LicenseGate::subscribe)
//! to update the UI when the status changes, and use
//! [`has_feature`](crate::has_feature) for menus.
//!
//! ## Moving to another machine: deactivate
//!
//! A key has a number of seats. When the user replaces a computer, the old
//! one gives its seat back with [`deactivate`](crate::LicenseGate::deactivate)
//! (a "Deactivate this computer" menu item, or the uninstaller); the gate
//! reads as unlicensed afterwards and its cache is removed. The new machine
//! then activates as on a first run.
//!
//! With `.activate_on_first_use(true)` the gate activates only when the
//! server answers `not_activated`, at most once per start, and records the
//! activation in its cache (with a vendor secret), so each installation
//! activates once; see
//! [`activate_on_first_use`](crate::LicenseGateBuilder::activate_on_first_use).
//!
//! ```
//! # use license_gate_testkit::exisone::{EmulatedLicense, ExisOneEmulator};
//! use license_gate::providers::HttpOptions;
//! use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
//! use license_gate::LicenseGate;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = ExisOneEmulator::start().await?;
//! # let control = server.control();
//! # control.add_license(EmulatedLicense::new("ATLS-7Q2M-K9PD-X4RW", "Atlas Studio").features(["pro"]).seats(1));
//! # let (server_url, access_token) = (server.url(), ExisOneEmulator::TOKEN);
//! # let cache = tempfile::tempdir()?;
//! # let provider = ExisOneProvider::from_options(
//! #     ExisOneClientOptions::new(&server_url).access_token(access_token).http(HttpOptions::new().allow_insecure_loopback()),
//! # )?
//! # .email("buyer@example.com");
//! # let gate = LicenseGate::builder()
//! #     .product("Atlas Studio")
//! #     .provider(provider)
//! #     .license_key("ATLS-7Q2M-K9PD-X4RW")
//! #     .cache_dir(cache.path())
//! #     .start()
//! #     .await?;
//! # gate.activate().await?;
//! // On the old machine, from "Deactivate this computer":
//! gate.deactivate().await?;
//! assert!(!gate.has_feature("pro"));
//! # assert!(control.activations("ATLS-7Q2M-K9PD-X4RW").is_empty());
//! # gate.shutdown().await;
//!
//! // On the new machine, the first run activates again (the seat is free).
//! # let new_machine = ExisOneClientOptions::new(&server_url)
//! #     .access_token(access_token)
//! #     .http(HttpOptions::new().allow_insecure_loopback())
//! #     .hardware_id_override("NEW-MACHINE");
//! # let cache = tempfile::tempdir()?;
//! let gate = LicenseGate::builder()
//!     .product("Atlas Studio")
//!     .provider(ExisOneProvider::from_options(new_machine)?.email("buyer@example.com"))
//!     .license_key("ATLS-7Q2M-K9PD-X4RW")
//! #   .cache_dir(cache.path())
//!     .start()
//!     .await?;
//! gate.activate().await?;
//! assert!(gate.has_feature("pro"));
//! # gate.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! When the old machine is gone for good, the vendor frees its seat from the
//! ExisOne dashboard instead.
//!
//! ## Machines without a network
//!
//! An air-gapped machine uses an **offline activation code** in place of the
//! key: the vendor signs a code for the machine's hardware ID, and the
//! provider checks it locally against the vendor's RSA public key
//! ([`ExisOneClientOptions::offline_public_key`](crate::providers::exisone::ExisOneClientOptions::offline_public_key)).
//! The gate runs from it with no request; see
//! `cargo run -p examples-providers --example air_gapped` and [`validate_offline_code`](crate::providers::exisone::validate_offline_code).
