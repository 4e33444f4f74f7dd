//! The attack suite: each test plays the application's own user (a text
//! editor, a small script, the clock, a restart) or an ordinary fault, and
//! asserts the gate does not grant — or, for a paying user, that it recovers.
//!
//! Restarts are real: each "run" is a new gate over the same cache and anchor
//! folders on disk. Time is tokio's paused time with a `TestClock`, so weeks
//! and clock changes take milliseconds.

use license_gate_tests::support;

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use license_gate::provider::Clock;
use license_gate::providers::mock::{MockHandle, MockProvider};
use license_gate::testing::TestClock;
use license_gate::{
    GateError, LicenseGate, LicenseGateBuilder, LicenseStatus, ProviderError, Reason, Source,
    VendorSecret,
    provider::{LicenseAnswer, LicenseRequest, Provider},
};
use support::LogBuffer;
use tempfile::TempDir;

const DAY: Duration = Duration::from_secs(24 * 3600);
const PRODUCT: &str = "Atlas Studio";

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn secret() -> VendorSecret {
    support::vendor_secret()
}

/// The folders one installation keeps: the cache and, apart from it, the time anchor.
struct Installation {
    cache: TempDir,
    anchor: TempDir,
}

impl Installation {
    fn new() -> Self {
        Installation {
            cache: TempDir::new().expect("a cache folder"),
            anchor: TempDir::new().expect("an anchor folder"),
        }
    }

    fn cache_file(&self) -> std::path::PathBuf {
        fs::read_dir(self.cache.path())
            .expect("the cache folder")
            .map(|e| e.expect("an entry").path())
            .find(|p| p.extension().is_some_and(|e| e == "license"))
            .expect("a cache file")
    }

    /// A gate of this installation at `clock`, with `secret` (or none).
    fn builder(
        &self,
        provider: impl Provider,
        clock: &TestClock,
        secret: Option<VendorSecret>,
    ) -> LicenseGateBuilder {
        builder_on(self, provider, clock, secret, "HW-ATTACK-1")
    }
}

fn builder_on(
    installation: &Installation,
    provider: impl Provider,
    clock: &(impl Clock + Clone),
    secret: Option<VendorSecret>,
    hardware_id: &str,
) -> LicenseGateBuilder {
    let builder = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .install_global(false)
        .cache_dir(installation.cache.path())
        .time_anchor_dir(installation.anchor.path())
        .hardware_id(hardware_id)
        .clock(clock.clone())
        .heartbeat_interval(DAY)
        .grace_period(7 * DAY)
        .startup_timeout(Duration::from_millis(100))
        .jitter(0.0);
    match secret {
        Some(secret) => builder.vendor_secret(secret),
        None => builder,
    }
}

/// One run of the application: start, let the background check happen, and
/// return the product's state, then shut down.
async fn run(builder: LicenseGateBuilder) -> license_gate::ProductState {
    let gate = builder.start().await.expect("the gate starts");
    settle().await;
    let state = gate.product_state();
    gate.shutdown().await;
    state
}

/// Lets the gate's background task run (paused time: no real waiting).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(10)).await;
}

fn offline_mock() -> (MockProvider, MockHandle) {
    let (provider, mock) = MockProvider::licensed(["pro"]);
    mock.go_offline();
    (provider, mock)
}

fn grants(state: &license_gate::ProductState) -> bool {
    state.status.grants_access()
}

#[tokio::test(start_paused = true)]
async fn a_cache_forged_without_a_vendor_secret_never_grants_on_its_own() {
    let installation = Installation::new();
    // The user's script: everything that keys a cache without a vendor
    // secret is public, so it can write one claiming every feature and a
    // confirmation in 2076 (here written the way the script would: through
    // the same public derivation, with the clock in 2076).
    let forged_at =
        TestClock::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(3_330_000_000));
    let (provider, _) = MockProvider::licensed(["pro", "export", "everything"]);
    let written = run(installation.builder(provider, &forged_at, None)).await;
    assert!(grants(&written), "the script's run wrote a granting cache");

    // The app, server firewalled: the forged cache does not grant.
    let (provider, mock) = offline_mock();
    let state = run(installation.builder(provider, &TestClock::starting_at(t0()), None)).await;
    assert!(
        !grants(&state),
        "a cache without a vendor secret granted on its own: {:?}",
        state.status
    );
    assert!(mock.calls().validate >= 1, "the app kept asking the server");

    // The server answers "revoked": that is the state at once.
    let (provider, mock) = MockProvider::licensed(["pro"]);
    mock.revoke();
    let state = run(installation.builder(provider, &TestClock::starting_at(t0()), None)).await;
    assert_eq!(state.status, LicenseStatus::Revoked);
}

#[tokio::test(start_paused = true)]
async fn a_cache_not_keyed_by_the_vendor_secret_is_rejected_by_the_app() {
    let installation = Installation::new();
    let clock = TestClock::starting_at(t0());
    let logs = LogBuffer::default();
    let _capture = logs.capture();
    for forger_secret in [
        None,
        Some(VendorSecret::new("a guess at the vendor's secret").unwrap()),
    ] {
        let (provider, _) = MockProvider::licensed(["pro", "everything"]);
        run(installation.builder(provider, &clock, forger_secret)).await;
        logs.clear();
        let (provider, _) = offline_mock();
        let state = run(installation.builder(provider, &clock, Some(secret()))).await;
        assert!(
            !grants(&state),
            "a cache the vendor's build did not write granted: {:?}",
            state.status
        );
        assert!(
            logs.text().contains("license cache rejected"),
            "the rejection is logged: {}",
            logs.text()
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_cache_copied_from_another_machine_is_rejected() {
    let installation = Installation::new();
    let clock = TestClock::starting_at(t0());
    let (provider, _) = MockProvider::licensed(["pro"]);
    run(builder_on(
        &installation,
        provider,
        &clock,
        Some(secret()),
        "HW-OTHER-MACHINE",
    ))
    .await;
    let (provider, _) = offline_mock();
    let state = run(installation.builder(provider, &clock, Some(secret()))).await;
    assert!(
        !grants(&state),
        "a copied cache granted: {:?}",
        state.status
    );
}

#[tokio::test(start_paused = true)]
async fn restoring_an_old_cache_with_the_clock_set_back_extends_nothing() {
    let installation = Installation::new();
    // Run 1: the license is confirmed at t0, and the user saves the cache.
    let (provider, _) = MockProvider::licensed(["pro"]);
    let state =
        run(installation.builder(provider, &TestClock::starting_at(t0()), Some(secret()))).await;
    assert_eq!(state.status, LicenseStatus::Licensed);
    let saved = fs::read(installation.cache_file()).expect("the cache");

    // Run 2, ten days later with the server firewalled: grace is over.
    let (provider, _) = offline_mock();
    let later = TestClock::starting_at(t0() + 10 * DAY);
    let state = run(installation.builder(provider, &later, Some(secret()))).await;
    assert_eq!(
        state.status,
        LicenseStatus::Unlicensed {
            reason: Reason::GraceOver
        }
    );

    // The attack: restore the saved cache and set the clock back to a day
    // after it was written. The separate time anchor remembers day ten.
    fs::write(installation.cache_file(), &saved).expect("restore the cache");
    let (provider, _) = offline_mock();
    let rolled_back = TestClock::starting_at(t0() + DAY);
    let state = run(installation.builder(provider, &rolled_back, Some(secret()))).await;
    assert!(
        !grants(&state),
        "a restored cache and a clock set back brought the license back: {:?}",
        state.status
    );
}

#[tokio::test(start_paused = true)]
async fn a_license_that_expired_while_the_app_was_closed_stays_expired_with_the_clock_set_back() {
    let installation = Installation::new();
    let (provider, _) = MockProvider::new(LicenseAnswer::licensed(["pro"]).expiring_at(t0() + DAY));
    let state =
        run(installation.builder(provider, &TestClock::starting_at(t0()), Some(secret()))).await;
    assert_eq!(state.status, LicenseStatus::Licensed);

    // Closed for two days; started offline: expired.
    let (provider, _) = offline_mock();
    let state = run(installation.builder(
        provider,
        &TestClock::starting_at(t0() + 2 * DAY),
        Some(secret()),
    ))
    .await;
    assert_eq!(state.status, LicenseStatus::Expired);

    // The clock is set back nine days between runs: still expired.
    let (provider, _) = offline_mock();
    let set_back = TestClock::starting_at(t0() + 2 * DAY - 9 * DAY);
    let state = run(installation.builder(provider, &set_back, Some(secret()))).await;
    assert_eq!(state.status, LicenseStatus::Expired);

    // Even with the cache deleted, the anchor remembers.
    fs::remove_file(installation.cache_file()).expect("delete the cache");
    let (provider, mock) =
        MockProvider::new(LicenseAnswer::licensed(["pro"]).expiring_at(t0() + DAY));
    let state = run(installation.builder(provider, &set_back, Some(secret()))).await;
    assert!(mock.calls().validate >= 1);
    assert_eq!(
        state.status,
        LicenseStatus::Expired,
        "the server's own expiry, read at trusted time, not at the clock set back"
    );
}

#[tokio::test(start_paused = true)]
async fn a_clock_set_back_is_caught_the_moment_the_server_answers() {
    let installation = Installation::new();
    // The server's clock says t0; the license ended yesterday; the user's
    // clock is set back 30 days, with no cache and no anchor yet.
    let (provider, _) = MockProvider::new(
        LicenseAnswer::licensed(["pro"])
            .expiring_at(t0() - DAY)
            .with_server_time(t0()),
    );
    let set_back = TestClock::starting_at(t0() - 30 * DAY);
    let state = run(installation.builder(provider, &set_back, Some(secret()))).await;
    assert_eq!(state.status, LicenseStatus::Expired);
}

#[tokio::test(start_paused = true)]
async fn a_clock_that_was_far_ahead_once_does_not_lock_out_a_paying_user() {
    let installation = Installation::new();
    let answer = || {
        LicenseAnswer::licensed(["pro"])
            .expiring_at(t0() + 30 * DAY)
            .with_server_time(t0())
    };
    // One run with the clock a year ahead: the runtime saw that year.
    let (provider, _) = MockProvider::new(answer());
    let ahead = TestClock::starting_at(t0() + 365 * DAY);
    run(installation.builder(provider, &ahead, Some(secret()))).await;

    // The clock is corrected. The first server answer re-anchors trusted
    // time from its `Date`, and the license is licensed again.
    let (provider, _) = MockProvider::new(answer());
    let corrected = TestClock::starting_at(t0());
    let state = run(installation.builder(provider, &corrected, Some(secret()))).await;
    assert_eq!(
        state.status,
        LicenseStatus::Licensed,
        "a paying user stayed locked out after correcting the clock"
    );
}

/// A clock that panics while armed: a stand-in for any bug in the background task.
#[derive(Clone, Debug)]
struct TrippingClock {
    inner: TestClock,
    armed: Arc<AtomicBool>,
}

impl Clock for TrippingClock {
    fn now(&self) -> SystemTime {
        assert!(!self.armed.load(Ordering::SeqCst), "the clock tripped");
        self.inner.now()
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_the_heartbeat_leaves_the_gate_denying_and_it_recovers() {
    let installation = Installation::new();
    let clock = TrippingClock {
        inner: TestClock::starting_at(t0()),
        armed: Arc::new(AtomicBool::new(false)),
    };
    let (provider, _) = MockProvider::licensed(["pro"]);
    let gate = builder_on(
        &installation,
        provider,
        &clock,
        Some(secret()),
        "HW-ATTACK-1",
    )
    .start()
    .await
    .unwrap();
    assert_eq!(gate.product_state().status, LicenseStatus::Licensed);

    clock.armed.store(true, Ordering::SeqCst);
    // The next heartbeat reads the clock and panics.
    tokio::time::sleep(DAY + Duration::from_secs(1)).await;
    let state = gate.product_state();
    assert_eq!(
        state.status,
        LicenseStatus::Unlicensed {
            reason: Reason::CheckStopped
        },
        "a dead heartbeat left the last grant in force"
    );
    assert!(state.features.is_empty());

    // The task restarts after the retry delay and the license comes back.
    clock.armed.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    gate.shutdown().await;
}

/// A provider that panics while armed.
#[derive(Debug)]
struct PanickingProvider {
    armed: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl Provider for PanickingProvider {
    fn name(&self) -> &str {
        "panicking"
    }

    async fn validate(&self, _: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        assert!(!self.armed.load(Ordering::SeqCst), "the provider panicked");
        Ok(LicenseAnswer::licensed(["pro"]))
    }
}

#[tokio::test(start_paused = true)]
async fn a_provider_that_panics_denies_with_a_reason() {
    let armed = Arc::new(AtomicBool::new(false));
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(PanickingProvider {
            armed: armed.clone(),
        })
        .install_global(false)
        .no_cache()
        .start()
        .await
        .unwrap();
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    armed.store(true, Ordering::SeqCst);
    gate.refresh().await;
    assert_eq!(
        gate.status(),
        LicenseStatus::Unlicensed {
            reason: Reason::CheckStopped
        }
    );
    assert!(!gate.has_feature("pro"));
    armed.store(false, Ordering::SeqCst);
    gate.refresh().await;
    assert!(gate.has_feature("pro"));
    gate.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn durations_out_of_range_are_clear_errors_and_far_future_dates_do_not_panic() {
    for (what, builder) in [
        (
            "grace period",
            LicenseGate::builder().grace_period(Duration::MAX),
        ),
        (
            "heartbeat interval",
            LicenseGate::builder().heartbeat_interval(Duration::MAX),
        ),
        (
            "request timeout",
            LicenseGate::builder().request_timeout(Duration::MAX),
        ),
        (
            "start-up timeout",
            LicenseGate::builder().startup_timeout(Duration::MAX),
        ),
    ] {
        let (provider, _) = MockProvider::licensed(["pro"]);
        let error = builder
            .product(PRODUCT)
            .provider(provider)
            .no_cache()
            .install_global(false)
            .start()
            .await
            .expect_err("an unbounded duration is refused");
        assert!(
            matches!(error, GateError::InvalidSetting { .. }),
            "{what}: {error:?}"
        );
        assert!(
            error.to_string().contains(what) && error.to_string().contains("at most"),
            "{what}: the message says what and how much: {error}"
        );
    }

    // A clock at year 10026, the longest grace, a server that goes away:
    // every instant saturates, nothing panics, and the status displays.
    let installation = Installation::new();
    let far = TestClock::starting_at(SystemTime::UNIX_EPOCH + Duration::from_secs(254_000_000_000));
    let (provider, mock) = MockProvider::new(
        LicenseAnswer::licensed(["pro"])
            .expiring_at(SystemTime::UNIX_EPOCH + Duration::from_secs(300_000_000_000)),
    );
    let gate = installation
        .builder(provider, &far, Some(secret()))
        .grace_period(366 * DAY)
        .start()
        .await
        .unwrap();
    mock.go_offline();
    gate.refresh().await;
    let shown = gate.status().to_string();
    assert!(!shown.is_empty());
    gate.shutdown().await;
    let (provider, _) = offline_mock();
    let state = run(installation.builder(provider, &far, Some(secret()))).await;
    let _ = state.status.to_string();
}

#[test]
fn embedded_vendor_secrets_are_not_in_the_binary_verbatim() {
    let secret =
        license_gate::embed_secret!("LICENSE_GATE_TEST_VENDOR_SECRET").expect("long enough");
    // The value comes from the build's environment (`.cargo/config.toml`);
    // the test reads it at run time so this binary holds it only masked.
    let expected = std::env::var("LICENSE_GATE_TEST_VENDOR_SECRET")
        .expect("cargo sets LICENSE_GATE_TEST_VENDOR_SECRET for test runs from .cargo/config.toml");
    assert_eq!(
        format!("{secret:?}"),
        "VendorSecret(<redacted>)",
        "Debug never shows a vendor secret"
    );
    let same = VendorSecret::new(&expected).unwrap();
    // Equal secrets key equal caches: a cache written with one reads with the other.
    let installation = Installation::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let clock = TestClock::starting_at(t0());
        let (provider, _) = MockProvider::licensed(["pro"]);
        run(installation.builder(provider, &clock, Some(secret))).await;
        let (provider, _) = offline_mock();
        let state = run(installation.builder(provider, &clock, Some(same))).await;
        assert!(grants(&state) && state.source == Source::Cache);
    });
    let binary = fs::read(std::env::current_exe().unwrap()).unwrap();
    assert!(
        !binary
            .windows(expected.len())
            .any(|w| w == expected.as_bytes()),
        "the vendor secret appears verbatim in the binary"
    );
}

#[test]
fn no_update_is_lost_when_refreshes_deadlines_and_gated_calls_race() {
    const CYCLES: usize = 300;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (studio, studio_mock) = MockProvider::licensed(["pro"]);
        let (render, render_mock) = MockProvider::licensed(["gpu"]);
        let gate = LicenseGate::builder()
            .product(PRODUCT)
            .provider(studio)
            .product("Atlas Render")
            .provider(render)
            .install_global(false)
            .no_cache()
            .start()
            .await
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let callers: Vec<_> = (0..4)
            .map(|_| {
                let gate = gate.clone();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let _scope = gate.enter();
                    let mut calls = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        let _ = license_gate::check_feature("pro");
                        let _ = license_gate::check_product("Atlas Render");
                        calls += 1;
                    }
                    calls
                })
            })
            .collect();
        for cycle in 0..CYCLES {
            // The second product's expiry fires a deadline in a millisecond,
            // while the first product's state flips.
            render_mock.expire_at(SystemTime::now() + Duration::from_millis(1));
            let want = if cycle % 2 == 0 {
                studio_mock.revoke();
                LicenseStatus::Revoked
            } else {
                studio_mock.restore();
                LicenseStatus::Licensed
            };
            gate.refresh().await;
            tokio::time::sleep(Duration::from_millis(2)).await;
            let snapshot = gate.snapshot();
            assert_eq!(
                snapshot.products[0].status, want,
                "cycle {cycle}: the refresh's answer was lost"
            );
            assert_eq!(
                gate.check_product(PRODUCT).is_ok(),
                want == LicenseStatus::Licensed,
                "cycle {cycle}: a gated check disagrees with the published state"
            );
        }
        stop.store(true, Ordering::Relaxed);
        let calls: u64 = callers.into_iter().map(|c| c.join().unwrap()).sum();
        assert!(calls > 0, "the callers ran");
        gate.shutdown().await;
    });
}

/// An ExisOne provider that reads `code` as an offline code for `hardware_id`,
/// telling the emulator at `url` about valid codes as the SDK does.
fn offline_provider(
    url: &str,
    hardware_id: &str,
) -> license_gate::providers::exisone::ExisOneProvider {
    use license_gate::providers::HttpOptions;
    use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
    ExisOneProvider::from_options(
        ExisOneClientOptions::new(url)
            .access_token(license_gate_testkit::exisone::ExisOneEmulator::TOKEN)
            .offline_public_key(license_gate_testkit::exisone::TEST_PUBLIC_KEY_PEM)
            .hardware_id_override(hardware_id)
            .http(
                HttpOptions::new()
                    .allow_insecure_loopback()
                    .timeout(Duration::from_secs(1)),
            ),
    )
    .expect("valid options")
}

#[tokio::test]
async fn an_expired_offline_code_stays_expired_with_the_clock_set_back_and_the_cache_deleted() {
    use license_gate_testkit::exisone::{OfflineCodeMinter, OfflineCodeSpec};
    const HW: &str = "HW-OFFLINE-1";
    // The server stays out of reach (tests/attacks_clock.rs covers the
    // server's time): here only the records vouch for the time.
    let unreachable = license_gate_testkit::refused_url();
    let code = OfflineCodeMinter::test_key().mint(
        &OfflineCodeSpec::new(PRODUCT, HW)
            .features(["pro"])
            .expires_at(t0() + DAY),
    );
    let installation = Installation::new();
    let gate_at = |clock: &TestClock| {
        LicenseGate::builder()
            .product(PRODUCT)
            .provider(offline_provider(&unreachable, HW))
            .license_key(code.as_str())
            .install_global(false)
            .cache_dir(installation.cache.path())
            .time_anchor_dir(installation.anchor.path())
            .hardware_id(HW)
            .vendor_secret(secret())
            .clock(clock.clone())
            .jitter(0.0)
    };
    let current = |builder: LicenseGateBuilder| async move {
        let gate = builder.start().await.expect("the gate starts");
        // The first round (which tries the server) ends and writes the
        // records before the run stops: a stopped gate writes nothing.
        gate.refresh().await;
        let state = gate.product_state();
        gate.shutdown().await;
        state
    };

    // The code is verified locally at start: no server needed to grant.
    let state = current(gate_at(&TestClock::starting_at(t0()))).await;
    assert_eq!(state.status, LicenseStatus::Licensed);
    assert!(state.features.contains("pro"));

    // Two days later it has expired.
    let state = current(gate_at(&TestClock::starting_at(t0() + 2 * DAY))).await;
    assert_eq!(state.status, LicenseStatus::Expired);

    // The cache deleted and the clock set back before the code's expiry:
    // the time anchor remembers, and the code is read at trusted time.
    fs::remove_file(installation.cache_file()).expect("delete the cache");
    let state = current(gate_at(&TestClock::starting_at(t0() - 5 * DAY))).await;
    assert_eq!(
        state.status,
        LicenseStatus::Expired,
        "an expired offline code worked again with the clock set back"
    );
}

// ---- dropping the handle ----------------------------------------------------
//
// The global gate is one per process, so each test that installs it runs in a
// child process of its own (this binary, filtered to the one test).

/// Set in a child process to the name of the test it runs.
const CHILD: &str = "LICENSE_GATE_ATTACKS_CHILD";

/// Runs `body` in a child process of its own (this test binary, filtered to
/// `name`), so the global gate it installs is the only one in its process.
fn in_own_process(name: &str, body: impl FnOnce()) {
    if std::env::var(CHILD).is_ok_and(|v| v == name) {
        body();
        return;
    }
    run_child(name, &[]);
}

/// Runs the single test `name` of this binary in a child process with the
/// variables `env` set, and returns its standard output.
fn run_child(name: &str, env: &[(&str, std::ffi::OsString)]) -> String {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = std::process::Command::new(exe);
    command
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, name);
    for (variable, value) in env {
        command.env(variable, value);
    }
    let output = command.output().expect("the child test runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child `{name}` failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A current-thread runtime with tokio's time paused, as `#[tokio::test(start_paused = true)]` makes.
fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime")
}

#[license_gate::requires_feature("pro")]
fn export(pages: u32) -> Result<u32, license_gate::LicenseError> {
    Ok(pages)
}

/// The status a denied gated call names.
fn denied_status() -> LicenseStatus {
    match export(1) {
        Ok(_) => panic!("the gated call was allowed"),
        Err(license_gate::LicenseError::NotLicensed { status, .. }) => status,
        Err(other) => panic!("denied for another reason: {other}"),
    }
}

/// Starts `builder` the way an application that only uses the attributes
/// does: `start().await?;`, the handle dropped at once.
async fn start_without_keeping_the_handle(builder: LicenseGateBuilder) -> Result<(), GateError> {
    builder.start().await?;
    Ok(())
}

fn global_builder(provider: MockProvider, clock: &TestClock) -> LicenseGateBuilder {
    LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .no_cache()
        .clock(clock.clone())
        .heartbeat_interval(Duration::from_secs(1))
        .jitter(0.0)
}

#[test]
fn a_global_gate_whose_handle_was_dropped_sees_a_revocation_at_the_next_heartbeat() {
    in_own_process(
        "a_global_gate_whose_handle_was_dropped_sees_a_revocation_at_the_next_heartbeat",
        || {
            paused_runtime().block_on(async {
                let clock = TestClock::starting_at(t0());
                let (provider, server) = MockProvider::licensed(["pro"]);
                start_without_keeping_the_handle(global_builder(provider, &clock))
                    .await
                    .expect("the gate starts");
                assert_eq!(export(3).unwrap(), 3);

                server.revoke();
                tokio::time::sleep(Duration::from_millis(1100)).await;
                assert_eq!(
                    denied_status(),
                    LicenseStatus::Revoked,
                    "the gate stopped checking when its handle was dropped"
                );

                // The handle comes back from the process, to shut the gate down.
                LicenseGate::global()
                    .expect("the global gate is still installed")
                    .shutdown()
                    .await;
                assert!(matches!(
                    export(4),
                    Err(license_gate::LicenseError::NoGate { .. })
                ));
            });
        },
    );
}

#[test]
fn a_global_gate_whose_handle_was_dropped_denies_at_the_expiry_instant() {
    in_own_process(
        "a_global_gate_whose_handle_was_dropped_denies_at_the_expiry_instant",
        || {
            paused_runtime().block_on(async {
                let clock = TestClock::starting_at(t0());
                let expiry = t0() + Duration::from_millis(2500);
                let (provider, _server) =
                    MockProvider::new(LicenseAnswer::licensed(["pro"]).expiring_at(expiry));
                let builder = global_builder(provider, &clock).heartbeat_interval(DAY);
                start_without_keeping_the_handle(builder)
                    .await
                    .expect("the gate starts");
                assert_eq!(export(1).unwrap(), 1);
                tokio::time::sleep(Duration::from_millis(2490)).await;
                assert_eq!(export(2).unwrap(), 2);
                tokio::time::sleep(Duration::from_millis(20)).await;
                assert_eq!(
                    denied_status(),
                    LicenseStatus::Expired,
                    "the expiry instant passed unnoticed after the handle was dropped"
                );
                LicenseGate::global().expect("installed").shutdown().await;
            });
        },
    );
}

#[tokio::test(start_paused = true)]
async fn a_gate_that_is_not_global_denies_once_its_last_handle_is_dropped() {
    let (provider, _server) = MockProvider::licensed(["pro"]);
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .install_global(false)
        .no_cache()
        .start()
        .await
        .expect("the gate starts");
    let copy = gate.clone();
    let changes = gate.subscribe();
    // Gated code on this thread sees the gate, as a test's scope does.
    let seen = gate.enter();
    drop(copy);
    assert!(
        license_gate::has_feature("pro"),
        "dropping one of two handles stops nothing"
    );

    drop(gate);
    let dropped = LicenseStatus::Unlicensed {
        reason: Reason::GateDropped,
    };
    assert_eq!(
        changes.borrow().products[0].status,
        dropped,
        "a dropped gate kept its last grant"
    );
    assert!(!license_gate::has_feature("pro"));
    // Nothing the ended task still had under way brings the grant back.
    settle().await;
    tokio::time::sleep(2 * DAY).await;
    assert_eq!(changes.borrow().products[0].status, dropped);
    assert!(!license_gate::has_feature("pro"));
    drop(seen);
}

#[test]
fn a_global_gate_denies_once_the_runtime_it_ran_on_has_shut_down() {
    in_own_process(
        "a_global_gate_denies_once_the_runtime_it_ran_on_has_shut_down",
        || {
            let stopped = LicenseStatus::Unlicensed {
                reason: Reason::RuntimeStopped,
            };
            // `#[tokio::main]` returning: its runtime ends, the gate stays installed.
            let runtime = paused_runtime();
            runtime.block_on(async {
                let clock = TestClock::starting_at(t0());
                let (provider, _server) = MockProvider::licensed(["pro"]);
                start_without_keeping_the_handle(global_builder(provider, &clock))
                    .await
                    .expect("the gate starts");
                assert_eq!(export(1).unwrap(), 1);
            });
            drop(runtime);
            assert_eq!(
                denied_status(),
                stopped,
                "a gate without a runtime kept granting"
            );

            // Shutting it down afterwards, from another runtime, neither hangs nor panics.
            paused_runtime().block_on(async {
                let gate = LicenseGate::global().expect("still installed");
                assert!(matches!(gate.activate().await, Err(GateError::ShutDown)));
                gate.shutdown().await;
            });
            assert!(matches!(
                export(2),
                Err(license_gate::LicenseError::NoGate { .. })
            ));

            // The same on a multi-thread runtime, with the handle kept, shut
            // down afterwards from plain code.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            let gate = runtime.block_on(async {
                let (provider, _server) = MockProvider::licensed(["pro"]);
                LicenseGate::builder()
                    .product(PRODUCT)
                    .provider(provider)
                    .no_cache()
                    .start()
                    .await
                    .expect("the gate starts")
            });
            assert_eq!(export(3).unwrap(), 3);
            drop(runtime);
            assert_eq!(denied_status(), stopped);
            assert_eq!(gate.status(), stopped);
            gate.shutdown_blocking();
            assert!(matches!(
                export(4),
                Err(license_gate::LicenseError::NoGate { .. })
            ));
        },
    );
}

// ---- the hardware ID: what PATH and the environment cannot change ------------

/// The ID a process computes with a fake program of every name the ID could
/// run (`hostname`, `ioreg`, `sysctl`, `ifconfig`, `scutil`, `reg`,
/// `getmac`, `cat`) first on `PATH`, each printing another machine's values,
/// and the variables that name a machine set to another one's.
#[test]
fn the_hardware_id_ignores_fake_programs_on_path_and_the_environment() {
    const NAME: &str = "the_hardware_id_ignores_fake_programs_on_path_and_the_environment";
    const MARK: &str = "hardware-id:";
    if std::env::var(CHILD).is_ok_and(|v| v == NAME) {
        println!("{MARK} {}", license_gate::hardware_id());
        return;
    }
    let fakes = TempDir::new().expect("a folder for the fake programs");
    for program in [
        "hostname", "ioreg", "sysctl", "ifconfig", "scutil", "reg", "getmac", "cat", "uname",
    ] {
        let path = fakes.path().join(program);
        fs::write(
            &path,
            "#!/bin/sh\necho '\"IOPlatformUUID\" = \"MACHINE-A\"'\necho 'MachineGuid REG_SZ MACHINE-A'\necho machine-a\n",
        )
        .expect("write a fake program");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))
                .expect("make it runnable");
        }
    }
    let mut path = std::ffi::OsString::from(fakes.path());
    if let Some(old) = std::env::var_os("PATH") {
        path.push(":");
        path.push(old);
    }
    let env: Vec<(&str, std::ffi::OsString)> = vec![
        ("PATH", path),
        ("HOSTNAME", "machine-a".into()),
        ("COMPUTERNAME", "MACHINE-A".into()),
        ("PROCESSOR_IDENTIFIER", "Machine A CPU".into()),
        ("NUMBER_OF_PROCESSORS", "97".into()),
        ("SystemRoot", fakes.path().into()),
        ("windir", fakes.path().into()),
    ];
    let stdout = run_child(NAME, &env);
    let presented = stdout
        .lines()
        .find_map(|l| l.split_once(MARK).map(|(_, id)| id))
        .unwrap_or_else(|| panic!("no ID in the child's output:\n{stdout}"))
        .trim();
    assert_eq!(
        presented,
        license_gate::hardware_id(),
        "PATH or the environment changed the hardware ID"
    );
}

/// The limit the security guide states: the hardware ID is what the machine
/// presents. With user, mount and UTS namespaces (no privileges needed where
/// the kernel allows them), a process sees the machine ID file and host name
/// its user chose, and its ID follows them: any machine can present the
/// same identity, so a cache copied along with those files is that machine's.
#[cfg(target_os = "linux")]
#[test]
fn a_user_with_namespaces_makes_this_machine_present_a_chosen_identity() {
    const NAME: &str = "a_user_with_namespaces_makes_this_machine_present_a_chosen_identity";
    const MARK: &str = "hardware-id:";
    if std::env::var(CHILD).is_ok_and(|v| v == NAME) {
        println!("{MARK} {}", license_gate::hardware_id());
        return;
    }
    let machine_a = TempDir::new().expect("machine A's files");
    let machine_id = machine_a.path().join("machine-id");
    fs::write(&machine_id, "0123456789abcdef0123456789abcdef\n").expect("A's machine ID");
    let exe = std::env::current_exe().expect("the test binary's path");
    let script = format!(
        "hostname machine-a && mount --bind '{}' /etc/machine-id && exec '{}' {NAME} --exact --nocapture --test-threads=1",
        machine_id.display(),
        exe.display()
    );
    let present = || {
        let output = std::process::Command::new("unshare")
            .args([
                "--user",
                "--map-root-user",
                "--mount",
                "--uts",
                "sh",
                "-c",
                &script,
            ])
            .env(CHILD, NAME)
            .output();
        let output = match output {
            Ok(output) if output.status.success() => output,
            failed => {
                // A CI run must not pass without checking anything.
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true, but this system does not let a user make namespaces here ({failed:?}): the identity limit is unchecked"
                );
                eprintln!(
                    "skipped: this system does not let an unprivileged user make namespaces here ({failed:?})"
                );
                return None;
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let id = stdout
            .lines()
            .find_map(|l| l.split_once(MARK).map(|(_, id)| id.trim().to_owned()))
            .unwrap_or_else(|| panic!("no ID in the child's output:\n{stdout}"));
        Some(id)
    };
    let (Some(first), Some(second)) = (present(), present()) else {
        return;
    };
    assert_ne!(
        first,
        license_gate::hardware_id(),
        "the chosen files changed nothing"
    );
    assert_eq!(first, second, "the same presented files give the same ID");
}

// ---------------------------------------------------------------------------
// Records that vouch for each other, and a cached grant held to its last
// confirmation. Every attack below is followed by its recovery: once the
// server answers, the paying user is licensed again.

/// Whether the status is a denial that waits for the server and whose
/// reason names the time anchor.
fn blames_the_anchor(state: &license_gate::ProductState) -> bool {
    matches!(&state.status, LicenseStatus::Pending { reason } if reason.to_string().contains("time anchor") && reason.to_string().contains("checked with the server"))
}

/// The files of a folder (the anchor's), removed.
fn empty_folder(dir: &std::path::Path) {
    for entry in fs::read_dir(dir).expect("the folder") {
        fs::remove_file(entry.expect("an entry").path()).expect("remove a file");
    }
}

/// The only file of `dir` with the extension `ext`.
fn file_in(dir: &std::path::Path, ext: &str) -> std::path::PathBuf {
    fs::read_dir(dir)
        .expect("the folder")
        .map(|e| e.expect("an entry").path())
        .find(|p| p.extension().is_some_and(|e| e == ext))
        .unwrap_or_else(|| panic!("a .{ext} file in {}", dir.display()))
}

/// A server that is back: the paying user's license is confirmed at once.
async fn recovers(installation: &Installation, clock: &TestClock) {
    let (provider, mock) = MockProvider::licensed(["pro"]);
    let state = run(installation.builder(provider, clock, Some(secret()))).await;
    assert_eq!(
        state.status,
        LicenseStatus::Licensed,
        "a paying user stayed locked out once the server answered"
    );
    assert!(mock.calls().validate >= 1);
    // And the records written with that answer vouch for each other again:
    // the next start without the server is granted from the cache.
    let (provider, _) = offline_mock();
    let state = run(installation.builder(provider, clock, Some(secret()))).await;
    assert!(
        grants(&state) && state.source == Source::Cache,
        "after the server's answer the cache grants on its own again: {:?}",
        state.status
    );
}

#[tokio::test(start_paused = true)]
async fn a_restored_cache_with_the_anchor_deleted_and_the_clock_set_back_grants_nothing() {
    let installation = Installation::new();
    let (provider, _) = MockProvider::licensed(["pro"]);
    let state =
        run(installation.builder(provider, &TestClock::starting_at(t0()), Some(secret()))).await;
    assert_eq!(state.status, LicenseStatus::Licensed);
    let saved = fs::read(installation.cache_file()).expect("the cache");

    // Ten days later, with the server firewalled: grace is over.
    let (provider, _) = offline_mock();
    let later = TestClock::starting_at(t0() + 10 * DAY);
    let state = run(installation.builder(provider, &later, Some(secret()))).await;
    assert!(!grants(&state));

    // The attack: the saved cache back, the anchor deleted, the clock set
    // back to the day after the save, the server still firewalled. Trusted
    // time is only what the restored cache remembers, but the cache has
    // lost the record that vouches for it.
    fs::write(installation.cache_file(), &saved).expect("restore the cache");
    empty_folder(installation.anchor.path());
    let (provider, mock) = offline_mock();
    let rolled_back = TestClock::starting_at(t0() + DAY);
    let gate = installation
        .builder(provider, &rolled_back, Some(secret()))
        .start()
        .await
        .expect("the gate starts");
    for moment in ["at start", "after the background check"] {
        let state = gate.product_state();
        assert!(
            !grants(&state) && !gate.has_feature("pro"),
            "{moment}: a restored cache without its anchor granted: {:?}",
            state.status
        );
        assert!(
            blames_the_anchor(&state),
            "{moment}: the status says why: {}",
            state.status
        );
        settle().await;
    }
    assert!(mock.calls().validate >= 1, "the app asks the server");
    gate.shutdown().await;

    recovers(&installation, &rolled_back).await;
}

#[tokio::test(start_paused = true)]
async fn an_empty_folder_in_place_of_the_anchor_grants_nothing() {
    let installation = Installation::new();
    let clock = TestClock::starting_at(t0());
    let (provider, _) = MockProvider::licensed(["pro"]);
    assert!(grants(
        &run(installation.builder(provider, &clock, Some(secret()))).await
    ));

    // What pointing `XDG_DATA_HOME` at an empty folder does: the cache is
    // where it was, the anchor's folder is a fresh one. No clock change needed.
    let elsewhere = TempDir::new().expect("an empty folder");
    let moved = |provider: MockProvider| {
        installation
            .builder(provider, &clock, Some(secret()))
            .time_anchor_dir(elsewhere.path())
    };
    let (provider, _) = offline_mock();
    let state = run(moved(provider)).await;
    assert!(
        !grants(&state),
        "the cache granted with its anchor's folder swapped for an empty one: {:?}",
        state.status
    );
    assert!(blames_the_anchor(&state), "{}", state.status);

    // Recovery in the new place: the server's answer rewrites both records.
    let (provider, _) = MockProvider::licensed(["pro"]);
    assert_eq!(run(moved(provider)).await.status, LicenseStatus::Licensed);
    let (provider, _) = offline_mock();
    let state = run(moved(provider)).await;
    assert!(grants(&state) && state.source == Source::Cache);
}

#[tokio::test(start_paused = true)]
async fn a_cache_or_an_anchor_of_another_generation_grants_nothing() {
    let installation = Installation::new();
    // Four runs, a day apart, each confirmed by the server: each writes the
    // cache and then the anchor. The fourth hears "revoked".
    let mut caches = Vec::new();
    let mut anchors = Vec::new();
    for day in 0..4u32 {
        let (provider, mock) = MockProvider::licensed(["pro"]);
        if day == 3 {
            mock.revoke();
        }
        let clock = TestClock::starting_at(t0() + day * DAY);
        run(installation.builder(provider, &clock, Some(secret()))).await;
        caches.push(fs::read(installation.cache_file()).expect("the cache"));
        anchors.push(fs::read(file_in(installation.anchor.path(), "anchor")).expect("the anchor"));
    }
    let anchor_file = file_in(installation.anchor.path(), "anchor");
    let today = TestClock::starting_at(t0() + 3 * DAY);

    // The cache of day 1 (licensed, confirmed a day later than the first)
    // put back under the current anchor: the anchor is ahead of it.
    fs::write(installation.cache_file(), &caches[1]).expect("restore a cache");
    let (provider, _) = offline_mock();
    let state = run(installation.builder(provider, &today, Some(secret()))).await;
    assert!(
        !grants(&state),
        "a cache older than its anchor granted: {:?}",
        state.status
    );
    assert!(blames_the_anchor(&state), "{}", state.status);

    // The cache of day 2 with the anchor of day 0 copied back: the anchor is
    // two writes behind the cache, so one of them was put back.
    fs::write(installation.cache_file(), &caches[2]).expect("restore a cache");
    fs::write(&anchor_file, &anchors[0]).expect("restore an anchor");
    let (provider, _) = offline_mock();
    let state = run(installation.builder(provider, &today, Some(secret()))).await;
    assert!(
        !grants(&state),
        "an anchor copied back from an older write vouched for a cache: {:?}",
        state.status
    );
    assert!(blames_the_anchor(&state), "{}", state.status);

    // The server answers "revoked" at once; and once the license is restored
    // on the server, the user is licensed again.
    let (provider, mock) = MockProvider::licensed(["pro"]);
    mock.revoke();
    let state = run(installation.builder(provider, &today, Some(secret()))).await;
    assert_eq!(state.status, LicenseStatus::Revoked);
    recovers(&installation, &today).await;
}

#[tokio::test(start_paused = true)]
async fn a_cached_license_past_its_confirmation_and_grace_does_not_grant_at_start() {
    let installation = Installation::new();
    // Confirmed at t0, expiring in a year.
    let (provider, _) =
        MockProvider::new(LicenseAnswer::licensed(["pro"]).expiring_at(t0() + 365 * DAY));
    let state =
        run(installation.builder(provider, &TestClock::starting_at(t0()), Some(secret()))).await;
    assert_eq!(state.status, LicenseStatus::Licensed);

    // Started 10 days later, an honest clock, the first check hanging: the
    // cached "licensed" is past `last_confirmed + grace` (7 days), so it
    // grants nothing, from the first moment.
    let (provider, mock) = MockProvider::licensed(["pro"]);
    mock.time_out_next(1);
    let later = TestClock::starting_at(t0() + 10 * DAY);
    let gate = installation
        .builder(provider, &later, Some(secret()))
        .start()
        .await
        .expect("the gate starts");
    let state = gate.product_state();
    assert_eq!(
        state.status,
        LicenseStatus::Unlicensed {
            reason: Reason::GraceOver
        },
        "a cached license past its confirmation and grace granted at start (expiry is a year away)"
    );
    assert!(!gate.has_feature("pro"));
    gate.shutdown().await;

    recovers(&installation, &later).await;
}

/// One run of the application on a runtime of its own, ended the way a
/// process ends: the runtime is dropped, whatever the gate was doing.
fn short_run(build: impl FnOnce() -> LicenseGateBuilder) -> license_gate::ProductState {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let state = runtime.block_on(async {
        let gate = build().start().await.expect("the gate starts");
        // A second of the user's work: shorter than the request timeout.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let state = gate.product_state();
        std::mem::forget(gate);
        state
    });
    drop(runtime);
    state
}

/// The `last_confirmed_ms` and status the cache file holds.
fn cached_confirmation(installation: &Installation) -> (Option<u64>, String) {
    let file = fs::read(installation.cache_file()).expect("the cache");
    let newline = file.iter().position(|b| *b == b'\n').expect("a tag line");
    let body: serde_json::Value = serde_json::from_slice(&file[newline + 1..]).expect("JSON");
    (
        body["last_confirmed_ms"].as_u64(),
        body["status"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn a_first_check_that_hangs_extends_nothing_across_short_runs() {
    let installation = Installation::new();
    // A "server" that accepts connections and never answers (the kernel
    // completes the handshake; nobody reads): what an `HTTPS_PROXY` that
    // swallows requests does.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}", silent.local_addr().expect("its address"));
    let hanging = || offline_provider(&url, "HW-ATTACK-1");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let (provider, _) = MockProvider::licensed(["pro"]);
    let confirmed = runtime
        .block_on(run(installation.builder(
            provider,
            &TestClock::starting_at(t0()),
            Some(secret()),
        )))
        .last_confirmed;
    drop(runtime);
    let found = cached_confirmation(&installation);

    // Short runs the next day and 5 days later, each shorter than the
    // request timeout: the cache grants (within grace), the check hangs.
    for day in [1, 5] {
        let clock = TestClock::starting_at(t0() + day * DAY);
        let state = short_run(|| installation.builder(hanging(), &clock, Some(secret())));
        assert!(grants(&state), "day {day}: within grace the cache grants");
        assert_eq!(state.last_confirmed, confirmed);
        assert_eq!(
            cached_confirmation(&installation),
            found,
            "day {day}: a run with no answer left a better cache behind"
        );
    }

    // Thirty and sixty days on, honest clock, no file touched, the check
    // still hanging: the cache is past its confirmation and grace.
    for day in [30, 60] {
        let clock = TestClock::starting_at(t0() + day * DAY);
        let state = short_run(|| installation.builder(hanging(), &clock, Some(secret())));
        assert_eq!(
            state.status,
            LicenseStatus::Unlicensed {
                reason: Reason::GraceOver
            },
            "day {day}: a run whose check never answered still granted"
        );
        assert_eq!(cached_confirmation(&installation).0, found.0);
    }

    // The server answers again: licensed.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(recovers(
        &installation,
        &TestClock::starting_at(t0() + 60 * DAY),
    ));
    drop(silent);
}

/// Set in the child: how the child's run reaches the server (`online` or
/// `offline`), and its clock as days after `t0`.
const PLATFORM_RUN: &str = "LICENSE_GATE_TEST_PLATFORM_RUN";
const PLATFORM_DAY: &str = "LICENSE_GATE_TEST_PLATFORM_DAY";
const PLATFORM_STATE: &str = "PLATFORM_STATE";

/// The child: one run of an application on its platform folders, which
/// follow the `XDG_*` variables the parent set; prints the state it ran with.
#[test]
fn child_runs_the_app_on_its_platform_folders() {
    let (Ok(mode), Ok(day)) = (std::env::var(PLATFORM_RUN), std::env::var(PLATFORM_DAY)) else {
        return;
    };
    let day: u32 = day.parse().expect("a day number");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let state = runtime.block_on(async {
        let (provider, mock) = MockProvider::licensed(["pro"]);
        if mode == "offline" {
            mock.go_offline();
        }
        run(LicenseGate::builder()
            .application("Northwind", "Atlas")
            .product(PRODUCT)
            .provider(provider)
            .license_key("AAAA-BBBB-CCCC-DDDD")
            .install_global(false)
            .vendor_secret(secret())
            .hardware_id("HW-ATTACK-1")
            .clock(TestClock::starting_at(t0() + day * DAY))
            .startup_timeout(Duration::from_millis(100))
            .jitter(0.0))
        .await
    });
    println!(
        "{PLATFORM_STATE} grants={} status={}",
        grants(&state),
        state.status
    );
}

#[test]
fn platform_folders_pointed_at_empty_ones_grant_nothing() {
    if std::env::var_os(PLATFORM_RUN).is_some() || !cfg!(target_os = "linux") {
        // The platform folders follow XDG on Linux only.
        return;
    }
    let home = TempDir::new().expect("a home");
    let folder = |name: &str| {
        let dir = home.path().join(name);
        fs::create_dir_all(&dir).expect("a folder");
        dir
    };
    let (cache, data) = (folder("cache"), folder("data"));
    let (empty_data, empty_cache) = (folder("empty-data"), folder("empty-cache"));
    let exe = std::env::current_exe().expect("this test binary");
    let child = |mode: &str, day: u32, cache: &std::path::Path, data: &std::path::Path| {
        let out = std::process::Command::new(&exe)
            .args([
                "child_runs_the_app_on_its_platform_folders",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(PLATFORM_RUN, mode)
            .env(PLATFORM_DAY, day.to_string())
            .env("HOME", home.path())
            .env("XDG_CACHE_HOME", cache)
            .env("XDG_DATA_HOME", data)
            .output()
            .expect("the child runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "the child failed: {stdout}");
        stdout
            .lines()
            .find_map(|line| Some(line.split_once(PLATFORM_STATE)?.1))
            .unwrap_or_else(|| panic!("the child printed no state: {stdout}"))
            .trim()
            .to_owned()
    };

    let state = child("online", 0, &cache, &data);
    assert!(state.starts_with("grants=true"), "licensed online: {state}");

    // `XDG_DATA_HOME` pointed at an empty folder: no file touched, the
    // cache is where it was, its anchor is not.
    let state = child("offline", 1, &cache, &empty_data);
    assert!(
        state.starts_with("grants=false") && state.contains("time anchor"),
        "an empty data folder gave the cache grace: {state}"
    );
    // `XDG_CACHE_HOME` pointed at an empty folder: no cache at all.
    let state = child("offline", 1, &empty_cache, &data);
    assert!(state.starts_with("grants=false"), "{state}");
    // The records in the real folders were not harmed by either.
    let state = child("offline", 1, &cache, &data);
    assert!(state.starts_with("grants=true"), "{state}");
    // And with the server answering, the new folders serve a paying user.
    let state = child("online", 1, &cache, &empty_data);
    assert!(state.starts_with("grants=true"), "{state}");
    let state = child("offline", 2, &cache, &empty_data);
    assert!(state.starts_with("grants=true"), "{state}");
}

#[tokio::test(start_paused = true)]
async fn two_products_share_one_anchor_and_each_cache_is_vouched_for_on_its_own() {
    const RENDER: &str = "Atlas Render";
    let installation = Installation::new();
    let two = |studio: MockProvider, render: MockProvider, clock: &TestClock| {
        LicenseGate::builder()
            .product(PRODUCT)
            .provider(studio)
            .license_key("AAAA-BBBB-CCCC-DDDD")
            .product(RENDER)
            .provider(render)
            .license_key("EEEE-FFFF-GGGG-HHHH")
            .install_global(false)
            .cache_dir(installation.cache.path())
            .time_anchor_dir(installation.anchor.path())
            .hardware_id("HW-ATTACK-1")
            .vendor_secret(secret())
            .clock(clock.clone())
            .heartbeat_interval(DAY)
            .startup_timeout(Duration::from_millis(100))
            .jitter(0.0)
    };
    let both = |gate: &LicenseGate| {
        let snapshot = gate.snapshot();
        (
            snapshot.products[0].status.clone(),
            snapshot.products[1].status.clone(),
        )
    };
    let render_cache = || {
        fs::read_dir(installation.cache.path())
            .expect("the cache folder")
            .map(|e| e.expect("an entry").path())
            .find(|p| p.to_string_lossy().contains("atlas-render"))
            .expect("the second product's cache")
    };
    let clock = TestClock::starting_at(t0());
    let (studio, _) = MockProvider::licensed(["pro"]);
    let (render, _) = MockProvider::licensed(["gpu"]);
    let gate = two(studio, render, &clock).start().await.unwrap();
    settle().await;
    gate.shutdown().await;
    let saved_render = fs::read(render_cache()).expect("the cache");

    // The next day both are confirmed again, then started offline: both
    // caches are vouched for by the one anchor.
    let next = TestClock::starting_at(t0() + DAY);
    let (studio, _) = MockProvider::licensed(["pro"]);
    let (render, _) = MockProvider::licensed(["gpu"]);
    let gate = two(studio, render, &next).start().await.unwrap();
    settle().await;
    gate.shutdown().await;
    let (studio, _) = offline_mock();
    let (render, _) = offline_mock();
    let gate = two(studio, render, &next).start().await.unwrap();
    let (a, b) = both(&gate);
    assert!(a.grants_access() && b.grants_access(), "{a:?} {b:?}");
    gate.shutdown().await;

    // The second product's older cache put back: it alone stops granting.
    fs::write(render_cache(), &saved_render).expect("restore a cache");
    let (studio, _) = offline_mock();
    let (render, _) = offline_mock();
    let gate = two(studio, render, &next).start().await.unwrap();
    let (a, b) = both(&gate);
    assert!(
        a.grants_access(),
        "the first product's cache is untouched: {a:?}"
    );
    assert!(
        matches!(&b, LicenseStatus::Pending { reason } if reason.to_string().contains("time anchor")),
        "{b:?}"
    );
    gate.shutdown().await;
}
