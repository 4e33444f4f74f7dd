//! The ECOSIRE provider: a signed client of the ECOSIRE license endpoints and
//! the gate provider built on it.
//!
//! - [`EcosireClient`] speaks the protocol: `POST /licenses/validate`,
//!   `/licenses/activate` and `/licenses/deactivate`, each a JSON body of
//!   strings (`key`, `domain`, `timestamp`, and the platform fields when
//!   configured) signed in the `X-Ecosire-Signature` header. It reads the three reply shapes the service uses
//!   (plain, wrapped in `{"data", "error"}`, and error bodies).
//! - [`EcosireProvider`] runs the lifecycle of the ECOSIRE guide for a
//!   [`LicenseGate`](crate::LicenseGate): validate, activate once, validate on
//!   every heartbeat, deactivate on uninstall.
//! - [`check_key`] checks the key format locally; lower case is normalised to
//!   upper case.
//!
//! Requests use the shared HTTP transport: https only (plain http only for
//! loopback), no redirects, capped replies, and no request at all while a
//! 429's `X-RateLimit-Reset` instant has not passed. The license secret
//! (from the options or `ECOSIRE_LICENSE_SECRET`) never appears in `Debug`
//! output, logs or errors, and license keys are masked.
//!
//! Files, named like ExisOne's: `client.rs` (the wire calls), `wire.rs` (wire
//! types and reading replies), `provider.rs` (the `Provider` impl),
//! `signing.rs` (request signatures), `key.rs` (the key format).
//!
//! ```no_run
//! use license_gate::LicenseGate;
//! use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let options = EcosireOptions::default().license_secret("s3cr3t").platform("odoo", "18.0");
//! let gate = LicenseGate::builder()
//!     .product("Shop Booster")
//!     .provider(EcosireProvider::from_options(options)?.domain("erp.example.com").features(["pro"]))
//!     .license_key("SHOP-A1B2-C3D4-E5F6-G7H8")
//!     .start()
//!     .await?;
//! # let _ = gate;
//! # Ok(())
//! # }
//! # let _ = demo;
//! ```

mod client;
mod key;
mod provider;
mod signing;
#[cfg(feature = "webhooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "webhooks")))]
pub mod webhook;
mod wire;

pub use client::{EcosireClient, EcosireOptions, Platform};
pub use key::check_key;
pub use provider::EcosireProvider;
pub use wire::{ActivateReply, DeactivateReply, EcosireLicense, EcosireStatus, ValidateReply};

/// Not API: the protocol's signing, key shapes and error codes, for the
/// testkit's emulator and our tests. May change in any release.
#[doc(hidden)]
pub mod __private {
    pub use super::key::KEY_SHAPES;
    pub use super::signing::{SIGNATURE_HEADER, SignedPayload, canonical_message, sign};
    pub use super::wire::{CODE_EXPIRED, CODE_KEY_MISMATCH, CODE_REVOKED, CODE_SUSPENDED};
}

/// The heartbeat interval the ECOSIRE guide asks for ("re-validate
/// weekly"): what [`EcosireProvider`] suggests to the gate, which uses it
/// unless the builder's `.heartbeat_interval(..)` sets another (the gate's
/// own default, for ExisOne, is daily). Against the published limit of 30
/// validations a minute, that is one call a week per installation.
pub const DEFAULT_HEARTBEAT_INTERVAL: std::time::Duration =
    std::time::Duration::from_secs(7 * 24 * 3600);

/// The public service's base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.ecosire.com/api";

/// The environment variable the license secret is read from when the options
/// give none.
pub const SECRET_ENV: &str = "ECOSIRE_LICENSE_SECRET";
