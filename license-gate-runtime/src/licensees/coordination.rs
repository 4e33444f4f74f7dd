//! The hook through which replicas of one server share the checking
//! ([`Coordination`]): before validating a licensee the registry asks whose
//! turn it is, after it hands over the sealed result, and it applies the
//! results other replicas published. `replicas::RedisCoordination` (cargo
//! feature `redis`) implements it over Redis; without one, a registry
//! validates every licensee itself.

use std::any::Any;
use std::time::Duration;

use tokio::sync::mpsc;

use super::store::{LicenseeId, StoredRecord};

/// Whose turn it is to validate a licensee.
#[derive(Debug)]
#[non_exhaustive]
pub enum Turn {
    /// Validate now, then hand the result to [`Coordination::publish`] with
    /// this ticket.
    Validate(Ticket),
    /// Another replica validates it (or did, recently): its result comes
    /// through [`Coordination::changes`]; look again after this long.
    Wait(Duration),
}

/// What a coordination needs back after a validation it allowed (a lease
/// and its fencing token, for Redis); opaque to the registry.
pub struct Ticket(Option<Box<dyn Any + Send + Sync>>);

impl Ticket {
    /// A ticket carrying `value`.
    pub fn new(value: impl Any + Send + Sync) -> Self {
        Ticket(Some(Box::new(value)))
    }

    /// A ticket carrying nothing (the replica validates alone, for example
    /// while Redis is unreachable).
    pub fn alone() -> Self {
        Ticket(None)
    }

    /// The value, if it is a `T`.
    pub fn take<T: Any>(self) -> Option<T> {
        self.0?.downcast::<T>().ok().map(|value| *value)
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Ticket(..)"
        } else {
            "Ticket(alone)"
        })
    }
}

/// Replicas of one server sharing the checking: one validation per licensee
/// per period for the whole deployment, and every replica applying the
/// others' results.
///
/// A record from [`changes`](Coordination::changes) is applied only if it
/// opens with the licensee's seal (the vendor secret's HMAC; an edited record
/// fails) and was written later than the one the replica holds (an older
/// record put back is a replay and is refused); a record sealed without a
/// vendor secret applies only when it denies.
#[async_trait::async_trait]
pub trait Coordination: Send + Sync + std::fmt::Debug + 'static {
    /// Before a validation of `licensee`: validate now, or wait for another
    /// replica's result. `urgent` is set for a validation the application
    /// asked for (`Licensees::refresh`): a recent result does not stand in
    /// for it.
    async fn claim(&self, licensee: &LicenseeId, urgent: bool) -> Turn;

    /// After a validation allowed by `ticket`: its sealed result, or `None`
    /// when there is nothing to keep (the validation gave no state).
    async fn publish(&self, licensee: &LicenseeId, ticket: Ticket, sealed: Option<Vec<u8>>);

    /// The records other replicas publish, to apply to this replica's
    /// licensees (called once, when the registry starts; `None`: nothing to
    /// apply).
    fn changes(&self) -> Option<mpsc::Receiver<StoredRecord>>;
}
