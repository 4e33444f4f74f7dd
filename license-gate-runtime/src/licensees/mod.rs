//! Many licensees in one server process: each signed-in user or tenant with
//! its own license key and machine identity, gated by the licensee in scope.
//!
//! - [`Licensees`]: the handle (add, remove, scope, status, subscribe),
//!   made by `LicenseGate::builder()...licensees()`;
//! - [`LicenseeStore`], [`LicenseeId`], [`MemoryStore`]: where licensees'
//!   sealed records live between runs; `RedbStore` (cargo feature `store`)
//!   keeps them in one embedded database file;
//! - [`RequestBudget`], [`TokenBucketBudget`]: a provider's published request
//!   limits, held across every licensee;
//! - [`Coordination`]: replicas of one server sharing the checking (Redis,
//!   with the `redis` feature).

mod budget;
mod coordination;
mod handle;
pub(crate) mod record;
#[cfg(feature = "store")]
mod redb_store;
mod registry;
mod store;

pub use budget::{RequestBudget, RequestKind, TokenBucketBudget, Unlimited};
pub use coordination::{Coordination, Ticket, Turn};
pub use handle::{Licensees, LicenseesBuilder};
#[cfg(feature = "store")]
#[cfg_attr(docsrs, doc(cfg(feature = "store")))]
pub use redb_store::RedbStore;
pub use store::{LicenseeId, LicenseeStore, MemoryStore, StoreError, StoredRecord};
