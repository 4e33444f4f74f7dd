//! Generated code passes strict lints.
#![deny(
    warnings,
    unused,
    rust_2018_idioms,
    unused_qualifications,
    unreachable_pub
)]
#![deny(missing_docs, unsafe_code, trivial_casts, trivial_numeric_casts)]
#![deny(single_use_lifetimes, unused_results)]

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

/// Gated.
#[requires_feature("pro")]
fn strict(n: u32) -> Result<u32, LicenseError> {
    Ok(n)
}

/// Gated with a fallback.
#[requires_feature("pro", fallback = loose)]
async fn strict_async(n: u32) -> u32 {
    n
}

async fn loose(_n: u32) -> u32 {
    0
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
    assert_eq!(strict(1), Ok(1));
    drop(strict_async(1));
}
