//! Compile-time checks of `#[requires_feature]` and `#[licensed]`: every form
//! that must compile, and one file per misuse with the error it must give.
//! Regenerate the expected output with `TRYBUILD=overwrite` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
