//! The `#[requires_feature]` and `#[licensed]` attributes and the
//! `embed_secret!` macro of license-gate.
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
//! gated function. `secret` holds `embed_secret!`, in the same shape.

#![doc(test(attr(deny(warnings))))]
#![warn(missing_docs)]

use proc_macro::TokenStream;

mod args;
mod ast;
mod expand;
mod manifest;
mod secret;
mod valid;

use proc_macro2::Span;
use quote::quote;

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
/// - `"a", "b"`: every one of these features is needed. A name is a string
///   literal, the path of a `&str` constant (`FEATURE_PRO`), or a constant
///   expression (`concat!("pro", "-", "v2")`).
/// - `any("a", "b")`: one of these features is enough.
/// - `product = "Name"`: the product whose license is checked, when the
///   application holds more than one (default: the first configured).
/// - `fallback = path`: a function called instead when access is denied, with
///   the same arguments (`self` first for methods) and the same return type;
///   for an `async fn`, an `async fn` whose result is awaited.
/// - `crate = "path"`: where to find license-gate when it is not a direct
///   dependency (a renamed dependency is found in `Cargo.toml` without it).
///
/// When the application declares its features in `Cargo.toml`, literal names
/// are checked against the list at compile time: see [`declared_features!`].
///
/// # When access is denied
///
/// A function that returns `Result<T, E>` with `E: From<LicenseError>`,
/// under any name (`io::Result<T>`, a project's `AppResult<T>`, an associated
/// type), returns `Err(E::from(LicenseError))`; implement `From<LicenseError>`
/// for `E` (with thiserror, `#[from]`). A boxed future of such a result
/// (`Pin<Box<dyn Future<Output = Result<T, E>> + Send + '_>>`, `BoxFuture`)
/// returns a future of that error. Any other function must name a
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

/// The feature names the application declares in its `Cargo.toml`, as a
/// `&'static [&'static str]`.
///
/// Declare the features once, in the manifest of the crate that uses the
/// attributes:
///
/// ```toml
/// [package.metadata.license-gate]
/// features = ["pro", "export"]
/// ```
///
/// Then `#[requires_feature("por")]` is a compile error that names the
/// declared features (with "did you mean `pro`"), a feature given as a
/// constant is checked when the constant is evaluated, and cargo rebuilds the
/// crate when the list changes. Without the table nothing is checked, and
/// this macro is a compile error that says how to declare the list.
///
/// The macro hands the same list to the running program, for example to the
/// gate so that it can report a feature a license grants that the
/// application does not know:
///
/// ```
/// use license_gate::{LicenseError, declared_features, requires_feature};
///
/// #[requires_feature("pro")]
/// fn export_pdf() -> Result<(), LicenseError> {
///     Ok(())
/// }
///
/// const KNOWN: &[&str] = declared_features!();
/// assert!(KNOWN.contains(&"pro"));
/// # let _ = export_pdf;
/// ```
///
/// ```compile_fail
/// // `por` is not declared: "unknown feature `por` ...; did you mean `pro`?"
/// #[license_gate::requires_feature("por")]
/// fn export_pdf() -> Result<(), license_gate::LicenseError> {
///     Ok(())
/// }
/// ```
///
/// ```compile_fail
/// // A constant is checked when rustc evaluates it.
/// const EXPORT: &str = "exprot";
///
/// #[license_gate::requires_feature(EXPORT)]
/// fn export_pdf() -> Result<(), license_gate::LicenseError> {
///     Ok(())
/// }
/// ```
#[proc_macro]
pub fn declared_features(input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    let expanded = if input.is_empty() {
        manifest::declared().and_then(|declared| match declared {
            Some(manifest::Declared { names, manifest }) => {
                let track = manifest.map(|path| quote!(const _: &[u8] = ::core::include_bytes!(#path);));
                Ok(quote!({ #track const __LICENSE_GATE_DECLARED: &[&str] = &[#(#names),*]; __LICENSE_GATE_DECLARED }))
            }
            None => Err(syn::Error::new(
                Span::call_site(),
                "this crate declares no feature names: add `[package.metadata.license-gate] features = [\"pro\", \"export\"]` to its Cargo.toml",
            )),
        })
    } else {
        Err(syn::Error::new_spanned(
            input,
            "`declared_features!` takes no arguments: write `declared_features!()`, and list the names in Cargo.toml",
        ))
    };
    expanded
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Embeds the vendor secret from an environment variable of the build.
///
/// The variable is read when the application is compiled, and cargo rebuilds
/// the crate when it changes. Each build lays the secret out afresh, from the
/// operating system's random source: split into 3 to 5 shares kept in
/// separate statics with drawn names, recombined by straight-line code whose
/// operations, constants and order are drawn too, with the shares read through
/// a volatile barrier so that the optimiser cannot fold them back into the
/// secret. The value never appears verbatim in the binary, and no seed, key
/// stream or instruction pattern is the same in two builds, so no scanner
/// written against this crate's source finds it; running this one
/// application under a debugger still does (see the security guide). A
/// consequence: a build that embeds a secret is not bit-for-bit reproducible.
///
/// Evaluates to `Result<VendorSecret, GateError>`. A variable that holds
/// fewer than 16 bytes is a compile error that says so, in every build.
///
/// `license-gate secret new` (the command line, `license-gate-cli`) prints
/// a fresh random secret and the lines that set the variable: for a
/// git-ignored `.cargo/config.toml`, for CI, and for `.gitignore`.
///
/// ```
/// // Built with ATLAS_LICENSE_SECRET set, for example from your CI's secrets
/// // or `[env]` in `.cargo/config.toml`.
/// let secret = license_gate::embed_secret!("ATLAS_LICENSE_SECRET")?;
/// let builder = license_gate::LicenseGate::builder().vendor_secret(secret);
/// # let _ = builder;
/// # Ok::<(), license_gate::GateError>(())
/// ```
///
/// # Without the variable
///
/// A variable that is not set (or is empty) needs no setup while you
/// develop, and cannot be forgotten in a release:
///
/// - a debug build (`cargo build`, `cargo run`, `cargo check`, `cargo test`)
///   gets the **development secret**: public (it is in license-gate's
///   source), so it protects nothing, but the gate runs as it will with a
///   real one. The gate logs a warning naming the variable once at start, and
///   `LicenseGate::vendor_secret_warning()` says so too. Keys are derived
///   from it apart from every real secret, so a build with a real secret
///   never accepts a cache it wrote;
/// - a release build (`--release`, or any profile without
///   `debug-assertions`) fails to compile with an error that names the
///   variable and `license-gate secret new`.
///
/// A proc macro cannot see the profile, so the expansion holds both, under
/// `#[cfg(debug_assertions)]` and `#[cfg(not(debug_assertions))]`.
///
/// ```
/// // Not set for this build (a debug build, as tests are).
/// # #[cfg(debug_assertions)] {
/// let secret = license_gate::embed_secret!("NOT_SET_ANYWHERE")?;
/// assert!(secret.is_development());
/// # }
/// # Ok::<(), license_gate::GateError>(())
/// ```
///
/// `crate = "path"` names where license-gate is when the crate is renamed
/// and the manifest does not say so:
/// `embed_secret!("ATLAS_LICENSE_SECRET", crate = "my_deps::license_gate")`.
#[proc_macro]
pub fn embed_secret(input: TokenStream) -> TokenStream {
    secret::embed_secret(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// What the expansion needs from the calling crate's manifest.
pub(crate) struct Context {
    /// The path of the facade: `::license_gate`, or its name after a rename.
    pub(crate) krate: proc_macro2::TokenStream,
    /// The feature names the crate declares, when it does.
    pub(crate) declared: Option<manifest::Declared>,
}

impl Context {
    /// Reads the calling crate's manifest; the facade's name is looked up
    /// only when `crate = ".."` does not give it.
    fn load(args: &Args) -> syn::Result<Context> {
        let krate = match &args.krate {
            Some(_) => proc_macro2::TokenStream::new(),
            None => manifest::facade_path()?,
        };
        let declared = match args.kind {
            Kind::RequiresFeature => manifest::declared()?,
            Kind::Licensed => None,
        };
        Ok(Context { krate, declared })
    }
}

/// Parses, checks and expands; on error, emits the function unchanged next to
/// the error, so that one mistake does not turn into many.
fn gate(
    kind: Kind,
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    gate_with(kind, args, item, Context::load)
}

/// [`gate`] with the manifest's answers given by `load` (tests give their own).
fn gate_with(
    kind: Kind,
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
    load: impl FnOnce(&Args) -> syn::Result<Context>,
) -> proc_macro2::TokenStream {
    let expanded = Args::parse(kind, args).and_then(|args| {
        let func = GatedFn::parse(kind, item.clone())?;
        let cx = load(&args)?;
        valid::check(&args, &func, &cx)?;
        Ok(expand::expand(&args, &func, &cx))
    });
    expanded.unwrap_or_else(|error| {
        let mut tokens = item;
        tokens.extend(error.into_compile_error());
        tokens
    })
}
