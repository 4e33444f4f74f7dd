//! The providers: the licensing services a gate can ask.

#[cfg(feature = "ecosire")]
pub mod ecosire;
#[cfg(feature = "exisone")]
pub mod exisone;
#[cfg(feature = "testing")]
pub mod mock;
/// The mock provider, for tests: enable the `testing` cargo feature
/// (`license-gate = { version = "0.1", features = ["testing"] }` under
/// `[dev-dependencies]`).
#[cfg(not(feature = "testing"))]
pub mod mock {}
