//! What the end-to-end tests share: an emulator of either service holding one
//! license with the real provider pointed at it ([`support`]), and a fleet of
//! real gates on simulated time against one simulated server ([`fleet_sim`],
//! also driven by `examples/fleet.rs`), and many licensees in one server
//! process on simulated time ([`licensees_sim`], also driven by
//! `examples/licensees.rs`).

pub mod fleet_sim;
pub mod licensees_sim;
pub mod support;
