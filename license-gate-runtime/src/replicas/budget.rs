//! The provider's request budget shared by all replicas: for each kind of
//! request, the instants of the requests of the last window (a minute by
//! default) in a Redis sorted set, taken by a Lua script on Redis's clock.
//! No span of one window, wherever it starts, holds more requests than the
//! limit across the whole deployment (a window-length slice of slack, a
//! twentieth, absorbs the requests' different travel times to the service).
//! Requests over the limit wait; none fails.
//!
//! When Redis does not answer, each replica takes its share (the limit
//! divided by the replicas seen in the last minute) per window on its own
//! clock, starting one window after Redis stopped answering (what the
//! deployment sent before has left the window by then); what it took alone
//! is added to the shared set when Redis answers again.

use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::lease::millis;
use super::{RedisError, Replicas};
use crate::licensees::{RequestBudget, RequestKind};

/// Takes one request if the last window holds fewer than the limit.
/// KEYS: members, requests (sorted set), sequence.
/// ARGV: limit, span ms, -, replica, carry, liveness ms.
/// Returns {wait ms (0 = taken), replicas seen, Redis time ms}.
static TAKE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local span = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[6]))
local members = redis.call('ZCARD', KEYS[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - span)
for i = 1, tonumber(ARGV[5]) do
  redis.call('ZADD', KEYS[2], now, ARGV[4] .. '/' .. redis.call('INCR', KEYS[3]))
end
if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[2], now, ARGV[4] .. '/' .. redis.call('INCR', KEYS[3]))
  redis.call('PEXPIRE', KEYS[2], span)
  return {0, members, now}
end
redis.call('PEXPIRE', KEYS[2], span)
local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
return {math.max(1, tonumber(oldest[2]) + span - now), members, now}
",
    )
});

/// A request let through: from which budget, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Taken {
    /// From the shared budget or this replica's own share.
    pub kind: BudgetKind,
    /// When, in milliseconds since the Unix epoch (Redis's clock for a shared
    /// one; `None` for a local one, counted on this process's monotonic clock).
    pub at_ms: Option<u64>,
}

/// Which budget a request was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BudgetKind {
    /// From the deployment's shared window in Redis.
    Shared,
    /// From this replica's own share, Redis being unreachable.
    Local,
}

/// The provider's published limits held across all replicas through Redis:
/// a [`RequestBudget`] for the licensee scheduler.
///
/// ```no_run
/// # fn main() -> Result<(), license_gate::replicas::RedisError> {
/// use license_gate::replicas::{RedisBudget, RedisOptions, Replicas};
///
/// let replicas = Replicas::connect(RedisOptions::new("redis://127.0.0.1:6379/"))?;
/// let budget = RedisBudget::ecosire(&replicas); // 30 validations, 10 activations a minute
/// # drop(budget);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct RedisBudget {
    validations: SharedLimit,
    activations: SharedLimit,
    deactivations: SharedLimit,
}

impl RedisBudget {
    /// At most `validations` validations and `activations` activations (and
    /// as many deactivations) a minute across all replicas.
    pub fn per_minute(replicas: &Replicas, validations: u32, activations: u32) -> Self {
        RedisBudget::with_window(
            replicas,
            Duration::from_secs(60),
            validations,
            activations,
            activations,
        )
    }

    /// The limits the ECOSIRE service publishes: 30 validations and 10
    /// activations a minute.
    pub fn ecosire(replicas: &Replicas) -> Self {
        RedisBudget::per_minute(replicas, 30, 10)
    }

    /// Limits per `window` of any length (simulations run minutes faster).
    pub fn with_window(
        replicas: &Replicas,
        window: Duration,
        validations: u32,
        activations: u32,
        deactivations: u32,
    ) -> Self {
        RedisBudget {
            validations: SharedLimit::new(replicas, "validation", validations, window),
            activations: SharedLimit::new(replicas, "activation", activations, window),
            deactivations: SharedLimit::new(replicas, "deactivation", deactivations, window),
        }
    }

    /// Waits until one more request of `kind` fits, and says from which
    /// budget it was taken. Never fails.
    pub async fn take_counted(&self, kind: RequestKind) -> Taken {
        match kind {
            RequestKind::Activation => self.activations.take().await,
            RequestKind::Deactivation => self.deactivations.take().await,
            _ => self.validations.take().await,
        }
    }
}

#[async_trait::async_trait]
impl RequestBudget for RedisBudget {
    async fn take(&self, kind: RequestKind) {
        self.take_counted(kind).await;
    }
}

/// One kind of request's limit, shared through Redis.
#[derive(Debug)]
struct SharedLimit {
    replicas: Replicas,
    name: &'static str,
    limit: u32,
    window: Duration,
    local: Mutex<Local>,
}

#[derive(Debug)]
struct Local {
    /// Replicas seen in Redis at the last answer (at least 1).
    members: u32,
    /// When this replica may start taking alone.
    alone_from: Option<Instant>,
    /// The instants of the requests taken alone within the last window.
    taken: VecDeque<Instant>,
    /// Taken alone, not yet added to the shared set.
    carry: u32,
}

impl SharedLimit {
    fn new(replicas: &Replicas, name: &'static str, limit: u32, window: Duration) -> Self {
        SharedLimit {
            replicas: replicas.clone(),
            name,
            limit: limit.max(1),
            window: window.max(Duration::from_millis(1)),
            local: Mutex::new(Local {
                members: 1,
                alone_from: None,
                taken: VecDeque::new(),
                carry: 0,
            }),
        }
    }

    /// The window with its slack.
    fn span(&self) -> Duration {
        self.window + self.window / 20
    }

    async fn take(&self) -> Taken {
        loop {
            match self.take_shared().await {
                Ok(Ok(at_ms)) => {
                    return Taken {
                        kind: BudgetKind::Shared,
                        at_ms: Some(at_ms),
                    };
                }
                Ok(Err(wait)) => tokio::time::sleep(wait).await,
                Err(error) => {
                    tracing::debug!(%error, budget = self.name, "taking from this replica's own share");
                    self.take_local().await;
                    return Taken {
                        kind: BudgetKind::Local,
                        at_ms: None,
                    };
                }
            }
        }
    }

    /// One try at the shared set: Redis's time when taken, else how long to
    /// wait until the oldest request leaves the window.
    async fn take_shared(&self) -> Result<Result<u64, Duration>, RedisError> {
        let carry = self.lock().carry;
        let keys = self.replicas.keys();
        let liveness = (self.window * 3).max(Duration::from_secs(60));
        let requests = keys.budget(self.name);
        let mut invocation = TAKE.prepare_invoke();
        invocation
            .key(keys.members())
            .key(&requests)
            .key(format!("{requests}:seq"))
            .arg(self.limit)
            .arg(millis(self.span()))
            .arg("")
            .arg(self.replicas.replica())
            .arg(carry)
            .arg(millis(liveness));
        let (wait, members, now): (i64, i64, i64) = self.replicas.script(&invocation).await?;
        {
            let mut local = self.lock();
            local.members = u32::try_from(members).unwrap_or(u32::MAX).max(1);
            local.carry -= carry.min(local.carry);
            local.alone_from = None;
        }
        if wait > 0 {
            Ok(Err(Duration::from_millis(wait.unsigned_abs())))
        } else {
            Ok(Ok(now.unsigned_abs()))
        }
    }

    /// This replica's share, on its own clock, from one window after Redis
    /// stopped answering.
    async fn take_local(&self) {
        loop {
            let wait = {
                let now = Instant::now();
                let span = self.span();
                let mut local = self.lock();
                let from = *local.alone_from.get_or_insert(now + span);
                while local
                    .taken
                    .front()
                    .is_some_and(|&at| now.duration_since(at) >= span)
                {
                    local.taken.pop_front();
                }
                let share = (self.limit / local.members).max(1) as usize;
                if now < from {
                    from - now
                } else if local.taken.len() < share {
                    local.taken.push_back(now);
                    local.carry += 1;
                    return;
                } else {
                    let oldest = local.taken.front().copied().unwrap_or(now);
                    (oldest + span)
                        .saturating_duration_since(now)
                        .max(Duration::from_millis(1))
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
