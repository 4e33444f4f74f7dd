//! Crash safety of the licensee store, for real: a child process (this test
//! binary, run again) keeps saving batches of licensees' records into one
//! `RedbStore` file and is killed mid-way (SIGKILL on Unix), many times.
//! After every kill the file must open, hold every licensee, and hold each
//! batch whole: the records one save wrote together carry one generation,
//! and no licensee outside a batch is touched by it.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use license_gate::licensees::{LicenseeId, LicenseeStore, RedbStore, StoredRecord};
use license_gate_tests::support;
use tempfile::TempDir;

/// Set in the child: the database file to keep writing.
const CHILD_FILE: &str = "LICENSE_GATE_TEST_CRASH_STORE_FILE";
const READY: &str = "STORE_WRITER_READY";
const ROUNDS: u64 = 12;
const LICENSEES: usize = 2_000;
/// A save writes one batch: the licensees whose index is `batch` modulo this.
const BATCHES: usize = 20;

fn id(i: usize) -> LicenseeId {
    LicenseeId::new(format!("tenant-{i:05}"))
}

/// The record of licensee `i` as save `generation` writes it; sized like a
/// sealed record (a few hundred bytes), varying with the generation.
fn value(i: usize, generation: u64) -> Vec<u8> {
    let mut v = format!("gen-{generation}|tenant-{i:05}|").into_bytes();
    v.resize(200 + (generation % 97) as usize, b'x');
    v
}

/// The generation a stored value names, if it is one `value` wrote for `i`.
fn generation_of(i: usize, stored: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(stored).ok()?;
    let generation: u64 = text.strip_prefix("gen-")?.split('|').next()?.parse().ok()?;
    (value(i, generation) == stored).then_some(generation)
}

/// The save of `generation`: generation 0 writes everyone, the others write
/// the batch `generation % BATCHES`.
fn save_of(generation: u64) -> Vec<StoredRecord> {
    (0..LICENSEES)
        .filter(|i| generation == 0 || i % BATCHES == (generation as usize) % BATCHES)
        .map(|i| StoredRecord {
            licensee: id(i),
            sealed: value(i, generation),
        })
        .collect()
}

/// The child: saves batch after batch until killed (or for at most 30 s),
/// going on from the newest generation in the file.
#[test]
fn child_keeps_saving_licensees() {
    let Some(file) = std::env::var_os(CHILD_FILE) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let store = RedbStore::open(Path::new(&file)).expect("the writer opens the store");
        let loaded = store.load_all().await.expect("the writer loads the store");
        let mut n = loaded
            .iter()
            .filter_map(|r| {
                let i: usize = r.licensee.as_str().strip_prefix("tenant-")?.parse().ok()?;
                generation_of(i, &r.sealed)
            })
            .max()
            .map_or(0, |newest| newest + 1);
        if n == 0 {
            store.save(save_of(0)).await.expect("the first save");
            n = 1;
        }
        println!("{READY}");
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            store.save(save_of(n)).await.expect("a save");
            n += 1;
        }
    });
}

#[test]
fn a_process_killed_while_saving_licensees_loses_no_record() {
    if std::env::var_os(CHILD_FILE).is_some() {
        return;
    }
    let dir = TempDir::new().expect("a temporary folder");
    let file = dir.path().join("licensees.redb");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut newest_seen = Vec::new();

    for round in 0..ROUNDS {
        support::run_child_then_kill(
            "child_keeps_saving_licensees",
            (CHILD_FILE, file.as_os_str()),
            READY,
            Duration::from_secs(60),
            Duration::from_millis(20 + (round * 37) % 120),
            round,
        );

        let records = runtime.block_on(async {
            let store = RedbStore::open(&file).unwrap_or_else(|error| {
                panic!("round {round}: the store does not open after the kill: {error}")
            });
            store.load_all().await.unwrap_or_else(|error| {
                panic!("round {round}: the store does not load after the kill: {error}")
            })
        });
        let mut generations = BTreeMap::new();
        for record in &records {
            let i: usize = record
                .licensee
                .as_str()
                .strip_prefix("tenant-")
                .and_then(|i| i.parse().ok())
                .unwrap_or_else(|| {
                    panic!(
                        "round {round}: a licensee nobody saved: {}",
                        record.licensee
                    )
                });
            let generation = generation_of(i, &record.sealed).unwrap_or_else(|| {
                panic!(
                    "round {round}: tenant {i} holds a record no save wrote ({} bytes)",
                    record.sealed.len()
                )
            });
            generations.insert(i, generation);
        }
        assert_eq!(
            generations.len(),
            LICENSEES,
            "round {round}: every licensee is still there"
        );
        // Each batch is whole: all its licensees carry the generation of the
        // last save of that batch that completed.
        for batch in 0..BATCHES {
            let mut seen: Vec<u64> = generations
                .iter()
                .filter(|(i, _)| *i % BATCHES == batch)
                .map(|(_, g)| *g)
                .collect();
            seen.dedup();
            assert_eq!(
                seen.len(),
                1,
                "round {round}: batch {batch} is mixed from several saves: {seen:?}"
            );
            assert!(
                seen[0] == 0 || seen[0] as usize % BATCHES == batch,
                "round {round}: batch {batch} holds generation {}, written for another batch",
                seen[0]
            );
        }
        newest_seen.push(generations.values().copied().max().unwrap_or(0));
    }
    assert!(
        newest_seen.windows(2).all(|w| w[0] <= w[1]),
        "a completed save is never lost by a later kill: {newest_seen:?}"
    );
    assert!(
        newest_seen.last().is_some_and(|n| *n > 1),
        "the children completed saves between the kills: {newest_seen:?}"
    );
    println!(
        "{ROUNDS} kills of a writer of {LICENSEES} licensees; newest generation after each: {newest_seen:?}"
    );
}
