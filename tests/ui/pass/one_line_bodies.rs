//! One-line bodies in every form: the braces around the body are the
//! expansion's, so `unused_braces` (denied for the whole crate) must not fire.

use async_trait::async_trait;
use license_gate::testing::TestLicense;
use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro")]
fn plain(x: u32) -> Result<u32, LicenseError> { Ok(x) }

#[requires_feature("pro", fallback = basic)]
fn with_fallback(x: u32) -> u32 { x }

fn basic(_x: u32) -> u32 { 0 }

#[requires_feature("pro")]
fn opaque(x: u32) -> Result<impl Iterator<Item = u32>, LicenseError> { Ok(0..x) }

#[requires_feature("pro")]
async fn asynchronous(x: u32) -> Result<u32, LicenseError> { Ok(x) }

#[requires_feature("pro", fallback = basic_unsafe)]
unsafe fn raw(ptr: *const u32) -> u32 { unsafe { *ptr } }

unsafe fn basic_unsafe(_ptr: *const u32) -> u32 { 0 }

struct Counter(u32);

impl Counter {
    #[licensed]
    fn get(&self) -> Result<u32, LicenseError> { Ok(self.0) }
}

#[async_trait]
trait Remote {
    async fn fetch(&self) -> Result<u32, LicenseError>;
}

#[async_trait]
impl Remote for Counter {
    #[requires_feature("pro")]
    async fn fetch(&self) -> Result<u32, LicenseError> { Ok(self.0) }
}

macro_rules! gated {
    ($name:ident($arg:ident) $body:block) => {
        #[requires_feature("pro")]
        fn $name($arg: u32) -> Result<u32, LicenseError> $body
    };
}

gated!(from_macro(x) { Ok(x) });

#[tokio::test]
async fn main() {
    let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
    assert_eq!(plain(1), Ok(1));
    assert_eq!(with_fallback(2), 2);
    assert_eq!(opaque(3).map(Iterator::count), Ok(3));
    assert_eq!(asynchronous(4).await, Ok(4));
    assert_eq!(unsafe { raw(&5) }, 5);
    assert_eq!(Counter(6).get(), Ok(6));
    assert_eq!(Counter(7).fetch().await, Ok(7));
    assert_eq!(from_macro(8), Ok(8));
}
