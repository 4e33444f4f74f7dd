//! The lifecycle rules of ARCHITECTURE.md ("Where each rule lives"), proved with
//! tokio's paused time, a test clock and the mock provider: weeks pass in
//! milliseconds and nothing sleeps in real time.

use std::time::{Duration, SystemTime};

use license_gate_runtime::providers::mock::{MockHandle, MockProvider};
use license_gate_runtime::testing::TestClock;
use license_gate_runtime::{
    LicenseError, LicenseGate, LicenseGateBuilder, LicenseStatus, ProviderError, Reason,
    RetryPolicy, provider::LicenseAnswer,
};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

fn start_time() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn configure(answer: LicenseAnswer, clock: &TestClock) -> (LicenseGateBuilder, MockHandle) {
    let (provider, handle) = MockProvider::new(answer);
    let builder = LicenseGate::builder()
        .product("Atlas Studio")
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .install_global(false)
        .no_cache()
        .clock(clock.clone())
        .heartbeat_interval(HOUR)
        .jitter(0.0)
        .grace_period(7 * DAY);
    (builder, handle)
}

/// Lets time pass: timers fire and the gate's task runs.
async fn pass(d: Duration) {
    tokio::time::sleep(d).await;
}

#[tokio::test(start_paused = true)]
async fn grace_ends_exactly_at_its_configured_length_and_a_good_answer_restores() {
    let clock = TestClock::starting_at(start_time());
    let (builder, mock) = configure(LicenseAnswer::licensed(["pro"]), &clock);
    let gate = builder.start().await.unwrap();
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    let confirmed = gate.product_state().last_confirmed.unwrap();
    assert_eq!(confirmed, start_time());

    mock.go_offline();
    pass(HOUR + Duration::from_secs(1)).await;
    let grace_end = confirmed + 7 * DAY;
    assert_eq!(gate.status(), LicenseStatus::Grace { until: grace_end });
    assert!(gate.has_feature("pro"), "features stay during grace");

    // One millisecond before the end: still in grace.
    let left = grace_end.duration_since(clock_now(&clock)).unwrap();
    pass(left - Duration::from_millis(1)).await;
    assert!(gate.has_feature("pro"));
    pass(Duration::from_millis(5)).await;
    assert_eq!(
        gate.status(),
        LicenseStatus::Unlicensed {
            reason: Reason::GraceOver
        }
    );
    assert_eq!(
        gate.snapshot().products[0].status,
        LicenseStatus::Unlicensed {
            reason: Reason::GraceOver
        },
        "the change is published, not only computed on read"
    );
    let err = gate.check_feature("pro").unwrap_err();
    assert!(err.to_string().contains("grace period over"), "{err}");

    mock.go_online();
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.has_feature("pro"));
    gate.shutdown().await;
}

fn clock_now(clock: &TestClock) -> SystemTime {
    use license_gate_runtime::provider::Clock;
    clock.now()
}

#[tokio::test(start_paused = true)]
async fn explicit_answers_deny_at_once_without_grace() {
    let clock = TestClock::starting_at(start_time());
    let (builder, mock) = configure(LicenseAnswer::licensed(["pro"]), &clock);
    let gate = builder.start().await.unwrap();
    for (status, expected) in [
        (LicenseStatus::Revoked, "revoked"),
        (LicenseStatus::Suspended, "suspended"),
        (LicenseStatus::Expired, "expired"),
        (
            LicenseStatus::VersionOutdated {
                minimum: "2.0".into(),
            },
            "version_outdated",
        ),
    ] {
        mock.set_status(status.clone());
        gate.refresh().await;
        assert_eq!(gate.status().name(), expected);
        assert!(!gate.has_feature("pro"));
        mock.restore();
        gate.refresh().await;
        assert!(gate.has_feature("pro"));
    }
    // A refusal that is not a status (unknown key) is explicit too.
    mock.fail_next_with(
        1,
        ProviderError::NotFound {
            message: "License not found".into(),
        },
    );
    gate.refresh().await;
    assert!(
        matches!(gate.status(), LicenseStatus::Invalid { .. }),
        "{:?}",
        gate.status()
    );
    gate.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn expiry_flips_the_gate_at_its_instant_with_no_heartbeat_due() {
    let clock = TestClock::starting_at(start_time());
    let expiry = start_time() + 10 * Duration::from_secs(60);
    let (builder, _mock) = configure(LicenseAnswer::licensed(["pro"]).expiring_at(expiry), &clock);
    let gate = builder.heartbeat_interval(DAY).start().await.unwrap();
    let mut changes = gate.subscribe();
    changes.borrow_and_update();

    pass(expiry.duration_since(clock_now(&clock)).unwrap() - Duration::from_secs(1)).await;
    assert!(gate.has_feature("pro"), "one second before expiry");
    assert!(!changes.has_changed().unwrap());

    pass(Duration::from_secs(1) + Duration::from_millis(5)).await;
    // Published by the deadline timer within milliseconds of the instant.
    assert!(
        changes.has_changed().unwrap(),
        "subscribers hear of the expiry"
    );
    assert_eq!(gate.snapshot().products[0].status, LicenseStatus::Expired);
    assert!(matches!(
        gate.check_feature("pro"),
        Err(LicenseError::NotLicensed {
            status: LicenseStatus::Expired,
            ..
        })
    ));
    gate.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_clock_set_back_a_week_neither_extends_grace_nor_revives_an_expired_license() {
    let clock = TestClock::starting_at(start_time());
    let (builder, mock) = configure(LicenseAnswer::licensed(["pro"]), &clock);
    let gate = builder.start().await.unwrap();
    mock.go_offline();
    pass(HOUR + Duration::from_secs(1)).await;
    let grace_end = start_time() + 7 * DAY;
    assert_eq!(gate.status(), LicenseStatus::Grace { until: grace_end });

    pass(5 * DAY).await;
    clock.set_back(7 * DAY);
    // Two days of real time later the grace period is over, whatever the clock says.
    pass(2 * DAY - HOUR + Duration::from_millis(10)).await;
    assert!(
        clock_now(&clock) < grace_end - 6 * DAY,
        "the wall clock reads a week early"
    );
    assert_eq!(
        gate.status(),
        LicenseStatus::Unlicensed {
            reason: Reason::GraceOver
        }
    );
    gate.shutdown().await;

    // An expired license stays expired when the clock goes back before its expiry.
    let clock = TestClock::starting_at(start_time());
    let expiry = start_time() + HOUR;
    let (builder, _mock) = configure(LicenseAnswer::licensed(["pro"]).expiring_at(expiry), &clock);
    let gate = builder.heartbeat_interval(DAY).start().await.unwrap();
    pass(2 * HOUR).await;
    assert_eq!(gate.status(), LicenseStatus::Expired);
    clock.set_back(7 * DAY);
    assert_eq!(gate.status(), LicenseStatus::Expired);
    // Even a fresh answer with the same expiry is read against trusted time.
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Expired);
    assert!(!gate.has_feature("pro"));
    gate.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn unreachable_server_is_retried_with_capped_backoff() {
    let clock = TestClock::starting_at(start_time());
    let (builder, mock) = configure(LicenseAnswer::licensed(["pro"]), &clock);
    let gate = builder
        .heartbeat_interval(DAY)
        .retry_policy(RetryPolicy::new(Duration::from_secs(30), HOUR))
        .start()
        .await
        .unwrap();
    mock.go_offline();
    gate.refresh().await;
    let before = mock.calls().validate;
    pass(6 * HOUR).await;
    let retries = mock.calls().validate - before;
    // One quick retry after 15-30 s, then one every 30-60 min (the cap,
    // jittered down to half): 6 to 12 waits in the 6 hours.
    assert!((7..=13).contains(&retries), "{retries} retries in 6 hours");
    mock.go_online();
    pass(HOUR).await;
    assert_eq!(
        gate.status(),
        LicenseStatus::Licensed,
        "recovers within one capped delay"
    );
    gate.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn start_waits_at_most_the_startup_timeout_then_runs_pending() {
    let clock = TestClock::starting_at(start_time());
    let (builder, mock) = configure(LicenseAnswer::licensed(["pro"]), &clock);
    mock.time_out_next(1);
    let started_at = tokio::time::Instant::now();
    let gate = builder
        .startup_timeout(Duration::from_secs(2))
        .request_timeout(Duration::from_secs(10))
        .start()
        .await
        .unwrap();
    assert_eq!(started_at.elapsed(), Duration::from_secs(2));
    assert_eq!(gate.status(), LicenseStatus::pending());
    assert!(!gate.has_feature("pro"), "pending denies");
    // The hung call times out; the backoff retries and the license arrives.
    pass(Duration::from_secs(10) + 2 * Duration::from_secs(30)).await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    gate.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn every_change_reaches_subscribers() {
    let clock = TestClock::starting_at(start_time());
    let (builder, mock) = configure(LicenseAnswer::licensed(["pro"]), &clock);
    let gate = builder.start().await.unwrap();
    let mut changes = gate.subscribe();
    let mut seen = Vec::new();
    for step in 0..3 {
        match step {
            0 => mock.set_features(["pro", "export"]),
            1 => mock.revoke(),
            _ => mock.restore(),
        }
        gate.refresh().await;
        changes.changed().await.unwrap();
        let snapshot = changes.borrow_and_update().clone();
        seen.push((
            snapshot.products[0].status.name(),
            snapshot.products[0].features.len(),
        ));
    }
    assert_eq!(seen, [("licensed", 2), ("revoked", 2), ("licensed", 2)]);
    gate.shutdown().await;
}
