//! Many licensees in one server process: each signed-in user or tenant with
//! its own license key and machine identity, gated by the licensee in scope.
//!
//! - `store`: the [`LicenseeStore`] trait, [`LicenseeId`] and [`MemoryStore`];
//! - `budget`: the [`RequestBudget`] trait and [`TokenBucketBudget`];
//! - `record`: one licensee's sealed record (HMAC, keyed from the vendor secret).

mod budget;
// Used by the registry, which seals and opens every licensee's record.
#[allow(dead_code)]
pub(crate) mod record;
mod store;

pub use budget::{RequestBudget, RequestKind, TokenBucketBudget, Unlimited};
pub use store::{LicenseeId, LicenseeStore, MemoryStore, StoreError, StoredRecord};
