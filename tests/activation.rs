//! One activation per installation, against both emulators: an app opened
//! five times on one installation (five gates in sequence over the same cache
//! and anchor folders, with a vendor secret) activates once; when the service
//! says the key is not activated here the gate activates again, once; and the
//! application's version set once on the builder reaches ExisOne, whose
//! `version_outdated` names the minimum in the status and the error.

use license_gate_tests::support;

use std::sync::Arc;

use license_gate::providers::HttpOptions;
use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
use license_gate::{LicenseGate, LicenseGateBuilder, LicenseStatus, provider::Provider};
use license_gate_testkit::exisone::{EmulatedLicense, ExisOneEmulator};
use support::{
    ECOSIRE_DOMAIN, EXISONE_HW, EXISONE_KEY, Emulated, FEATURES, PRODUCT, Service, TIMEOUT,
};
use tempfile::TempDir;

/// The folders of one installation: its cache and its time anchor.
struct Installation {
    cache: TempDir,
    anchor: TempDir,
}

impl Installation {
    fn new() -> Self {
        Installation {
            cache: tempfile::tempdir().expect("a cache folder"),
            anchor: tempfile::tempdir().expect("an anchor folder"),
        }
    }

    /// `builder` over this installation's folders, activating on first use.
    fn open(&self, builder: LicenseGateBuilder) -> LicenseGateBuilder {
        builder
            .cache_dir(self.cache.path())
            .time_anchor_dir(self.anchor.path())
            .hardware_id("HW-INSTALL-0001")
            .activate_on_first_use(true)
    }
}

/// The activation requests the emulator of `emulated` has received.
fn activations(emulated: &Emulated) -> usize {
    let (paths, activate): (Vec<String>, &str) = match emulated.service {
        Service::ExisOne => (
            emulated
                .exisone()
                .requests()
                .into_iter()
                .map(|r| r.path)
                .collect(),
            "/api/license/activate",
        ),
        Service::Ecosire => (
            emulated
                .ecosire()
                .requests()
                .into_iter()
                .map(|r| r.path)
                .collect(),
            "/api/licenses/activate",
        ),
    };
    paths.iter().filter(|p| *p == activate).count()
}

/// Opens the app once: starts a gate, lets it finish a validation round
/// (the one a start from cache runs in the background, then another), checks
/// it is licensed, and closes it.
async fn open_app(builder: LicenseGateBuilder, service: Service, run: usize) {
    let gate = builder
        .start()
        .await
        .unwrap_or_else(|e| panic!("{service}: start {run} failed: {e}"));
    gate.refresh().await;
    assert_eq!(
        gate.status(),
        LicenseStatus::Licensed,
        "{service}: start {run} is licensed"
    );
    gate.shutdown().await;
}

async fn five_starts(emulated: &Emulated, installation: &Installation) {
    for run in 1..=5 {
        open_app(installation.open(emulated.builder()), emulated.service, run).await;
    }
}

#[tokio::test]
async fn five_starts_on_one_installation_send_one_activation() {
    for service in Service::ALL {
        let emulated = Emulated::start_with(service, false).await;
        let installation = Installation::new();
        five_starts(&emulated, &installation).await;
        assert_eq!(
            activations(&emulated),
            1,
            "{service}: five starts on one installation activate once"
        );
    }
}

#[tokio::test]
async fn without_a_vendor_secret_ecosire_activates_once_per_start() {
    // The cache is not authentic without a vendor secret, so its record does
    // not count: every start activates, but only once however often it
    // validates.
    let emulated = Emulated::start(Service::Ecosire).await;
    let installation = Installation::new();
    for run in 1..=3 {
        let builder = LicenseGate::builder()
            .product(PRODUCT)
            .shared_provider(emulated.provider())
            .license_key(Service::Ecosire.key())
            .install_global(false)
            .request_timeout(TIMEOUT);
        let gate = installation
            .open(builder)
            .start()
            .await
            .expect("the gate starts");
        gate.refresh().await;
        gate.refresh().await;
        assert_eq!(gate.status(), LicenseStatus::Licensed);
        gate.shutdown().await;
        assert_eq!(activations(&emulated), run, "one activation per start");
    }
}

#[tokio::test]
async fn exisone_activates_again_once_when_the_server_no_longer_knows_this_machine() {
    let emulated = Emulated::start_with(Service::ExisOne, false).await;
    let installation = Installation::new();
    five_starts(&emulated, &installation).await;
    assert_eq!(activations(&emulated), 1);

    // The vendor released the seat on the server: the next validation
    // answers `not_activated` for this machine, whatever the cache records.
    let control = emulated.exisone();
    control.remove_license(EXISONE_KEY);
    control.add_license(EmulatedLicense::new(EXISONE_KEY, PRODUCT).features(FEATURES));
    let gate = installation
        .open(emulated.builder())
        .start()
        .await
        .expect("the gate starts from its cache");
    gate.refresh().await;
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert_eq!(activations(&emulated), 2, "activated again, once");
    assert_eq!(control.activations(EXISONE_KEY), [EXISONE_HW]);
    gate.shutdown().await;
}

#[tokio::test]
async fn a_refused_activation_is_not_repeated_in_the_same_start() {
    // Every seat is taken by another machine: the server answers
    // `not_activated` at every validation and refuses the activation.
    let emulated = Emulated::start_with(Service::ExisOne, false).await;
    let control = emulated.exisone();
    control.remove_license(EXISONE_KEY);
    control.add_license(
        EmulatedLicense::new(EXISONE_KEY, PRODUCT)
            .features(FEATURES)
            .seats(1)
            .activated_on("HW-ANOTHER-MACHINE"),
    );
    let installation = Installation::new();
    let gate = installation
        .open(emulated.builder())
        .start()
        .await
        .expect("the gate starts");
    gate.refresh().await;
    gate.refresh().await;
    assert!(!gate.status().grants_access(), "{}", gate.status());
    assert_eq!(activations(&emulated), 1, "one activation per start");
    gate.shutdown().await;

    // The next start tries once more.
    let gate = installation
        .open(emulated.builder())
        .start()
        .await
        .expect("the gate starts");
    gate.refresh().await;
    assert_eq!(activations(&emulated), 2);
    gate.shutdown().await;
}

#[tokio::test]
async fn ecosire_activates_again_once_after_the_installation_was_deactivated() {
    // ECOSIRE's validation answers `valid: true` whether or not this domain
    // is bound, so the record is the gate's only word on it; deactivating
    // removes the record (and the binding), and the next start binds again.
    let emulated = Emulated::start(Service::Ecosire).await;
    let installation = Installation::new();
    five_starts(&emulated, &installation).await;
    assert_eq!(activations(&emulated), 1);
    assert_eq!(
        emulated.ecosire().bindings(Service::Ecosire.key()),
        [ECOSIRE_DOMAIN]
    );

    let gate = installation
        .open(emulated.builder())
        .start()
        .await
        .expect("the gate starts");
    gate.deactivate().await.expect("deactivation works");
    gate.refresh().await;
    assert_eq!(
        activations(&emulated),
        1,
        "a deactivated installation is not activated again by the same start"
    );
    gate.shutdown().await;
    assert!(
        emulated
            .ecosire()
            .bindings(Service::Ecosire.key())
            .is_empty()
    );

    open_app(installation.open(emulated.builder()), Service::Ecosire, 7).await;
    assert_eq!(activations(&emulated), 2, "activated again, once");
    assert_eq!(
        emulated.ecosire().bindings(Service::Ecosire.key()),
        [ECOSIRE_DOMAIN]
    );
}

/// An ExisOne provider without a version of its own.
fn exisone_without_version(url: &str) -> ExisOneProvider {
    ExisOneProvider::from_options(
        ExisOneClientOptions::new(url)
            .access_token(ExisOneEmulator::TOKEN)
            .hardware_id_override(EXISONE_HW)
            .http(
                HttpOptions::new()
                    .timeout(TIMEOUT)
                    .allow_insecure_loopback(),
            ),
    )
    .expect("valid options")
}

fn sent_versions(emulated: &Emulated) -> Vec<Option<String>> {
    emulated
        .exisone()
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/license/"))
        .map(|r| {
            r.json
                .and_then(|json| json.get("version")?.as_str().map(str::to_owned))
        })
        .collect()
}

#[tokio::test]
async fn the_builder_app_version_reaches_exisone_and_an_outdated_one_names_the_minimum() {
    let emulated = Emulated::start_with(Service::ExisOne, false).await;
    let provider: Arc<dyn Provider> =
        Arc::new(exisone_without_version(&emulated.url()).email("buyer@example.com"));
    let gate = emulated
        .builder_with(provider)
        .app_version("2.4.1")
        .activate_on_first_use(true)
        .start()
        .await
        .expect("the gate starts");
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    let versions = sent_versions(&emulated);
    assert_eq!(versions.len(), 3, "validate, activate, validate");
    assert!(
        versions.iter().all(|v| v.as_deref() == Some("2.4.1")),
        "every call sends the version: {versions:?}"
    );

    emulated.exisone().set_minimum_version(Some("3.0.0"));
    gate.refresh().await;
    assert_eq!(
        gate.status(),
        LicenseStatus::VersionOutdated {
            minimum: "3.0.0".into()
        }
    );
    let error = gate
        .check_feature("pro")
        .expect_err("an outdated version is denied");
    assert_eq!(
        error.status(),
        Some(&LicenseStatus::VersionOutdated {
            minimum: "3.0.0".into()
        })
    );
    assert!(
        error.to_string().contains("minimum 3.0.0"),
        "the error names the minimum: {error}"
    );
    gate.shutdown().await;
}

#[tokio::test]
async fn the_provider_app_version_overrides_the_builder() {
    let emulated = Emulated::start(Service::ExisOne).await;
    let provider: Arc<dyn Provider> =
        Arc::new(exisone_without_version(&emulated.url()).app_version("9.9.9"));
    let gate = emulated
        .builder_with(provider)
        .app_version("2.4.1")
        .start()
        .await
        .expect("the gate starts");
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert_eq!(sent_versions(&emulated), [Some("9.9.9".to_owned())]);
    gate.shutdown().await;

    // Without either, no version is sent.
    let plain: Arc<dyn Provider> = Arc::new(exisone_without_version(&emulated.url()));
    emulated.exisone().clear_requests();
    let gate = emulated
        .builder_with(plain)
        .start()
        .await
        .expect("the gate starts");
    assert_eq!(sent_versions(&emulated), [None]);
    gate.shutdown().await;
}
