//! The cost of the gate: the hot path, start-up and publishing.
//!
//! Compares one call of a small function: ungated, gated and allowed, gated
//! and denied, `has_feature` (free function and `LicenseGate` method),
//! `check_feature` and `check_product` allowed, `check_feature` denied, the naive designs (an `arc_swap` load plus a
//! `HashSet<String>` lookup per call, and a `RwLock<HashSet<String>>`) and the
//! `featureflag` crate's `is_enabled!` on a locally loaded flag set, on one
//! thread and with every core calling at once. Then start-up from a valid
//! cache to the first allowed call with the server unreachable (with and
//! without the clock-tamper floor, and the floor's reading alone), and
//! publishing a change until a call on another thread sees it.
//!
//! Run with `cargo bench -p license-gate --bench gate`; `scripts/bench-medians` prints the
//! medians and the ratios from the same run.

use std::collections::HashSet;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, OnceLock, RwLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use criterion::{Criterion, criterion_group, criterion_main};
use license_gate::providers::mock::MockProvider;
use license_gate::{
    ClockFloor, LicenseError, LicenseGate, check_feature, check_product, has_feature,
    requires_feature,
};

#[derive(Debug)]
struct AppError(#[allow(dead_code)] LicenseError);

impl From<LicenseError> for AppError {
    fn from(error: LicenseError) -> Self {
        AppError(error)
    }
}

#[inline(never)]
fn ungated(x: u64) -> Result<u64, AppError> {
    Ok(black_box(x).wrapping_mul(3))
}

#[requires_feature("pro")]
#[inline(never)]
fn gated(x: u64) -> Result<u64, AppError> {
    Ok(black_box(x).wrapping_mul(3))
}

#[requires_feature("enterprise")]
#[inline(never)]
fn gated_denied(x: u64) -> Result<u64, AppError> {
    Ok(black_box(x).wrapping_mul(3))
}

static NAIVE: std::sync::LazyLock<ArcSwap<HashSet<String>>> =
    std::sync::LazyLock::new(|| ArcSwap::from_pointee(["pro".to_owned()].into_iter().collect()));

static LOCKED: std::sync::LazyLock<RwLock<HashSet<String>>> =
    std::sync::LazyLock::new(|| RwLock::new(["pro".to_owned()].into_iter().collect()));

#[inline(never)]
fn naive_arc_swap(x: u64) -> Result<u64, &'static str> {
    if !NAIVE.load().contains("pro") {
        return Err("denied");
    }
    Ok(black_box(x).wrapping_mul(3))
}

#[inline(never)]
fn naive_rwlock(x: u64) -> Result<u64, &'static str> {
    if !LOCKED.read().unwrap().contains("pro") {
        return Err("denied");
    }
    Ok(black_box(x).wrapping_mul(3))
}

#[inline(never)]
fn free_has_feature(_: u64) -> bool {
    has_feature(black_box("pro"))
}

#[inline(never)]
fn free_check_feature_denied(_: u64) -> Result<(), LicenseError> {
    check_feature(black_box("enterprise"))
}

#[inline(never)]
fn free_check_feature(_: u64) -> Result<(), LicenseError> {
    check_feature(black_box("pro"))
}

#[inline(never)]
fn free_check_product(_: u64) -> Result<(), LicenseError> {
    check_product(black_box("Bench"))
}

/// The gate the `LicenseGate` method rows call (a `fn` pointer cannot capture it).
static GATE: OnceLock<LicenseGate> = OnceLock::new();

#[inline(never)]
fn method_has_feature(_: u64) -> bool {
    GATE.get()
        .is_some_and(|gate| gate.has_feature(black_box("pro")))
}

/// A flag set loaded once, as an application would load it from a file or
/// a flag service's last payload, behind the `featureflag` facade.
struct LoadedFlags(HashSet<String>);

impl featureflag::Evaluator for LoadedFlags {
    fn is_enabled(&self, feature: &str, _: &featureflag::Context) -> Option<bool> {
        Some(self.0.contains(feature))
    }
}

#[inline(never)]
fn featureflag_is_enabled(x: u64) -> Result<u64, &'static str> {
    if !featureflag::is_enabled!("pro", false) {
        return Err("denied");
    }
    Ok(black_box(x).wrapping_mul(3))
}

/// Runs `f` `iters` times on each of `threads` threads started together and
/// returns the slowest thread's time: the per-call cost with every core calling.
fn on_threads<R>(threads: usize, iters: u64, f: fn(u64) -> R) -> Duration {
    let barrier = Arc::new(Barrier::new(threads));
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = barrier.clone();
                scope.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for i in 0..iters {
                        black_box(f(black_box(i)));
                    }
                    start.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .max()
            .unwrap()
    })
}

fn hot_path(c: &mut Criterion) {
    let (provider, _handle) = MockProvider::licensed(["pro"]);
    let gate = LicenseGate::builder()
        .product("Bench")
        .provider(provider)
        .no_cache()
        .start_blocking()
        .expect("the gate starts");
    let _ = GATE.set(gate.clone());
    featureflag::set_global_default(LoadedFlags(["pro".to_owned()].into_iter().collect()));
    assert!(gated(1).is_ok() && gated_denied(1).is_err());
    assert!(naive_arc_swap(1).is_ok() && naive_rwlock(1).is_ok());
    assert!(free_has_feature(1) && method_has_feature(1));
    assert!(free_check_feature_denied(1).is_err() && featureflag_is_enabled(1).is_ok());
    assert!(free_check_feature(1).is_ok() && free_check_product(1).is_ok());

    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    for (label, count) in [("1 thread", 1), ("all cores", threads)] {
        let mut group = c.benchmark_group(label);
        group.bench_function("ungated", |b| {
            b.iter_custom(|n| on_threads(count, n, ungated))
        });
        group.bench_function("gated allowed", |b| {
            b.iter_custom(|n| on_threads(count, n, gated))
        });
        group.bench_function("gated denied", |b| {
            b.iter_custom(|n| on_threads(count, n, gated_denied))
        });
        group.bench_function("has_feature", |b| {
            b.iter_custom(|n| on_threads(count, n, free_has_feature))
        });
        group.bench_function("LicenseGate::has_feature", |b| {
            b.iter_custom(|n| on_threads(count, n, method_has_feature))
        });
        group.bench_function("check_feature", |b| {
            b.iter_custom(|n| on_threads(count, n, free_check_feature))
        });
        group.bench_function("check_product", |b| {
            b.iter_custom(|n| on_threads(count, n, free_check_product))
        });
        group.bench_function("check_feature denied", |b| {
            b.iter_custom(|n| on_threads(count, n, free_check_feature_denied))
        });
        group.bench_function("arc_swap load + HashSet<String>", |b| {
            b.iter_custom(|n| on_threads(count, n, naive_arc_swap))
        });
        group.bench_function("RwLock<HashSet<String>>", |b| {
            b.iter_custom(|n| on_threads(count, n, naive_rwlock))
        });
        group.bench_function("featureflag is_enabled!", |b| {
            b.iter_custom(|n| on_threads(count, n, featureflag_is_enabled))
        });
        group.finish();
    }
    gate.shutdown_blocking();
}

/// Start-up from a valid cache with the server unreachable, to the first
/// allowed call; and a published change until another thread sees it.
fn lifecycle(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    // The cache is written by a gate that reached the server once.
    let builder = |provider: MockProvider| {
        LicenseGate::builder()
            .product("Bench")
            .provider(provider)
            .license_key("BENCH-0000-0000-0001")
            .cache_dir(dir.path())
            .hardware_id("bench-machine")
            // A cache grants on its own only when it carries the vendor's key.
            .vendor_secret(
                license_gate::VendorSecret::new("the benchmark's vendor secret")
                    .expect("long enough"),
            )
    };
    let (online, _) = MockProvider::licensed(["pro"]);
    runtime.block_on(async {
        let gate = builder(online).start().await.expect("the gate starts");
        assert!(gate.has_feature("pro"));
        gate.shutdown().await;
    });

    // One start from the cache to the first allowed call, `n` times; with
    // the system's clock-tamper floor (the default) or without it.
    let starts = |n: u64, system_floor: bool| {
        let mut total = Duration::ZERO;
        for _ in 0..n {
            let (offline, handle) = MockProvider::licensed(["pro"]);
            handle.go_offline();
            let start = Instant::now();
            let builder = if system_floor {
                builder(offline)
            } else {
                builder(offline).clock_floor(ClockFloor::none())
            };
            let gate = runtime
                .block_on(builder.start())
                .expect("starts from the cache");
            assert!(gated(1).is_ok(), "the first call is allowed from the cache");
            total += start.elapsed();
            // The start did not wait for the server: the answer is the
            // cache's (the check started in the background may already have
            // failed, which keeps it).
            assert_eq!(
                gate.product_state().source,
                license_gate::Source::Cache,
                "the first call is answered from the cache"
            );
            runtime.block_on(gate.shutdown());
        }
        total
    };

    let mut group = c.benchmark_group("start-up");
    group.bench_function(
        "from valid cache, server unreachable, to first allowed call",
        |b| b.iter_custom(|n| starts(n, true)),
    );
    // The part of start-up that reads the clock-tamper floor (the system's
    // sources: a bounded number of `stat` calls), and the same start without it.
    group.bench_function("reading the system clock floor", |b| {
        b.iter(|| black_box(ClockFloor::system().read()))
    });
    group.bench_function(
        "from valid cache, server unreachable, to first allowed call, no clock floor",
        |b| b.iter_custom(|n| starts(n, false)),
    );
    group.finish();

    let (provider, server) = MockProvider::licensed(["pro"]);
    let gate = runtime
        .block_on(
            LicenseGate::builder()
                .product("Bench")
                .provider(provider)
                .no_cache()
                .start(),
        )
        .expect("the gate starts");
    // A reader thread spins on `has_feature("team")` and stamps the moment it
    // sees the value that change number `generation` published (odd: with
    // `team`).
    let generation = Arc::new(AtomicU64::new(0));
    let seen = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let origin = Instant::now();
    let reader = {
        let (generation, seen, stop) = (generation.clone(), seen.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut stamped = 0;
            while !stop.load(Ordering::Relaxed) {
                let g = generation.load(Ordering::Acquire);
                if g != stamped && has_feature("team") == (g % 2 == 1) {
                    seen.1
                        .store(origin.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    seen.0.store(g, Ordering::Release);
                    stamped = g;
                }
                std::hint::spin_loop();
            }
        })
    };
    let mut group = c.benchmark_group("publish");
    let toggle = |measure_seen: bool, n: u64| {
        let mut total = Duration::ZERO;
        for _ in 0..n {
            let g = generation.load(Ordering::Relaxed) + 1;
            server.set_features(if g % 2 == 1 {
                vec!["pro", "team"]
            } else {
                vec!["pro"]
            });
            generation.store(g, Ordering::Release);
            let start = origin.elapsed();
            runtime.block_on(gate.refresh());
            let published = origin.elapsed();
            // Wait for the reader either way, so each change is seen before the next.
            while seen.0.load(Ordering::Acquire) != g {
                std::hint::spin_loop();
            }
            total += if measure_seen {
                Duration::from_nanos(seen.1.load(Ordering::Relaxed)).saturating_sub(start)
            } else {
                published - start
            };
        }
        total
    };
    group.bench_function("refresh publishing a change", |b| {
        b.iter_custom(|n| toggle(false, n))
    });
    group.bench_function("change seen by has_feature on another thread", |b| {
        b.iter_custom(|n| toggle(true, n))
    });
    group.finish();
    stop.store(true, Ordering::Relaxed);
    let _ = reader.join();
    runtime.block_on(gate.shutdown());
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = hot_path, lifecycle
}
criterion_main!(benches);
