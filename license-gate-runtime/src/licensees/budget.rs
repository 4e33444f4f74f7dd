//! The request budget of a provider: its published request limits, held
//! across every licensee of a server ([`RequestBudget`]), and
//! [`TokenBucketBudget`], which holds them in one process.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// What a provider call asks the service to do, as its limits count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// A validation (the heartbeat's call).
    Validation,
    /// An activation (a licensee's first use, or `activate`).
    Activation,
    /// A deactivation (a licensee removed).
    Deactivation,
}

impl RequestKind {
    /// A short name for logs: `validation`, `activation`, `deactivation`.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Validation => "validation",
            RequestKind::Activation => "activation",
            RequestKind::Deactivation => "deactivation",
        }
    }
}

/// A provider's published request limits, held across all licensees (and,
/// with Redis, all replicas).
#[async_trait::async_trait]
pub trait RequestBudget: Send + Sync + std::fmt::Debug + 'static {
    /// Waits until one more request of `kind` fits the limit, then takes it (queues, never fails).
    async fn take(&self, kind: RequestKind);
}

/// No limit: every request goes at once (the default for a provider whose
/// service publishes none, such as ExisOne; set a budget when yours does).
#[derive(Clone, Copy, Debug, Default)]
pub struct Unlimited;

#[async_trait::async_trait]
impl RequestBudget for Unlimited {
    async fn take(&self, _kind: RequestKind) {}
}

/// Per-minute request limits held in this process: a bucket of tokens per
/// kind of request, each token spent coming back one window (a minute) after
/// it was spent. So no window of that length, wherever it starts, holds more
/// requests than the limit, and every calendar minute holds at most the
/// limit. A request that finds the bucket empty waits, in the order the
/// requests came, until a token comes back; it never fails.
///
/// The ECOSIRE service publishes 30 validations and 10 activations a minute
/// ([`TokenBucketBudget::ecosire`]); ExisOne publishes no limit, so its
/// licensees need none ([`Unlimited`]), but a vendor who agreed one with
/// ExisOne sets it with [`TokenBucketBudget::per_minute`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use license_gate::licensees::{RequestBudget, RequestKind, TokenBucketBudget};
/// let budget = TokenBucketBudget::per_minute(2, 1);
/// let start = tokio::time::Instant::now();
/// for _ in 0..3 {
///     budget.take(RequestKind::Validation).await;
/// }
/// // The third validation waited for the first one's token to come back.
/// assert_eq!(start.elapsed().as_secs(), 60);
/// # }
/// ```
#[derive(Debug)]
pub struct TokenBucketBudget {
    window: Duration,
    validations: Bucket,
    activations: Bucket,
    deactivations: Bucket,
}

/// One kind's tokens: the instants of the requests still inside the window,
/// oldest first, behind a fair (first come, first served) lock.
#[derive(Debug)]
struct Bucket {
    /// `None`: no limit.
    limit: Option<usize>,
    spent: Mutex<VecDeque<Instant>>,
}

impl Bucket {
    fn new(limit: Option<u32>) -> Self {
        Bucket {
            limit: limit.map(|l| l.max(1) as usize),
            spent: Mutex::new(VecDeque::new()),
        }
    }
}

impl TokenBucketBudget {
    /// At most `validations` validations and `activations` activations a
    /// minute; deactivations count as activations do, with a limit of their
    /// own of the same size. A limit of 0 is taken as 1.
    pub fn per_minute(validations: u32, activations: u32) -> Self {
        TokenBucketBudget::with_window(
            Duration::from_secs(60),
            Some(validations),
            Some(activations),
            Some(activations),
        )
    }

    /// The limits the ECOSIRE service publishes: 30 validations and 10
    /// activations a minute (deactivations: 10, as its guide counts them
    /// with activations).
    pub fn ecosire() -> Self {
        TokenBucketBudget::per_minute(30, 10)
    }

    /// Limits per `window` for each kind (`None`: no limit for that kind).
    pub fn with_window(
        window: Duration,
        validations: Option<u32>,
        activations: Option<u32>,
        deactivations: Option<u32>,
    ) -> Self {
        TokenBucketBudget {
            window: window.max(Duration::from_millis(1)),
            validations: Bucket::new(validations),
            activations: Bucket::new(activations),
            deactivations: Bucket::new(deactivations),
        }
    }

    fn bucket(&self, kind: RequestKind) -> &Bucket {
        match kind {
            RequestKind::Validation => &self.validations,
            RequestKind::Activation => &self.activations,
            RequestKind::Deactivation => &self.deactivations,
        }
    }

    /// The limit for `kind` per window (`None`: none).
    pub fn limit(&self, kind: RequestKind) -> Option<u32> {
        self.bucket(kind).limit.map(|l| l as u32)
    }

    /// The length of the window the limits count (a minute, unless set).
    pub fn window(&self) -> Duration {
        self.window
    }
}

#[async_trait::async_trait]
impl RequestBudget for TokenBucketBudget {
    async fn take(&self, kind: RequestKind) {
        let bucket = self.bucket(kind);
        let Some(limit) = bucket.limit else {
            return;
        };
        // Held while waiting: the lock is fair, so requests queue in order
        // and the first in line takes the first token that comes back.
        let mut spent = bucket.spent.lock().await;
        loop {
            let now = Instant::now();
            while spent.front().is_some_and(|at| *at + self.window <= now) {
                spent.pop_front();
            }
            if spent.len() < limit {
                spent.push_back(now);
                return;
            }
            let back = *spent.front().expect("a full bucket has spent tokens") + self.window;
            tokio::time::sleep_until(back).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Under paused time: 200 validations asked at once with a limit of 30
    /// a minute all go through, none in any minute over the limit, and the
    /// last one waits no longer than the limit requires.
    #[tokio::test(start_paused = true)]
    async fn no_minute_holds_more_than_the_limit_and_requests_queue() {
        let budget = Arc::new(TokenBucketBudget::ecosire());
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let budget = budget.clone();
            tasks.push(tokio::spawn(async move {
                budget.take(RequestKind::Validation).await;
                Instant::now()
            }));
        }
        let mut taken = Vec::new();
        for task in tasks {
            taken.push(task.await.unwrap());
        }
        taken.sort();
        assert_eq!(taken.len(), 200, "every request went through");
        // Any 60-second window holds at most 30.
        for (i, at) in taken.iter().enumerate() {
            let within = taken[i..]
                .iter()
                .take_while(|t| **t < *at + Duration::from_secs(60))
                .count();
            assert!(within <= 30, "{within} requests in the minute from {at:?}");
        }
        // 200 at 30 a minute: the last one goes in the seventh minute.
        let last = taken.last().unwrap().duration_since(start);
        assert_eq!(last, Duration::from_secs(6 * 60));
        // Activations have their own bucket, untouched by validations.
        let before = Instant::now();
        budget.take(RequestKind::Activation).await;
        assert_eq!(before.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_and_unset_kinds_never_wait() {
        let budget =
            TokenBucketBudget::with_window(Duration::from_secs(60), Some(1), None, Some(1));
        let start = Instant::now();
        for _ in 0..100 {
            budget.take(RequestKind::Activation).await;
            Unlimited.take(RequestKind::Validation).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(budget.limit(RequestKind::Activation), None);
        assert_eq!(budget.limit(RequestKind::Validation), Some(1));
    }
}
