//! The ExisOne provider: a client with the calls of the ExisOne SDK, offline
//! activation codes, and the [`ExisOneProvider`] a gate uses.
//!
//! - [`ExisOneClient`] speaks the ExisOne wire protocol: activation,
//!   validation, deactivation, key generation, seat usage, features, support
//!   tickets, and the "smart" calls that pick online or offline validation.
//! - [`validate_offline_code`] and [`read_offline_code`] read and verify
//!   offline activation codes (RSA-signed, Crockford Base32) without the server.
//! - [`ExisOneProvider`] puts the client behind the [`Provider`](crate::provider::Provider)
//!   trait, so a gate keeps an ExisOne license right while the program runs.
//!
//! The access token never appears in `Debug` output, logs or errors, and
//! license keys are masked wherever they are printed.
//!
//! Files, named like ECOSIRE's: `client.rs` (the wire calls), `wire.rs` (wire
//! types and reading replies), `provider.rs` (the `Provider` impl), `smart.rs`
//! (the one online/offline/unreachable decision), `offline.rs` (offline codes).

mod client;
mod offline;
mod provider;
mod smart;
mod wire;

/// The fuzz targets read validation replies exactly as the client does.
#[cfg(feature = "fuzzing")]
pub(crate) use wire::read_validation;

pub use client::{BASE_URL_ENV, ExisOneClient, ExisOneClientOptions};
pub use offline::{
    OFFLINE_CODE_MIN_LENGTH, OfflineCodeError, OfflineOutcome, OfflinePayload, OfflinePublicKey,
    OfflineValidationResult, is_offline_code, read_offline_code, validate_offline_code,
};

/// Not API: the offline-code encoding, for the testkit's minting, the
/// command line's `offline decode` and the fuzz targets. May change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use super::offline::{ALPHABET, GROUP_LENGTH, decode_base32, encode_base32, format_code};
}
pub use provider::ExisOneProvider;
pub use smart::NOTIFY_TIMEOUT;
pub use wire::{
    ActivationResult, DeactivationResult, ExisOneSeatUsage, SmartValidationResult, ValidationResult,
};
