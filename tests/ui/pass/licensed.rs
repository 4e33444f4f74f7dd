//! `#[licensed]` with and without arguments.

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, licensed};

#[licensed]
fn open() -> Result<(), LicenseError> {
    Ok(())
}

#[licensed()]
fn open_parens() -> Result<(), LicenseError> {
    Ok(())
}

#[licensed(product = "Atlas", fallback = closed, crate = "license_gate")]
fn everything(n: u8) -> u8 {
    n
}

fn closed(_n: u8) -> u8 {
    0
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").scoped();
    assert_eq!(open(), Ok(()));
    assert_eq!(open_parens(), Ok(()));
    assert_eq!(everything(3), 3);
}
