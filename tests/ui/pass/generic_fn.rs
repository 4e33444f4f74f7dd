//! Generic functions: type, lifetime and const parameters, `impl Trait` arguments.

use std::fmt::Debug;

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

#[requires_feature("pro")]
fn first<T: Clone>(items: &[T]) -> Result<Option<T>, LicenseError> {
    Ok(items.first().cloned())
}

#[requires_feature("pro")]
fn describe<'a, T, const N: usize>(items: &'a [T; N]) -> Result<String, LicenseError>
where
    T: Debug + 'a,
{
    Ok(format!("{N}: {items:?}"))
}

#[requires_feature("pro", fallback = none)]
fn pick<T: Default>(value: T, take: bool) -> T {
    if take { value } else { T::default() }
}

fn none<T: Default>(_value: T, _take: bool) -> T {
    T::default()
}

#[requires_feature("pro")]
fn takes_impl(value: impl Into<String>) -> Result<String, LicenseError> {
    Ok(value.into())
}

struct Wrapper<T>(T);

impl<T: Clone + Debug> Wrapper<T> {
    #[requires_feature("pro")]
    fn get(&self) -> Result<T, LicenseError> {
        Ok(self.0.clone())
    }

    #[requires_feature("pro")]
    fn map<U, F: FnOnce(T) -> U>(self, f: F) -> Result<Wrapper<U>, LicenseError> {
        Ok(Wrapper(f(self.0)))
    }
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
    assert_eq!(first(&[1, 2]), Ok(Some(1)));
    assert_eq!(first::<String>(&[]), Ok(None));
    assert_eq!(describe(&[1, 2]).unwrap(), "2: [1, 2]");
    assert_eq!(pick(5, true), 5);
    assert_eq!(takes_impl("s"), Ok("s".to_owned()));
    assert_eq!(Wrapper(3).get(), Ok(3));
    assert_eq!(Wrapper(3).map(|n| n * 2).unwrap().0, 6);
}
