//! The commands, one module each.

pub mod ecosire;
pub mod emulate;
pub mod exisone;
pub mod hardware;
pub mod offline;
