//! Test scopes follow work that the code under test starts elsewhere
//! (`tokio::spawn`, `spawn_blocking`, `std::thread::spawn`) when that code
//! carries the scope with `CurrentScope`; work started without it sees the
//! global gate, as in production.

use license_gate::testing::TestLicense;
use license_gate::{CurrentScope, LicenseError, requires_feature};

#[requires_feature("pro")]
async fn render(frames: u32) -> Result<u32, LicenseError> {
    tokio::task::yield_now().await;
    Ok(frames)
}

#[requires_feature("pro")]
fn encode(frames: u32) -> Result<u32, LicenseError> {
    Ok(frames * 10)
}

/// Application code: renders on a task and encodes on the blocking pool,
/// carrying whatever scope it is called in.
async fn render_and_encode(frames: u32) -> Result<u32, LicenseError> {
    let scope = CurrentScope::capture();
    let rendered = tokio::spawn(scope.scope(render(frames)));
    let encoded = tokio::task::spawn_blocking({
        let scope = scope.clone();
        move || scope.run(|| encode(frames))
    });
    let rendered = rendered.await.expect("render task")?;
    let encoded = encoded.await.expect("encode task")?;
    Ok(rendered + encoded)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_and_blocking_work_see_the_test_license() {
    let licensed = TestLicense::product("Atlas").features(["pro"]);
    assert_eq!(licensed.scope(render_and_encode(2)).await, Ok(22));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_and_blocking_work_are_denied_by_the_test_license() {
    let basic = TestLicense::product("Atlas").features(["basic"]);
    match basic.scope(render_and_encode(2)).await {
        Err(LicenseError::MissingFeature { .. }) => {}
        other => panic!("expected the test license to deny, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_spawned_without_the_scope_sees_the_global_gate() {
    let licensed = TestLicense::product("Atlas").features(["pro"]);
    let answer = licensed
        .scope(async { tokio::spawn(render(1)).await.expect("task") })
        .await;
    // No gate is installed in this test binary.
    assert!(
        matches!(answer, Err(LicenseError::NoGate { .. })),
        "{answer:?}"
    );
}

#[test]
fn threads_carry_the_scope_with_run() {
    let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
    let scope = CurrentScope::capture();
    assert!(scope.is_scoped());
    let carried = std::thread::spawn(move || scope.run(|| encode(1)));
    assert_eq!(carried.join().expect("thread"), Ok(10));
    let license = TestLicense::product("Atlas").features(["pro"]);
    let own = std::thread::spawn(move || license.run(|| encode(2)));
    assert_eq!(own.join().expect("thread"), Ok(20));
}

#[test]
fn outside_a_scope_nothing_is_captured() {
    let scope = CurrentScope::capture();
    assert!(!scope.is_scoped());
    assert!(matches!(
        scope.run(|| encode(1)),
        Err(LicenseError::NoGate { .. })
    ));
}
