//! `any(..)`: one feature of the list is enough.

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

#[requires_feature(any("pro", "enterprise"))]
fn export(pages: u32) -> Result<u32, LicenseError> {
    Ok(pages)
}

#[requires_feature(any("solo"), product = "Atlas")]
fn solo() -> Result<(), LicenseError> {
    Ok(())
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas")
        .features(["enterprise"])
        .scoped();
    assert_eq!(export(2), Ok(2));
    assert!(solo().is_err());
}
