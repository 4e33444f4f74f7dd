//! The providers: the licensing services a gate can ask.

#[cfg(feature = "ecosire")]
pub mod ecosire;
/// The HTTP options both HTTP providers take (TLS roots, pins, loopback
/// opt-in, timeouts, reply size cap).
#[cfg(feature = "http")]
pub use crate::transport::HttpOptions;
#[cfg(feature = "exisone")]
pub mod exisone;
#[cfg(feature = "testing")]
pub mod mock;
/// The mock provider, for tests: enable the `testing` cargo feature
/// (`license-gate = { version = "0.1", features = ["testing"] }` under
/// `[dev-dependencies]`).
#[cfg(not(feature = "testing"))]
pub mod mock {}
