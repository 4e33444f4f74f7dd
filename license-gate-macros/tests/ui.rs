//! Compile-time errors of `#[requires_feature]` and `#[licensed]`: one file
//! per misuse with the error it must give. Regenerate the expected output with
//! `TRYBUILD=overwrite` and read the diff.
//!
//! The forms that must compile are not here: they are the modules of the
//! `ui_pass` test of the `license-gate` crate, built with `#![deny(warnings)]`
//! and linted by clippy with the rest of the workspace. Without pass cases,
//! trybuild only type-checks (`cargo check`) instead of building binaries,
//! and its project depends on nothing but this crate's dev-dependencies.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
}
