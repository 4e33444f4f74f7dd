//! Every receiver form (the explicit and boxed ones are the point here, so
//! clippy's advice against them is off).
#![allow(clippy::needless_arbitrary_self_type, clippy::boxed_local)]

use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

struct Doc(u32);

impl Doc {
    #[requires_feature("pro")]
    fn by_ref(&self) -> Result<u32, LicenseError> {
        Ok(self.0)
    }

    #[requires_feature("pro")]
    fn by_mut(&mut self) -> Result<u32, LicenseError> {
        self.0 += 1;
        Ok(self.0)
    }

    #[requires_feature("pro")]
    fn by_value(self) -> Result<u32, LicenseError> {
        Ok(self.0)
    }

    #[requires_feature("pro")]
    fn by_mut_value(mut self) -> Result<u32, LicenseError> {
        self.0 += 1;
        Ok(self.0)
    }

    #[requires_feature("pro")]
    fn explicit_ref(self: &Self) -> Result<u32, LicenseError> {
        Ok(self.0)
    }

    #[requires_feature("pro")]
    fn with_lifetime<'a>(&'a self, other: &'a str) -> Result<&'a str, LicenseError> {
        Ok(if self.0 > 0 { other } else { "" })
    }

    #[requires_feature("pro")]
    fn boxed(self: Box<Self>) -> Result<u32, LicenseError> {
        Ok(self.0)
    }

    #[requires_feature("pro")]
    fn rc(self: Rc<Self>) -> Result<u32, LicenseError> {
        Ok(self.0)
    }

    #[requires_feature("pro")]
    fn arc(self: Arc<Self>) -> Result<u32, LicenseError> {
        Ok(self.0)
    }

    #[requires_feature("pro")]
    fn pinned(self: Pin<&mut Self>) -> Result<u32, LicenseError> {
        Ok(self.0)
    }

    #[requires_feature("pro")]
    fn associated(n: u32) -> Result<Self, LicenseError> {
        Ok(Doc(n))
    }

    #[requires_feature("pro")]
    pub fn constructor() -> Result<Doc, LicenseError> {
        Self::associated(0)
    }

    #[requires_feature("pro", fallback = Self::fallback_ref)]
    fn ref_with_fallback(&self, n: u32) -> u32 {
        self.0 + n
    }

    fn fallback_ref(&self, _n: u32) -> u32 {
        0
    }

    #[requires_feature("pro", fallback = Doc::fallback_boxed)]
    fn boxed_with_fallback(self: Box<Self>) -> u32 {
        self.0
    }

    fn fallback_boxed(self: Box<Self>) -> u32 {
        0
    }

    #[requires_feature("pro", fallback = Self::fallback_pinned)]
    fn pinned_with_fallback(self: Pin<&mut Self>) -> u32 {
        self.0
    }

    fn fallback_pinned(self: Pin<&mut Self>) -> u32 {
        0
    }
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
    let mut doc = Doc::associated(1).unwrap();
    assert_eq!(doc.by_ref(), Ok(1));
    assert_eq!(doc.by_mut(), Ok(2));
    assert_eq!(doc.explicit_ref(), Ok(2));
    assert_eq!(doc.with_lifetime("x"), Ok("x"));
    assert_eq!(Pin::new(&mut doc).pinned(), Ok(2));
    assert_eq!(Pin::new(&mut doc).pinned_with_fallback(), 2);
    assert_eq!(doc.ref_with_fallback(1), 3);
    assert_eq!(Box::new(Doc(5)).boxed(), Ok(5));
    assert_eq!(Box::new(Doc(5)).boxed_with_fallback(), 5);
    assert_eq!(Rc::new(Doc(6)).rc(), Ok(6));
    assert_eq!(Arc::new(Doc(7)).arc(), Ok(7));
    assert_eq!(Doc(8).by_mut_value(), Ok(9));
    assert_eq!(doc.by_value(), Ok(2));
    assert!(Doc::constructor().is_ok());
}
