//! The licensees' sealed records in Redis: one hash, each value an envelope
//! (a fencing token from the licensee's counter, then the core's sealed
//! bytes), every write announced on the change feed.

use std::sync::LazyLock;

use super::lease::open_envelope;
use super::{RedisError, Replicas};
use crate::licensees::{LicenseeId, LicenseeStore, StoreError, StoredRecord};

/// Writes records outside a lease (adding licensees, a first state): each
/// gets the next fence of its licensee, all in one atomic script.
/// KEYS: records, fences, written, channel. ARGV: licensee, sealed, ...
static SAVE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local function be64(n)
  local bytes = {}
  for i = 8, 1, -1 do
    bytes[i] = string.char(n % 256)
    n = math.floor(n / 256)
  end
  return table.concat(bytes)
end
for i = 1, #ARGV, 2 do
  local id = ARGV[i]
  local fence = redis.call('HINCRBY', KEYS[2], id, 1)
  local envelope = 'LGR1' .. be64(fence) .. ARGV[i + 1]
  redis.call('HSET', KEYS[1], id, envelope)
  redis.call('HSET', KEYS[3], id, fence)
  redis.call('PUBLISH', KEYS[4], string.char(math.floor(#id / 256), #id % 256) .. id .. envelope)
end
return #ARGV / 2
",
    )
});

/// Forgets a licensee and tells the others (an empty envelope).
/// KEYS: records, written, checked, channel. ARGV: licensee.
static FORGET: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
local id = ARGV[1]
redis.call('PUBLISH', KEYS[4], string.char(math.floor(#id / 256), #id % 256) .. id)
return 1
",
    )
});

/// One record as Redis holds it: the licensee, the fence that wrote it, and
/// the core's sealed bytes (opaque here; the core authenticates them).
#[derive(Clone, PartialEq, Eq)]
pub struct FencedRecord {
    /// The licensee's identifier (the application's, never the key).
    pub licensee: String,
    /// The fencing token of the write.
    pub fence: u64,
    /// The sealed record.
    pub sealed: Vec<u8>,
}

impl std::fmt::Debug for FencedRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FencedRecord")
            .field("licensee", &self.licensee)
            .field("fence", &self.fence)
            .field("sealed_bytes", &self.sealed.len())
            .finish()
    }
}

/// The licensees' store in Redis, shared by all replicas.
#[derive(Debug, Clone)]
pub struct RedisStore {
    replicas: Replicas,
}

impl RedisStore {
    /// The store of `replicas`' namespace.
    pub fn new(replicas: &Replicas) -> Self {
        RedisStore {
            replicas: replicas.clone(),
        }
    }

    /// Every record, with its fence. A value that is not an envelope (written
    /// by hand or by something else) is left out with a warning.
    ///
    /// # Errors
    ///
    /// Redis is unreachable.
    pub async fn load_fenced(&self) -> Result<Vec<FencedRecord>, RedisError> {
        let values: Vec<(String, Vec<u8>)> = self
            .replicas
            .run(redis::cmd("HGETALL").arg(self.replicas.keys().records()))
            .await?;
        Ok(values
            .into_iter()
            .filter_map(|(licensee, value)| match open_envelope(&value) {
                Some((fence, sealed)) => Some(FencedRecord {
                    licensee,
                    fence,
                    sealed: sealed.to_vec(),
                }),
                None => {
                    tracing::warn!(
                        licensee = %licensee,
                        "ignored a Redis record that license-gate did not write (no envelope); remove it, and keep other writers out of this namespace"
                    );
                    None
                }
            })
            .collect())
    }

    /// Writes `records` (licensee, sealed) all or none, each with the next
    /// fence of its licensee, and announces them to the other replicas.
    ///
    /// # Errors
    ///
    /// Redis is unreachable; nothing was written.
    pub async fn save_sealed(&self, records: &[(String, Vec<u8>)]) -> Result<(), RedisError> {
        if records.is_empty() {
            return Ok(());
        }
        let keys = self.replicas.keys();
        let mut invocation = SAVE.prepare_invoke();
        invocation
            .key(keys.records())
            .key(keys.fences())
            .key(keys.written())
            .key(keys.changes());
        for (licensee, sealed) in records {
            invocation.arg(licensee).arg(sealed);
        }
        let _: i64 = self.replicas.script(&invocation).await?;
        Ok(())
    }

    /// Forgets `licensee` (its record, its checks) and tells the others.
    ///
    /// # Errors
    ///
    /// Redis is unreachable.
    pub async fn forget_licensee(&self, licensee: &str) -> Result<(), RedisError> {
        let keys = self.replicas.keys();
        let mut invocation = FORGET.prepare_invoke();
        invocation
            .key(keys.records())
            .key(keys.written())
            .key(keys.checked())
            .key(keys.changes())
            .arg(licensee);
        let _: i64 = self.replicas.script(&invocation).await?;
        Ok(())
    }
}

/// The registry's store in Redis: the records are the core's sealed bytes
/// (opened and checked by the core: an edited record fails its HMAC, an
/// older one its generation), each written with the next fence of its
/// licensee and announced on the change feed.
#[async_trait::async_trait]
impl LicenseeStore for RedisStore {
    async fn load_all(&self) -> Result<Vec<StoredRecord>, StoreError> {
        let records = self.load_fenced().await.map_err(|error| {
            StoreError::backend("load the licensees from Redis", error.to_string())
        })?;
        Ok(records
            .into_iter()
            .map(|record| StoredRecord {
                licensee: LicenseeId::from(record.licensee),
                sealed: record.sealed,
            })
            .collect())
    }

    async fn save(&self, records: Vec<StoredRecord>) -> Result<(), StoreError> {
        let count = records.len();
        let records: Vec<(String, Vec<u8>)> = records
            .into_iter()
            .map(|record| (record.licensee.as_str().to_owned(), record.sealed))
            .collect();
        self.save_sealed(&records).await.map_err(|error| {
            StoreError::backend(format!("save {count} records to Redis"), error.to_string())
        })
    }

    async fn load(&self, licensee: &LicenseeId) -> Result<Option<StoredRecord>, StoreError> {
        let value: Option<Vec<u8>> = self
            .replicas
            .run(
                redis::cmd("HGET")
                    .arg(self.replicas.keys().records())
                    .arg(licensee.as_str()),
            )
            .await
            .map_err(|error| {
                StoreError::backend(
                    format!("load licensee `{licensee}` from Redis"),
                    error.to_string(),
                )
            })?;
        Ok(value
            .as_deref()
            .and_then(open_envelope)
            .map(|(_fence, sealed)| StoredRecord {
                licensee: licensee.clone(),
                sealed: sealed.to_vec(),
            }))
    }

    async fn forget(&self, licensee: &LicenseeId) -> Result<(), StoreError> {
        self.forget_licensee(licensee.as_str())
            .await
            .map_err(|error| {
                StoreError::backend(
                    format!("forget licensee `{licensee}` in Redis"),
                    error.to_string(),
                )
            })
    }
}
