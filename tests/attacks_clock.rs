//! Clock attacks, across restarts: the clock-tamper floor (timestamps this
//! machine's files keep) and the server's time for offline codes.
//!
//! Each "run" is a new gate over the same cache and anchor folders. The
//! offline-code tests talk to the ExisOne emulator over loopback HTTP, whose
//! `Date` is the real time; the floor tests use folders of files with chosen
//! modification times and a mock provider under paused tokio time.

use license_gate_tests::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use license_gate::providers::HttpOptions;
use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
use license_gate::providers::mock::{MockHandle, MockProvider};
use license_gate::testing::TestClock;
use license_gate::{
    ClockFloor, LicenseGate, LicenseGateBuilder, LicenseStatus, ProductState, Reason,
};
use license_gate_testkit::exisone::{
    ExisOneEmulator, OfflineCodeMinter, OfflineCodeSpec, TEST_PUBLIC_KEY_PEM,
};
use tempfile::TempDir;

const DAY: Duration = Duration::from_secs(24 * 3600);
const PRODUCT: &str = "Atlas Studio";
const HW: &str = "HW-CLOCK-1";

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
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

    fn files(&self) -> Vec<PathBuf> {
        [self.cache.path(), self.anchor.path()]
            .into_iter()
            .flat_map(|dir| fs::read_dir(dir).expect("the folder"))
            .map(|e| e.expect("an entry").path())
            .filter(|p| p.is_file())
            .collect()
    }

    /// Every record's bytes, to put back later.
    fn back_up(&self) -> Vec<(PathBuf, Vec<u8>)> {
        self.files()
            .into_iter()
            .map(|p| {
                let bytes = fs::read(&p).expect("a record");
                (p, bytes)
            })
            .collect()
    }

    fn restore(&self, saved: &[(PathBuf, Vec<u8>)]) {
        for path in self.files() {
            fs::remove_file(path).expect("remove a record");
        }
        for (path, bytes) in saved {
            fs::write(path, bytes).expect("restore a record");
        }
    }

    fn delete_all(&self) {
        for path in self.files() {
            fs::remove_file(path).expect("delete a record");
        }
    }

    fn gate(&self, clock: &TestClock) -> LicenseGateBuilder {
        LicenseGate::builder()
            .product(PRODUCT)
            .install_global(false)
            .cache_dir(self.cache.path())
            .time_anchor_dir(self.anchor.path())
            .hardware_id(HW)
            .vendor_secret(support::vendor_secret())
            .clock(clock.clone())
            .heartbeat_interval(DAY)
            .grace_period(7 * DAY)
            .startup_timeout(Duration::from_millis(100))
            .jitter(0.0)
    }
}

/// A folder of evidence: two independent sources ("logs" and "packages")
/// whose files carry the modification times given.
struct Evidence {
    dir: TempDir,
}

impl Evidence {
    fn new() -> Self {
        let dir = TempDir::new().expect("an evidence folder");
        fs::create_dir(dir.path().join("logs")).expect("logs");
        fs::create_dir(dir.path().join("packages")).expect("packages");
        Evidence { dir }
    }

    fn write(&self, source: &str, name: &str, modified: SystemTime) -> &Self {
        let path = self.dir.path().join(source).join(name);
        fs::write(&path, b"written by another program").expect("a file");
        set_modified(&path, modified);
        self
    }

    /// Sets the sources' folders' own times (which count too, and which
    /// writing a file just set to the real time).
    fn folders_at(&self, modified: SystemTime) -> &Self {
        set_modified(&self.dir.path().join("logs"), modified);
        set_modified(&self.dir.path().join("packages"), modified);
        self
    }

    fn floor(&self) -> ClockFloor {
        ClockFloor::none()
            .source_dir("logs", self.dir.path().join("logs"))
            .source_dir("packages", self.dir.path().join("packages"))
    }
}

fn set_modified(path: &Path, at: SystemTime) {
    fs::File::options()
        .write(path.is_file())
        .read(true)
        .open(path)
        .and_then(|f| f.set_modified(at))
        .expect("set a modification time");
}

/// One run: start, let the background check happen, return the state, shut down.
async fn run(builder: LicenseGateBuilder) -> ProductState {
    let gate = builder.start().await.expect("the gate starts");
    tokio::time::sleep(Duration::from_millis(10)).await;
    let state = gate.product_state();
    gate.shutdown().await;
    state
}

fn offline_mock() -> (MockProvider, MockHandle) {
    let (provider, mock) = MockProvider::licensed(["pro"]);
    mock.go_offline();
    (provider, mock)
}

fn set_back_reason() -> LicenseStatus {
    LicenseStatus::Unlicensed {
        reason: Reason::ClockSetBack,
    }
}

#[tokio::test(start_paused = true)]
async fn restoring_every_record_with_the_clock_set_back_is_caught_by_the_files_of_this_machine() {
    let installation = Installation::new();
    // Run 1 at t0: confirmed; the user backs up both records.
    let (provider, _) = MockProvider::licensed(["pro"]);
    let honest = Evidence::new();
    honest
        .write("logs", "syslog", t0() - DAY)
        .write("packages", "status", t0() - 2 * DAY)
        .folders_at(t0() - 2 * DAY);
    let state = run(installation
        .gate(&TestClock::starting_at(t0()))
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .clock_floor(honest.floor()))
    .await;
    assert_eq!(state.status, LicenseStatus::Licensed);
    let saved = installation.back_up();

    // Ten days on, offline: grace is over. The system kept writing files.
    let (provider, _) = offline_mock();
    let evidence = Evidence::new();
    evidence
        .write("logs", "syslog.1", t0() + 10 * DAY)
        .write("logs", "auth.log", t0() + 9 * DAY)
        .write(
            "packages",
            "status",
            t0() + 10 * DAY - Duration::from_secs(3600),
        )
        .folders_at(t0() + 10 * DAY);
    let state = run(installation
        .gate(&TestClock::starting_at(t0() + 10 * DAY))
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .clock_floor(evidence.floor()))
    .await;
    assert_eq!(
        state.status,
        LicenseStatus::Unlicensed {
            reason: Reason::GraceOver
        }
    );

    // The attack: both records put back as a pair, the clock set back to
    // a day after they were written, the server kept away.
    installation.restore(&saved);
    let set_back = TestClock::starting_at(t0() + DAY);
    let (provider, mock) = offline_mock();
    let gate = installation
        .gate(&set_back)
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .clock_floor(evidence.floor())
        .start()
        .await
        .expect("the gate starts");
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(gate.status(), set_back_reason());
    assert!(!gate.has_feature("pro"));
    let shown = gate.status().to_string();
    assert!(
        shown.contains("clock is set back") && shown.contains("set the date and time right"),
        "{shown}"
    );

    // The server answers (the clock still set back): its answer applies.
    mock.go_online();
    gate.refresh().await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.has_feature("pro"));
    gate.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn the_withheld_grant_is_not_cached_and_counts_again_once_the_date_is_right() {
    let installation = Installation::new();
    let (provider, _) = MockProvider::licensed(["pro"]);
    let state = run(installation
        .gate(&TestClock::starting_at(t0()))
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .clock_floor(ClockFloor::none()))
    .await;
    assert_eq!(state.status, LicenseStatus::Licensed);
    let saved = installation.back_up();

    // Files written three days on; the clock reads t0 - 2 days, offline.
    let evidence = Evidence::new();
    evidence
        .write("logs", "syslog", t0() + 3 * DAY)
        .write("packages", "status", t0() + 3 * DAY)
        .folders_at(t0() + 3 * DAY);
    installation.restore(&saved);
    let (provider, _) = offline_mock();
    let state = run(installation
        .gate(&TestClock::starting_at(t0() - 2 * DAY))
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .clock_floor(evidence.floor()))
    .await;
    assert_eq!(state.status, set_back_reason());

    // The date is set right (t0 + 3 days, within grace): the cached state
    // grants again, offline, because the withheld state was never cached.
    let (provider, _) = offline_mock();
    let state = run(installation
        .gate(&TestClock::starting_at(t0() + 3 * DAY))
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .clock_floor(evidence.floor()))
    .await;
    assert!(
        state.status.grants_access(),
        "a user who fixed the date stayed locked out: {:?}",
        state.status
    );
}

#[tokio::test(start_paused = true)]
async fn future_dated_files_alone_do_not_read_as_a_clock_set_back() {
    let installation = Installation::new();
    let (provider, _) = MockProvider::licensed(["pro"]);
    let state = run(installation
        .gate(&TestClock::starting_at(t0()))
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .clock_floor(ClockFloor::none()))
    .await;
    assert_eq!(state.status, LicenseStatus::Licensed);

    // An archive extracted with its times kept, a year ahead, in one source;
    // the other source is honest.
    let evidence = Evidence::new();
    evidence
        .write("logs", "extracted-from-archive.txt", t0() + 365 * DAY)
        .write("logs", "another.txt", t0() + 400 * DAY)
        .write("packages", "status", t0() - DAY)
        .folders_at(t0() - DAY);
    let (provider, _) = offline_mock();
    let state = run(installation
        .gate(&TestClock::starting_at(t0() + DAY))
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .clock_floor(evidence.floor()))
    .await;
    assert!(
        state.status.grants_access(),
        "one source of future-dated files denied a paying user: {:?}",
        state.status
    );

    // Both sources ahead, but within the tolerance (12 hours): no denial.
    let near = Evidence::new();
    near.write(
        "logs",
        "syslog",
        t0() + DAY + Duration::from_secs(12 * 3600),
    )
    .write(
        "packages",
        "status",
        t0() + DAY + Duration::from_secs(11 * 3600),
    )
    .folders_at(t0());
    let (provider, _) = offline_mock();
    let state = run(installation
        .gate(&TestClock::starting_at(t0() + DAY))
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .clock_floor(near.floor()))
    .await;
    assert!(state.status.grants_access(), "{:?}", state.status);
}

/// An ExisOne provider reading offline codes for [`HW`] against the emulator.
fn offline_provider(url: &str) -> ExisOneProvider {
    ExisOneProvider::from_options(
        ExisOneClientOptions::new(url)
            .access_token(ExisOneEmulator::TOKEN)
            .offline_public_key(TEST_PUBLIC_KEY_PEM)
            .hardware_id_override(HW)
            .http(
                HttpOptions::new()
                    .allow_insecure_loopback()
                    .timeout(Duration::from_secs(5)),
            ),
    )
    .expect("valid options")
}

fn mint(expires_at: SystemTime) -> String {
    OfflineCodeMinter::test_key().mint(
        &OfflineCodeSpec::new(PRODUCT, HW)
            .features(["pro"])
            .expires_at(expires_at),
    )
}

/// Starts a gate for `code`, lets the server answer once, and returns the
/// state at start and after the answer.
async fn start_and_ask(
    installation: &Installation,
    emulator: &ExisOneEmulator,
    code: &str,
    clock: &TestClock,
) -> (ProductState, ProductState) {
    let gate = installation
        .gate(clock)
        .provider(offline_provider(&emulator.url()))
        .license_key(code)
        .start()
        .await
        .expect("the gate starts");
    let at_start = gate.product_state();
    gate.refresh().await;
    let answered = gate.product_state();
    gate.shutdown().await;
    (at_start, answered)
}

#[tokio::test]
async fn an_expired_offline_code_stays_expired_with_no_records_and_the_clock_set_back_while_the_server_answers()
 {
    let emulator = ExisOneEmulator::start().await.expect("the emulator starts");
    let real = SystemTime::now();
    // The code ended yesterday (by the server's clock, the real one).
    let code = mint(real - DAY);
    let installation = Installation::new();

    let honest = TestClock::starting_at(real);
    let (_, answered) = start_and_ask(&installation, &emulator, &code, &honest).await;
    assert_eq!(answered.status, LicenseStatus::Expired);

    // The attack: cache and anchor deleted, the clock set back ten days (the
    // code reads valid then), the server reachable.
    installation.delete_all();
    let set_back = TestClock::starting_at(real - 10 * DAY);
    let (_, answered) = start_and_ask(&installation, &emulator, &code, &set_back).await;
    assert_eq!(
        answered.status,
        LicenseStatus::Expired,
        "an expired offline code granted again with the clock set back while the server answered"
    );
    assert!(
        emulator.control().requests().len() >= 2,
        "the server was asked"
    );

    // Restarted, the clock still set back, the server gone: still expired
    // (the time anchor now keeps the server's time).
    emulator.faults().go_down();
    let (at_start, answered) = start_and_ask(&installation, &emulator, &code, &set_back).await;
    assert_eq!(at_start.status, LicenseStatus::Expired);
    assert_eq!(answered.status, LicenseStatus::Expired);
}

#[tokio::test]
async fn a_valid_offline_code_grants_again_at_the_first_server_answer_after_a_clock_a_year_ahead() {
    let emulator = ExisOneEmulator::start().await.expect("the emulator starts");
    let real = SystemTime::now();
    let code = mint(real + 30 * DAY);
    let installation = Installation::new();

    // One run with the clock a year ahead: the code reads expired, and the
    // runtime keeps that year as the latest time it has seen.
    let ahead = TestClock::starting_at(real + 365 * DAY);
    let (_, answered) = start_and_ask(&installation, &emulator, &code, &ahead).await;
    assert_eq!(answered.status, LicenseStatus::Expired);

    // The clock is corrected. At start the records still say a year on;
    // the first server answer brings trusted time back, and the code grants.
    let corrected = TestClock::starting_at(real);
    let (_, answered) = start_and_ask(&installation, &emulator, &code, &corrected).await;
    assert_eq!(
        answered.status,
        LicenseStatus::Licensed,
        "a paying user with a valid offline code stayed locked out after correcting the clock"
    );
    assert!(answered.features.contains("pro"));

    // Restarted without the server: the records now hold the server's time,
    // so the code grants at start.
    emulator.faults().go_down();
    let (at_start, answered) = start_and_ask(&installation, &emulator, &code, &corrected).await;
    assert_eq!(at_start.status, LicenseStatus::Licensed);
    assert_eq!(answered.status, LicenseStatus::Licensed);
}

#[tokio::test]
async fn an_offline_code_is_withheld_at_start_behind_the_files_and_read_at_the_servers_time_after()
{
    let emulator = ExisOneEmulator::start().await.expect("the emulator starts");
    let real = SystemTime::now();
    // The machine's files were written an hour ago; the clock reads ten days back.
    let evidence = Evidence::new();
    evidence
        .write("logs", "syslog", real - Duration::from_secs(3600))
        .write("packages", "status", real - Duration::from_secs(7200))
        .folders_at(real - Duration::from_secs(3600));
    let set_back = TestClock::starting_at(real - 10 * DAY);

    for (code, after_answer) in [
        (mint(real - DAY), LicenseStatus::Expired),
        (mint(real + 30 * DAY), LicenseStatus::Licensed),
    ] {
        let installation = Installation::new();
        let gate = installation
            .gate(&set_back)
            .provider(offline_provider(&emulator.url()))
            .license_key(code.as_str())
            .clock_floor(evidence.floor())
            .start()
            .await
            .expect("the gate starts");
        // At start, before any answer, the code (valid at the clock's
        // reading) does not grant.
        assert_eq!(gate.product_state().status, set_back_reason());
        assert!(!gate.has_feature("pro"));
        // The server's answer decides, at the server's time.
        gate.refresh().await;
        assert_eq!(gate.product_state().status, after_answer);
        gate.shutdown().await;
    }
}
