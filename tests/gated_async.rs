//! Behaviour of the attributes on `async fn` and `#[async_trait]` methods: the
//! check runs when the future is first polled, in the scope of the task.

use std::sync::Arc;

use async_trait::async_trait;
use license_gate::testing::TestLicense;
use license_gate::{LicenseError, LicenseStatus, licensed, requires_feature};
use license_gate::{Required, error::Features};

const STUDIO: &str = "Atlas Studio";

#[derive(Debug, PartialEq, thiserror::Error)]
enum AppError {
    #[error(transparent)]
    License(#[from] LicenseError),
    #[error("upload failed")]
    Upload,
}

fn missing(feature: &'static [&'static str]) -> AppError {
    AppError::License(LicenseError::MissingFeature {
        product: STUDIO.into(),
        missing: Features::from_static(feature),
        required: Required::all_of(feature),
        status: LicenseStatus::Licensed,
    })
}

fn pro() -> TestLicense {
    TestLicense::product(STUDIO).features(["pro"])
}

fn basic() -> TestLicense {
    TestLicense::product(STUDIO).features(["basic"])
}

// ---- async fn ----

#[requires_feature("pro")]
async fn upload(name: &str, fail: bool) -> Result<String, AppError> {
    tokio::task::yield_now().await;
    if fail {
        return Err(AppError::Upload);
    }
    let checked = check_name(name)?;
    Ok(format!("uploaded {checked}"))
}

fn check_name(name: &str) -> Result<&str, AppError> {
    if name.is_empty() {
        Err(AppError::Upload)
    } else {
        Ok(name)
    }
}

#[requires_feature("pro", fallback = sync_locally)]
async fn sync(name: String, copies: u32) -> String {
    tokio::task::yield_now().await;
    format!("cloud {name} x{copies}")
}

async fn sync_locally(name: String, copies: u32) -> String {
    tokio::task::yield_now().await;
    format!("local {name} x{copies}")
}

#[licensed]
async fn licensed_only() -> std::io::Result<u8> {
    Ok(7)
}

#[tokio::test]
async fn async_fn_allowed_and_denied() {
    assert_eq!(
        pro().scope(upload("a", false)).await,
        Ok("uploaded a".to_owned())
    );
    assert_eq!(
        basic().scope(upload("a", false)).await,
        Err(missing(&["pro"]))
    );
}

#[tokio::test]
async fn async_fn_keeps_early_return_and_question_mark() {
    assert_eq!(pro().scope(upload("a", true)).await, Err(AppError::Upload));
    assert_eq!(pro().scope(upload("", false)).await, Err(AppError::Upload));
}

#[tokio::test]
async fn async_fallback_is_awaited_with_the_same_arguments() {
    assert_eq!(pro().scope(sync("doc".to_owned(), 2)).await, "cloud doc x2");
    assert_eq!(
        basic().scope(sync("doc".to_owned(), 3)).await,
        "local doc x3"
    );
}

#[tokio::test]
async fn async_licensed() {
    assert_eq!(
        TestLicense::product(STUDIO)
            .scope(licensed_only())
            .await
            .unwrap(),
        7
    );
    let denied = TestLicense::unlicensed()
        .scope(licensed_only())
        .await
        .unwrap_err();
    assert_eq!(denied.kind(), std::io::ErrorKind::PermissionDenied);
}

#[tokio::test]
async fn the_check_runs_when_the_future_is_polled() {
    // Made outside any scope, polled inside one: the scope decides.
    let future = upload("late", false);
    assert_eq!(pro().scope(future).await, Ok("uploaded late".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_tasks_each_see_their_own_license() {
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let allowed = i % 2 == 0;
            let license = if allowed { pro() } else { basic() };
            tokio::spawn(license.scope(async move {
                for _ in 0..50 {
                    let result = upload("x", false).await;
                    assert_eq!(result.is_ok(), allowed, "task {i}: {result:?}");
                    tokio::task::yield_now().await;
                }
            }))
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
}

// ---- methods ----

struct Store {
    items: Vec<String>,
}

impl Store {
    #[requires_feature("pro")]
    async fn count(&self) -> Result<usize, AppError> {
        tokio::task::yield_now().await;
        Ok(self.items.len())
    }

    #[requires_feature("pro", fallback = Self::push_capped)]
    async fn push(&mut self, item: String) -> usize {
        self.items.push(item);
        self.items.len()
    }

    async fn push_capped(&mut self, item: String) -> usize {
        if self.items.len() < 2 {
            self.items.push(item);
        }
        self.items.len()
    }

    #[requires_feature("pro")]
    async fn into_items(self) -> Result<Vec<String>, AppError> {
        Ok(self.items)
    }
}

#[tokio::test]
async fn async_methods() {
    let mut store = Store { items: Vec::new() };
    for n in 0..3 {
        basic().scope(store.push(format!("{n}"))).await;
    }
    assert_eq!(store.items.len(), 2, "the fallback capped the pushes");
    assert_eq!(pro().scope(store.push("x".to_owned())).await, 3);
    assert_eq!(pro().scope(store.count()).await, Ok(3));
    assert_eq!(basic().scope(store.count()).await, Err(missing(&["pro"])));
    assert_eq!(
        basic().scope(Store { items: vec![] }.into_items()).await,
        Err(missing(&["pro"]))
    );
    assert_eq!(pro().scope(store.into_items()).await.unwrap().len(), 3);
}

// ---- #[async_trait] ----

#[async_trait]
trait Backend: Send + Sync {
    async fn fetch(&self, key: &str) -> Result<String, AppError>;
    async fn store(&mut self, key: String, value: String) -> usize;
    async fn describe(self: Arc<Self>, verbose: bool) -> String;
    async fn generic<T: Send + std::fmt::Debug + 'static>(
        &self,
        value: T,
    ) -> Result<String, AppError>
    where
        Self: Sized;
    async fn unit(&self) -> Result<(), AppError>;
}

#[derive(Default)]
struct Memory {
    entries: Vec<(String, String)>,
}

impl Memory {
    async fn store_basic(&mut self, key: String, _value: String) -> usize {
        self.entries.push((key, "basic".to_owned()));
        self.entries.len()
    }

    async fn describe_basic(self: Arc<Self>, verbose: bool) -> String {
        format!("basic memory verbose={verbose}")
    }
}

#[async_trait]
impl Backend for Memory {
    #[requires_feature("pro")]
    async fn fetch(&self, key: &str) -> Result<String, AppError> {
        tokio::task::yield_now().await;
        let found = self.entries.iter().find(|(k, _)| k == key);
        let (_, value) = found.ok_or(AppError::Upload)?;
        Ok(value.clone())
    }

    #[requires_feature("pro", fallback = Self::store_basic)]
    async fn store(&mut self, key: String, value: String) -> usize {
        self.entries.push((key, value));
        self.entries.len()
    }

    #[licensed(fallback = Memory::describe_basic)]
    async fn describe(self: Arc<Self>, verbose: bool) -> String {
        format!(
            "memory with {} entries verbose={verbose}",
            self.entries.len()
        )
    }

    #[requires_feature(any("pro", "enterprise"))]
    async fn generic<T: Send + std::fmt::Debug + 'static>(
        &self,
        value: T,
    ) -> Result<String, AppError>
    where
        Self: Sized,
    {
        Ok(format!("{value:?}"))
    }

    #[requires_feature("pro")]
    async fn unit(&self) -> Result<(), AppError> {
        if self.entries.is_empty() {
            return Ok(());
        }
        Ok(())
    }
}

#[tokio::test]
async fn async_trait_methods() {
    let mut memory = Memory::default();
    assert_eq!(
        pro()
            .scope(memory.store("k".to_owned(), "v".to_owned()))
            .await,
        1
    );
    assert_eq!(
        basic()
            .scope(memory.store("b".to_owned(), "v".to_owned()))
            .await,
        2
    );
    assert_eq!(memory.entries[1], ("b".to_owned(), "basic".to_owned()));
    assert_eq!(pro().scope(memory.fetch("k")).await, Ok("v".to_owned()));
    assert_eq!(
        pro().scope(memory.fetch("none")).await,
        Err(AppError::Upload)
    );
    assert_eq!(
        basic().scope(memory.fetch("k")).await,
        Err(missing(&["pro"]))
    );
    assert_eq!(pro().scope(memory.generic(5u8)).await, Ok("5".to_owned()));
    assert_eq!(
        basic().scope(memory.generic(5u8)).await,
        Err(AppError::License(LicenseError::MissingFeature {
            product: STUDIO.into(),
            missing: Features::from_static(&["pro", "enterprise"]),
            required: Required::any_of(&["pro", "enterprise"]),
            status: LicenseStatus::Licensed,
        }))
    );
    assert_eq!(pro().scope(memory.unit()).await, Ok(()));
    assert_eq!(basic().scope(memory.unit()).await, Err(missing(&["pro"])));

    let memory = Arc::new(memory);
    assert_eq!(
        pro().scope(memory.clone().describe(true)).await,
        "memory with 2 entries verbose=true"
    );
    assert_eq!(
        TestLicense::unlicensed()
            .scope(memory.describe(false))
            .await,
        "basic memory verbose=false"
    );
}

#[tokio::test]
async fn async_trait_objects() {
    let backend: Box<dyn Backend> = Box::new(Memory {
        entries: vec![("k".to_owned(), "v".to_owned())],
    });
    assert_eq!(pro().scope(backend.fetch("k")).await, Ok("v".to_owned()));
    assert_eq!(
        basic().scope(backend.fetch("k")).await,
        Err(missing(&["pro"]))
    );
}

// ---- under #[tokio::main] and #[tokio::test], in either order ----

#[tokio::main(flavor = "current_thread")]
#[requires_feature("pro")]
async fn export_below_tokio(name: &str) -> Result<String, AppError> {
    tokio::task::yield_now().await;
    Ok(format!("exported {name}"))
}

#[requires_feature("pro")]
#[tokio::main(flavor = "current_thread")]
async fn export_above_tokio(name: &str) -> Result<String, AppError> {
    tokio::task::yield_now().await;
    Ok(format!("exported {name}"))
}

#[tokio::main]
#[requires_feature("pro", fallback = sync_locally)]
async fn sync_below_tokio(name: String, copies: u32) -> String {
    tokio::task::yield_now().await;
    format!("cloud {name} x{copies}")
}

#[requires_feature("pro", fallback = sync_locally)]
#[tokio::main]
async fn sync_above_tokio(name: String, copies: u32) -> String {
    tokio::task::yield_now().await;
    format!("cloud {name} x{copies}")
}

#[test]
fn tokio_main_in_either_order_allows_and_denies_alike() {
    {
        let _pro = pro().scoped();
        assert_eq!(export_below_tokio("a"), Ok("exported a".to_owned()));
        assert_eq!(export_above_tokio("b"), Ok("exported b".to_owned()));
        assert_eq!(sync_below_tokio("c".to_owned(), 1), "cloud c x1");
        assert_eq!(sync_above_tokio("d".to_owned(), 2), "cloud d x2");
    }
    let _basic = basic().scoped();
    assert_eq!(export_below_tokio("a"), Err(missing(&["pro"])));
    assert_eq!(export_above_tokio("b"), Err(missing(&["pro"])));
    assert_eq!(sync_below_tokio("c".to_owned(), 1), "local c x1");
    assert_eq!(sync_above_tokio("d".to_owned(), 2), "local d x2");
}

#[tokio::test]
async fn below_tokio_main_a_denial_returns_before_the_runtime_starts() {
    // Starting a runtime inside this one would panic: the denied call never
    // gets that far.
    let _basic = basic().scoped();
    assert_eq!(export_below_tokio("a"), Err(missing(&["pro"])));
}

thread_local! {
    static TEST_BODY_RUNS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

// As tests of their own, run by the harness with no license in scope, both
// are denied and skipped through the fallback (which checks that it was
// denied); `tokio_tests_in_either_order_run_when_allowed` runs them licensed.
#[tokio::test]
#[requires_feature("pro", fallback = skipped)]
async fn tokio_test_above_gate() {
    assert!(license_gate::has_feature("pro"), "runs only when allowed");
    TEST_BODY_RUNS.with(|runs| runs.set(runs.get() + 1));
}

#[requires_feature("pro", fallback = skipped)]
#[tokio::test]
async fn gate_above_tokio_test() {
    assert!(license_gate::has_feature("pro"), "runs only when allowed");
    TEST_BODY_RUNS.with(|runs| runs.set(runs.get() + 1));
}

async fn skipped() {
    assert!(!license_gate::has_feature("pro"), "runs only when denied");
}

#[test]
fn tokio_tests_in_either_order_run_when_allowed() {
    let runs = || TEST_BODY_RUNS.with(std::cell::Cell::get);
    {
        let _pro = pro().scoped();
        tokio_test_above_gate();
        gate_above_tokio_test();
    }
    assert_eq!(runs(), 2);
    let _basic = basic().scoped();
    tokio_test_above_gate();
    gate_above_tokio_test();
    assert_eq!(runs(), 2);
}
