//! Replicas sharing the checking through a real Redis: leases with fencing,
//! the fenced store, the change feed, the shared budget, and the faults
//! (Redis unreachable, stopped and restarted, an entry replayed by hand, a
//! replica that dies holding leases).
//!
//! Each test runs against a `redis-server` of its own (the fault tests stop
//! and restart it) or the run's shared one, in a namespace of its own.

use std::time::{Duration, Instant};

use license_gate::licensees::{LicenseeId, LicenseeStore, RequestKind, StoredRecord};
use license_gate::replicas::{
    BudgetKind, Change, ChangeFeed, Claim, Published, RedisBudget, RedisErrorKind, RedisOptions,
    RedisStore, Replicas,
};
use license_gate_testkit::redis::{RedisServer, Reply, TestRedis, command};

/// A replica named `name` in namespace `namespace` of the Redis at `url`.
fn replica(url: &str, namespace: &str, name: &str) -> Replicas {
    Replicas::connect(
        RedisOptions::new(url)
            .namespace(namespace)
            .replica(name)
            .lease(Duration::from_millis(300))
            .fresh_for(Duration::from_secs(60))
            .timeout(Duration::from_millis(300)),
    )
    .expect("a loopback Redis URL is accepted")
}

/// The next `Updated` change for `licensee` within `within`, or `None`.
async fn next_update(
    feed: &mut ChangeFeed,
    licensee: &str,
    within: Duration,
) -> Option<(u64, Vec<u8>)> {
    tokio::time::timeout(within, async {
        loop {
            match feed.recv().await {
                Some(Change::Updated(record)) if record.licensee == licensee => {
                    return Some((record.fence, record.sealed));
                }
                Some(_) => continue,
                None => return None,
            }
        }
    })
    .await
    .ok()
    .flatten()
}

/// Sends a raw command to Redis (what an operator or an attacker with
/// access to Redis types into `redis-cli`).
fn raw(url: &str, args: &[&[u8]]) -> Reply {
    command(url, args).expect("Redis answers")
}

license_gate_testkit::redis_test! {
    /// One replica claims, the other is told who holds the lease; after the
    /// result is published the licensee is fresh for everyone, and the other
    /// replica's feed brings the result within a second.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_replica_validates_and_the_others_apply_its_result() {
        let redis = TestRedis::get().unwrap();
        let ns = redis.namespace("claim");
        let (a, b) = (replica(redis.url(), &ns, "a"), replica(redis.url(), &ns, "b"));
        let mut feed = ChangeFeed::start(&b);

        let Claim::Claimed(lease) = a.claim("tenant-1").await else { panic!("the first claim wins") };
        assert!(matches!(b.claim("tenant-1").await, Claim::Busy { retry_in } if retry_in <= Duration::from_millis(300)));

        let published_at = Instant::now();
        assert_eq!(a.publish(&lease, b"sealed v1").await.unwrap(), Published::Accepted);
        let (fence, sealed) = next_update(&mut feed, "tenant-1", Duration::from_secs(1))
            .await
            .expect("the other replica hears of the result within a second");
        assert_eq!((fence, sealed.as_slice()), (lease.fence(), &b"sealed v1"[..]));
        assert!(published_at.elapsed() < Duration::from_secs(1));

        for replica in [&a, &b] {
            assert!(matches!(replica.claim("tenant-1").await, Claim::Fresh { .. }), "validated once per period");
        }
    }
}

license_gate_testkit::redis_test! {
    /// A replica that dies mid-check loses its lease at expiry; another takes
    /// over with a newer fence, and the dead one's late result is refused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lease_expires_and_another_replica_takes_over() {
        let redis = TestRedis::get().unwrap();
        let ns = redis.namespace("takeover");
        let (a, b) = (replica(redis.url(), &ns, "a"), replica(redis.url(), &ns, "b"));

        let Claim::Claimed(stalled) = a.claim("tenant-2").await else { panic!("a claims") };
        let Claim::Busy { retry_in } = b.claim("tenant-2").await else { panic!("a holds the lease") };
        // Wait the time Redis said the lease has left, as a scheduler does.
        tokio::time::sleep(retry_in + Duration::from_millis(20)).await;
        let Claim::Claimed(taken) = b.claim("tenant-2").await else { panic!("the expired lease is b's now") };
        assert!(taken.fence() > stalled.fence());

        assert_eq!(b.publish(&taken, b"from b").await.unwrap(), Published::Accepted);
        assert_eq!(a.publish(&stalled, b"late from a").await.unwrap(), Published::Superseded);
        let records = RedisStore::new(&a).load_fenced().await.unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].sealed, b"from b");
    }
}

license_gate_testkit::redis_test! {
    /// The store saves all records of a batch, loads them back, forgets one,
    /// and ignores a value written by hand that is not license-gate's.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_store_saves_loads_and_forgets_through_the_trait() {
        let redis = TestRedis::get().unwrap();
        let ns = redis.namespace("store");
        let records_key = format!("license-gate:{{{ns}}}:records");
        let a = replica(redis.url(), &ns, "a");
        let store = RedisStore::new(&a);
        let records = (0..3)
            .map(|i| StoredRecord { licensee: LicenseeId::new(format!("u{i}")), sealed: vec![i; 4] })
            .collect();
        store.save(records).await.unwrap();
        raw(redis.url(), &[b"HSET", records_key.as_bytes(), b"intruder", b"not an envelope"]);

        let mut loaded = store.load_all().await.unwrap();
        loaded.sort_by(|x, y| x.licensee.cmp(&y.licensee));
        let ids: Vec<_> = loaded.iter().map(|r| r.licensee.as_str().to_owned()).collect();
        assert_eq!(ids, ["u0", "u1", "u2"], "the hand-written value is left out");
        assert_eq!(loaded[1].sealed, vec![1; 4]);

        store.forget(&LicenseeId::new("u1")).await.unwrap();
        assert_eq!(store.load_all().await.unwrap().len(), 2);
    }
}

license_gate_testkit::redis_test! {
    /// An older entry put back by hand (a replay of what an older replica
    /// wrote) is refused by the feed: its fence is not newer than the one
    /// already applied. (The core then checks the sealed record's HMAC and
    /// generation as it does for the embedded store.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_replayed_entry_is_refused_by_its_fence() {
        let redis = TestRedis::get().unwrap();
        let ns = redis.namespace("replay");
        let (records_key, channel) = (format!("license-gate:{{{ns}}}:records"), format!("license-gate:{{{ns}}}:changes"));
        let a = replica(redis.url(), &ns, "a");
        let mut feed = ChangeFeed::start(&a);
        let store = RedisStore::new(&a);
        store.save_sealed(&[("acme".to_owned(), b"revoked? no: v1".to_vec())]).await.unwrap();
        let (first, _) = next_update(&mut feed, "acme", Duration::from_secs(1)).await.unwrap();
        let old = match raw(redis.url(), &[b"HGET", records_key.as_bytes(), b"acme"]) {
            Reply::Bulk(Some(value)) => value,
            other => panic!("the record is stored: {other:?}"),
        };
        store.save_sealed(&[("acme".to_owned(), b"revoked: v2".to_vec())]).await.unwrap();
        let (second, sealed) = next_update(&mut feed, "acme", Duration::from_secs(1)).await.unwrap();
        assert!(second > first);
        assert_eq!(sealed, b"revoked: v2");

        // Someone with access to Redis puts the old value back and announces it.
        raw(redis.url(), &[b"HSET", records_key.as_bytes(), b"acme", &old]);
        let mut message = vec![0, 4];
        message.extend_from_slice(b"acme");
        message.extend_from_slice(&old);
        raw(redis.url(), &[b"PUBLISH", channel.as_bytes(), &message]);
        assert_eq!(
            next_update(&mut feed, "acme", Duration::from_millis(500)).await,
            None,
            "the replayed entry is not applied"
        );
    }
}

license_gate_testkit::redis_test! {
    /// Three replicas taking 20 validations against a limit of 6 per 300 ms:
    /// no span of one window holds more than 6, across all of them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_shared_budget_holds_the_limit_across_replicas() {
        let redis = TestRedis::get().unwrap();
        let window = Duration::from_millis(300);
        let ns = redis.namespace("budget");
        let mut tasks = Vec::new();
        for name in ["a", "b", "c"] {
            let budget = RedisBudget::with_window(&replica(redis.url(), &ns, name), window, 6, 2, 2);
            tasks.push(tokio::spawn(async move {
                let mut at = Vec::new();
                for _ in 0..7 {
                    let taken = budget.take_counted(RequestKind::Validation).await;
                    assert_eq!(taken.kind, BudgetKind::Shared);
                    at.push(taken.at_ms.unwrap());
                }
                at
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all.sort_unstable();
        assert_eq!(all.len(), 21);
        let window_ms = window.as_millis() as u64;
        for (i, start) in all.iter().enumerate() {
            let within = all[i..].iter().take_while(|&&at| at < start + window_ms).count();
            assert!(within <= 6, "{within} requests within one window from {start}: {all:?}");
        }
        // 21 requests at 6 per window need at least three more windows.
        assert!(all[20] - all[0] >= 3 * window_ms, "{all:?}");
    }
}

license_gate_testkit::redis_test! {
    /// Redis unreachable: a claim says so at once (the replica validates
    /// alone), the budget falls back to this replica's share (limit ÷
    /// replicas seen) starting one window later; Redis restarted: the same
    /// handles reconnect, and the feed delivers what is published afterwards.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_down_falls_back_locally_and_reconnects_without_restart() {
        let mut server = RedisServer::start().unwrap();
        let url = server.url();
        let window = Duration::from_millis(400);
        let (a, b, c) = (replica(&url, "faults", "a"), replica(&url, "faults", "b"), replica(&url, "faults", "c"));
        let budget = RedisBudget::with_window(&a, window, 6, 3, 3);
        // Three replicas seen by the budget before Redis goes: a's share is 2.
        for other in [&b, &c] {
            RedisBudget::with_window(other, window, 6, 3, 3).take_counted(RequestKind::Validation).await;
        }
        assert_eq!(budget.take_counted(RequestKind::Validation).await.kind, BudgetKind::Shared);
        let mut feed = ChangeFeed::start(&b);

        server.stop().unwrap();
        let asked = Instant::now();
        match a.claim("tenant-3").await {
            Claim::Unreachable(error) => {
                assert_eq!(error.kind(), RedisErrorKind::Unreachable);
                assert!(error.to_string().contains("works alone"), "{error}");
            }
            other => panic!("Redis is down, yet: {other:?}"),
        }
        assert!(asked.elapsed() < Duration::from_secs(2), "the replica is not held up: {:?}", asked.elapsed());

        let fallback_started = Instant::now();
        let mut local = Vec::new();
        for _ in 0..4 {
            let taken = budget.take_counted(RequestKind::Validation).await;
            assert_eq!(taken.kind, BudgetKind::Local);
            local.push(fallback_started.elapsed());
        }
        // Nothing alone within the first window; then 2 per window (a third of 6).
        let span = window + window / 20;
        assert!(local[0] >= span, "{local:?}");
        assert!(local[2] >= local[0] + span - Duration::from_millis(50), "two per window: {local:?}");

        server.restart().unwrap();
        let mut reconnected = false;
        for _ in 0..50 {
            if a.ping().await.is_ok() {
                reconnected = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(reconnected, "the same handle reconnects once Redis is back");
        let Claim::Claimed(lease) = a.claim("tenant-3").await else { panic!("a claims after the restart") };
        assert_eq!(a.publish(&lease, b"after restart").await.unwrap(), Published::Accepted);
        let (_, sealed) = next_update(&mut feed, "tenant-3", Duration::from_secs(5))
            .await
            .expect("the feed reconnected by itself");
        assert_eq!(sealed, b"after restart");
        assert_eq!(budget.take_counted(RequestKind::Validation).await.kind, BudgetKind::Shared);
    }
}

/// A URL with a password is never shown whole, and a TLS URL without the
/// TLS feature says which feature to turn on.
#[tokio::test]
async fn urls_are_masked_and_tls_needs_its_feature() {
    let options = RedisOptions::new("redis://app:hunter2@127.0.0.1:1/0");
    assert!(!format!("{options:?}").contains("hunter2"));
    let replicas = Replicas::connect(options).unwrap();
    assert_eq!(replicas.masked_url(), "redis://app:***@127.0.0.1:1/0");
    assert!(!format!("{replicas:?}").contains("hunter2"));
    let error =
        Replicas::connect(RedisOptions::new("rediss://:hunter2@cache.example:6380/")).unwrap_err();
    assert_eq!(error.kind(), RedisErrorKind::Url);
    assert!(error.to_string().contains("redis-tls"), "{error}");
    assert!(!error.to_string().contains("hunter2"), "{error}");
}
