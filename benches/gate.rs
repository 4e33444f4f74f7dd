//! The cost of the gate on the hot path.
//!
//! Compares one call of a small function: ungated, gated and allowed, gated
//! and denied, and the naive design (an `arc_swap` load plus a
//! `HashSet<String>` lookup per call, and a `RwLock<HashSet<String>>`), on one
//! thread and with two threads calling at once.
//!
//! Run with `cargo bench --bench gate`; `scripts/bench-medians` prints the
//! medians and the ratios from the same run.

use std::collections::HashSet;
use std::hint::black_box;
use std::sync::{Arc, Barrier, RwLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use criterion::{Criterion, criterion_group, criterion_main};
use license_gate::mock::MockProvider;
use license_gate::{LicenseError, LicenseGate, requires_feature};

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
    assert!(gated(1).is_ok() && gated_denied(1).is_err());
    assert!(naive_arc_swap(1).is_ok() && naive_rwlock(1).is_ok());

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
        group.bench_function("arc_swap load + HashSet<String>", |b| {
            b.iter_custom(|n| on_threads(count, n, naive_arc_swap))
        });
        group.bench_function("RwLock<HashSet<String>>", |b| {
            b.iter_custom(|n| on_threads(count, n, naive_rwlock))
        });
        group.finish();
    }
    gate.shutdown_blocking();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = hot_path
}
criterion_main!(benches);
