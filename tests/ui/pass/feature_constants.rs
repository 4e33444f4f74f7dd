//! Feature names as constants and constant expressions (twin of
//! `fail/feature_not_a_string.rs`).

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

const FEATURE_PRO: &str = "pro";

mod features {
    pub(crate) const EXPORT: &str = "export";
}

#[requires_feature(FEATURE_PRO)]
fn constant() -> Result<u8, LicenseError> {
    Ok(1)
}

#[requires_feature(FEATURE_PRO, features::EXPORT)]
fn paths() -> Result<u8, LicenseError> {
    Ok(2)
}

#[requires_feature(concat!("p", "ro"))]
fn concatenated() -> Result<u8, LicenseError> {
    Ok(3)
}

#[requires_feature(any(features::EXPORT, "team"))]
fn any_of_them() -> Result<u8, LicenseError> {
    Ok(4)
}

#[requires_feature("ünïcödé")]
fn non_ascii() -> Result<u8, LicenseError> {
    Ok(5)
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas")
        .features(["pro", "ünïcödé"])
        .scoped();
    assert_eq!(constant(), Ok(1));
    assert!(paths().is_err());
    assert_eq!(concatenated(), Ok(3));
    assert!(any_of_them().is_err());
    assert_eq!(non_ascii(), Ok(5));
}
