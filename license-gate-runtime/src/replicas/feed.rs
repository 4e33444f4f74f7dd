//! The change feed: every record a replica writes reaches the others through
//! Redis pub/sub, within milliseconds. After every (re)connection the feed
//! reads the whole record hash again, so nothing published while it was
//! away is missed; a record whose fence is not newer than the last one seen
//! for its licensee (a stale or replayed write) is dropped.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::lease::{open_envelope, read_message};
use super::store::{FencedRecord, RedisStore};
use super::{RedisError, Replicas};

/// One change another replica (or this one) made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A licensee's record was written: open it (the core authenticates the
    /// sealed bytes) and apply it to the licensee's cell.
    Updated(FencedRecord),
    /// A licensee was forgotten.
    Forgotten {
        /// Its identifier.
        licensee: String,
    },
}

/// The receiving end of the change feed. Dropping it stops the feed's task.
#[derive(Debug)]
pub struct ChangeFeed {
    changes: mpsc::Receiver<Change>,
    task: JoinHandle<()>,
}

impl ChangeFeed {
    /// Subscribes to the changes of `replicas`' namespace on the current
    /// tokio runtime. The first changes are every record already stored;
    /// after a lost connection the feed reconnects by itself (backing off up
    /// to one second) and delivers what it missed.
    pub fn start(replicas: &Replicas) -> Self {
        let (sender, changes) = mpsc::channel(1024);
        let task = tokio::spawn(run(replicas.clone(), sender));
        ChangeFeed { changes, task }
    }

    /// The next change, or `None` once the feed stopped.
    pub async fn recv(&mut self) -> Option<Change> {
        self.changes.recv().await
    }
}

impl Drop for ChangeFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(replicas: Replicas, sender: mpsc::Sender<Change>) {
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut instance: Option<String> = None;
    let mut backoff = Duration::from_millis(50);
    loop {
        match follow(&replicas, &sender, &mut seen, &mut instance).await {
            Ok(Closed::Receiver) => return,
            Ok(Closed::Connection) => {
                tracing::warn!(redis = %replicas.masked_url(), "the Redis change feed lost its connection; reconnecting");
                backoff = Duration::from_millis(50);
            }
            Err(error) => {
                tracing::debug!(%error, "the Redis change feed could not connect; retrying");
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
        if sender.is_closed() {
            return;
        }
        tokio::time::sleep(backoff).await;
    }
}

enum Closed {
    Receiver,
    Connection,
}

/// Subscribes, reads the whole hash, then follows the channel until the
/// connection drops or stops answering pings.
async fn follow(
    replicas: &Replicas,
    sender: &mpsc::Sender<Change>,
    seen: &mut HashMap<String, u64>,
    instance: &mut Option<String>,
) -> Result<Closed, RedisError> {
    let timeout = replicas.options().timeout;
    let pubsub = tokio::time::timeout(timeout, replicas.client().get_async_pubsub())
        .await
        .map_err(|_| replicas.timed_out())?
        .map_err(|error| replicas.error(error))?;
    let (mut sink, mut stream) = pubsub.split();
    tokio::time::timeout(timeout, sink.subscribe(replicas.keys().changes()))
        .await
        .map_err(|_| replicas.timed_out())?
        .map_err(|error| replicas.error(error))?;
    // A Redis that restarted empty (or another server behind the same URL)
    // counts fences from 1 again: the fences seen on the one before say
    // nothing about its records, and keeping them would drop every result
    // published after the restart. A reconnection to the same server (its
    // run ID unchanged) keeps them, so a replayed entry stays refused.
    let run_id = server_run_id(replicas).await?;
    if instance.as_deref().is_some_and(|known| known != run_id) {
        tracing::warn!(redis = %replicas.masked_url(), "Redis restarted (a new run ID): the replicas' results are read again from it");
        seen.clear();
    }
    *instance = Some(run_id);
    // Subscribed first, read second: a write between the two arrives twice
    // (and is dropped the second time by its fence), never not at all.
    for record in RedisStore::new(replicas).load_fenced().await? {
        if let Some(change) = accept(seen, record)
            && sender.send(change).await.is_err()
        {
            return Ok(Closed::Receiver);
        }
    }
    let mut ping = tokio::time::interval(timeout);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return Ok(Closed::Connection) };
                let Some((licensee, envelope)) = read_message(message.get_payload_bytes()) else {
                    tracing::warn!("ignored a change-feed message license-gate did not write; keep other publishers off this namespace's channel");
                    continue;
                };
                let change = if envelope.is_empty() {
                    seen.remove(&licensee);
                    Some(Change::Forgotten { licensee })
                } else {
                    match open_envelope(envelope) {
                        Some((fence, sealed)) => accept(seen, FencedRecord { licensee, fence, sealed: sealed.to_vec() }),
                        None => None,
                    }
                };
                if let Some(change) = change && sender.send(change).await.is_err() {
                    return Ok(Closed::Receiver);
                }
            }
            _ = ping.tick() => {
                match tokio::time::timeout(timeout, sink.ping::<String>()).await {
                    Ok(Ok(_)) => {}
                    _ => return Ok(Closed::Connection),
                }
            }
            () = sender.closed() => return Ok(Closed::Receiver),
        }
    }
}

/// The run ID of the Redis server behind the URL (new at every start).
async fn server_run_id(replicas: &Replicas) -> Result<String, RedisError> {
    let info: String = replicas.run(redis::cmd("INFO").arg("server")).await?;
    Ok(run_id_of(&info).unwrap_or_default().to_owned())
}

fn run_id_of(info: &str) -> Option<&str> {
    info.lines()
        .find_map(|line| line.strip_prefix("run_id:"))
        .map(str::trim)
}

/// A record newer than the last one seen for its licensee becomes a change;
/// an older or equal one (stale, replayed, or seen twice) is dropped.
fn accept(seen: &mut HashMap<String, u64>, record: FencedRecord) -> Option<Change> {
    match seen.get(&record.licensee) {
        Some(&last) if record.fence <= last => {
            if record.fence < last {
                tracing::warn!(
                    licensee = %record.licensee,
                    fence = record.fence,
                    newest = last,
                    "refused a Redis record older than one already applied (stale or replayed)"
                );
            }
            None
        }
        _ => {
            seen.insert(record.licensee.clone(), record.fence);
            Some(Change::Updated(record))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(fence: u64) -> FencedRecord {
        FencedRecord {
            licensee: "acme".to_owned(),
            fence,
            sealed: vec![1, 2, 3],
        }
    }

    #[test]
    fn the_run_id_is_read_from_info() {
        let info = "# Server\r\nredis_version:7.0.15\r\nrun_id:5c1f8e2d\r\ntcp_port:6379\r\n";
        assert_eq!(run_id_of(info), Some("5c1f8e2d"));
        assert_eq!(run_id_of("# Server\r\n"), None);
    }

    #[test]
    fn only_newer_fences_are_applied() {
        let mut seen = HashMap::new();
        assert!(accept(&mut seen, record(3)).is_some());
        assert!(accept(&mut seen, record(3)).is_none(), "seen twice");
        assert!(accept(&mut seen, record(2)).is_none(), "replayed");
        assert!(accept(&mut seen, record(4)).is_some());
    }
}
