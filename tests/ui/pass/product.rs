//! `product = ".."` checks another product of the license.

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("gpu", product = "Atlas Render")]
fn render(frames: u32) -> Result<u32, LicenseError> {
    Ok(frames)
}

#[licensed(product = "Atlas Render")]
fn open_render() -> Result<(), LicenseError> {
    Ok(())
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas Studio")
        .and_product("Atlas Render")
        .features(["gpu"])
        .scoped();
    assert_eq!(render(24), Ok(24));
    assert_eq!(open_render(), Ok(()));
}
