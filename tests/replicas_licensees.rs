//! Three licensee registries (the replicas of one server) sharing the
//! checking through a real Redis, against the ECOSIRE emulator: each
//! licensee is validated once for the whole deployment, every replica
//! serves every licensee from the others' results, a revocation one replica
//! hears of reaches the others within a second, and a result edited in Redis
//! by hand is refused.

use std::time::{Duration, Instant};

use license_gate::licensees::{LicenseeId, Licensees};
use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider, HttpOptions};
use license_gate::replicas::{RedisBudget, RedisCoordination, RedisOptions, Replicas};
use license_gate::{LicenseGate, LicenseStatus};
use license_gate_testkit::ecosire::{EcosireEmulator, EcosireHandle, EmulatedLicense};
use license_gate_testkit::redis::TestRedis;
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
        let (emulator, service) = emulator().await;
        let mut replicas = Vec::new();
        for name in ["a", "b", "c"] {
            replicas.push(replica(redis.url(), "three", name, &emulator.url()).await);
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
