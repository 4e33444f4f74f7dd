//! Leases: one replica validates a licensee at a time, and a published
//! result spares the others a validation for `fresh_for`; fencing tokens keep
//! a replica that lost its lease from overwriting a newer result.
//!
//! Both steps are Lua scripts, so each is one atomic step in Redis, on
//! Redis's clock (the replicas' clocks may disagree).

use std::sync::LazyLock;
use std::time::Duration;

use super::{RedisError, Replicas};

/// Claims the lease unless a fresh result or a live lease exists.
/// KEYS: lease, fences, checked. ARGV: licensee, replica, lease ms, fresh ms.
/// Returns {1, fence} claimed, {0, ms} held by another, {-1, ms} fresh.
static CLAIM: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local checked = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '-1')
local fresh = tonumber(ARGV[4])
if checked >= 0 and now - checked < fresh then
  return {-1, fresh - (now - checked)}
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl ~= -2 then
  if ttl < 0 then ttl = tonumber(ARGV[3]) end
  return {0, ttl}
end
local fence = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('SET', KEYS[1], ARGV[2] .. '/' .. fence, 'PX', ARGV[3])
return {1, fence}
",
    )
});

/// Writes a result unless a newer fence wrote first; marks the licensee
/// checked, releases the lease if still ours, and publishes the change.
/// KEYS: records, written, checked, lease, channel.
/// ARGV: licensee, fence, envelope, lease token, message.
static PUBLISH: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local written = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if tonumber(ARGV[2]) < written then
  if redis.call('GET', KEYS[4]) == ARGV[4] then redis.call('DEL', KEYS[4]) end
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local t = redis.call('TIME')
redis.call('HSET', KEYS[3], ARGV[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
if redis.call('GET', KEYS[4]) == ARGV[4] then redis.call('DEL', KEYS[4]) end
redis.call('PUBLISH', KEYS[5], ARGV[5])
return 1
",
    )
});

/// Releases the lease if it is still ours. KEYS: lease. ARGV: token.
static RELEASE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
",
    )
});

/// What [`Replicas::claim`] found.
#[derive(Debug)]
#[must_use = "a claimed lease is held until it is published, released or expires"]
pub enum Claim {
    /// This replica holds the lease: validate, then [`Replicas::publish`].
    Claimed(Lease),
    /// Another replica published a result `age` ago that is still fresh:
    /// apply it from the change feed; ask again after `fresh_for` runs out.
    Fresh {
        /// How long until the published result is no longer fresh.
        remaining: Duration,
    },
    /// Another replica holds the lease: its result comes through the change
    /// feed; if it dies, the lease expires after `retry_in`.
    Busy {
        /// When the lease expires at the latest.
        retry_in: Duration,
    },
    /// Redis did not answer: validate alone, within this replica's share of
    /// the budget.
    Unreachable(RedisError),
}

/// A claimed lease on one licensee, with its fencing token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    licensee: String,
    fence: u64,
    token: String,
}

impl Lease {
    /// The licensee it covers.
    pub fn licensee(&self) -> &str {
        &self.licensee
    }

    /// Its fencing token: larger than every token handed out before for the
    /// same licensee.
    pub fn fence(&self) -> u64 {
        self.fence
    }
}

/// What [`Replicas::publish`] did with a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Published {
    /// Written and announced to the other replicas.
    Accepted,
    /// Refused: a replica with a newer lease wrote first (this one's lease
    /// had expired). Its result is the current one.
    Superseded,
}

/// Message of the change feed: `u16` length of the licensee, the licensee,
/// then the envelope.
pub(crate) fn message(licensee: &str, envelope: &[u8]) -> Vec<u8> {
    let id = licensee.as_bytes();
    let len = u16::try_from(id.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(2 + id.len() + envelope.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&id[..usize::from(len)]);
    out.extend_from_slice(envelope);
    out
}

/// Reads a change-feed message back: licensee and envelope.
pub(crate) fn read_message(message: &[u8]) -> Option<(String, &[u8])> {
    let len = usize::from(u16::from_be_bytes(message.get(..2)?.try_into().ok()?));
    let id = std::str::from_utf8(message.get(2..2 + len)?).ok()?;
    Some((id.to_owned(), message.get(2 + len..)?))
}

/// The value stored per licensee: a tag, the fence that wrote it, the sealed
/// record (the core's HMAC-sealed bytes).
pub(crate) const ENVELOPE_TAG: &[u8; 4] = b"LGR1";

pub(crate) fn envelope(fence: u64, sealed: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + sealed.len());
    out.extend_from_slice(ENVELOPE_TAG);
    out.extend_from_slice(&fence.to_be_bytes());
    out.extend_from_slice(sealed);
    out
}

/// Reads an envelope: its fence and sealed record, or `None` if it is not one.
pub(crate) fn open_envelope(value: &[u8]) -> Option<(u64, &[u8])> {
    if value.get(..4)? != ENVELOPE_TAG {
        return None;
    }
    let fence = u64::from_be_bytes(value.get(4..12)?.try_into().ok()?);
    Some((fence, &value[12..]))
}

impl Replicas {
    /// Asks for the lease on `licensee`, unless another replica holds it or
    /// published a result within `fresh_for`.
    pub async fn claim(&self, licensee: &str) -> Claim {
        self.claim_with(licensee, millis(self.options().fresh_for))
            .await
    }

    /// Asks for the lease on `licensee` even if a result was published
    /// recently (a validation the application asked for); a live lease
    /// still wins.
    pub async fn claim_now(&self, licensee: &str) -> Claim {
        self.claim_with(licensee, 0).await
    }

    async fn claim_with(&self, licensee: &str, fresh_ms: u64) -> Claim {
        let keys = self.keys();
        let options = self.options();
        let mut invocation = CLAIM.prepare_invoke();
        invocation
            .key(keys.lease(licensee))
            .key(keys.fences())
            .key(keys.checked())
            .arg(licensee)
            .arg(&options.replica)
            .arg(millis(options.lease))
            .arg(fresh_ms);
        match self.script::<(i64, i64)>(&invocation).await {
            Ok((1, fence)) => Claim::Claimed(Lease {
                licensee: licensee.to_owned(),
                fence: fence.max(0).unsigned_abs(),
                token: format!("{}/{fence}", options.replica),
            }),
            Ok((0, ms)) => Claim::Busy {
                retry_in: Duration::from_millis(ms.max(1).unsigned_abs()),
            },
            Ok((_, ms)) => Claim::Fresh {
                remaining: Duration::from_millis(ms.max(0).unsigned_abs()),
            },
            Err(error) => Claim::Unreachable(error),
        }
    }

    /// Publishes the result validated under `lease`: the sealed record is
    /// written (unless a newer lease wrote first), the licensee is marked
    /// checked, the lease is released and the other replicas are told.
    ///
    /// # Errors
    ///
    /// Redis is unreachable: the result stays local (and in the embedded
    /// store); the lease expires by itself.
    pub async fn publish(&self, lease: &Lease, sealed: &[u8]) -> Result<Published, RedisError> {
        let keys = self.keys();
        let envelope = envelope(lease.fence, sealed);
        let mut invocation = PUBLISH.prepare_invoke();
        invocation
            .key(keys.records())
            .key(keys.written())
            .key(keys.checked())
            .key(keys.lease(&lease.licensee))
            .key(keys.changes())
            .arg(&lease.licensee)
            .arg(lease.fence)
            .arg(&envelope)
            .arg(&lease.token)
            .arg(message(&lease.licensee, &envelope));
        match self.script::<i64>(&invocation).await? {
            1 => Ok(Published::Accepted),
            _ => Ok(Published::Superseded),
        }
    }

    /// When each licensee's last result was published (Redis's clock, in
    /// milliseconds since the Unix epoch): what a dashboard or a test reads
    /// to see that every licensee was validated.
    ///
    /// # Errors
    ///
    /// Redis is unreachable.
    pub async fn checked_at(&self) -> Result<Vec<(String, u64)>, RedisError> {
        self.run(redis::cmd("HGETALL").arg(self.keys().checked()))
            .await
    }

    /// Gives a lease back without a result (the validation was not made), so
    /// another replica need not wait for it to expire.
    ///
    /// # Errors
    ///
    /// Redis is unreachable: the lease expires by itself.
    pub async fn release(&self, lease: &Lease) -> Result<(), RedisError> {
        let mut invocation = RELEASE.prepare_invoke();
        invocation
            .key(self.keys().lease(&lease.licensee))
            .arg(&lease.token);
        let _: i64 = self.script(&invocation).await?;
        Ok(())
    }
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_and_messages_read_back() {
        let sealed = b"sealed bytes";
        let value = envelope(7, sealed);
        assert_eq!(open_envelope(&value), Some((7, &sealed[..])));
        assert_eq!(open_envelope(b"LGR1"), None);
        assert_eq!(open_envelope(b"XXXX0000000000"), None);
        let message = message("tenant:42", &value);
        let (id, back) = read_message(&message).unwrap();
        assert_eq!(id, "tenant:42");
        assert_eq!(back, &value[..]);
        assert_eq!(read_message(&[0, 9, b'a']), None);
    }
}
