//! Fallbacks named by qualified paths, and `unsafe fn` fallbacks.

use license_gate::requires_feature;
use license_gate::testing::TestLicense;

trait Basic {
    fn render(&self, width: u32) -> String;
}

struct Doc;

impl Basic for Doc {
    fn render(&self, width: u32) -> String {
        format!("basic {width}")
    }
}

impl Doc {
    #[requires_feature("hd", fallback = <Self as Basic>::render)]
    fn render(&self, width: u32) -> String {
        format!("hd {width}")
    }

    #[requires_feature("hd", fallback = <Doc as Basic>::render)]
    fn render_again(&self, width: u32) -> String {
        format!("hd {width}")
    }
}

#[requires_feature("hd", fallback = read_basic)]
unsafe fn read(ptr: *const u8) -> u8 {
    unsafe { *ptr }
}

unsafe fn read_basic(_ptr: *const u8) -> u8 {
    0
}

#[requires_feature("hd", fallback = safe_basic)]
unsafe fn read_with_safe_fallback(ptr: *const u8) -> u8 {
    unsafe { *ptr }
}

fn safe_basic(_ptr: *const u8) -> u8 {
    1
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").scoped();
    assert_eq!(Doc.render(2), "basic 2");
    assert_eq!(Doc.render_again(3), "basic 3");
    assert_eq!(unsafe { read(&7) }, 0);
    assert_eq!(unsafe { read_with_safe_fallback(&7) }, 1);
}
