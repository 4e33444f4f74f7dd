//! The gate with `#[tokio::test]`, `#[tracing::instrument]` and
//! `#[async_trait]`: the orders that work (twin of `fail/tokio_above_gate.rs`).
//! The gate goes above `#[tokio::main]` and `#[tokio::test]`; with
//! `#[tracing::instrument]` either order works; `#[async_trait]` on the `impl`
//! always expands first (see `async_trait.rs`).

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

#[requires_feature("pro")]
#[tracing::instrument]
fn gate_above_instrument(n: u32) -> Result<u32, LicenseError> {
    Ok(n)
}

#[tracing::instrument]
#[requires_feature("pro")]
fn instrument_above_gate(n: u32) -> Result<u32, LicenseError> {
    Ok(n)
}

#[requires_feature("pro")]
#[tracing::instrument]
async fn async_gate_above_instrument(n: u32) -> Result<u32, LicenseError> {
    Ok(n)
}

#[tracing::instrument]
#[requires_feature("pro")]
async fn async_instrument_above_gate(n: u32) -> Result<u32, LicenseError> {
    Ok(n)
}

// Denied without a license: the test is skipped through its fallback.
#[requires_feature("pro", fallback = skip)]
#[tokio::test]
async fn gated_test() {
    panic!("no license is in scope, so the fallback runs instead");
}

async fn skip() {}

#[tokio::test]
async fn main() {
    let licensed = || TestLicense::product("Atlas").features(["pro"]);
    {
        let _license = licensed().scoped();
        assert_eq!(gate_above_instrument(1), Ok(1));
        assert_eq!(instrument_above_gate(2), Ok(2));
    }
    assert_eq!(
        licensed().scope(async_gate_above_instrument(3)).await,
        Ok(3)
    );
    assert_eq!(
        licensed().scope(async_instrument_above_gate(4)).await,
        Ok(4)
    );
    assert!(
        TestLicense::unlicensed()
            .scope(async_instrument_above_gate(4))
            .await
            .is_err()
    );
    assert!(
        TestLicense::unlicensed()
            .scope(async_gate_above_instrument(3))
            .await
            .is_err()
    );
}
