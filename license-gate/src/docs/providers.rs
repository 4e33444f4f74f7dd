//! # Providers
//!
//! A provider is how a gate asks a licensing service about a license. Two
//! real services are built in, each behind a cargo feature (both on by
//! default; turn off what you don't use with `default-features = false`).
//!
#![cfg_attr(
    not(all(feature = "exisone", feature = "ecosire")),
    doc = "*These docs were built without the `exisone` or the `ecosire` feature, so that provider's items are not in them and their names below are not links.*",
    doc = ""
)]
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
//! ### Moving from an ExisOne SDK
//!
//! The client keeps the SDK's calls and results, with these differences
//! (the README's fidelity table lists them all):
//!
//! - **Hardware ID.** [`hardware_id()`](crate::hardware_id) is a stable
//!   variant of the SDK's scheme: it leaves out the kernel release, the C
//!   library version and the online CPU count, which change with OS updates.
//!   An app that used an SDK has customers activated, and offline codes
//!   issued, for the SDK's ID: keep it with
//!   [`exisone_sdk_hardware_id()`](crate::exisone_sdk_hardware_id) — the
//!   builder's [`.exisone_sdk_hardware_id()`](crate::LicenseGateBuilder::exisone_sdk_hardware_id)
//!   (binds the cache to it and sends it), the client option
//!   `ExisOneClientOptions::exisone_sdk_hardware_id()`, and
//!   `license-gate hardware-id --exisone-sdk` to print it. Its cost: a kernel
//!   or C library update, or a new host name, makes the machine a new one (a
//!   new seat, a new offline code). It is the SDK's ID exactly on Linux (under
//!   CPython 3.9 and later); on macOS it follows the SDK's commands but is
//!   not proved, and on Windows it is license-gate's own ID.
//! - **Seat usage.** [`get_seat_usage`](crate::providers::exisone::ExisOneClient::get_seat_usage)
//!   returns [`ExisOneSeatUsage`](crate::providers::exisone::ExisOneSeatUsage):
//!   `current_seats`, `max_seats` (`None` = unlimited), `has_capacity` (the
//!   server's `hasCapacity`), `is_unlimited` and `remaining()` (`None` when
//!   unlimited, clamped at 0); `SeatUsage::from(usage)` is the gate's view.
//! - **Version.** `client.get_version()` as in the SDK;
//!   `ExisOneClient::VERSION` without a client.
//! - **Smart calls.** [`validate_smart`](crate::providers::exisone::ExisOneClient::validate_smart)
//!   returns a refusal of the server (400, 403, 404, ...) as a result that is
//!   not valid with the reason, as the SDK "falls back gracefully", but never
//!   as an unreachable server. [`deactivate_smart`](crate::providers::exisone::ExisOneClient::deactivate_smart)
//!   succeeds locally when the server cannot be reached; an offline code stays
//!   deactivated here even when the server refuses, an online key does not.
//!
//! ## ECOSIRE (`ecosire`)
//!
//! [`EcosireClient`](crate::providers::ecosire::EcosireClient) signs every request with
//! HMAC-SHA256 (the license secret comes from the options or
//! `ECOSIRE_LICENSE_SECRET`), checks the key format before sending, and reads
//! the plain, wrapped and error reply shapes.
//! [`EcosireProvider`](crate::providers::ecosire::EcosireProvider) validates, activates
//! once per installation (binding the configured domain, or this
//! installation's fingerprint), and heartbeats with validation. The gate
//! records the activation in its cache, so later starts only validate; the
//! record counts only with a vendor secret (without one every start
//! activates once, as ECOSIRE's validation does not say whether this domain
//! is bound). The gate's
//! [`app_version`](crate::LicenseGateBuilder::app_version) is not sent: the
//! protocol has no field for the application's version (`platform_version`
//! and `odoo_version` name the platform).
//!
//! Keys have the guide's shape `PREFIX-XXXX-XXXX-XXXX-XXXX` (or three groups):
//! a prefix of letters and digits (`SHOP-…`, `SHOP2-…`), then groups of four
//! of A-Z and 0-9; lower case is upper-cased. A deactivate reply counts as
//! the guide reads it: any 2xx reply is a deactivation unless it says
//! `"deactivated": false`.
//!
//! **Rate limits and the heartbeat.** The service publishes limits of 30
//! validations and 10 activations a minute (a 429 carries
//! `X-RateLimit-Reset`, and the client sends nothing until it has passed).
//! The guide asks for a weekly re-validation, so the ECOSIRE provider
//! suggests a weekly heartbeat
//! ([`DEFAULT_HEARTBEAT_INTERVAL`](crate::providers::ecosire::DEFAULT_HEARTBEAT_INTERVAL)),
//! which the gate uses unless the builder sets
//! [`.heartbeat_interval(..)`](crate::LicenseGateBuilder::heartbeat_interval);
//! with it the default grace period is 14 days (the guide's range is 7 to 30),
//! so a server that is down at the moment of a heartbeat still leaves a week.
//! The gate's own default, and ExisOne's, stays daily; in a gate whose
//! products use both services, the daily default wins. Your own provider
//! suggests an interval with
//! [`Provider::default_heartbeat_interval`](crate::provider::Provider::default_heartbeat_interval).
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
//! `providers::ecosire::webhook::EcosireWebhook` is a
//! tower service (mount it with axum's `Router::route_service`) that makes the
//! gate validate at once when an event names its license, so a server hears of
//! a revocation within a second instead of at the next weekly heartbeat. A
//! webhook is a nudge, never authority: its body never changes the state by
//! itself, so a forged or replayed delivery costs at most one validation, and
//! deliveries are folded to one validation at once plus one queued per
//! license and window (10 s by default). ECOSIRE has not published how webhook
//! signatures are computed: check `X-Ecosire-Signature` with
//! `EcosireWebhook::verify_with` once you know the scheme. `cargo run -p examples-providers --example ecosire_webhook` shows a
//! self-hosted server revoked within a second of `license.revoked`.
//!
//! ## Your own service
//!
//! Implement [`Provider`](crate::provider::Provider) (it uses
//! [`async-trait`](https://docs.rs/async-trait), so add `async-trait = "0.1"`).
//! Return `Ok(answer)` for an explicit answer (it applies at once); a
//! transient [`ProviderError`](crate::ProviderError) when the server cannot be
//! reached (`Unreachable`, `Timeout`, `ServerFault`, `RateLimited`,
//! `MalformedReply`: the gate keeps the last confirmed state through the
//! grace period); any other error for a refusal (it denies at once).
//!
//! ```
//! use license_gate::{LicenseStatus, ProviderError, provider::{LicenseAnswer, LicenseRequest, Provider}};
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
//! the call's deadline ([`LicenseRequest::deadline`](crate::provider::LicenseRequest::deadline),
//! set by the gate from its request timeout: bound your requests by
//! [`Deadline::remaining`](crate::provider::Deadline::remaining) and return
//! `Timeout` when it runs out; a call still running a moment after it is cut
//! off by the gate), and the license key never in logs or error messages
//! (mask it with [`LicenseKey::masked`](crate::LicenseKey::masked)).
