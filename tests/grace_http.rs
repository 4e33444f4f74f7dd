//! The end of grace and the way back, over real HTTP against both emulators.
//!
//! Time is moved with a `TestClock` (tokio's time runs for real: paused time
//! with real sockets would fire the request timeouts spuriously).

use license_gate_tests::support;

use std::time::Duration;

use license_gate::testing::TestClock;
use license_gate::{LicenseStatus, Reason, Source};
use support::{Emulated, Service};

const HOUR: Duration = Duration::from_secs(3600);
const GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

#[tokio::test]
async fn grace_runs_out_then_the_server_restores_the_license() {
    for service in Service::ALL {
        let emulated = Emulated::start(service).await;
        let faults = emulated.faults();
        let clock = TestClock::now_system();
        let gate = emulated
            .builder()
            .clock(clock.clone())
            .grace_period(GRACE)
            .start()
            .await
            .unwrap_or_else(|e| panic!("{service}: the gate did not start: {e}"));
        let state = gate.product_state();
        assert_eq!(
            state.status,
            LicenseStatus::Licensed,
            "{service}: the gate starts licensed"
        );
        assert_eq!(state.source, Source::Online, "{service}: from the server");
        let confirmed = state
            .last_confirmed
            .unwrap_or_else(|| panic!("{service}: a confirmed license has a confirmation time"));

        faults.go_down();
        gate.refresh().await;
        assert_eq!(
            gate.status(),
            LicenseStatus::Grace {
                until: confirmed + GRACE
            },
            "{service}: the server is down, so the license holds until the last confirmation + grace"
        );
        assert!(
            gate.has_feature("pro"),
            "{service}: the features stay during grace"
        );

        // A week and an hour later, still offline.
        clock.set_forward(GRACE + HOUR);
        let over = LicenseStatus::Unlicensed {
            reason: Reason::GraceOver,
        };
        assert_eq!(
            gate.status(),
            over,
            "{service}: reading the status past the end of grace must say it is over"
        );
        let denial = gate
            .check_feature("pro")
            .expect_err("a gated call is refused once grace is over");
        assert!(
            denial.to_string().contains("grace period over"),
            "{service}: the refusal should say the grace period is over: {denial}"
        );
        gate.refresh().await;
        assert_eq!(
            gate.snapshot().products[0].status,
            over,
            "{service}: the next round must publish the end of grace, not only compute it on read"
        );
        assert!(
            !gate.has_feature("pro"),
            "{service}: no feature is granted once grace is over"
        );

        faults.come_up();
        gate.refresh().await;
        let state = gate.product_state();
        assert_eq!(
            state.status,
            LicenseStatus::Licensed,
            "{service}: an answer from the server restores the license"
        );
        assert_eq!(state.source, Source::Online, "{service}: from the server");
        assert!(
            state
                .last_confirmed
                .is_some_and(|at| at >= confirmed + GRACE + HOUR),
            "{service}: the restoring answer is the new confirmation (on the moved clock), got {:?}",
            state.last_confirmed
        );
        assert!(
            gate.has_feature("pro") && gate.has_feature("export"),
            "{service}: the features are back"
        );
        gate.shutdown().await;
    }
}
