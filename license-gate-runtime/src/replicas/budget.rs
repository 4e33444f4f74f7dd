//! The provider's request budget shared by all replicas: a counter per
//! window (a minute by default) in Redis, taken by a Lua script on Redis's
//! clock, so the whole deployment stays within the service's published
//! limit. Requests over the limit wait for the next window; none fails.
//!
//! When Redis does not answer, each replica takes its share (the limit
//! divided by the replicas seen in the last minute) per window on its own
//! clock, starting with the next window (the current one may already be
//! spent by the others); what it took alone is added to Redis's counter when
//! Redis answers again.

use std::sync::LazyLock;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::lease::millis;
use super::{RedisError, Replicas};

/// Takes one request from the current window if the limit allows.
/// KEYS: members. ARGV: limit, window ms, counter prefix, replica, carry,
/// liveness ms. Returns {wait ms (0 = taken), replicas seen, window}.
static TAKE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local span = tonumber(ARGV[2])
local window = math.floor(now / span)
local key = ARGV[3] .. ':' .. window
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[6]))
local members = redis.call('ZCARD', KEYS[1])
local carry = tonumber(ARGV[5])
if carry > 0 then
  redis.call('INCRBY', key, carry)
  redis.call('PEXPIRE', key, span * 2)
end
local used = tonumber(redis.call('GET', key) or '0')
if used < tonumber(ARGV[1]) then
  redis.call('INCR', key)
  redis.call('PEXPIRE', key, span * 2)
  return {0, members, window}
end
return {(window + 1) * span - now, members, window}
",
    )
});

/// A request let through: from which budget, in which window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// From the shared budget or this replica's own share.
    pub kind: BudgetKind,
    /// The window it was counted in (milliseconds since the Unix epoch
    /// divided by the window's length; Redis's clock for a shared one).
    pub window: u64,
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

/// One kind of request's budget (validations, activations …), shared by
/// the replicas through Redis.
#[derive(Debug)]
pub struct RedisBudget {
    replicas: Replicas,
    name: String,
    limit: u32,
    window: Duration,
    local: Mutex<Local>,
}

#[derive(Debug, Default)]
struct Local {
    /// Replicas seen in Redis at the last answer (at least 1).
    members: u32,
    /// The first local window this replica may use alone.
    alone_from: Option<u64>,
    /// The local window counted and how many it took alone.
    window: u64,
    taken: u32,
    /// Taken alone in `window`, not yet added to Redis's counter.
    carry: u32,
}

impl RedisBudget {
    /// A budget of `limit` requests per `window` (the provider's published
    /// limit: ECOSIRE's 30 validations a minute is `(30, 60 s)`) for the
    /// requests called `name`, shared by every replica of `replicas`.
    pub fn new(replicas: &Replicas, name: impl Into<String>, limit: u32, window: Duration) -> Self {
        RedisBudget {
            replicas: replicas.clone(),
            name: name.into(),
            limit: limit.max(1),
            window: window.max(Duration::from_millis(1)),
            local: Mutex::new(Local {
                members: 1,
                ..Local::default()
            }),
        }
    }

    /// The limit per window.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The window's length.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Waits until a request may go out, and says from which budget. Never
    /// fails: with Redis unreachable the replica takes its own share.
    pub async fn take(&self) -> Taken {
        loop {
            match self.take_shared().await {
                Ok(Ok(window)) => {
                    return Taken {
                        kind: BudgetKind::Shared,
                        window,
                    };
                }
                Ok(Err(wait)) => tokio::time::sleep(wait).await,
                Err(error) => {
                    tracing::debug!(%error, budget = %self.name, "taking from this replica's own share");
                    let window = self.take_local().await;
                    return Taken {
                        kind: BudgetKind::Local,
                        window,
                    };
                }
            }
        }
    }

    /// One try at the shared window: its number when taken, else how long
    /// to wait for the next window.
    async fn take_shared(&self) -> Result<Result<u64, Duration>, RedisError> {
        let carry = {
            let local = self.lock();
            local.carry
        };
        let keys = self.replicas.keys();
        let liveness = (self.window * 3).max(Duration::from_secs(60));
        let mut invocation = TAKE.prepare_invoke();
        invocation
            .key(keys.members())
            .arg(self.limit)
            .arg(millis(self.window))
            .arg(keys.budget(&self.name, 0).trim_end_matches(":0"))
            .arg(self.replicas.replica())
            .arg(carry)
            .arg(millis(liveness));
        let (wait, members, window): (i64, i64, i64) = self.replicas.script(&invocation).await?;
        {
            let mut local = self.lock();
            local.members = u32::try_from(members).unwrap_or(u32::MAX).max(1);
            local.carry -= carry.min(local.carry);
            local.alone_from = None;
        }
        if wait > 0 {
            Ok(Err(Duration::from_millis(wait.unsigned_abs())))
        } else {
            Ok(Ok(window.unsigned_abs()))
        }
    }

    /// This replica's share of a window, on its own clock, from the next
    /// window after Redis stopped answering.
    async fn take_local(&self) -> u64 {
        loop {
            let now = window_of(SystemTime::now(), self.window);
            let wait = {
                let mut local = self.lock();
                let first = *local.alone_from.get_or_insert(now + 1);
                if local.window != now {
                    local.window = now;
                    local.taken = 0;
                    local.carry = 0;
                }
                let share = (self.limit / local.members).max(1);
                if now >= first && local.taken < share {
                    local.taken += 1;
                    local.carry += 1;
                    Ok(now)
                } else {
                    Err(until_window(
                        SystemTime::now(),
                        self.window,
                        now.max(first - 1) + 1,
                    ))
                }
            };
            match wait {
                Ok(window) => return window,
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Local> {
        self.local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn window_of(at: SystemTime, window: Duration) -> u64 {
    let ms = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    u64::try_from(ms / window.as_millis().max(1)).unwrap_or(u64::MAX)
}

fn until_window(at: SystemTime, window: Duration, target: u64) -> Duration {
    let ms = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let start = u128::from(target) * window.as_millis().max(1);
    Duration::from_millis(
        u64::try_from(start.saturating_sub(ms))
            .unwrap_or(u64::MAX)
            .max(1),
    )
}
