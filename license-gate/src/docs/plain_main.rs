//! # Programs with a plain `fn main`
//!
//! A desktop application, a command-line tool or a program built on another
//! executor may have no tokio runtime in `main`. The gate does not need one:
//! [`start_blocking`](crate::LicenseGateBuilder::start_blocking) starts it
//! with the heartbeat on a small runtime on a thread of its own, and
//! [`shutdown_blocking`](crate::LicenseGate::shutdown_blocking) stops it.
//! Gated functions, [`has_feature`](crate::has_feature) and
//! [`subscribe`](crate::LicenseGate::subscribe) work the same from any thread.
//! The runnable version is `cargo run -p examples-providers --example desktop` in the repository.
//!
//! ```
//! use license_gate::{LicenseError, LicenseGate, has_feature, requires_feature};
//! # use license_gate::providers::mock::MockProvider;
//!
//! #[derive(Debug, thiserror::Error)]
//! enum AppError {
//!     #[error(transparent)]
//!     License(#[from] LicenseError),
//! }
//!
//! #[requires_feature("pro")]
//! fn export_pdf(pages: u32) -> Result<usize, AppError> {
//!     Ok(pages as usize * 1024)
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//! #   let (provider, _server) = MockProvider::licensed(["pro"]);
//!     // `provider` is your ExisOneProvider or EcosireProvider.
//!     let gate = LicenseGate::builder()
//!         .product("Atlas Desktop")
//!         .provider(provider)
//!         .license_key("ATLD-5K8M-W2QX-N7RB")
//! #       .no_cache()
//!         .start_blocking()?; // waits for the first answer (at most the start-up timeout)
//!
//!     let export_enabled = has_feature("pro"); // a menu item's state
//!     assert!(export_enabled);
//!     assert_eq!(export_pdf(2)?, 2048);
//!
//!     gate.shutdown_blocking();
//!     Ok(())
//! }
//! ```
//!
//! `start_blocking` refuses to run inside an async runtime (it would block
//! it): there, use `.start().await`.
//!
//! ## Calling a gated `async fn` from plain `main`
//!
//! An `async fn` needs an executor to run its future. The check of
//! `#[requires_feature]` happens when the future first runs, against the
//! same global gate, so any executor will do. With tokio, a current-thread
//! runtime of the application's own is two lines:
//!
//! ```
//! use license_gate::{LicenseError, LicenseGate, requires_feature};
//! # use license_gate::providers::mock::MockProvider;
//!
//! #[derive(Debug, thiserror::Error)]
//! enum AppError {
//!     #[error(transparent)]
//!     License(#[from] LicenseError),
//! }
//!
//! #[requires_feature("pro")]
//! async fn sync_to_cloud(files: u32) -> Result<u32, AppError> {
//!     Ok(files)
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//! #   let (provider, _server) = MockProvider::licensed(["pro"]);
//!     let gate = LicenseGate::builder()
//!         .product("Atlas Desktop")
//!         .provider(provider)
//! #       .no_cache()
//!         .start_blocking()?;
//!
//!     // Built once and kept for the program's async work. Not inside
//!     // another runtime: `block_on` there would panic.
//!     let runtime = tokio::runtime::Builder::new_current_thread()
//!         .enable_all()
//!         .build()?;
//!     let synced = runtime.block_on(sync_to_cloud(3))?;
//!     assert_eq!(synced, 3);
//!
//!     gate.shutdown_blocking();
//!     Ok(())
//! }
//! ```
//!
//! With tokio, `Cargo.toml` needs only `tokio = { version = "1", features = ["rt"] }`
//! for this (add `"time"` or `"net"` if the async code uses them).
//!
//! ## Reacting to license changes
//!
//! [`LicenseGate::subscribe`](crate::LicenseGate::subscribe) returns a
//! `tokio::sync::watch::Receiver`, which works without a runtime: an event
//! loop asks `has_changed()` each frame (it never blocks) and redraws what
//! depends on the license. Every heartbeat publishes a snapshot, so compare
//! what you show with what you see before redrawing.
//!
//! ```
//! use license_gate::{LicenseGate, has_feature};
//! # use license_gate::providers::mock::MockProvider;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (provider, server) = MockProvider::licensed(["pro"]);
//! # let gate = LicenseGate::builder().product("Atlas Desktop").provider(provider).no_cache().start_blocking()?;
//! let mut changes = gate.subscribe();
//! let mut export_enabled = has_feature("pro");
//! # server.revoke();
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(gate.refresh());
//! // In the event loop, once per frame:
//! if changes.has_changed()? {
//!     let snapshot = changes.borrow_and_update().clone();
//!     println!("license: {}", snapshot.products[0].status);
//!     export_enabled = has_feature("pro");
//! }
//! assert!(!export_enabled);
//! # gate.shutdown_blocking();
//! # Ok(())
//! # }
//! ```
