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
//! same arguments when access is denied, and `crate = ".."` when
//! `license-gate` is reached through another crate.
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
//! ## Return types: what a denied call returns
//!
//! Whether a return type can carry a denial is decided by the type system, so
//! the type may be spelled any way:
//!
//! - `Result<T, E>` with `E: From<LicenseError>`, under any name:
//!   `io::Result<T>`, `anyhow::Result<T>`, a project's `AppResult<T>`, an
//!   associated type such as `Self::Output`. A denied call returns
//!   `Err(E::from(LicenseError))`: implement `From<LicenseError>` for `E`
//!   (thiserror's `#[from]`). The [`LicenseError`](crate::LicenseError) says
//!   which feature or product and why, in a sentence a user can act on.
//!   Errors compare and hash by value, so a test can write
//!   `assert_eq!(export(), Err(expected))` with an `expected` built by hand
//!   or returned by `check_feature`.
//! - `Result<impl Trait, E>`.
//! - A boxed future of such a result:
//!   `Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'a>>` (also without
//!   `Send`, and aliases such as `BoxFuture`).
//!   A denied call returns a ready future of the error; when the body is
//!   `Box::pin(async move { .. })` (as `#[async_trait]` writes it), the check
//!   runs first inside that block, on the first poll, like an `async fn`.
//! - `async fn` returning any of these: the check runs on the first poll.
//! - Anything else (`()`, `u32`, `Option<T>`, `impl Iterator`) names a
//!   `fallback = path`, called with the same arguments (`self` included) and
//!   its result returned (awaited for an `async fn`; called in an `unsafe`
//!   block for an `unsafe fn`). The path may be qualified:
//!   `fallback = <Self as Basic>::render`. Without one, the compile error says
//!   what to do; `-> impl Future<..>` is told to become an `async fn`.
//!
//! ```
//! use std::future::Future;
//! use std::pin::Pin;
//! use license_gate::{requires_feature, LicenseError, testing::TestLicense};
//!
//! #[derive(Debug, thiserror::Error)]
//! enum AppError {
//!     #[error(transparent)]
//!     License(#[from] LicenseError),
//! }
//!
//! type AppResult<T> = Result<T, AppError>;
//! type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
//!
//! #[requires_feature("pro")]
//! fn export(pages: u32) -> AppResult<u32> {
//!     Ok(pages)
//! }
//!
//! #[requires_feature("pro")]
//! fn upload(bytes: Vec<u8>) -> BoxFuture<'static, AppResult<usize>> {
//!     Box::pin(async move { Ok(bytes.len()) })
//! }
//!
//! #[requires_feature("pro", fallback = preview)]
//! fn render(width: u32) -> String {
//!     format!("{width}px")
//! }
//!
//! fn preview(width: u32) -> String {
//!     format!("{}px preview", width / 4)
//! }
//!
//! let _license = TestLicense::unlicensed().scoped();
//! assert!(export(1).is_err());
//! assert_eq!(render(800), "200px preview");
//! # drop(upload(Vec::new()));
//! ```
//!
//! ## Feature names
//!
//! A feature name is a string literal (`"pro"`, any Unicode), the path of a
//! `&str` constant (`FEATURE_PRO`, `features::EXPORT`), or a constant
//! expression (`concat!("pro", "-", "v2")`); rustc resolves and type-checks
//! the constants.
//!
//! ```
//! use license_gate::{requires_feature, LicenseError};
//!
//! mod features {
//!     pub const EXPORT: &str = "export";
//! }
//!
//! #[requires_feature(features::EXPORT, concat!("p", "ro"))]
//! fn export() -> Result<(), LicenseError> {
//!     Ok(())
//! }
//! # let _ = export;
//! ```
//!
//! To have the names checked at compile time, declare them once in the
//! application's `Cargo.toml`:
//!
//! ```toml
//! [package.metadata.license-gate]
//! features = ["pro", "export"]
//! ```
//!
//! Then `#[requires_feature("por")]` is a compile error naming the declared
//! features, with "did you mean `pro`?"; a constant is checked when rustc
//! evaluates it; cargo rebuilds when the list changes (after adding the table
//! for the first time, touch a source file so the crate is checked again).
//! Without the table nothing is checked. `license_gate::declared_features!()`
//! expands to the list as a `&'static [&'static str]`, for the program to
//! hand to the gate (see [`declared_features!`](crate::declared_features)).
//!
//! ## Attribute order
//!
//! Attributes expand from the top down; with the attributes below, the order
//! does not matter.
//!
//! - `#[tokio::main]` and `#[tokio::test]`: either order. With the gate
//!   above, it sees the `async fn` and checks when tokio's runtime first polls
//!   it. With the gate below, it sees the blocking `fn` tokio wrote and checks
//!   before the runtime starts. Either way a denial returns `Err`, or runs the
//!   fallback, an `async fn`, on the runtime.
//! - `#[tracing::instrument]`: either order.
//! - `#[async_trait]` goes on the `impl` or the trait, and always expands
//!   before the gate on a method inside; the check runs first inside the
//!   boxed future it writes.
//!
//! ```
//! use license_gate::licensed;
//!
//! // Gate above: checked on the runtime, on the first poll.
//! #[licensed(fallback = read_only)]
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() {
//!     // the full application
//! }
//!
//! // Runs instead when the application is not licensed.
//! async fn read_only() {}
//! ```
//!
//! ```
//! use license_gate::{LicenseError, requires_feature, testing::TestLicense};
//!
//! // Gate below: checked before the runtime starts, so a denied call returns
//! // `Err` without starting one. The same goes for `#[tokio::test]`.
//! #[tokio::main(flavor = "current_thread")]
//! #[requires_feature("export")]
//! async fn export_all() -> Result<u32, LicenseError> {
//!     Ok(3)
//! }
//!
//! let _license = TestLicense::product("Atlas Studio").scoped();
//! assert!(export_all().is_err());
//! ```
//!
//! ## Where the attributes work
//!
//! Free functions; methods with any receiver (`&self`, `&mut self`, `self`,
//! `self: Box<Self>`, `Pin<&mut Self>`); associated and generic functions
//! (lifetimes, const generics, `impl Trait` arguments); `async fn`;
//! `unsafe fn` and `extern "C" fn`; trait-impl and default trait methods;
//! `#[async_trait]` methods; functions written by `macro_rules!`. Doc
//! comments, other attributes, early `return`, `?` and drop order stay as
//! written, and the expansion adds no warning, even for a one-line body or
//! under strict lints (`unused_qualifications`, `single_use_lifetimes`,
//! `unreachable_pub`, `rust_2018_idioms`, `clippy::pedantic`): the paths it
//! writes are its own, and only your tokens keep your spans.
//! `const fn`, wrong arguments and unknown keys are compile errors pointing at
//! the offending tokens.
//!
//! When `license-gate` is renamed in `Cargo.toml`
//! (`lg = { package = "license-gate", .. }`), the attributes find it there. When
//! it comes through another crate, name the path: `crate = "other::license_gate"`.
//!
//! ## Spawned work in tests
//!
//! A [`TestLicense`](super::testing) scope is seen by the thread
//! or task that made it. Code that hands work to `tokio::spawn`,
//! `spawn_blocking` or a thread carries the scope with
//! [`CurrentScope`](crate::CurrentScope) (in production it captures nothing
//! and costs nothing):
//!
//! ```
//! use license_gate::{requires_feature, CurrentScope, LicenseError, testing::TestLicense};
//!
//! #[requires_feature("pro")]
//! fn encode(frames: u32) -> Result<u32, LicenseError> {
//!     Ok(frames)
//! }
//!
//! async fn encode_in_background(frames: u32) -> Result<u32, LicenseError> {
//!     let scope = CurrentScope::capture();
//!     tokio::task::spawn_blocking(move || scope.run(|| encode(frames)))
//!         .await
//!         .expect("the encoder does not panic")
//! }
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() {
//! let license = TestLicense::product("Atlas").features(["pro"]);
//! assert_eq!(license.scope(encode_in_background(3)).await.unwrap(), 3);
//! # }
//! ```
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
