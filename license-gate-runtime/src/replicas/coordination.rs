//! [`RedisCoordination`]: the licensee registry's [`Coordination`] over
//! Redis — leases decide whose turn a validation is, results are published
//! with their fence, and the change feed brings the others' results.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;

use super::{Change, ChangeFeed, Claim, Lease, Published, Replicas};
use crate::licensees::{Coordination, LicenseeId, StoredRecord, Ticket, Turn};

/// Replicas of one server sharing the checking through Redis: give it to
/// `LicenseesBuilder::coordination`.
///
/// ```no_run
/// # #[allow(dead_code)]
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use license_gate::LicenseGate;
/// use license_gate::replicas::{RedisBudget, RedisCoordination, RedisOptions, Replicas};
/// # let (provider, _control) = license_gate::providers::mock::MockProvider::new(license_gate::provider::LicenseAnswer::licensed(["pro"]));
/// # let vendor_secret = license_gate::VendorSecret::new("a vendor secret of thirty-two bytes or more")?;
///
/// let url = std::env::var("REDIS_URL")?; // credentials stay out of logs
/// let replicas = Replicas::connect(RedisOptions::new(url).namespace("billing-api"))?;
/// let licensees = LicenseGate::builder()
///     .product("Atlas Server")
///     .provider(provider)
///     .vendor_secret(vendor_secret) // other replicas' results are sealed with it
///     .heartbeat_interval(Duration::from_secs(24 * 3600))
///     .licensees()
///     .coordination(RedisCoordination::new(&replicas))
///     .budget(RedisBudget::ecosire(&replicas))
///     .start()
///     .await?;
/// # drop(licensees); Ok(()) }
/// ```
#[derive(Debug)]
pub struct RedisCoordination {
    replicas: Replicas,
    /// Redis was unreachable at the last claim (logged once per outage).
    alone: AtomicBool,
}

impl RedisCoordination {
    /// The coordination of `replicas`' namespace.
    pub fn new(replicas: &Replicas) -> Self {
        RedisCoordination {
            replicas: replicas.clone(),
            alone: AtomicBool::new(false),
        }
    }
}

#[async_trait::async_trait]
impl Coordination for RedisCoordination {
    async fn claim(&self, licensee: &LicenseeId, urgent: bool) -> Turn {
        let claim = if urgent {
            self.replicas.claim_now(licensee.as_str()).await
        } else {
            self.replicas.claim(licensee.as_str()).await
        };
        if !matches!(claim, Claim::Unreachable(_)) && self.alone.swap(false, Ordering::Relaxed) {
            tracing::info!(redis = %self.replicas.masked_url(), "Redis answers again; the replicas share the checking again");
        }
        match claim {
            Claim::Claimed(lease) => Turn::Validate(Ticket::new(lease)),
            Claim::Fresh { remaining } => Turn::Wait(remaining),
            Claim::Busy { retry_in } => Turn::Wait(retry_in),
            Claim::Unreachable(error) => {
                if !self.alone.swap(true, Ordering::Relaxed) {
                    tracing::warn!(%error, "this replica validates its licensees alone until Redis answers");
                }
                Turn::Validate(Ticket::alone())
            }
        }
    }

    async fn publish(&self, licensee: &LicenseeId, ticket: Ticket, sealed: Option<Vec<u8>>) {
        let Some(lease) = ticket.take::<Lease>() else {
            return;
        };
        let outcome = match sealed {
            Some(sealed) => self.replicas.publish(&lease, &sealed).await.map(Some),
            None => self.replicas.release(&lease).await.map(|()| None),
        };
        match outcome {
            Ok(Some(Published::Superseded)) => {
                tracing::debug!(licensee = %licensee, "a replica with a newer lease published first; its result stands");
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(licensee = %licensee, %error, "could not publish the licensee's result to the other replicas; they validate it when its lease expires");
            }
        }
    }

    fn changes(&self) -> Option<mpsc::Receiver<StoredRecord>> {
        let mut feed = ChangeFeed::start(&self.replicas);
        let (sender, receiver) = mpsc::channel(1024);
        tokio::spawn(async move {
            while let Some(change) = feed.recv().await {
                if let Change::Updated(record) = change {
                    let record = StoredRecord {
                        licensee: LicenseeId::from(record.licensee),
                        sealed: record.sealed,
                    };
                    if sender.send(record).await.is_err() {
                        return;
                    }
                }
            }
        });
        Some(receiver)
    }
}
