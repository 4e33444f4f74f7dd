//! Finding the shared test vectors (`shared/vectors` beside the checkout).
//!
//! A test that needs them is declared with [`vectors_test!`](crate::vectors_test):
//! where the folder is absent it is reported as `ignored` with the reason, so
//! a run never shows `ok` for a test that checked nothing; under `CI=true` a
//! missing folder fails the test instead.

use std::path::PathBuf;

/// What to do where the shared vectors are absent.
pub const MISSING: &str = "the shared test vectors were not found: put them at shared/vectors beside the checkout, or set LICENSE_GATE_VECTORS to their folder";

/// The folder of shared test vectors, if present: `$LICENSE_GATE_VECTORS`, or
/// `shared/vectors` next to the workspace folder.
///
/// ```
/// if let Some(dir) = license_gate_testkit::vectors::dir() {
///     assert!(dir.is_dir());
/// }
/// ```
pub fn dir() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("LICENSE_GATE_VECTORS") {
        let path = PathBuf::from(explicit);
        return path.is_dir().then_some(path);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()?
        .to_path_buf();
    let path = workspace.parent()?.join("shared").join("vectors");
    path.is_dir().then_some(path)
}

/// Reads `relative` below the vectors folder, or `None` (with a message on
/// stderr) when the folder is absent. Under `CI=true` an absent folder panics:
/// a CI run must not pass without checking the vectors.
pub fn read(relative: &str) -> Option<String> {
    let Some(dir) = dir() else {
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!("CI=true, and {MISSING}");
        }
        eprintln!("skipped: {MISSING}");
        return None;
    };
    match std::fs::read_to_string(dir.join(relative)) {
        Ok(text) => Some(text),
        Err(error) => panic!("the vectors folder exists but `{relative}` cannot be read: {error}"),
    }
}

/// Reads `relative` below the vectors folder, for a test declared with
/// [`vectors_test!`](crate::vectors_test) (which runs only where the folder
/// was found); panics with what is missing otherwise.
pub fn require(relative: &str) -> String {
    match read(relative) {
        Some(text) => text,
        None => panic!("{MISSING} (reading `{relative}`)"),
    }
}

/// Not public API: the body of a test whose vectors are missing under `CI=true`.
#[doc(hidden)]
pub fn __missing_in_ci() {
    panic!("CI=true, and {MISSING}");
}

/// Declares a `#[test]` that needs the shared test vectors.
///
/// Where the vectors folder was found when the tests were built, this is an
/// ordinary test; where it was not, the test is `#[ignore]`d with the reason
/// ([`MISSING`]), so `cargo test` reports it as ignored rather than `ok`;
/// under `CI=true` a missing folder fails the test.
///
/// ```
/// license_gate_testkit::vectors_test! {
///     /// The ECOSIRE vectors hold at least one case.
///     fn ecosire_vectors_are_there() {
///         let text = license_gate_testkit::vectors::require("ecosire-signing/cases.json");
///         assert!(text.contains("cases"));
///     }
/// }
/// ```
#[macro_export]
macro_rules! vectors_test {
    ($(#[$attr:meta])* fn $name:ident() $body:block) => {
        $crate::__vectors_test! { $(#[$attr])* fn $name() $body }
    };
}

#[cfg(license_gate_vectors = "present")]
#[doc(hidden)]
#[macro_export]
macro_rules! __vectors_test {
    ($(#[$attr:meta])* fn $name:ident() $body:block) => {
        $(#[$attr])*
        #[test]
        fn $name() $body
    };
}

#[cfg(not(any(
    license_gate_vectors = "present",
    license_gate_vectors = "missing_in_ci"
)))]
#[doc(hidden)]
#[macro_export]
macro_rules! __vectors_test {
    ($(#[$attr:meta])* fn $name:ident() $body:block) => {
        $(#[$attr])*
        #[test]
        #[ignore = "needs the shared test vectors: put them at shared/vectors beside the checkout, or set LICENSE_GATE_VECTORS"]
        fn $name() $body
    };
}

#[cfg(license_gate_vectors = "missing_in_ci")]
#[doc(hidden)]
#[macro_export]
macro_rules! __vectors_test {
    ($(#[$attr:meta])* fn $name:ident() $body:block) => {
        $(#[$attr])*
        #[test]
        fn $name() {
            $crate::vectors::__missing_in_ci();
            $body
        }
    };
}
