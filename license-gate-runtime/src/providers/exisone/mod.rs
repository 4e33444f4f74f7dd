//! The ExisOne provider: a client with the calls of the ExisOne SDK, offline
//! activation codes, and the [`ExisOneProvider`] a gate uses.
//!
//! - [`ExisOneClient`] speaks the ExisOne wire protocol: activation,
//!   validation, deactivation, key generation, seat usage, features, support
//!   tickets, and the "smart" calls that pick online or offline validation.
//! - [`offline`] reads and verifies offline activation codes (RSA-signed,
//!   Crockford Base32) without the server.
//! - [`ExisOneProvider`] puts the client behind the [`Provider`](crate::Provider)
//!   trait, so a gate keeps an ExisOne license right while the program runs.
//!
//! The access token never appears in `Debug` output, logs or errors, and
//! license keys are masked wherever they are printed.
//!
//! Files, named like ECOSIRE's: `client.rs` (the wire calls), `wire.rs` (wire
//! types and reading replies), `provider.rs` (the `Provider` impl), `smart.rs`
//! (the one online/offline/unreachable decision), `offline.rs` (offline codes).

mod client;
pub mod offline;
mod provider;
mod smart;
mod wire;

/// The fuzz targets read validation replies exactly as the client does.
#[cfg(feature = "fuzzing")]
pub(crate) use wire::read_validation;

pub use crate::transport::HttpOptions;
pub use client::{BASE_URL_ENV, ExisOneClient, ExisOneClientOptions};
pub use offline::{OfflineOutcome, OfflinePublicKey, OfflineValidationResult};
pub use provider::ExisOneProvider;
pub use smart::NOTIFY_TIMEOUT;
pub use wire::{
    ActivationResult, DeactivationResult, ExisOneSeatUsage, SmartValidationResult, ValidationResult,
};
