//! The cost of gating by the licensee in scope: one small function called
//! ungated, and gated (`#[requires_feature]`) inside a licensee's scope on a
//! gate with licensees, on one thread (the guard `Licensees::enter` sets
//! the scope for the thread, as the tower layer's `Licensees::scope` does
//! for a request's future). Also gated with no licensee in scope (denied).
//!
//! Run with `cargo bench -p license-gate --bench licensees`; `scripts/bench-medians` prints
//! the medians and each call's difference to the ungated one.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use license_gate::licensees::LicenseeId;
use license_gate::providers::mock::MockProvider;
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

fn licensee_scope(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let (provider, _mock) = MockProvider::licensed(["pro"]);
    let licensees = runtime
        .block_on(
            LicenseGate::builder()
                .product("Bench")
                .provider(provider)
                .install_global(false)
                .licensees()
                .start(),
        )
        .expect("the licensees start");
    // A thousand licensees, so the one in scope is one among many.
    for i in 0..1_000 {
        licensees
            .add(
                LicenseeId::new(format!("tenant-{i}")),
                format!("KEY-{i:04}"),
                format!("tenant-{i}.example.com"),
            )
            .expect("a licensee is added");
    }
    let alice = LicenseeId::new("tenant-500");
    runtime.block_on(licensees.refresh(&alice));
    assert!(
        licensees.has_feature(&alice, "pro"),
        "the licensee is licensed"
    );

    let mut group = c.benchmark_group("licensee scope");
    group.bench_function("ungated", |b| {
        let mut i = 0u64;
        b.iter(|| {
            i = i.wrapping_add(1);
            ungated(black_box(i))
        })
    });
    {
        let _scope = licensees.enter(&alice);
        assert!(gated(1).is_ok(), "allowed in the licensee's scope");
        group.bench_function("gated, in a licensee's scope", |b| {
            let mut i = 0u64;
            b.iter(|| {
                i = i.wrapping_add(1);
                gated(black_box(i))
            })
        });
    }
    {
        let _none = licensees.enter_none();
        assert!(gated(1).is_err(), "denied with no licensee in scope");
        group.bench_function("gated, no licensee in scope (denied)", |b| {
            let mut i = 0u64;
            b.iter(|| {
                i = i.wrapping_add(1);
                gated(black_box(i))
            })
        });
    }
    group.finish();
    runtime.block_on(licensees.shutdown());
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = licensee_scope
}
criterion_main!(benches);
