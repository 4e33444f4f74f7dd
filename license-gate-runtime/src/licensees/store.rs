//! Where licensees' records live between runs: the [`LicenseeStore`] trait,
//! the identifier of a licensee, and [`MemoryStore`], the store that keeps
//! them in memory (tests, and servers that keep nothing between runs).
//!
//! A store holds sealed records ([`StoredRecord`]): bytes it cannot read or
//! forge. The licensee registry seals and opens them (`record.rs`); a store
//! only keeps them, writes a batch in one crash-safe step, and forgets.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A licensee's identifier, chosen by the application (user or tenant ID);
/// never its key. Shown in logs.
///
/// Equality, ordering and hashing are by value.
///
/// ```
/// use license_gate::licensees::LicenseeId;
/// let id = LicenseeId::new("tenant-42");
/// assert_eq!(id.as_str(), "tenant-42");
/// assert_eq!(id, LicenseeId::from("tenant-42"));
/// assert_eq!(id.to_string(), "tenant-42");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LicenseeId(Arc<str>);

impl LicenseeId {
    /// The licensee named `id` (the application's user or tenant ID).
    pub fn new(id: impl AsRef<str>) -> Self {
        LicenseeId(Arc::from(id.as_ref()))
    }

    /// The identifier as the application gave it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LicenseeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for LicenseeId {
    fn from(id: &str) -> Self {
        LicenseeId::new(id)
    }
}

impl From<String> for LicenseeId {
    fn from(id: String) -> Self {
        LicenseeId(Arc::from(id))
    }
}

impl From<&String> for LicenseeId {
    fn from(id: &String) -> Self {
        LicenseeId::new(id)
    }
}

impl AsRef<str> for LicenseeId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for LicenseeId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// One licensee's sealed (HMAC-authenticated) record, opaque to the store.
#[derive(Clone, Debug)]
pub struct StoredRecord {
    /// Whose record it is.
    pub licensee: LicenseeId,
    /// The sealed bytes: the store keeps them as they are.
    pub sealed: Vec<u8>,
}

/// Where licensees' records live between runs (and, with Redis, between
/// replicas).
///
/// The registry calls it from its one scheduler task and from
/// `Licensees::remove`; a store does its own blocking I/O off the async
/// threads (`spawn_blocking`) if it has any.
#[async_trait::async_trait]
pub trait LicenseeStore: Send + Sync + std::fmt::Debug + 'static {
    /// Every stored record (at start).
    async fn load_all(&self) -> Result<Vec<StoredRecord>, StoreError>;
    /// Writes these records in one crash-safe step: after a crash, all of them or none.
    async fn save(&self, records: Vec<StoredRecord>) -> Result<(), StoreError>;
    /// Forgets a licensee's record.
    async fn forget(&self, licensee: &LicenseeId) -> Result<(), StoreError>;

    /// The stored record of one licensee, if any: what a replica reads when
    /// another one holds the licensee's lease ([`LicenseeStore::lease`]).
    /// Default: none.
    async fn load(&self, licensee: &LicenseeId) -> Result<Option<StoredRecord>, StoreError> {
        let _ = licensee;
        Ok(None)
    }

    /// Asks for the right to validate `licensee` with the service for the
    /// next `period` (the heartbeat interval). `false`: another replica
    /// holds it and writes what it learns to the store, so this process
    /// reads the licensee's record ([`LicenseeStore::load`]) instead of
    /// asking the service. An error counts as `true` (the service is asked).
    /// Default: always `true` (one process).
    async fn lease(&self, licensee: &LicenseeId, period: Duration) -> Result<bool, StoreError> {
        let _ = (licensee, period);
        Ok(true)
    }
}

/// Why a store could not load, save or forget records. The message says what
/// failed and what to do; it never holds a key or a sealed record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing the store's files failed.
    #[error(
        "the licensee store could not {action}: {source}; check that its folder exists and is writable"
    )]
    Io {
        /// What the store was doing ("open the database", "save 12 records").
        action: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The store's backend (a database, a server) refused or failed.
    #[error("the licensee store could not {action}: {detail}")]
    Backend {
        /// What the store was doing.
        action: String,
        /// What went wrong and what to do about it.
        detail: String,
    },
}

impl StoreError {
    /// A backend failure while doing `action`, explained by `detail`.
    pub fn backend(action: impl Into<String>, detail: impl Into<String>) -> Self {
        StoreError::Backend {
            action: action.into(),
            detail: detail.into(),
        }
    }

    /// An I/O failure while doing `action`.
    pub fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        StoreError::Io {
            action: action.into(),
            source,
        }
    }
}

/// A store that keeps the records in memory: for tests, and for servers that
/// keep nothing between runs (every licensee then starts pending and is
/// validated at once). Clones share the records.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use license_gate::licensees::{LicenseeId, LicenseeStore, MemoryStore, StoredRecord};
/// let store = MemoryStore::new();
/// let id = LicenseeId::new("u1");
/// store.save(vec![StoredRecord { licensee: id.clone(), sealed: vec![1, 2, 3] }]).await.unwrap();
/// assert_eq!(store.load_all().await.unwrap().len(), 1);
/// store.forget(&id).await.unwrap();
/// assert!(store.is_empty());
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    records: Arc<Mutex<BTreeMap<LicenseeId, Vec<u8>>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    /// How many records the store holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store holds no record.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// The sealed record of `licensee`, if stored.
    pub fn get(&self, licensee: &LicenseeId) -> Option<Vec<u8>> {
        self.lock().get(licensee).cloned()
    }

    /// Replaces the sealed record of `licensee` (tests use it to plant an
    /// edited or foreign record).
    pub fn put(&self, licensee: LicenseeId, sealed: Vec<u8>) {
        self.lock().insert(licensee, sealed);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<LicenseeId, Vec<u8>>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait::async_trait]
impl LicenseeStore for MemoryStore {
    async fn load_all(&self) -> Result<Vec<StoredRecord>, StoreError> {
        Ok(self
            .lock()
            .iter()
            .map(|(licensee, sealed)| StoredRecord {
                licensee: licensee.clone(),
                sealed: sealed.clone(),
            })
            .collect())
    }

    async fn save(&self, records: Vec<StoredRecord>) -> Result<(), StoreError> {
        // One lock for the whole batch: all of it or none, as the trait asks.
        let mut held = self.lock();
        for record in records {
            held.insert(record.licensee, record.sealed);
        }
        Ok(())
    }

    async fn forget(&self, licensee: &LicenseeId) -> Result<(), StoreError> {
        self.lock().remove(licensee);
        Ok(())
    }

    async fn load(&self, licensee: &LicenseeId) -> Result<Option<StoredRecord>, StoreError> {
        Ok(self.get(licensee).map(|sealed| StoredRecord {
            licensee: licensee.clone(),
            sealed,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_hash_and_order_by_value() {
        use std::collections::HashSet;
        let a = LicenseeId::new("a");
        let a2 = LicenseeId::from(String::from("a"));
        assert_eq!(a, a2);
        let set: HashSet<_> = [a.clone(), a2].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert!(LicenseeId::new("a") < LicenseeId::new("b"));
        assert_eq!(format!("{a:?}"), "LicenseeId(\"a\")");
    }

    #[tokio::test]
    async fn the_memory_store_saves_loads_and_forgets() {
        let store = MemoryStore::new();
        let (a, b) = (LicenseeId::new("a"), LicenseeId::new("b"));
        store
            .save(vec![
                StoredRecord {
                    licensee: a.clone(),
                    sealed: vec![1],
                },
                StoredRecord {
                    licensee: b.clone(),
                    sealed: vec![2],
                },
            ])
            .await
            .unwrap();
        store
            .save(vec![StoredRecord {
                licensee: a.clone(),
                sealed: vec![3],
            }])
            .await
            .unwrap();
        let all = store.load_all().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(store.get(&a), Some(vec![3]));
        store.forget(&a).await.unwrap();
        assert_eq!(store.get(&a), None);
        assert_eq!(store.len(), 1);
        // A clone shares the records.
        assert_eq!(store.clone().get(&b), Some(vec![2]));
    }

    #[test]
    fn store_errors_say_what_failed_and_what_to_do() {
        let e = StoreError::io(
            "save 3 records",
            std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied"),
        );
        assert_eq!(
            e.to_string(),
            "the licensee store could not save 3 records: denied; check that its folder exists and is writable"
        );
    }
}
