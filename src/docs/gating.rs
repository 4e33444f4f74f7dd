//! # Gating functions
//!
//! Two attributes put a function behind the license:
//!
//! - [`#[requires_feature("pro")]`](crate::requires_feature): the license must be in
//!   force and include the feature. Several features mean all of them:
//!   `#[requires_feature("pro", "export")]`; `any(..)` means one of them:
//!   `#[requires_feature(any("pro", "team"))]`.
//! - [`#[licensed]`](crate::licensed): the license must be in force; any features.
//!
//! Both take `product = ".."` to check a product other than the default one
//! (the first configured), `fallback = path` to call another function with the
//! same arguments when access is denied, and `crate = ".."` when the
//! `license-gate` crate is renamed in `Cargo.toml`.
//!
//! ```
//! use license_gate::{licensed, requires_feature, LicenseError, testing::TestLicense};
//!
//! #[derive(Debug, thiserror::Error)]
//! enum AppError {
//!     #[error(transparent)]
//!     License(#[from] LicenseError),
//! }
//!
//! struct Document;
//!
//! impl Document {
//!     #[requires_feature("pro", "export")]
//!     fn export_pdf(&self, pages: u32) -> Result<Vec<u8>, AppError> {
//!         Ok(vec![0; pages as usize])
//!     }
//!
//!     // Denied? The preview runs instead, with the same arguments.
//!     #[requires_feature("hd", fallback = Self::render_sd)]
//!     fn render_hd(&self, width: u32) -> String {
//!         format!("{width}px HD")
//!     }
//!
//!     fn render_sd(&self, width: u32) -> String {
//!         format!("{}px SD", width / 2)
//!     }
//! }
//!
//! #[licensed(product = "Atlas Render")]
//! async fn render_farm() -> Result<(), AppError> {
//!     Ok(())
//! }
//!
//! let _license = TestLicense::product("Atlas Studio").features(["pro", "export"]).scoped();
//! let doc = Document;
//! assert_eq!(doc.export_pdf(2).unwrap().len(), 2);
//! assert_eq!(doc.render_hd(1920), "960px SD");
//! # let _ = render_farm;
//! ```
//!
//! ## What a denied call does
//!
//! - A function returning `Result<T, E>` (also `io::Result<T>`,
//!   `anyhow::Result<T>` and other aliases named `Result`) returns
//!   `Err(E::from(LicenseError))`: implement `From<LicenseError>` for `E`
//!   (thiserror's `#[from]`). The [`LicenseError`](crate::LicenseError) says
//!   which feature or product and why, in a sentence a user can act on.
//! - With `fallback = path`, the fallback is called with the same arguments
//!   (`self` included) and its result returned (awaited for an `async fn`).
//! - Anything else is a compile error that says how to fix it.
//!
//! ## Where the attributes work
//!
//! Free functions; methods with any receiver (`&self`, `&mut self`, `self`,
//! `self: Box<Self>`); associated and generic functions; `async fn`;
//! trait-impl methods; `#[async_trait]` methods; functions returning
//! `Result<impl Trait, E>`. Doc comments, other attributes, early `return`,
//! `?` and drop order stay as written. `const fn`, wrong arguments and unknown
//! keys are compile errors pointing at the offending tokens.
//!
//! ## Cost
//!
//! A gated call costs one atomic load and one compare more than the same call
//! ungated while the license state is unchanged: each call site caches its
//! answer against a global state generation that moves on every change (see
//! the README for the benchmark). No allocation, no lock, no hashing per call.
//!
//! ## Without an attribute
//!
//! For menus, UI state and command routing, the plain checks read the same
//! state: [`has_feature`](crate::has_feature), [`check_feature`](crate::check_feature),
//! [`check_product`](crate::check_product), and the whole
//! [`snapshot`](crate::snapshot).
//!
//! ```
//! use license_gate::{has_feature, testing::TestLicense};
//! let _license = TestLicense::product("Atlas Studio").features(["export"]).scoped();
//! let export_menu_enabled = has_feature("export");
//! assert!(export_menu_enabled);
//! ```
