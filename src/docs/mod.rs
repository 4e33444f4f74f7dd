//! The guide.
//!
//! - [`gating`]: the two attributes, every form of function they accept, and
//!   the plain checks for code that cannot carry an attribute.
//! - [`lifecycle`]: the running gate: heartbeat, offline grace, expiry, the
//!   cache and clock rollback; which faults keep a license and which end it.
//! - [`testing`]: scoped test licenses, the mock provider, and the loopback
//!   emulators of the real services.
//! - [`providers`]: ExisOne and ECOSIRE, and writing a provider of your own.
//! - [`security`]: what the gate protects against and what it cannot.

pub mod gating;
pub mod lifecycle;
pub mod providers;
pub mod security;
pub mod testing;
