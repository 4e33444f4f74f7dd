//! Attributes and doc comments stay where they were written.
#![deny(missing_docs)]

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, licensed, requires_feature};

/// Documented, must be used, inlined, and reporting its caller.
#[must_use = "use the page count"]
#[requires_feature("pro")]
#[inline]
#[track_caller]
pub fn pages() -> Result<u32, LicenseError> {
    #![allow(clippy::needless_return)]
    let caller = std::panic::Location::caller();
    return Ok(caller.line());
}

#[requires_feature("pro")]
#[cfg(any())]
fn never_compiled() -> Result<(), LicenseError> {
    this_does_not_exist()
}

#[cfg_attr(all(), requires_feature("pro"))]
fn via_cfg_attr() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature("pro")]
#[licensed]
fn stacked() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature("pro")]
unsafe fn unsafe_fn(ptr: *const u8) -> Result<u8, LicenseError> {
    Ok(unsafe { *ptr })
}

#[requires_feature("pro", fallback = c_fallback)]
extern "C" fn c_abi(n: i32) -> i32 {
    n
}

extern "C" fn c_fallback(_n: i32) -> i32 {
    -1
}

/// Runs the checks.
#[test]
fn main() {
    let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
    let line = line!() + 1;
    assert_eq!(pages(), Ok(line));
    assert_eq!(via_cfg_attr(), Ok(()));
    assert_eq!(stacked(), Ok(()));
    assert_eq!(unsafe { unsafe_fn(&7) }, Ok(7));
    assert_eq!(c_abi(3), 3);
}
