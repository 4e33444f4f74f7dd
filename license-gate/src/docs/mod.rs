//! The guide.
//!
//! - [`gating`]: the two attributes, every form of function they accept, and
//!   the plain checks for code that cannot carry an attribute.
//! - [`lifecycle`]: the running gate: heartbeat, offline grace, expiry, the
//!   cache and clock rollback; which faults keep a license and which end it.
//! - [`exisone_flow`]: an ExisOne application from activation with the
//!   buyer's email on the first run, through validation, to deactivation when
//!   the user moves to another machine; offline codes for air-gapped machines.
//! - [`plain_main`]: programs without an async runtime: `start_blocking`,
//!   calling a gated `async fn` from a plain `fn main`, reacting to changes.
//! - [`licensees`]: many licensees in one server: a seat per signed-in user,
//!   gated by the licensee in scope; the tower layer, the scheduler, the
//!   request budget and the store.
//! - [`testing`]: scoped test licenses, the mock provider, and the loopback
//!   emulators of the real services.
//! - [`providers`]: ExisOne and ECOSIRE, and writing a provider of your own.
//! - [`security`]: what the gate protects against and what it cannot.

pub mod exisone_flow;
pub mod gating;
pub mod licensees;
pub mod lifecycle;
pub mod plain_main;
pub mod providers;
pub mod security;
// The chapter links to the test helpers, which exist with the `testing` cargo
// feature only; docs.rs builds with it, and there every link resolves.
#[cfg_attr(not(feature = "testing"), allow(rustdoc::broken_intra_doc_links))]
pub mod testing;
