//! The `#[requires_feature]` and `#[licensed]` attributes of license-gate.
//!
//! Use them through the `license-gate` crate, which re-exports them:
//!
//! ```
//! use license_gate::{LicenseError, requires_feature, testing::TestLicense};
//!
//! #[requires_feature("pro")]
//! fn export_pdf(pages: u32) -> Result<Vec<u8>, LicenseError> {
//!     Ok(vec![0; pages as usize])
//! }
//!
//! let _license = TestLicense::product("Atlas Studio").features(["pro"]).scoped();
//! assert_eq!(export_pdf(2).unwrap().len(), 2);
//! ```
//!
//! The crate is laid out as parse -> check -> expand: `args` and `ast` read
//! the attribute and the function, `valid` checks them, `expand` writes the
//! gated function.

#![doc(test(attr(deny(warnings))))]
#![warn(missing_docs)]

use proc_macro::TokenStream;

mod args;
mod ast;
mod expand;
mod valid;

use args::{Args, Kind};
use ast::GatedFn;

/// Gates a function behind one or more features of the license.
///
/// The function runs when the license in force includes the features;
/// otherwise it returns `Err(E::from(license_error))`, or calls the
/// `fallback` when one is named.
///
/// # Arguments
///
/// - `"a", "b"`: every one of these features is needed.
/// - `any("a", "b")`: one of these features is enough.
/// - `product = "Name"`: the product whose license is checked, when the
///   application holds more than one (default: the first configured).
/// - `fallback = path`: a function called instead when access is denied, with
///   the same arguments (`self` first for methods) and the same return type;
///   for an `async fn`, an `async fn` whose result is awaited.
/// - `crate = "path"`: where to find license-gate when the crate is renamed.
///
/// # When access is denied
///
/// A function that returns `Result<T, E>` (the last segment of the return
/// type's path is `Result`, so `io::Result<T>` and `anyhow::Result<T>` work)
/// returns `Err(E::from(LicenseError))`; implement `From<LicenseError>` for
/// `E` (with thiserror, `#[from]`). Any other function must name a
/// `fallback`. Early `return`, `?`, attributes and doc comments work as
/// written; `async fn`, methods with any receiver, generic functions,
/// trait-impl methods and `#[async_trait]` methods are supported. A `const fn`
/// cannot be gated.
///
/// # Examples
///
/// ```
/// use license_gate::{LicenseError, requires_feature, testing::TestLicense};
///
/// #[derive(Debug)]
/// enum AppError {
///     License(LicenseError),
/// }
///
/// impl From<LicenseError> for AppError {
///     fn from(error: LicenseError) -> Self {
///         AppError::License(error)
///     }
/// }
///
/// /// Every feature listed is needed.
/// #[requires_feature("pro", "export")]
/// fn export_pdf(pages: u32) -> Result<Vec<u8>, AppError> {
///     Ok(vec![0; pages as usize])
/// }
///
/// /// One feature of the list is enough; the product is named.
/// #[requires_feature(any("pro", "enterprise"), product = "Atlas Render")]
/// fn render_gpu(frames: u32) -> std::io::Result<u32> {
///     Ok(frames)
/// }
///
/// /// Denied calls get the fallback, called with the same arguments.
/// #[requires_feature("hd", fallback = thumbnail_sd)]
/// fn thumbnail(width: u32) -> u32 {
///     width * 2
/// }
///
/// fn thumbnail_sd(width: u32) -> u32 {
///     width
/// }
///
/// let _license = TestLicense::product("Atlas Studio")
///     .features(["pro"])
///     .and_product("Atlas Render")
///     .features(["enterprise"])
///     .scoped();
/// assert!(matches!(
///     export_pdf(1),
///     Err(AppError::License(LicenseError::MissingFeature { .. }))
/// ));
/// assert_eq!(render_gpu(24).unwrap(), 24);
/// assert_eq!(thumbnail(100), 100);
/// ```
///
/// Methods and `async fn` work the same way:
///
/// ```
/// use license_gate::{LicenseError, requires_feature};
///
/// struct Document;
///
/// impl Document {
///     #[requires_feature("sync", fallback = Self::save_locally)]
///     async fn save(&mut self, name: &str) -> bool {
///         upload(name).await
///     }
///
///     async fn save_locally(&mut self, _name: &str) -> bool {
///         false
///     }
///
///     #[requires_feature("share")]
///     fn share(&self) -> Result<String, LicenseError> {
///         Ok("https://example.com/doc/1".to_owned())
///     }
/// }
///
/// async fn upload(_name: &str) -> bool {
///     true
/// }
/// # let _ = (Document.save("a"), Document.share());
/// ```
#[proc_macro_attribute]
pub fn requires_feature(args: TokenStream, item: TokenStream) -> TokenStream {
    gate(Kind::RequiresFeature, args.into(), item.into()).into()
}

/// Gates a function behind a product license, whatever its features.
///
/// The function runs when the product is licensed (valid, or in its grace
/// period); otherwise it returns `Err(E::from(license_error))`, or calls the
/// `fallback` when one is named, exactly like [`macro@requires_feature`].
///
/// # Arguments
///
/// - `product = "Name"`: the product whose license is checked (default: the
///   first configured).
/// - `fallback = path`: a function called instead when access is denied, with
///   the same arguments and the same return type.
/// - `crate = "path"`: where to find license-gate when the crate is renamed.
///
/// To require features too, use `#[requires_feature("..", product = "..")]`.
///
/// # Examples
///
/// ```
/// use license_gate::{LicenseError, licensed, testing::TestLicense};
///
/// #[licensed]
/// fn open_project(name: &str) -> Result<String, LicenseError> {
///     Ok(format!("opened {name}"))
/// }
///
/// #[licensed(product = "Atlas Render", fallback = preview_only)]
/// fn render(frames: u32) -> u32 {
///     frames
/// }
///
/// fn preview_only(_frames: u32) -> u32 {
///     1
/// }
///
/// let _license = TestLicense::product("Atlas Studio").scoped();
/// assert_eq!(open_project("atlas").unwrap(), "opened atlas");
/// assert_eq!(render(24), 1);
/// ```
#[proc_macro_attribute]
pub fn licensed(args: TokenStream, item: TokenStream) -> TokenStream {
    gate(Kind::Licensed, args.into(), item.into()).into()
}

/// Parses, checks and expands; on error, emits the function unchanged next to
/// the error, so that one mistake does not turn into many.
fn gate(
    kind: Kind,
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let expanded = Args::parse(kind, args).and_then(|args| {
        let func = GatedFn::parse(kind, item.clone())?;
        valid::check(&args, &func)?;
        Ok(expand::expand(&args, &func))
    });
    expanded.unwrap_or_else(|error| {
        let mut tokens = item;
        tokens.extend(error.into_compile_error());
        tokens
    })
}
