//! Fallbacks by name and by path, with the same arguments.

use license_gate::requires_feature;
use license_gate::testing::TestLicense;

#[requires_feature("hd", fallback = thumbnail_sd)]
fn thumbnail(width: u32, mut height: u32, label: &str) -> String {
    height += 1;
    format!("hd {width}x{height} {label}")
}

fn thumbnail_sd(width: u32, height: u32, label: &str) -> String {
    format!("sd {width}x{height} {label}")
}

mod basic {
    pub fn count(items: &[u8]) -> usize {
        items.len().min(1)
    }
}

#[requires_feature("pro", fallback = self::basic::count)]
fn count(items: &[u8]) -> usize {
    items.len()
}

#[requires_feature("pro", fallback = nothing)]
fn side_effect() {}

fn nothing() {}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").scoped();
    assert_eq!(thumbnail(4, 3, "x"), "sd 4x3 x");
    assert_eq!(count(&[1, 2, 3]), 1);
    side_effect();
}
