//! Patterns in arguments need no name without a fallback (twin of
//! `fail/fallback_pattern_argument.rs`).

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

struct Size {
    width: u32,
    height: u32,
}

#[requires_feature("pro")]
fn area(
    (width, height): (u32, u32),
    _: u8,
    Size {
        width: w,
        height: h,
    }: Size,
) -> Result<u32, LicenseError> {
    Ok(width * height + w * h)
}

#[requires_feature("pro", fallback = basic)]
fn area_with_fallback(size: (u32, u32), _n: u8, ref_label: &str) -> u32 {
    let (width, height) = size;
    width * height + ref_label.len() as u32
}

fn basic(_size: (u32, u32), _n: u8, _label: &str) -> u32 {
    0
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
    assert_eq!(
        area(
            (2, 3),
            0,
            Size {
                width: 1,
                height: 1
            }
        ),
        Ok(7)
    );
    assert_eq!(area_with_fallback((2, 3), 0, "ab"), 8);
}
