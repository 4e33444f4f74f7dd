//! Free functions, private and `pub(crate)`.

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

#[requires_feature("pro")]
fn export(pages: u32) -> Result<u32, LicenseError> {
    Ok(pages)
}

#[requires_feature("pro")]
pub(crate) fn visible() -> Result<(), LicenseError> {
    Ok(())
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
    assert_eq!(export(2), Ok(2));
    assert_eq!(visible(), Ok(()));
}
