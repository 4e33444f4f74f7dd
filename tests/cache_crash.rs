//! Crash safety of the cache, for real: a child process (this test binary,
//! run again) rewrites the cache in a tight loop through a real gate and is
//! killed mid-way, many times; after every kill a new gate must start from a
//! whole cache holding one of the states the child wrote, and reject nothing.

use license_gate_tests::support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use license_gate::providers::mock::MockProvider;
use license_gate::{LicenseGate, LicenseGateBuilder, Source};
use support::LogBuffer;
use tempfile::TempDir;

/// Set in the child: the cache folder to keep rewriting.
const CHILD_DIR: &str = "LICENSE_GATE_TEST_CRASH_CACHE_DIR";
const READY: &str = "CACHE_WRITER_READY";
const ROUNDS: u64 = 20;

fn builder(dir: &Path, provider: MockProvider) -> LicenseGateBuilder {
    LicenseGate::builder()
        .product("Atlas Studio")
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .install_global(false)
        .cache_dir(dir)
        .vendor_secret(support::vendor_secret())
        .hardware_id("HW-CRASH-0001")
        .jitter(0.0)
}

/// The features of generation `n`: two that must always come together, so
/// a state mixed from two writes would show.
fn generation(n: u64) -> [String; 2] {
    [
        format!("gen-{n}"),
        format!("pad-{}", "x".repeat((n % 97) as usize)),
    ]
}

/// Whether `features` are those of some generation.
fn written_generation(features: &BTreeSet<String>) -> Option<u64> {
    let n = features
        .iter()
        .find_map(|f| f.strip_prefix("gen-"))?
        .parse()
        .ok()?;
    (*features == generation(n).into_iter().collect::<BTreeSet<_>>()).then_some(n)
}

/// The child: rewrites the cache until killed (or for at most 30 seconds).
#[test]
fn child_keeps_rewriting_the_cache() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let (provider, mock) = MockProvider::licensed(generation(0));
        let gate = builder(Path::new(&dir), provider)
            .start()
            .await
            .expect("the writer's gate starts");
        // Round 0 has no cache: the first answer writes one.
        gate.refresh().await;
        println!("{READY}");
        let started = Instant::now();
        let mut n = 1;
        while started.elapsed() < Duration::from_secs(30) {
            mock.set_features(generation(n));
            gate.refresh().await;
            n += 1;
        }
    });
}

/// Leftover temporary files of interrupted writes.
fn temporary_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .expect("the cache folder exists")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        })
        .count()
}

#[test]
fn a_process_killed_while_writing_the_cache_leaves_a_whole_one() {
    if std::env::var_os(CHILD_DIR).is_some() {
        return;
    }
    let dir = TempDir::new().expect("a temporary folder");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let logs = LogBuffer::default();
    let _capture = logs.capture();
    let mut mid_write = 0;
    let mut loaded = Vec::new();

    for round in 0..ROUNDS {
        support::run_child_then_kill(
            "child_keeps_rewriting_the_cache",
            (CHILD_DIR, dir.path().as_os_str()),
            READY,
            Duration::from_secs(20),
            Duration::from_millis(1 + (round * 7) % 13),
            round,
        );
        let leftovers = temporary_files(dir.path());
        if leftovers > mid_write {
            mid_write = leftovers;
        }

        logs.clear();
        let n = runtime.block_on(async {
            let (provider, mock) = MockProvider::licensed(["never-from-the-server"]);
            mock.go_offline();
            let gate = builder(dir.path(), provider)
                .startup_timeout(Duration::from_millis(50))
                .start()
                .await
                .expect("the reading gate starts");
            let state = gate.product_state();
            // The first validation runs at once in the background; with the
            // "server" offline it keeps the cached state in grace.
            assert!(
                state.status.grants_access() && state.source == Source::Cache,
                "round {round}: after the kill, the cache must be whole and used ({:?}, {:?}); the logs:\n{}",
                state.status,
                state.source,
                logs.text()
            );
            assert!(
                mock.calls().total() <= 1,
                "round {round}: a start from a whole cache makes one background check at most before shutdown"
            );
            gate.shutdown().await;
            written_generation(&state.features).unwrap_or_else(|| {
                panic!(
                    "round {round}: the cache holds a state the child never wrote: {:?}",
                    state.features
                )
            })
        });
        assert!(
            !logs.text().contains("license cache rejected"),
            "round {round}: the cache was rejected after the kill; the logs:\n{}",
            logs.text()
        );
        loaded.push(n);
    }
    println!(
        "{ROUNDS} kills; generations loaded afterwards: {loaded:?}; \
         temporary files left by interrupted writes: {mid_write}"
    );
}
