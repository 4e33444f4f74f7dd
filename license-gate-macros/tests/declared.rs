//! A crate that declares its feature names in `Cargo.toml` (this one does,
//! under `[package.metadata.license-gate]`): declared names and constants that
//! hold them compile, and `declared_features!()` hands the list to the program.
//! Undeclared names are compile errors (see the `compile_fail` doc test of
//! `declared_features!` and the expansion tests).

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, declared_features, requires_feature};

const EXPORT: &str = "export";

#[requires_feature("pro", EXPORT)]
fn export_pdf(pages: u32) -> Result<u32, LicenseError> {
    Ok(pages)
}

#[requires_feature(any(concat!("enter", "prise"), "hd"))]
fn render() -> Result<(), LicenseError> {
    Ok(())
}

#[test]
fn declared_features_lists_the_manifest() {
    assert_eq!(
        declared_features!(),
        ["pro", "export", "enterprise", "hd", "sync", "share"]
    );
}

#[test]
fn declared_names_gate_as_usual() {
    let _license = TestLicense::product("Atlas")
        .features(["pro", "export", "hd"])
        .scoped();
    assert_eq!(export_pdf(3), Ok(3));
    assert_eq!(render(), Ok(()));
    let _basic = TestLicense::product("Atlas").features(["pro"]).scoped();
    assert!(matches!(
        export_pdf(3),
        Err(LicenseError::MissingFeature { .. })
    ));
}
