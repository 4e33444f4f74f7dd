//! Several features: every one is needed.

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

#[requires_feature("pro", "export", "pdf")]
fn export(pages: u32) -> Result<u32, LicenseError> {
    Ok(pages)
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas")
        .features(["pro", "export"])
        .scoped();
    assert!(export(2).is_err());
}
