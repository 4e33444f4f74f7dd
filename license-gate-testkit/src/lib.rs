//! Loopback emulators of the ExisOne and ECOSIRE licensing services, with a
//! control handle that revokes, expires, slows down, breaks and takes them
//! down, for license-gate's tests and for your integration tests.
//!
//! Every emulator listens on `127.0.0.1` only and speaks the service's wire
//! protocol over real HTTP (or HTTPS with `tls::TestCertificate`).
//!
//! The servers sit behind the default feature `server`; without it the crate
//! keeps only offline-code minting ([`exisone::OfflineCodeMinter`]), instant
//! formatting and the shared test vectors.

#![warn(missing_docs)]

#[cfg(feature = "server")]
pub mod ecosire;
pub mod exisone;
#[cfg(feature = "server")]
pub mod faults;
pub mod instant;
#[cfg(feature = "server")]
pub mod log;
pub mod redis;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod tls;
pub mod vectors;

#[cfg(feature = "server")]
pub use faults::{Fault, FaultControl};
#[cfg(feature = "server")]
pub use log::RecordedRequest;
#[cfg(feature = "server")]
pub use server::{RunningServer, refused_url};
#[cfg(feature = "server")]
pub use tls::TestCertificate;

/// The README's Rust code, compiled as a doc test so it keeps compiling.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
