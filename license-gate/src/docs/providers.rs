//! # Providers
//!
//! A provider is how a gate asks a licensing service about a license. Two
//! real services are built in, each behind a cargo feature (both on by
//! default; turn off what you don't use with `default-features = false`).
//!
//! ## ExisOne (`exisone`)
//!
//! [`ExisOneClient`](crate::providers::exisone::ExisOneClient) covers the whole SDK:
//! activation, validation, deactivation, key generation, support tickets,
//! corporate seat usage, licensed features, hardware IDs, RSA-signed offline
//! codes, and the "smart" calls that fall back to an offline code when the
//! server cannot be reached. [`ExisOneProvider`](crate::providers::exisone::ExisOneProvider)
//! puts it behind a gate; a license key that is an offline code is checked
//! locally against the configured public key.
//!
//! ```no_run
//! use license_gate::providers::exisone::{ExisOneClient, ExisOneClientOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = ExisOneClient::new(
//!     ExisOneClientOptions::new("https://license.example.com").access_token("token"),
//! )?;
//! let hardware_id = client.generate_hardware_id();
//! let result = client.validate("ABCD-EFGH-JKMN-PQRS", &hardware_id, Some("Atlas Studio"), Some("2.4.0")).await?;
//! println!("valid: {}, features: {:?}", result.is_valid, result.features);
//! # Ok(())
//! # }
//! # let _ = run;
//! ```
//!
//! ## ECOSIRE (`ecosire`)
//!
//! [`EcosireClient`](crate::providers::ecosire::EcosireClient) signs every request with
//! HMAC-SHA256 (the license secret comes from the options or
//! `ECOSIRE_LICENSE_SECRET`), checks the key format before sending, and reads
//! the plain, wrapped and error reply shapes.
//! [`EcosireProvider`](crate::providers::ecosire::EcosireProvider) validates, activates
//! once (binding the configured domain, or this installation's fingerprint),
//! and heartbeats with validation.
//!
//! ```no_run
//! use license_gate::LicenseGate;
//! use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let provider = EcosireProvider::from_options(EcosireOptions::default().license_secret("secret"))?
//!     .domain("shop.example.com")
//!     .features(["pro"]);
//! let gate = LicenseGate::builder()
//!     .product("Shop Booster")
//!     .provider(provider)
//!     .license_key("SHOP-A1B2-C3D4-E5F6-G7H8")
//!     .heartbeat_interval(std::time::Duration::from_secs(7 * 24 * 3600))
//!     .start()
//!     .await?;
//! # let _ = gate;
//! # Ok(())
//! # }
//! # let _ = run;
//! ```
//!
//! ### ECOSIRE webhooks (`webhooks`)
//!
//! ECOSIRE pushes license events (`license.revoked`, `charge.refunded`,
//! `invoice.paid`, …) to a URL of yours.
//! [`EcosireWebhook`](crate::providers::ecosire::webhook::EcosireWebhook) is a
//! tower service (mount it with axum's `Router::route_service`) that makes the
//! gate validate at once when an event names its license, so a server hears of
//! a revocation within a second instead of at the next weekly heartbeat. A
//! webhook is a nudge, never authority: its body never changes the state by
//! itself, so a forged or replayed delivery costs at most one validation, and
//! deliveries are folded to one validation at once plus one queued per
//! license and window (10 s by default). ECOSIRE has not published how webhook
//! signatures are computed: check `X-Ecosire-Signature` with
//! [`verify_with`](crate::providers::ecosire::webhook::EcosireWebhook::verify_with)
//! once you know the scheme. `cargo run --example ecosire_webhook` shows a
//! self-hosted server revoked within a second of `license.revoked`.
//!
//! ## Your own service
//!
//! Implement [`Provider`](crate::Provider) (it uses
//! [`async-trait`](https://docs.rs/async-trait), so add `async-trait = "0.1"`).
//! Return `Ok(answer)` for an explicit answer (it applies at once); a
//! transient [`ProviderError`](crate::ProviderError) when the server cannot be
//! reached (`Unreachable`, `Timeout`, `ServerFault`, `RateLimited`,
//! `MalformedReply`: the gate keeps the last confirmed state through the
//! grace period); any other error for a refusal (it denies at once).
//!
//! ```
//! use license_gate::{LicenseAnswer, LicenseRequest, LicenseStatus, Provider, ProviderError};
//!
//! /// A licensing service of your own.
//! #[derive(Debug)]
//! struct InHouse {
//!     base_url: String,
//! }
//!
//! #[async_trait::async_trait]
//! impl Provider for InHouse {
//!     fn name(&self) -> &str {
//!         "in-house"
//!     }
//!
//!     async fn validate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
//!         let key = request.require_key()?;
//!         // Ask `self.base_url` about `key.expose()` over https here, and map
//!         // connect errors and timeouts to `Unreachable` / `Timeout`.
//!         let _ = (&self.base_url, key.expose());
//!         let revoked = false;
//!         Ok(if revoked {
//!             LicenseAnswer::denied(LicenseStatus::Revoked)
//!         } else {
//!             LicenseAnswer::licensed(["pro"])
//!         })
//!     }
//! }
//! # let _ = InHouse { base_url: "https://licenses.example.com".into() };
//! ```
//!
//! For HTTP, keep the rules the built-in providers keep: https only (plain
//! http at most for loopback), no redirects, a cap on the size of replies,
//! the call's deadline ([`LicenseRequest::deadline`](crate::LicenseRequest::deadline),
//! set by the gate from its request timeout: bound your requests by
//! [`Deadline::remaining`](crate::Deadline::remaining) and return
//! `Timeout` when it runs out; a call still running a moment after it is cut
//! off by the gate), and the license key never in logs or error messages
//! (mask it with [`LicenseKey::masked`](crate::LicenseKey::masked)).
