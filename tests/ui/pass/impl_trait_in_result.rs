//! `Result<impl Trait, E>` returns, sync and async.

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

#[requires_feature("pro")]
fn pages(count: u32) -> Result<impl Iterator<Item = u32>, LicenseError> {
    Ok(1..=count)
}

#[requires_feature("pro")]
fn formatter(prefix: String) -> std::io::Result<impl Fn(u32) -> String + use<>> {
    Ok(move |n| format!("{prefix}{n}"))
}

#[requires_feature("pro")]
async fn stream() -> Result<impl Iterator<Item = u8>, LicenseError> {
    Ok(vec![1u8].into_iter())
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
    assert_eq!(pages(2).unwrap().count(), 2);
    assert_eq!(formatter("p".into()).unwrap()(1), "p1");
    drop(stream());
}
