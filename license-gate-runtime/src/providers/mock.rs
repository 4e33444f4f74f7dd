//! A provider for tests whose answers a [`MockHandle`] changes while a gate runs.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::error::ProviderError;
use crate::provider::{LicenseAnswer, LicenseRequest, Provider};
use crate::state::{LicenseStatus, Source};

/// A provider that answers what its [`MockHandle`] says, in the spirit of
/// LaunchDarkly's `TestData`: the running gate picks changes up through its
/// normal heartbeat path (or at once with `LicenseGate::refresh`).
///
/// ```
/// use license_gate::providers::mock::MockProvider;
///
/// let (provider, handle) = MockProvider::licensed(["pro"]);
/// handle.set_features(["pro", "export"]);
/// handle.revoke();
/// handle.fail_next(2); // the next two calls cannot reach the "server"
/// # let _ = provider;
/// ```
#[derive(Debug, Clone)]
pub struct MockProvider {
    shared: Arc<Mutex<MockState>>,
}

/// Controls a [`MockProvider`] from a test; cheap to clone.
#[derive(Debug, Clone)]
pub struct MockHandle {
    shared: Arc<Mutex<MockState>>,
}

#[derive(Debug)]
struct MockState {
    answer: LicenseAnswer,
    faults: VecDeque<Fault>,
    offline: bool,
    calls: MockCalls,
}

#[derive(Debug, Clone)]
enum Fault {
    Error(ProviderError),
    Hang,
}

/// How many calls the mock has answered, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MockCalls {
    /// Calls to `validate`.
    pub validate: u32,
    /// Calls to `activate`.
    pub activate: u32,
    /// Calls to `deactivate`.
    pub deactivate: u32,
}

impl MockCalls {
    /// All calls together.
    pub fn total(&self) -> u32 {
        self.validate + self.activate + self.deactivate
    }
}

impl MockProvider {
    /// A mock that answers `answer` until told otherwise.
    pub fn new(answer: LicenseAnswer) -> (MockProvider, MockHandle) {
        let shared = Arc::new(Mutex::new(MockState {
            answer: answer.from_source(Source::Test),
            faults: VecDeque::new(),
            offline: false,
            calls: MockCalls::default(),
        }));
        (
            MockProvider {
                shared: shared.clone(),
            },
            MockHandle { shared },
        )
    }

    /// A mock whose license is valid with these features.
    pub fn licensed<I, S>(features: I) -> (MockProvider, MockHandle)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        MockProvider::new(LicenseAnswer::licensed(features))
    }

    /// The handle of this mock.
    pub fn handle(&self) -> MockHandle {
        MockHandle {
            shared: self.shared.clone(),
        }
    }

    async fn answer(
        &self,
        count: impl FnOnce(&mut MockCalls),
    ) -> Result<LicenseAnswer, ProviderError> {
        let outcome = {
            let mut state = lock(&self.shared);
            count(&mut state.calls);
            match state.faults.pop_front() {
                Some(fault) => Err(fault),
                None if state.offline => Err(Fault::Error(unreachable())),
                None => Ok(state.answer.clone()),
            }
        };
        match outcome {
            Ok(answer) => Ok(answer),
            Err(Fault::Error(error)) => Err(error),
            Err(Fault::Hang) => {
                // Never answers: the gate's request timeout has to end the call.
                std::future::pending::<()>().await;
                unreachable!("a pending future never completes")
            }
        }
    }
}

fn lock(shared: &Mutex<MockState>) -> MutexGuard<'_, MockState> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

fn unreachable() -> ProviderError {
    ProviderError::Unreachable {
        host: "mock".to_owned(),
        detail: "the mock is offline".to_owned(),
    }
}

#[async_trait]
impl Provider for MockProvider {
    fn name(&self) -> &str {
        "mock"
    }

    async fn validate(&self, _request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        self.answer(|c| c.validate += 1).await
    }

    async fn activate(&self, _request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        self.answer(|c| c.activate += 1).await
    }

    async fn deactivate(&self, _request: &LicenseRequest) -> Result<(), ProviderError> {
        self.answer(|c| c.deactivate += 1).await.map(drop)
    }
}

impl MockHandle {
    fn update(&self, f: impl FnOnce(&mut MockState)) {
        f(&mut lock(&self.shared));
    }

    /// Answers `answer` from now on.
    pub fn set_answer(&self, answer: LicenseAnswer) {
        self.update(|s| s.answer = answer.from_source(Source::Test));
    }

    /// A valid license with exactly these features from now on.
    pub fn set_features<I, S>(&self, features: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let features = features.into_iter().map(Into::into).collect();
        self.update(|s| {
            s.answer.status = LicenseStatus::Licensed;
            s.answer.features = features;
        });
    }

    /// Sets the status answered from now on, keeping the features.
    pub fn set_status(&self, status: LicenseStatus) {
        self.update(|s| s.answer.status = status);
    }

    /// The license is revoked from now on.
    pub fn revoke(&self) {
        self.set_status(LicenseStatus::Revoked);
    }

    /// The license is suspended from now on.
    pub fn suspend(&self) {
        self.set_status(LicenseStatus::Suspended);
    }

    /// The license is expired from now on.
    pub fn expire(&self) {
        self.set_status(LicenseStatus::Expired);
    }

    /// The license is valid again (features unchanged).
    pub fn restore(&self) {
        self.set_status(LicenseStatus::Licensed);
    }

    /// The license expires at `at` (answers keep `Licensed`; the gate flips at `at`).
    pub fn expire_at(&self, at: SystemTime) {
        self.update(|s| s.answer.expires_at = Some(at));
    }

    /// The next `n` calls cannot reach the server (a transient fault).
    pub fn fail_next(&self, n: usize) {
        self.fail_next_with(n, unreachable());
    }

    /// The next `n` calls fail with `error`.
    pub fn fail_next_with(&self, n: usize, error: ProviderError) {
        self.update(|s| s.faults.extend(std::iter::repeat_n(Fault::Error(error), n)));
    }

    /// The next `n` calls never answer, so the gate's request timeout ends them.
    pub fn time_out_next(&self, n: usize) {
        self.update(|s| s.faults.extend(std::iter::repeat_n(Fault::Hang, n)));
    }

    /// Every call fails as unreachable until [`MockHandle::go_online`].
    pub fn go_offline(&self) {
        self.update(|s| s.offline = true);
    }

    /// Ends [`MockHandle::go_offline`].
    pub fn go_online(&self) {
        self.update(|s| s.offline = false);
    }

    /// How many calls the mock has answered.
    pub fn calls(&self) -> MockCalls {
        lock(&self.shared).calls
    }

    /// A rate-limit reply for `retry_after`, for [`MockHandle::fail_next_with`].
    pub fn rate_limited(retry_after: Duration) -> ProviderError {
        ProviderError::RateLimited {
            retry_after: Some(retry_after),
        }
    }
}
