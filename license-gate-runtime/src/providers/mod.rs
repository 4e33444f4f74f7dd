//! The providers: the licensing services a gate can ask.

#[cfg(feature = "ecosire")]
pub mod ecosire;
#[cfg(feature = "exisone")]
pub mod exisone;
pub mod mock;
