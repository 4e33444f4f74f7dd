//! Builder options a first-time user reaches for: activation on first use (a
//! fresh ExisOne key against the emulator over real HTTP) and the declared
//! feature list.

use license_gate_tests::support;

use license_gate::providers::mock::MockProvider;
use license_gate::{LicenseGate, LicenseStatus, Reason};
use support::{EXISONE_HW, EXISONE_KEY, Emulated, LogBuffer, Service};

#[tokio::test]
async fn a_fresh_exisone_key_activates_on_first_use() {
    let emulated = Emulated::start_with(Service::ExisOne, false).await;
    // Without the option, the status says how to activate.
    let gate = emulated.builder().start().await.unwrap();
    assert_eq!(
        gate.status(),
        LicenseStatus::Unlicensed {
            reason: Reason::NotActivated
        }
    );
    gate.shutdown().await;
    assert!(emulated.exisone().activations(EXISONE_KEY).is_empty());

    // With it, the first start activates and the license works at once.
    let gate = emulated
        .builder()
        .activate_on_first_use(true)
        .start()
        .await
        .unwrap();
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.has_feature("pro"));
    assert_eq!(
        emulated.exisone().activations(EXISONE_KEY),
        vec![EXISONE_HW.to_owned()],
        "this machine was activated"
    );
    gate.shutdown().await;
}

#[tokio::test]
async fn features_the_application_does_not_declare_are_logged_once() {
    let logs = LogBuffer::default();
    let _capture = logs.capture();
    let (provider, mock) = MockProvider::licensed(["pro", "exprot"]);
    let gate = LicenseGate::builder()
        .product("Atlas Studio")
        .provider(provider)
        .install_global(false)
        .no_cache()
        .known_features(["pro", "export"])
        .start()
        .await
        .unwrap();
    mock.set_features(["pro", "exprot", "team"]);
    gate.refresh().await;
    let text = logs.text();
    assert_eq!(
        text.matches("does not declare").count(),
        1,
        "logged once: {text}"
    );
    assert!(text.contains("exprot"), "names the unknown feature: {text}");
    gate.shutdown().await;

    // Granted features that are all declared log nothing.
    logs.clear();
    let (provider, _) = MockProvider::licensed(["pro"]);
    let gate = LicenseGate::builder()
        .product("Atlas Studio")
        .provider(provider)
        .install_global(false)
        .no_cache()
        .known_features(["pro", "export"])
        .start()
        .await
        .unwrap();
    assert!(!logs.text().contains("does not declare"));
    gate.shutdown().await;
}

#[tokio::test]
async fn a_clone_of_a_gate_that_was_shut_down_refuses_server_calls() {
    let (provider, mock) = MockProvider::licensed(["pro"]);
    let gate = LicenseGate::builder()
        .product("Atlas Studio")
        .provider(provider)
        .install_global(false)
        .no_cache()
        .start()
        .await
        .unwrap();
    let clone = gate.clone();
    gate.shutdown().await;
    let calls = mock.calls().total();
    assert!(matches!(
        clone.activate().await,
        Err(license_gate::GateError::ShutDown)
    ));
    assert!(matches!(
        clone.deactivate().await,
        Err(license_gate::GateError::ShutDown)
    ));
    assert_eq!(mock.calls().total(), calls, "nothing reached the provider");
}
