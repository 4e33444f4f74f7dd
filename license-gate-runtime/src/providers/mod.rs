//! The providers: the licensing services a gate can ask.

#[cfg(feature = "ecosire")]
pub mod ecosire;
pub mod mock;
