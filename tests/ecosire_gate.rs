//! A license gate with the ECOSIRE provider against the emulator: the
//! lifecycle, explicit denials and offline grace.

use license_gate_tests::support;

use std::time::Duration;

use license_gate::providers::ecosire::EcosireProvider;
use license_gate::{
    GateError, LicenseGate, LicenseStatus, ProviderError, SeatUsage, provider::LicenseRequest,
};
use license_gate_testkit::ecosire::{EcosireEmulator, EmulatedLicense, RateLimits};
use support::ecosire::{KEY, OffClock, SECRET, emulator, emulator_with, options};

const PRODUCT: &str = "Shop Booster";
const DOMAIN: &str = "shop.example";

fn provider(emulator: &EcosireEmulator) -> EcosireProvider {
    EcosireProvider::from_options(options(emulator))
        .unwrap()
        .domain(DOMAIN)
        .features(["pro", "export"])
}

async fn start_gate(provider: EcosireProvider) -> LicenseGate {
    LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .license_key(KEY)
        .request_timeout(Duration::from_secs(5))
        .startup_timeout(Duration::from_secs(10))
        .install_global(false)
        .no_cache()
        .start()
        .await
        .expect("the gate starts")
}

fn activations(emulator: &EcosireEmulator) -> usize {
    emulator
        .handle()
        .requests()
        .iter()
        .filter(|r| r.path == "/api/licenses/activate")
        .count()
}

#[tokio::test]
async fn the_first_validation_activates_once_then_heartbeats_validate() {
    let emulator = emulator_with(EmulatedLicense::new(KEY, SECRET).activation_limit(3)).await;
    let gate = start_gate(provider(&emulator)).await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.has_feature("pro") && gate.has_feature("export"));
    assert_eq!(emulator.handle().bindings(KEY), [DOMAIN]);
    let state = gate.product_state();
    assert_eq!(state.seats, Some(SeatUsage::new(1, Some(3))));

    gate.refresh().await;
    gate.refresh().await;
    assert_eq!(activations(&emulator), 1);
    let paths: Vec<String> = emulator
        .handle()
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(
        paths,
        [
            "/api/licenses/validate",
            "/api/licenses/activate",
            "/api/licenses/validate",
            "/api/licenses/validate"
        ]
    );
    gate.shutdown().await;
}

#[tokio::test]
async fn without_a_domain_the_installation_fingerprint_is_bound() {
    let emulator = emulator().await;
    let provider = EcosireProvider::from_options(options(&emulator))
        .unwrap()
        .features(["pro"]);
    let fingerprint = license_gate::hardware_id();
    assert_eq!(
        provider.binding(&LicenseRequest::new(PRODUCT, None)),
        fingerprint
    );
    let gate = start_gate(provider).await;
    assert!(gate.has_feature("pro"));
    assert_eq!(emulator.handle().bindings(KEY), [fingerprint.as_str()]);
    assert_eq!(
        emulator.handle().last_request().unwrap().field("domain"),
        Some(fingerprint.as_str())
    );
    gate.shutdown().await;
}

#[tokio::test]
async fn suspension_and_revocation_take_the_features_away_at_once() {
    let emulator = emulator().await;
    let handle = emulator.handle();
    let gate = start_gate(provider(&emulator)).await;
    assert!(gate.has_feature("pro"));

    handle.suspend(KEY);
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Suspended);
    assert!(!gate.has_feature("pro"));
    assert!(gate.check_feature("pro").is_err());

    handle.restore(KEY);
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.has_feature("pro"));

    handle.revoke(KEY);
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Revoked);
    assert!(!gate.has_feature("pro"));

    handle.expire(KEY);
    handle.set_wrapped_replies(true);
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Expired);
    assert!(!gate.has_feature("export"));
    gate.shutdown().await;
}

#[tokio::test]
async fn the_features_stay_in_grace_while_the_service_is_down() {
    let emulator = emulator().await;
    let faults = emulator.handle().faults();
    let gate = start_gate(provider(&emulator)).await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);

    faults.go_down();
    gate.refresh().await;
    assert!(
        matches!(gate.status(), LicenseStatus::Grace { .. }),
        "{:?}",
        gate.status()
    );
    assert!(gate.has_feature("pro"));

    faults.come_up();
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);

    for status in [500, 502, 503, 429] {
        faults.fail_next(1, status);
        gate.refresh().await;
        assert!(
            matches!(gate.status(), LicenseStatus::Grace { .. }),
            "HTTP {status}: {:?}",
            gate.status()
        );
        assert!(gate.has_feature("pro"));
        if status != 429 {
            gate.refresh().await;
            assert_eq!(gate.status(), LicenseStatus::Licensed);
        }
    }
    gate.shutdown().await;
}

#[tokio::test]
async fn explicit_refusals_deny_without_grace() {
    // A wrong secret: 401 bad signature. The vendor's configuration, not an
    // answer about the license: transient, so a gate with nothing confirmed
    // yet waits (`Pending`, denied) instead of calling the license invalid.
    let emulator = emulator().await;
    let wrong = EcosireProvider::from_options(options(&emulator).license_secret("wrong-secret"))
        .unwrap()
        .domain(DOMAIN)
        .features(["pro"]);
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(wrong)
        .license_key(KEY)
        .request_timeout(Duration::from_secs(5))
        .startup_timeout(Duration::from_millis(500))
        .install_global(false)
        .no_cache()
        .start()
        .await
        .expect("the gate starts");
    assert!(
        matches!(gate.status(), LicenseStatus::Pending { .. }),
        "{:?}",
        gate.status()
    );
    assert!(!gate.has_feature("pro"));
    gate.shutdown().await;

    // An unknown key: 404.
    emulator.handle().remove_license(KEY);
    let gate = start_gate(provider(&emulator)).await;
    match gate.status() {
        LicenseStatus::Invalid { reason } => {
            assert!(reason.to_string().contains("License not found"), "{reason}")
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    gate.shutdown().await;

    // A malformed key: nothing is sent.
    let before = emulator.handle().requests().len();
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider(&emulator))
        .license_key("SHOP-A1B2-C3D4-E5F6-G7H8-")
        .install_global(false)
        .no_cache()
        .start()
        .await
        .unwrap();
    match gate.status() {
        LicenseStatus::Invalid { reason } => {
            assert!(
                reason.to_string().contains("5 groups after the prefix"),
                "{reason}"
            )
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    assert_eq!(emulator.handle().requests().len(), before);
    gate.shutdown().await;
}

#[tokio::test]
async fn a_full_license_is_refused_until_a_slot_is_freed() {
    let emulator = emulator_with(EmulatedLicense::new(KEY, SECRET).activation_limit(2)).await;
    let handle = emulator.handle();
    handle.bind(KEY, "a.example");
    handle.bind(KEY, "b.example");

    let gate = start_gate(provider(&emulator)).await;
    match gate.status() {
        LicenseStatus::Invalid { reason } => {
            assert!(
                reason
                    .to_string()
                    .contains("activation limit reached (2 of 2 in use)"),
                "{reason}"
            )
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    assert!(!gate.has_feature("pro"));
    let err = gate.activate().await.unwrap_err();
    assert!(
        matches!(
            err,
            GateError::Provider(ProviderError::ActivationLimitReached {
                used: Some(2),
                limit: Some(2),
                ..
            })
        ),
        "{err:?}"
    );

    // Another installation uninstalls and frees its slot.
    let other = EcosireProvider::from_options(options(&emulator))
        .unwrap()
        .domain("a.example");
    let other_gate = start_gate(other).await;
    other_gate.deactivate().await.unwrap();
    assert!(matches!(
        other_gate.status(),
        LicenseStatus::Unlicensed { .. }
    ));
    other_gate.shutdown().await;
    assert_eq!(handle.bindings(KEY), ["b.example"]);

    gate.activate().await.unwrap();
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.has_feature("pro"));
    assert_eq!(handle.bindings(KEY), ["b.example", DOMAIN]);
    gate.shutdown().await;
}

#[tokio::test]
async fn deactivation_on_uninstall_frees_the_slot() {
    let emulator = emulator_with(EmulatedLicense::new(KEY, SECRET).activation_limit(1)).await;
    let gate = start_gate(provider(&emulator)).await;
    assert_eq!(emulator.handle().bindings(KEY), [DOMAIN]);
    gate.deactivate().await.unwrap();
    assert!(emulator.handle().bindings(KEY).is_empty());
    assert!(!gate.has_feature("pro"));
    let last = emulator.handle().last_request().unwrap();
    assert_eq!(last.path, "/api/licenses/deactivate");
    assert_eq!(last.field("domain"), Some(DOMAIN));

    // Nothing left to release: the server's answer is passed on.
    let err = gate.deactivate().await.unwrap_err();
    assert!(
        err.to_string().contains("No activation for this domain"),
        "{err}"
    );
    gate.shutdown().await;
}

#[tokio::test]
async fn a_transient_activation_failure_keeps_the_validated_license() {
    let emulator = emulator().await;
    let handle = emulator.handle();
    // Validation answers; the activation right after it is rate limited.
    let mut limits = RateLimits::default();
    limits.activate = 0;
    handle.set_rate_limits(limits);
    let gate = start_gate(provider(&emulator)).await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.has_feature("pro"));
    assert!(handle.bindings(KEY).is_empty());
    assert_eq!(activations(&emulator), 1);
    gate.shutdown().await;
}

#[tokio::test]
async fn without_a_domain_the_gate_machine_identity_is_bound() {
    let emulator = emulator().await;
    let provider = EcosireProvider::from_options(options(&emulator))
        .unwrap()
        .features(["pro"]);
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .license_key(KEY)
        .hardware_id("GATE-MACHINE-7")
        .request_timeout(Duration::from_secs(5))
        .startup_timeout(Duration::from_secs(10))
        .install_global(false)
        .no_cache()
        .start()
        .await
        .expect("the gate starts");
    assert!(gate.has_feature("pro"));
    assert_eq!(emulator.handle().bindings(KEY), ["GATE-MACHINE-7"]);
    assert_eq!(
        emulator.handle().last_request().unwrap().field("domain"),
        Some("GATE-MACHINE-7")
    );
    gate.deactivate().await.unwrap();
    assert!(emulator.handle().bindings(KEY).is_empty());
    gate.shutdown().await;
}

/// Lockout (issue: requests stamped with a clock 10 minutes off got HTTP 400
/// "timestamp too far from the server time", which was `Invalid` at once,
/// even with a valid cache). A user whose clock is 10 minutes ahead starts
/// licensed (the refused time stamp is retried with the server's time); when
/// the server keeps refusing the time stamp, a licensed user stays licensed
/// in grace, never `Invalid`; and is confirmed again once it accepts.
#[tokio::test]
async fn a_clock_ten_minutes_off_never_locks_out_a_licensed_user() {
    let emulator = emulator().await;
    let off = EcosireProvider::from_options(options(&emulator).clock(OffClock(600)))
        .unwrap()
        .domain(DOMAIN)
        .features(["pro"]);
    let gate = start_gate(off).await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.has_feature("pro"));

    let refusal = r#"{"statusCode": 400, "message": "Request timestamp is too far from the server time", "error": "Bad Request"}"#;
    let faults = emulator.handle().faults().clone();
    faults.inject_next(
        1000,
        license_gate_testkit::Fault::Reply(400, refusal.to_owned()),
    );
    gate.refresh().await;
    assert!(
        matches!(gate.status(), LicenseStatus::Grace { .. }),
        "a refused time stamp is a clock problem, not an answer: {:?}",
        gate.status()
    );
    assert!(gate.has_feature("pro"));

    faults.clear();
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    gate.shutdown().await;
}

#[tokio::test]
async fn the_provider_suggests_a_weekly_heartbeat_that_the_builder_overrides() {
    const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);
    assert_eq!(
        license_gate::providers::ecosire::DEFAULT_HEARTBEAT_INTERVAL,
        WEEK
    );
    let emulator = emulator().await;
    let grace_until = |gate: &LicenseGate| {
        let confirmed = gate.product_state().last_confirmed.expect("confirmed");
        match gate.status() {
            LicenseStatus::Grace { until } => until.duration_since(confirmed).unwrap(),
            other => panic!("expected grace, got {other:?}"),
        }
    };

    // The guide's weekly heartbeat, and a grace period that leaves a week
    // after a heartbeat that finds the server down.
    let gate = start_gate(provider(&emulator)).await;
    emulator.handle().faults().go_down();
    gate.refresh().await;
    assert_eq!(grace_until(&gate), 2 * WEEK);
    gate.shutdown().await;
    emulator.handle().faults().come_up();

    // The builder's interval wins, and the gate's default grace stays.
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider(&emulator))
        .license_key(KEY)
        .heartbeat_interval(Duration::from_secs(24 * 3600))
        .install_global(false)
        .no_cache()
        .startup_timeout(Duration::from_secs(10))
        .start()
        .await
        .expect("the gate starts");
    emulator.handle().faults().go_down();
    gate.refresh().await;
    assert_eq!(grace_until(&gate), WEEK);
    gate.shutdown().await;
}

#[tokio::test]
async fn a_deactivate_reply_without_deactivated_is_a_deactivation() {
    let emulator = emulator().await;
    let gate = start_gate(provider(&emulator)).await;
    assert!(gate.has_feature("pro"));
    for body in [
        r#"{"activationsCount": 0}"#,
        r#"{"data": {}, "error": null}"#,
        "",
    ] {
        emulator
            .handle()
            .faults()
            .inject_next(1, license_gate_testkit::Fault::Reply(200, body.to_owned()));
        gate.deactivate()
            .await
            .unwrap_or_else(|e| panic!("{body:?} is a deactivation: {e}"));
        assert!(!gate.has_feature("pro"), "{body:?}");
    }
    // `deactivated: false` still refuses.
    emulator.handle().faults().inject_next(
        1,
        license_gate_testkit::Fault::Reply(
            200,
            r#"{"deactivated": false, "message": "Not now"}"#.into(),
        ),
    );
    let err = gate.deactivate().await.unwrap_err();
    assert!(err.to_string().contains("Not now"), "{err}");
    gate.shutdown().await;
}
