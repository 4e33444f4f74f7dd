//! The gate with `#[tokio::main]`, `#[tokio::test]`, `#[tracing::instrument]`
//! and `#[async_trait]`: either order works. Under tokio's attributes, the
//! gate written above sees the `async fn` and checks on the first poll; the
//! gate written below sees tokio's blocking `fn` and checks before the runtime
//! starts; a denial returns `Err` or awaits the fallback either way.
//! `#[async_trait]` on the `impl` always expands first (see `async_trait.rs`).
//! Twin of `fail/tokio_above_gate.rs`.

use std::cell::Cell;

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, has_feature, requires_feature};

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

#[requires_feature("pro")]
#[tokio::main(flavor = "current_thread")]
async fn gate_above_tokio_main(n: u32) -> Result<u32, LicenseError> {
    tokio::task::yield_now().await;
    Ok(n)
}

#[tokio::main(flavor = "current_thread")]
#[requires_feature("pro")]
async fn tokio_main_above_gate(n: u32) -> Result<u32, LicenseError> {
    tokio::task::yield_now().await;
    Ok(n)
}

#[requires_feature("pro", fallback = zero)]
#[tokio::main]
async fn gate_above_tokio_main_with_fallback(n: u32) -> u32 {
    n
}

#[tokio::main]
#[requires_feature("pro", fallback = zero)]
async fn tokio_main_above_gate_with_fallback(n: u32) -> u32 {
    n
}

async fn zero(_n: u32) -> u32 {
    tokio::task::yield_now().await;
    0
}

// Run by the test harness, these are denied (no license is in scope), so
// their fallback runs; `tokio_attributes_in_either_order` calls them again
// with a license.
#[requires_feature("pro", fallback = skip)]
#[tokio::test]
async fn gate_above_tokio_test() {
    assert!(has_feature("pro"), "runs only when allowed");
    RUNS.with(|runs| runs.set(runs.get() + 1));
}

#[tokio::test]
#[requires_feature("pro", fallback = skip)]
async fn tokio_test_above_gate() {
    assert!(has_feature("pro"), "runs only when allowed");
    RUNS.with(|runs| runs.set(runs.get() + 1));
}

async fn skip() {
    assert!(!has_feature("pro"), "runs only when denied");
    SKIPS.with(|skips| skips.set(skips.get() + 1));
}

thread_local! {
    static RUNS: Cell<u32> = const { Cell::new(0) };
    static SKIPS: Cell<u32> = const { Cell::new(0) };
}

#[test]
fn tokio_attributes_in_either_order() {
    let licensed = || TestLicense::product("Atlas").features(["pro"]);
    let counts = || (RUNS.with(Cell::get), SKIPS.with(Cell::get));
    {
        let _license = licensed().scoped();
        assert_eq!(gate_above_tokio_main(1), Ok(1));
        assert_eq!(tokio_main_above_gate(2), Ok(2));
        assert_eq!(gate_above_tokio_main_with_fallback(3), 3);
        assert_eq!(tokio_main_above_gate_with_fallback(4), 4);
        gate_above_tokio_test();
        tokio_test_above_gate();
        assert_eq!(counts(), (2, 0));
    }
    let _license = TestLicense::product("Atlas").scoped();
    assert!(gate_above_tokio_main(1).is_err());
    assert!(tokio_main_above_gate(2).is_err());
    assert_eq!(gate_above_tokio_main_with_fallback(3), 0);
    assert_eq!(tokio_main_above_gate_with_fallback(4), 0);
    gate_above_tokio_test();
    tokio_test_above_gate();
    assert_eq!(counts(), (2, 2));
}

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
