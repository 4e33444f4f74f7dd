//! What the end-to-end tests share: an emulator of either service holding one
//! license with the real provider pointed at it ([`support`]), and a fleet of
//! real gates on simulated time against one simulated server ([`fleet_sim`],
//! also driven by `examples/fleet.rs`).

pub mod fleet_sim;
pub mod support;
