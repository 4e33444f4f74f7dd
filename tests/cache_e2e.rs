//! The tamper-evident cache end to end, against both emulators: a valid cache
//! starts the gate at once without asking the server; an edited, truncated or
//! foreign cache is rejected and the gate waits for the server; a cache that
//! cannot be written does not stop the gate.

use license_gate_tests::support;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use license_gate::{LicenseGate, LicenseGateBuilder, LicenseStatus, Source};
use support::{Emulated, LogBuffer, Service};
use tempfile::TempDir;

const HW: &str = "HW-CACHE-0001";
const REJECTED: &str = "license cache rejected";
const NOT_WRITTEN: &str = "could not write the license cache";

fn cached(emulated: &Emulated, dir: &Path, hardware_id: &str) -> LicenseGateBuilder {
    emulated.builder().cache_dir(dir).hardware_id(hardware_id)
}

/// The one cache file in `dir` (temporary files of a write are not it).
fn cache_file(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("the cache folder exists")
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "license"))
        .collect();
    assert_eq!(
        files.len(),
        1,
        "expected exactly one cache file in the cache folder, found {files:?}"
    );
    files.into_iter().next().expect("checked above")
}

fn millis(t: Option<SystemTime>) -> Option<u128> {
    t.map(|t| t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis())
}

/// Starts a gate that confirms the license online and writes its cache.
async fn confirm_online(emulated: &Emulated, dir: &Path) -> (PathBuf, Option<SystemTime>) {
    let service = emulated.service;
    let gate = cached(emulated, dir, HW)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{service}: the first gate did not start: {e}"));
    let state = gate.product_state();
    assert_eq!(
        (state.status.clone(), state.source),
        (LicenseStatus::Licensed, Source::Online),
        "{service}: the first gate confirms the license online"
    );
    gate.shutdown().await;
    (cache_file(dir), state.last_confirmed)
}

/// Polls `done` every 10 ms for at most 5 s.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}

#[tokio::test]
async fn a_valid_cache_starts_the_gate_at_once_and_checks_in_the_background() {
    for service in Service::ALL {
        let emulated = Emulated::start(service).await;
        let dir = TempDir::new().expect("a temporary folder");
        let (_, confirmed) = confirm_online(&emulated, dir.path()).await;

        // The server is down: the cache starts the gate at once and is the
        // license (in grace, since the background check cannot reach it).
        emulated.faults().go_down();
        let started = Instant::now();
        let gate = cached(&emulated, dir.path(), HW).start().await.unwrap();
        let took = started.elapsed();
        let state = gate.product_state();
        assert!(
            state.status.grants_access() && state.source == Source::Cache,
            "{service}: with the server down, the cache is the license, have {:?} from {:?}",
            state.status,
            state.source
        );
        assert_eq!(
            millis(state.last_confirmed),
            millis(confirmed),
            "{service}: the cached state is the one the server confirmed"
        );
        assert!(
            gate.has_feature("pro") && gate.has_feature("export"),
            "{service}: the cached features are granted, have {:?}",
            state.features
        );
        assert!(
            took < Duration::from_secs(1),
            "{service}: start-up with the server down and a valid cache took {took:?}"
        );
        gate.shutdown().await;

        // The server is up: start-up does not wait for it, and the first
        // validation goes out at once, in the background, not an interval later.
        emulated.faults().come_up();
        let requests = emulated.requests();
        let started = Instant::now();
        let gate = cached(&emulated, dir.path(), HW).start().await.unwrap();
        let took = started.elapsed();
        assert!(
            gate.has_feature("pro"),
            "{service}: the cache grants from the first moment"
        );
        assert!(
            took < Duration::from_secs(1),
            "{service}: start-up from a valid cache must not wait (took {took:?})"
        );
        assert!(
            eventually(|| gate.product_state().source == Source::Online).await,
            "{service}: a gate started from its cache validated with the server at once"
        );
        assert!(
            emulated.requests() > requests,
            "{service}: the background validation reached the server"
        );
        gate.shutdown().await;
    }
}

/// How a test damages the cache.
struct Tamper {
    what: &'static str,
    damage: fn(&Path, &[u8]),
    hardware_id: &'static str,
}

fn tampers() -> [Tamper; 3] {
    [
        Tamper {
            what: "one byte edited",
            damage: |file, original| {
                // `"pro"` becomes `"prx"`: still JSON, one byte changed.
                let at = original
                    .windows(5)
                    .position(|w| w == b"\"pro\"")
                    .expect("the cache names the `pro` feature")
                    + 3;
                let mut edited = original.to_vec();
                edited[at] = b'x';
                fs::write(file, edited).expect("write the edited cache");
            },
            hardware_id: HW,
        },
        Tamper {
            what: "truncated",
            damage: |file, original| {
                fs::write(file, &original[..original.len() / 2]).expect("write the truncated cache")
            },
            hardware_id: HW,
        },
        Tamper {
            what: "read on another machine",
            damage: |file, original| fs::write(file, original).expect("restore the cache"),
            hardware_id: "HW-ANOTHER-MACHINE",
        },
    ]
}

#[tokio::test]
async fn an_edited_truncated_or_foreign_cache_is_never_trusted() {
    let logs = LogBuffer::default();
    let _capture = logs.capture();
    for service in Service::ALL {
        let emulated = Emulated::start(service).await;
        let faults = emulated.faults();
        let dir = TempDir::new().expect("a temporary folder");
        let (file, _) = confirm_online(&emulated, dir.path()).await;
        let original = fs::read(&file).expect("read the cache");

        for tamper in tampers() {
            let what = format!("{service} / cache {}", tamper.what);

            // Server down: the gate runs as pending, it does not trust the cache.
            fs::write(&file, &original).expect("restore the cache");
            (tamper.damage)(&file, &original);
            logs.clear();
            faults.go_down();
            let gate: LicenseGate = cached(&emulated, dir.path(), tamper.hardware_id)
                .startup_timeout(Duration::from_millis(300))
                .start()
                .await
                .unwrap();
            let state = gate.product_state();
            assert!(
                matches!(state.status, LicenseStatus::Pending { .. })
                    && state.source == Source::None,
                "{what}: with the server down, the gate must be pending, not licensed from the cache: {:?}",
                state
            );
            assert!(!gate.has_feature("pro"), "{what}: nothing is granted");
            gate.shutdown().await;
            assert!(
                logs.text().contains(REJECTED),
                "{what}: the rejection must be logged as a warning; the logs:\n{}",
                logs.text()
            );

            // Server up: the gate asks it and runs on its answer.
            fs::write(&file, &original).expect("restore the cache");
            (tamper.damage)(&file, &original);
            logs.clear();
            faults.come_up();
            let requests = emulated.requests();
            let gate = cached(&emulated, dir.path(), tamper.hardware_id)
                .start()
                .await
                .unwrap();
            assert!(
                emulated.requests() > requests,
                "{what}: the gate must ask the server"
            );
            let state = gate.product_state();
            assert_eq!(
                (state.status.clone(), state.source),
                (LicenseStatus::Licensed, Source::Online),
                "{what}: the state must come from the server"
            );
            assert!(
                logs.text().contains(REJECTED),
                "{what}: the rejection must be logged as a warning; the logs:\n{}",
                logs.text()
            );
            gate.shutdown().await;
        }
    }
}

#[tokio::test]
async fn a_cache_that_cannot_be_written_leaves_the_gate_working() {
    let logs = LogBuffer::default();
    let _capture = logs.capture();
    for service in Service::ALL {
        let emulated = Emulated::start(service).await;
        let dir = TempDir::new().expect("a temporary folder");

        // The cache folder is a file.
        let not_a_folder = dir.path().join("not-a-folder");
        fs::write(&not_a_folder, b"a file").unwrap();
        let mut cases = vec![("a file", not_a_folder.clone())];

        // A read-only folder (only where permissions bind this process: root
        // writes anyway).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let read_only = dir.path().join("read-only");
            fs::create_dir(&read_only).unwrap();
            fs::set_permissions(&read_only, fs::Permissions::from_mode(0o555)).unwrap();
            if fs::write(read_only.join("probe"), b"").is_err() {
                cases.push(("a read-only folder", read_only));
            } else {
                println!("{service}: skipping the read-only folder: this process writes anyway");
            }
        }

        for (what, cache_dir) in cases {
            let what = format!("{service} / cache folder is {what}");
            logs.clear();
            let gate = emulated
                .builder()
                .cache_dir(&cache_dir)
                .hardware_id(HW)
                .start()
                .await
                .unwrap_or_else(|e| panic!("{what}: the gate did not start: {e}"));
            assert_eq!(
                gate.status(),
                LicenseStatus::Licensed,
                "{what}: the gate works without its cache"
            );
            assert!(gate.has_feature("pro"), "{what}: the features are granted");
            assert!(
                logs.text().contains(NOT_WRITTEN) && logs.text().contains("WARN"),
                "{what}: the failed write must be logged as a warning; the logs:\n{}",
                logs.text()
            );
            // The gate keeps following the server.
            emulated.revoke();
            gate.refresh().await;
            assert_eq!(
                gate.status(),
                LicenseStatus::Revoked,
                "{what}: the gate keeps following the server"
            );
            gate.shutdown().await;
            match service {
                Service::ExisOne => emulated.exisone().reinstate(support::EXISONE_KEY),
                Service::Ecosire => emulated.ecosire().restore(support::ECOSIRE_KEY),
            }
        }
        assert_eq!(
            fs::read(&not_a_folder).unwrap(),
            b"a file",
            "{service}: the file in the cache folder's place is left alone"
        );
    }
}
