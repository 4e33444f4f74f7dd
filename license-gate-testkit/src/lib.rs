//! Loopback emulators of the ExisOne and ECOSIRE licensing services, with a
//! control handle that revokes, expires, slows down, breaks and takes them
//! down, for license-gate's tests and for your integration tests.
//!
//! Every emulator listens on `127.0.0.1` only and speaks the service's wire
//! protocol over real HTTP (or HTTPS with [`tls::TestCertificate`]).

#![warn(missing_docs)]

pub mod ecosire;
pub mod exisone;
pub mod faults;
pub mod server;
pub mod tls;
pub mod vectors;

pub use faults::{Fault, FaultControl};
pub use server::{RunningServer, refused_url};
pub use tls::TestCertificate;

/// The README's Rust code, compiled as a doc test so it keeps compiling.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
