//! The licensees simulation in the test suite, at 2,000 licensees: one real
//! registry started from the redb store, two simulated days under the
//! ECOSIRE request budget, one licensee revoked on the service. Checks the
//! targets that do not depend on the scale or the machine; `cargo run
//! --release -p examples-fleet --example licensees -- --licensees 100000` runs the full size
//! and measures memory, the start and the gated call.

use license_gate_tests::licensees_sim::{self, DAY, RunConfig};

use std::time::Duration;

const LICENSEES: usize = 2_000;

#[tokio::test(start_paused = true)]
async fn two_days_of_licensees_hold_the_budget_spread_the_load_and_see_a_revocation() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = dir.path().join("licensees.redb");
    licensees_sim::populate(&store, LICENSEES)
        .await
        .expect("yesterday's server leaves every record in the store");
    let report = licensees_sim::run(RunConfig {
        licensees: LICENSEES,
        simulated: 2 * DAY,
        revoke_at: DAY + Duration::from_secs(12 * 3600),
        store,
        timing_calls: 20_000,
        timing_rounds: 3,
    })
    .await
    .expect("the run");
    let summary = format!(
        "heartbeat {:?}, {:.0} validations a day, peak/mean {:.2}, {} minutes over the budget, revocation seen after {:.0} ms, {} of {} validated, {} lost, {} store writes",
        report.heartbeat,
        report.validations_per_day,
        report.peak_to_mean,
        report.budget_exceeded_minutes,
        report.revocation_seen_ms,
        report.validated_licensees,
        report.licensees,
        report.lost,
        report.store_writes
    );
    println!("{summary}");

    assert_eq!(
        report.granted_from_store, LICENSEES,
        "every licensee starts granted from its stored record: {summary}"
    );
    assert_eq!(
        report.budget_exceeded_minutes, 0,
        "no minute over the published limits: {summary}"
    );
    assert!(
        report.peak_to_mean > 0.0 && report.peak_to_mean <= 3.0,
        "the load is spread: {summary}"
    );
    assert_eq!(
        report.validated_licensees, LICENSEES,
        "every licensee was validated in two days: {summary}"
    );
    // 2,000 licensees at 24 validations a minute: a heartbeat of 84 minutes,
    // so two days hold about 34 validations of each.
    let expected = LICENSEES as f64 * DAY.as_secs_f64() / report.heartbeat.as_secs_f64();
    assert!(
        (report.validations_per_day - expected).abs() <= 0.15 * expected,
        "about one validation per licensee per heartbeat ({expected:.0} a day): {summary}"
    );
    assert!(
        report.revocation_seen_ms <= 5.0 * 60_000.0,
        "a validation asked for at once sees the revocation within minutes, not at the next heartbeat: {summary}"
    );
    assert!(
        report.others_unaffected,
        "only the revoked licensee is denied: {summary}"
    );
    assert_eq!(
        report.lost, 0,
        "no other licensee lost its license: {summary}"
    );
}
