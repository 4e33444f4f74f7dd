//! A `#[cfg]` argument is passed to the fallback under the same `#[cfg]`.

use license_gate::requires_feature;
use license_gate::testing::TestLicense;

#[requires_feature("pro", fallback = basic)]
fn sum(a: u32, #[cfg(any())] b: u32, c: u32) -> u32 {
    a + c + 100
}

fn basic(a: u32, #[cfg(any())] b: u32, c: u32) -> u32 {
    a + c
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").scoped();
    assert_eq!(sum(1, 2), 3);
}
