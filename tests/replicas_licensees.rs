//! Three licensee registries (the replicas of one server) sharing the
//! checking through a real Redis, against the ECOSIRE emulator: each
//! licensee is validated once for the whole deployment, every replica
//! serves every licensee from the others' results, a revocation one replica
//! hears of reaches the others within a second, and a result edited in Redis
//! by hand is refused.

use std::time::{Duration, Instant};

use license_gate::licensees::{LicenseeId, Licensees};
use license_gate::providers::HttpOptions;
use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider};
use license_gate::replicas::{RedisBudget, RedisCoordination, RedisOptions, Replicas};
use license_gate::{LicenseGate, LicenseStatus};
use license_gate_testkit::ecosire::{EcosireEmulator, EcosireHandle, EmulatedLicense};
use license_gate_testkit::redis::{Reply, TestRedis, command};
use license_gate_tests::support::vendor_secret;

const PRODUCT: &str = "Shop Booster";
const SECRET: &str = "shop-booster-test-secret";
const LICENSEES: usize = 24;

fn key(i: usize) -> String {
    format!("SHOP-{i:04}-C3D4-E5F6-G7H8")
}

fn id(i: usize) -> LicenseeId {
    LicenseeId::new(format!("tenant-{i:02}"))
}

async fn emulator() -> (EcosireEmulator, EcosireHandle) {
    let emulator = EcosireEmulator::start().await.expect("emulator starts");
    let handle = emulator.handle().clone();
    for i in 0..LICENSEES {
        handle.add_license(EmulatedLicense::new(key(i), SECRET));
    }
    (emulator, handle)
}

async fn replica(redis: &str, namespace: &str, name: &str, service: &str) -> (Licensees, Replicas) {
    let replicas = Replicas::connect(
        RedisOptions::new(redis)
            .namespace(namespace)
            .replica(name)
            .lease(Duration::from_secs(2))
            .fresh_for(Duration::from_secs(600)),
    )
    .unwrap();
    let provider = EcosireProvider::from_options(
        EcosireOptions::new(service)
            .license_secret(SECRET)
            .platform("odoo", "18.0")
            .http(
                HttpOptions::new()
                    .allow_insecure_loopback()
                    .timeout(Duration::from_secs(5)),
            ),
    )
    .unwrap()
    .features(["pro"])
    .activate_on_first_validation(false);
    let licensees = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .vendor_secret(vendor_secret())
        .heartbeat_interval(Duration::from_secs(3600))
        .request_timeout(Duration::from_secs(2))
        .install_global(false)
        .licensees()
        .coordination(RedisCoordination::new(&replicas))
        .budget(RedisBudget::per_minute(&replicas, 600, 60))
        .start()
        .await
        .expect("licensees start");
    for i in 0..LICENSEES {
        licensees
            .add(id(i), key(i).as_str(), format!("tenant-{i}.shop.example"))
            .unwrap();
    }
    (licensees, replicas)
}

/// Waits until `check` holds, polling every 20 ms, at most `within`.
async fn until(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

fn all_licensed(licensees: &Licensees) -> bool {
    (0..LICENSEES).all(|i| licensees.status(&id(i)).is_some_and(|s| s.grants_access()))
}

fn validations(service: &EcosireHandle) -> usize {
    service
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/validate"))
        .count()
}

license_gate_testkit::redis_test! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_replicas_validate_each_licensee_once_and_share_a_revocation() {
        let redis = TestRedis::get().unwrap();
        let ns = redis.namespace("three");
        let (emulator, service) = emulator().await;
        let mut replicas = Vec::new();
        for name in ["a", "b", "c"] {
            replicas.push(replica(redis.url(), &ns, name, &emulator.url()).await);
        }
        for (licensees, _) in &replicas {
            assert!(
                until(Duration::from_secs(20), || all_licensed(licensees)).await,
                "every replica serves every licensee"
            );
        }
        let first_pass = validations(&service);
        assert!(
            first_pass <= LICENSEES + LICENSEES / 20,
            "{first_pass} validations for {LICENSEES} licensees across three replicas"
        );

        // A revocation one replica hears of reaches the other two.
        service.revoke(&key(3));
        let asked = Instant::now();
        replicas[1].0.refresh(&id(3)).await;
        for (licensees, _) in &replicas {
            assert!(
                until(Duration::from_secs(1), || licensees.status(&id(3)) == Some(LicenseStatus::Revoked)).await,
                "revoked everywhere within a second of the check"
            );
        }
        assert!(asked.elapsed() < Duration::from_secs(3));
        for (licensees, _) in &replicas {
            assert!(licensees.status(&id(4)).is_some_and(|s| s.grants_access()), "only that licensee");
        }
        for (licensees, _) in replicas {
            licensees.shutdown().await;
        }
    }
}

/// The stored envelope of licensee `i` in `namespace`.
fn stored(url: &str, namespace: &str, i: usize) -> Vec<u8> {
    let records = format!("license-gate:{{{namespace}}}:records");
    match command(
        url,
        &[b"HGET", records.as_bytes(), id(i).as_str().as_bytes()],
    )
    .unwrap()
    {
        Reply::Bulk(Some(value)) => value,
        other => panic!("licensee {i} has a record in Redis: {other:?}"),
    }
}

/// Announces `envelope` as licensee `i`'s newest record, with a fence far
/// above any handed out: what someone with write access to Redis can do.
fn announce(url: &str, namespace: &str, i: usize, envelope: &[u8]) {
    let id = id(i);
    let mut forged = envelope.to_vec();
    forged[4..12].copy_from_slice(&(1u64 << 40).to_be_bytes());
    let mut message = (id.as_str().len() as u16).to_be_bytes().to_vec();
    message.extend_from_slice(id.as_str().as_bytes());
    message.extend_from_slice(&forged);
    let channel = format!("license-gate:{{{namespace}}}:changes");
    command(url, &[b"PUBLISH", channel.as_bytes(), &message]).unwrap();
}

license_gate_testkit::redis_test! {
    /// An old grant put back after a revocation, and a record edited by
    /// hand, both announced as the newest: no replica applies them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_replayed_grant_and_an_edited_record_are_refused_by_every_replica() {
        let redis = TestRedis::get().unwrap();
        let ns = redis.namespace("forged");
        let (emulator, service) = emulator().await;
        let mut replicas = Vec::new();
        for name in ["a", "b", "c"] {
            replicas.push(replica(redis.url(), &ns, name, &emulator.url()).await);
        }
        for (licensees, _) in &replicas {
            assert!(until(Duration::from_secs(20), || all_licensed(licensees)).await);
        }
        let old_grant = stored(redis.url(), &ns, 3);

        service.revoke(&key(3));
        replicas[0].0.refresh(&id(3)).await;
        for (licensees, _) in &replicas {
            assert!(until(Duration::from_secs(1), || licensees.status(&id(3)) == Some(LicenseStatus::Revoked)).await);
        }

        // The old grant of licensee 3, and licensee 5's record with its body
        // edited (one byte of the sealed part flipped), announced by hand.
        announce(redis.url(), &ns, 3, &old_grant);
        let mut edited = stored(redis.url(), &ns, 5);
        let last = edited.len() - 3;
        edited[last] ^= 0x01;
        announce(redis.url(), &ns, 5, &edited);

        // A real change after them: once every replica has it, the forged
        // ones (sent first on the same channel) were read and refused.
        service.suspend(&key(7));
        replicas[2].0.refresh(&id(7)).await;
        for (licensees, _) in &replicas {
            assert!(until(Duration::from_secs(1), || licensees.status(&id(7)) == Some(LicenseStatus::Suspended)).await);
            assert_eq!(licensees.status(&id(3)), Some(LicenseStatus::Revoked), "the old grant is not applied");
            assert!(licensees.status(&id(5)).is_some_and(|s| s.grants_access()), "the edited record is not applied");
        }
        for (licensees, _) in replicas {
            licensees.shutdown().await;
        }
    }
}
