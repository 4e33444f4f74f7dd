//! Test support: scoped licenses that only the current thread or task sees,
//! and a clock tests can move.
//!
//! ```
//! use license_gate::{has_feature, testing::TestLicense};
//!
//! // In a `#[test]` function:
//! let _license = TestLicense::product("Atlas").features(["pro"]).scoped();
//! assert!(has_feature("pro"));
//! ```

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::gate::cell::StateCell;
use crate::gate::{ScopeGuard, Scoped};
use crate::state::{LicenseSnapshot, LicenseStatus, ProductState, Source};
use crate::time::{Clock, SystemClock};

/// A license for tests, seen only by the thread (or task) that scopes it.
///
/// Tests that run in parallel each see their own `TestLicense`; the global
/// gate and other threads are untouched.
///
/// ```
/// use license_gate::{check_feature, check_product, testing::TestLicense, LicenseStatus};
///
/// let _license = TestLicense::product("Atlas Studio")
///     .features(["pro", "export"])
///     .and_product("Atlas Render")
///     .features(["gpu"])
///     .scoped();
/// assert!(check_feature("export").is_ok());
/// assert!(check_product("Atlas Render").is_ok());
///
/// // An inner scope wins until it is dropped.
/// {
///     let _revoked = TestLicense::product("Atlas Studio").status(LicenseStatus::Revoked).scoped();
///     assert!(check_feature("export").is_err());
/// }
/// assert!(check_feature("export").is_ok());
/// ```
#[derive(Clone, Debug)]
#[must_use = "a test license does nothing until `.scoped()` or `.scope(future)`"]
pub struct TestLicense {
    products: Vec<ProductState>,
    clock: Arc<dyn Clock>,
}

impl TestLicense {
    /// A valid license for `product` with no features yet.
    pub fn product(product: impl Into<String>) -> Self {
        let mut state = ProductState::new(product, LicenseStatus::Licensed, None::<String>);
        state.source = Source::Test;
        TestLicense {
            products: vec![state],
            clock: Arc::new(SystemClock),
        }
    }

    /// No license at all: every gated call is denied.
    pub fn unlicensed() -> Self {
        TestLicense {
            products: Vec::new(),
            clock: Arc::new(SystemClock),
        }
    }

    fn last(&mut self) -> &mut ProductState {
        if self.products.is_empty() {
            self.products.push(ProductState::pending("test product"));
        }
        self.products.last_mut().expect("pushed above")
    }

    /// Adds these features to the last product.
    pub fn features<I, S>(mut self, features: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.last()
            .features
            .extend(features.into_iter().map(Into::into));
        self
    }

    /// Sets the status of the last product (`Revoked`, `Expired`, `Grace { .. }`...).
    pub fn status(mut self, status: LicenseStatus) -> Self {
        self.last().status = status;
        self
    }

    /// Makes the last product's license expire at `at`.
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.last().expires_at = Some(at);
        self
    }

    /// Adds another product, valid with no features yet.
    pub fn and_product(mut self, product: impl Into<String>) -> Self {
        let mut next = TestLicense::product(product);
        self.products.append(&mut next.products);
        self
    }

    /// Reads time from `clock` (for expiry tests).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The snapshot this license stands for.
    pub fn snapshot(&self) -> LicenseSnapshot {
        LicenseSnapshot::new(self.products.clone())
    }

    fn cell(self) -> Arc<StateCell> {
        Arc::new(StateCell::new(
            LicenseSnapshot::new(self.products),
            self.clock,
            None,
        ))
    }

    /// Makes this license the one gated code on this thread sees until the
    /// guard drops. Use [`TestLicense::scope`] for a task on a multi-thread runtime.
    pub fn scoped(self) -> ScopeGuard {
        ScopeGuard::enter(self.cell())
    }

    /// Makes this license the one gated code inside `future` sees, on
    /// whichever thread polls it.
    ///
    /// ```
    /// use license_gate::{has_feature, testing::TestLicense};
    /// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    /// # async fn main() {
    /// let seen = tokio::spawn(TestLicense::product("Atlas").features(["pro"]).scope(async {
    ///     tokio::task::yield_now().await;
    ///     has_feature("pro")
    /// }));
    /// assert!(seen.await.unwrap());
    /// # }
    /// ```
    pub fn scope<F: Future>(self, future: F) -> Scoped<F> {
        Scoped::new(self.cell(), future)
    }

    /// Runs `f` with this license in scope on this thread, for a closure
    /// handed to `spawn_blocking` or `std::thread::spawn` by the test itself.
    /// Work that the code under test starts carries the test's scope with
    /// [`CurrentScope`](crate::CurrentScope).
    ///
    /// ```
    /// use license_gate::{has_feature, testing::TestLicense};
    /// let license = TestLicense::product("Atlas").features(["pro"]);
    /// let seen = std::thread::spawn(move || license.run(|| has_feature("pro")));
    /// assert!(seen.join().unwrap());
    /// ```
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
        let _guard = self.scoped();
        f()
    }
}

/// A wall clock that follows tokio's (pausable) time and can be set backwards
/// or forwards, for tests of expiry, grace and clock rollback.
///
/// With `#[tokio::test(start_paused = true)]`, `tokio::time::advance` moves this
/// clock too, so a test covers weeks in milliseconds.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use license_gate::{testing::TestClock, provider::Clock};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
/// let clock = TestClock::starting_at(start);
/// tokio::time::advance(Duration::from_secs(60)).await;
/// assert_eq!(clock.now(), start + Duration::from_secs(60));
/// clock.set_back(Duration::from_secs(3600));
/// assert_eq!(clock.now(), start + Duration::from_secs(60) - Duration::from_secs(3600));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TestClock {
    inner: Arc<TestClockInner>,
}

#[derive(Debug)]
struct TestClockInner {
    start_wall: SystemTime,
    start: tokio::time::Instant,
    /// Milliseconds added to (or taken from) the wall time.
    shift_ms: Mutex<i64>,
}

impl TestClock {
    /// A clock reading `start` now, and moving with tokio's time.
    pub fn starting_at(start: SystemTime) -> Self {
        TestClock {
            inner: Arc::new(TestClockInner {
                start_wall: start,
                start: tokio::time::Instant::now(),
                shift_ms: Mutex::new(0),
            }),
        }
    }

    /// A clock reading the system time now, and moving with tokio's time.
    pub fn now_system() -> Self {
        TestClock::starting_at(SystemTime::now())
    }

    fn shift(&self, ms: i64) {
        *self
            .inner
            .shift_ms
            .lock()
            .unwrap_or_else(|e| e.into_inner()) += ms;
    }

    /// Sets the wall clock back by `by` (tokio's time is not touched).
    pub fn set_back(&self, by: Duration) {
        self.shift(-(by.as_millis() as i64));
    }

    /// Sets the wall clock forward by `by` without tokio's time moving (a
    /// clock change, not time passing).
    pub fn set_forward(&self, by: Duration) {
        self.shift(by.as_millis() as i64);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        let elapsed = self.inner.start.elapsed();
        let shift = *self
            .inner
            .shift_ms
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let base = self.inner.start_wall + elapsed;
        if shift >= 0 {
            base + Duration::from_millis(shift as u64)
        } else {
            base - Duration::from_millis(shift.unsigned_abs())
        }
    }
}
