//! A license gate with the ExisOne provider against the emulator.

use license_gate_tests::support;

use std::time::Duration;

use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
use license_gate::{LicenseGate, LicenseStatus, Reason, Source};
use license_gate_testkit::exisone::{OfflineCodeSpec, TEST_PUBLIC_KEY_PEM};
use serde_json::json;
use support::exisone::{EMAIL, HW, KEY, PRODUCT, emulator, options};

fn provider(options: ExisOneClientOptions) -> ExisOneProvider {
    ExisOneProvider::from_options(options)
        .expect("valid options")
        .email(EMAIL)
        .app_version("1.5.0")
}

async fn gate(provider: ExisOneProvider, key: &str) -> LicenseGate {
    LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .license_key(key)
        .install_global(false)
        .no_cache()
        .startup_timeout(Duration::from_secs(10))
        .request_timeout(Duration::from_secs(10))
        .start()
        .await
        .expect("the gate starts")
}

#[tokio::test]
async fn the_gate_grants_the_features_and_loses_them_on_revocation() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    let gate = gate(provider(options(&emulator.url())), KEY).await;

    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.has_feature("pro"));
    assert!(gate.has_feature("export"));
    assert!(!gate.has_feature("enterprise"));
    assert_eq!(gate.product_state().source, Source::Online);
    assert_eq!(
        control.last_request().unwrap().json,
        Some(json!({
            "activationKey": KEY,
            "hardwareId": HW,
            "productName": PRODUCT,
            "version": "1.5.0",
        }))
    );

    control.set_features(KEY, ["pro", "export", "enterprise"]);
    gate.refresh().await;
    assert!(gate.has_feature("enterprise"));

    control.revoke(KEY);
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Revoked);
    assert!(!gate.has_feature("pro"));
    gate.shutdown().await;
}

#[tokio::test]
async fn the_gate_shows_version_outdated_expired_and_suspended() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    let gate = gate(provider(options(&emulator.url())), KEY).await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);

    control.set_minimum_version(Some("2.0.0"));
    gate.refresh().await;
    assert_eq!(
        gate.status(),
        LicenseStatus::VersionOutdated {
            minimum: "2.0.0".into()
        }
    );
    assert!(!gate.has_feature("pro"));

    control.set_minimum_version(None);
    control.suspend(KEY);
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Suspended);

    control.reinstate(KEY);
    control.expire(KEY);
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Expired);
    gate.shutdown().await;
}

#[tokio::test]
async fn an_unreachable_server_keeps_the_license_through_grace() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    let gate = gate(provider(options(&emulator.url())), KEY).await;
    assert!(gate.has_feature("pro"));

    emulator.faults().fail_next(1, 503);
    gate.refresh().await;
    assert!(
        matches!(gate.status(), LicenseStatus::Grace { .. }),
        "{}",
        gate.status()
    );
    assert!(gate.has_feature("pro"));

    emulator.faults().go_down();
    gate.refresh().await;
    assert!(
        matches!(gate.status(), LicenseStatus::Grace { .. }),
        "{}",
        gate.status()
    );

    emulator.faults().come_up();
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    gate.shutdown().await;
}

#[tokio::test]
async fn activation_through_the_gate_binds_this_machine() {
    let (emulator, control) = emulator().await;
    let gate = gate(provider(options(&emulator.url())), KEY).await;
    assert_eq!(
        gate.status(),
        LicenseStatus::Unlicensed {
            reason: Reason::NotActivated
        },
        "not activated yet, and the status says how to activate"
    );

    gate.activate().await.expect("activation works");
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.has_feature("pro"));
    assert_eq!(control.activations(KEY), vec![HW.to_owned()]);
    let activation = control
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/license/activate")
        .expect("an activation request");
    assert_eq!(
        activation.json,
        Some(json!({
            "activationKey": KEY,
            "email": EMAIL,
            "hardwareId": HW,
            "productName": PRODUCT,
            "version": "1.5.0",
        }))
    );

    gate.deactivate().await.expect("deactivation works");
    assert!(control.activations(KEY).is_empty());
    assert!(!gate.has_feature("pro"));
    gate.shutdown().await;
}

#[tokio::test]
async fn an_outdated_version_is_refused_at_activation() {
    let (emulator, control) = emulator().await;
    control.set_minimum_version(Some("3.0"));
    let gate = gate(provider(options(&emulator.url())), KEY).await;
    let _ = gate.activate().await;
    assert_eq!(
        gate.status(),
        LicenseStatus::VersionOutdated {
            minimum: "3.0".into()
        }
    );
    gate.shutdown().await;
}

#[tokio::test]
async fn an_offline_code_is_the_license_even_with_the_server_down() {
    let (emulator, control) = emulator().await;
    let code =
        control.mint_offline_code(&OfflineCodeSpec::new(PRODUCT, HW).features(["pro", "render"]));
    emulator.faults().go_down();
    let gate = gate(
        provider(options(&emulator.url()).offline_public_key(TEST_PUBLIC_KEY_PEM)),
        &code,
    )
    .await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.has_feature("render"));
    let state = gate.product_state();
    assert_eq!(state.source, Source::OfflineCode);
    assert!(state.expires_at.is_some());

    // Once the server is back it is told, and its answer is ignored.
    emulator.faults().come_up();
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    let told = control.last_request().unwrap();
    assert_eq!(told.path, "/api/license/validate");
    assert_eq!(told.json.unwrap()["activationKey"], json!(code));
    gate.shutdown().await;
}

#[tokio::test]
async fn an_offline_code_for_another_machine_is_invalid() {
    let (emulator, control) = emulator().await;
    let code =
        control.mint_offline_code(&OfflineCodeSpec::new(PRODUCT, "ANOTHER").features(["pro"]));
    let gate = gate(
        provider(options(&emulator.url()).offline_public_key(TEST_PUBLIC_KEY_PEM)),
        &code,
    )
    .await;
    match gate.status() {
        LicenseStatus::Invalid { reason } => {
            assert!(reason.to_string().contains("another machine"), "{reason}")
        }
        other => panic!("expected Invalid, got {other}"),
    }
    assert!(
        control.requests().is_empty(),
        "nothing is sent for a bad code"
    );
    gate.shutdown().await;
}

#[tokio::test]
async fn the_gate_machine_identity_is_the_hardware_id_unless_the_client_overrides_it() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, "GATE-MACHINE-7");
    let without_override = ExisOneClientOptions::new(emulator.url())
        .access_token(license_gate_testkit::exisone::ExisOneEmulator::TOKEN)
        .http(options(&emulator.url()).http);
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider(without_override))
        .license_key(KEY)
        .hardware_id("GATE-MACHINE-7")
        .install_global(false)
        .no_cache()
        .startup_timeout(Duration::from_secs(10))
        .start()
        .await
        .expect("the gate starts");
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert_eq!(
        control.last_request().unwrap().json.unwrap()["hardwareId"],
        "GATE-MACHINE-7"
    );
    gate.shutdown().await;

    // The client's override wins over the gate's identity.
    control.bind(KEY, HW);
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider(options(&emulator.url())))
        .license_key(KEY)
        .hardware_id("GATE-MACHINE-7")
        .install_global(false)
        .no_cache()
        .startup_timeout(Duration::from_secs(10))
        .start()
        .await
        .expect("the gate starts");
    assert_eq!(
        control.last_request().unwrap().json.unwrap()["hardwareId"],
        HW
    );
    gate.shutdown().await;
}

#[tokio::test]
async fn the_sdk_hardware_id_is_sent_when_the_builder_or_the_client_asks_for_it() {
    let (emulator, control) = emulator().await;
    let sdk_id = license_gate::exisone_sdk_hardware_id();
    control.bind(KEY, &sdk_id);
    let plain = || {
        ExisOneClientOptions::new(emulator.url())
            .access_token(license_gate_testkit::exisone::ExisOneEmulator::TOKEN)
            .http(options(&emulator.url()).http)
    };
    let start = |provider: ExisOneProvider, sdk_on_builder: bool| {
        let mut builder = LicenseGate::builder()
            .product(PRODUCT)
            .provider(provider)
            .license_key(KEY)
            .install_global(false)
            .no_cache()
            .startup_timeout(Duration::from_secs(10));
        if sdk_on_builder {
            builder = builder.exisone_sdk_hardware_id();
        }
        builder.start()
    };

    // The builder's option: the gate's machine identity is the SDK's ID.
    let gate = start(provider(plain()), true)
        .await
        .expect("the gate starts");
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert_eq!(
        control.last_request().unwrap().json.unwrap()["hardwareId"],
        sdk_id.as_str()
    );
    gate.shutdown().await;

    // The client's option: the provider sends it whatever the gate's identity.
    let gate = start(provider(plain().exisone_sdk_hardware_id()), false)
        .await
        .expect("the gate starts");
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert_eq!(
        control.last_request().unwrap().json.unwrap()["hardwareId"],
        sdk_id.as_str()
    );
    gate.shutdown().await;
}
