//! No allocation on the checks' hot paths: a counting global allocator
//! (counting per thread, so the gate's own runtime thread does not count)
//! around gated calls, `has_feature`, `check_feature` and `check_product`,
//! allowed and denied, against a running global gate and inside a
//! licensee's scope.
//!
//! Its own test binary: the global allocator and the global gate are one per
//! process, so everything runs in one test function.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use license_gate::providers::mock::MockProvider;
use license_gate::{
    LicenseError, LicenseGate, LicenseStatus, check_feature, check_product, has_feature,
    requires_feature,
};

struct Counting;

thread_local! {
    // `const` and without `Drop`: usable from inside the allocator.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to `System` unchanged; it only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Allocations made on this thread while `f` runs.
fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[derive(Debug)]
struct AppError(LicenseError);

impl From<LicenseError> for AppError {
    fn from(error: LicenseError) -> Self {
        AppError(error)
    }
}

#[requires_feature("pro")]
fn pro(x: u64) -> Result<u64, AppError> {
    Ok(x + 1)
}

#[requires_feature("pro", "enterprise")]
fn enterprise(x: u64) -> Result<u64, AppError> {
    Ok(x + 2)
}

#[requires_feature(any("team", "enterprise"))]
fn team(x: u64) -> Result<u64, AppError> {
    Ok(x + 3)
}

#[requires_feature("gpu", product = "Atlas Render")]
fn render(x: u64) -> Result<u64, AppError> {
    Ok(x + 4)
}

/// Every kind of check, allowed or denied as the state says; the denials are
/// built in full and dropped.
fn every_check(round: u64) {
    black_box(pro(round).ok());
    black_box(enterprise(round).err());
    black_box(team(round).err());
    black_box(render(round).err());
    black_box(has_feature("pro"));
    black_box(has_feature("enterprise"));
    black_box(check_feature("pro").err());
    // A name given at run time is copied inline up to 22 bytes (a longer
    // one goes into an `Arc<str>`).
    black_box(check_feature("twenty-two-byte-inline").err());
    black_box(check_product("Atlas Studio").err());
    black_box(check_product("Atlas Render").err());
}

#[test]
fn checks_allocate_nothing_allowed_or_denied() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (provider, server) = MockProvider::licensed(["pro"]);
    let gate = runtime.block_on(async {
        LicenseGate::builder()
            .product("Atlas Studio")
            .provider(provider)
            .no_cache()
            .start()
            .await
            .expect("the gate starts")
    });
    assert_eq!(pro(1).unwrap(), 2);
    let denied = enterprise(1).unwrap_err().0;
    assert_eq!(
        denied.required_features().collect::<Vec<_>>(),
        ["pro", "enterprise"]
    );
    assert!(has_feature("pro") && !has_feature("enterprise"));

    // Licensed with `pro`: allowed calls and missing-feature denials.
    every_check(0);
    assert_eq!(allocations(|| (1..1000).for_each(every_check)), 0);
    // The first call on a thread reads the state into the thread's view.
    black_box(gate.has_feature("pro"));
    assert_eq!(
        allocations(|| {
            for _ in 0..1000 {
                black_box(gate.has_feature("pro"));
                black_box(gate.check_feature("enterprise").err());
                black_box(gate.check_product("Atlas Studio").ok());
            }
        }),
        0
    );

    // Every reason-bearing denial shares its reason.
    for status in [
        LicenseStatus::Revoked,
        LicenseStatus::Invalid {
            reason: "the license server says the license is `blocked`".into(),
        },
        LicenseStatus::VersionOutdated {
            minimum: "2.0".into(),
        },
    ] {
        server.set_status(status.clone());
        runtime.block_on(gate.refresh());
        let denial = pro(1).unwrap_err().0;
        assert_eq!(denial.status(), Some(&status));
        assert_eq!(denial.required_features().collect::<Vec<_>>(), ["pro"]);
        every_check(0);
        assert_eq!(
            allocations(|| (1..1000).for_each(every_check)),
            0,
            "denials while {status:?}"
        );
    }
    runtime.block_on(gate.shutdown());

    // Inside a licensee's scope (a gate with licensees, as a server runs
    // each request): the same checks allocate nothing either.
    let (provider, _server) = MockProvider::licensed(["pro"]);
    let licensees = runtime.block_on(async {
        LicenseGate::builder()
            .product("Atlas Studio")
            .provider(provider)
            .install_global(false)
            .licensees()
            .start()
            .await
            .expect("licensees start")
    });
    let alice = license_gate::licensees::LicenseeId::new("alice");
    licensees
        .add(alice.clone(), "AAAA-BBBB-CCCC-DDDD", "user:alice")
        .expect("added");
    runtime.block_on(licensees.refresh(&alice));
    let in_scope = licensees.enter(&alice);
    assert_eq!(pro(1).unwrap(), 2, "alice's license in scope");
    every_check(0);
    assert_eq!(
        allocations(|| (1..1000).for_each(every_check)),
        0,
        "in a licensee's scope"
    );
    drop(in_scope);
    runtime.block_on(licensees.shutdown());
}
