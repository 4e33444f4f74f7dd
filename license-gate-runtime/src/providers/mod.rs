//! The providers: the licensing services a gate can ask.

pub mod mock;
