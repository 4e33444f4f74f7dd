//! `crate = ".."` names the facade when it is reached another way.

extern crate license_gate as gate;

use gate::testing::TestLicense;
use gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", crate = "gate")]
fn renamed() -> Result<u8, LicenseError> {
    Ok(1)
}

#[licensed(crate = "::license_gate")]
fn absolute() -> Result<u8, LicenseError> {
    Ok(2)
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
    assert_eq!(renamed(), Ok(1));
    assert_eq!(absolute(), Ok(2));
}
