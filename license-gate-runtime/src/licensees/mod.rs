//! Many licensees in one server process: each signed-in user or tenant with
//! its own license key and machine identity, gated by the licensee in scope.
//!
//! - `store`: the [`LicenseeStore`] trait, [`LicenseeId`] and [`MemoryStore`];
//! - `budget`: the [`RequestBudget`] trait and [`TokenBucketBudget`];
//! - `redb_store`: `RedbStore`, the records in one redb database file
//!   (cargo feature `store`);
//! - `record`: one licensee's sealed record (HMAC, keyed from the vendor secret).

mod budget;
// Used by the registry, which seals and opens every licensee's record.
#[allow(dead_code)]
pub(crate) mod record;
#[cfg(feature = "store")]
mod redb_store;
mod store;

pub use budget::{RequestBudget, RequestKind, TokenBucketBudget, Unlimited};
#[cfg(feature = "store")]
#[cfg_attr(docsrs, doc(cfg(feature = "store")))]
pub use redb_store::RedbStore;
pub use store::{LicenseeId, LicenseeStore, MemoryStore, StoreError, StoredRecord};
