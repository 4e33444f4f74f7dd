//! The process-wide gate that the attributes consult: installing, the cached
//! fast path reacting to every change (revocation, feature changes, expiry at
//! its instant), shutdown, and refusing a second global gate.
//!
//! One test function: the global gate is one per process, so the steps run in
//! order in this binary of their own.

use std::time::{Duration, SystemTime};

use license_gate::providers::mock::MockProvider;
use license_gate::testing::{TestClock, TestLicense};
use license_gate::{
    GateError, LicenseError, LicenseGate, LicenseStatus, provider::LicenseAnswer, requires_feature,
};

#[derive(Debug)]
struct AppError(LicenseError);

impl From<LicenseError> for AppError {
    fn from(error: LicenseError) -> Self {
        AppError(error)
    }
}

#[requires_feature("pro")]
fn export(pages: u32) -> Result<u32, AppError> {
    Ok(pages)
}

fn denial() -> LicenseError {
    export(1).unwrap_err().0
}

#[tokio::test(start_paused = true)]
async fn the_global_gate_drives_every_gated_call() {
    // Before any gate: a helpful error, not a panic.
    assert!(matches!(denial(), LicenseError::NoGate { .. }));

    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let clock = TestClock::starting_at(start);
    let expiry = start + Duration::from_secs(3600);
    let (provider, server) =
        MockProvider::new(LicenseAnswer::licensed(["pro"]).expiring_at(expiry));
    let gate = LicenseGate::builder()
        .product("Atlas Studio")
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .clock(clock.clone())
        .heartbeat_interval(Duration::from_secs(24 * 3600))
        .no_cache()
        .start()
        .await
        .unwrap();
    assert!(gate.is_global());

    // Allowed, twice: the second call takes the cached fast path.
    assert_eq!(export(3).unwrap(), 3);
    assert_eq!(export(4).unwrap(), 4);

    // A revocation published by a refresh reaches the cached call site.
    server.revoke();
    gate.refresh().await;
    assert!(matches!(
        denial(),
        LicenseError::NotLicensed {
            status: LicenseStatus::Revoked,
            ..
        }
    ));
    server.restore();
    gate.refresh().await;
    assert_eq!(export(5).unwrap(), 5);

    // A feature taken away.
    server.set_features(["export"]);
    gate.refresh().await;
    assert!(matches!(denial(), LicenseError::MissingFeature { .. }));
    server.set_features(["pro"]);
    gate.refresh().await;
    assert_eq!(export(6).unwrap(), 6);

    // A scoped test license wins on this thread while it lives.
    {
        let _none = TestLicense::unlicensed().scoped();
        assert!(export(7).is_err());
    }
    assert_eq!(export(8).unwrap(), 8);

    // Expiry flips the cached answer at its instant, with no heartbeat due.
    tokio::time::sleep(Duration::from_secs(3600) - Duration::from_millis(10)).await;
    assert_eq!(export(9).unwrap(), 9);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(matches!(
        denial(),
        LicenseError::NotLicensed {
            status: LicenseStatus::Expired,
            ..
        }
    ));

    // One global gate at a time.
    let (second, _) = MockProvider::licensed(["pro"]);
    let refused = LicenseGate::builder()
        .product("Other")
        .provider(second)
        .no_cache()
        .start()
        .await;
    assert_eq!(refused.unwrap_err(), GateError::AlreadyInstalled);

    gate.shutdown().await;
    assert!(matches!(denial(), LicenseError::NoGate { .. }));
}
