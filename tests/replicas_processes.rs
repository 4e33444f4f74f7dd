//! Three replica processes sharing the checking of 1,000 licensees through a
//! real Redis, against the ECOSIRE emulator and its published budget (30
//! validations a minute): each licensee validated about once per period for
//! the whole deployment; a replica killed (its leases expire, the others take
//! its licensees over); Redis stopped (the survivors keep serving, and a
//! licensee revoked meanwhile is denied by the replica that validates it);
//! Redis restarted (the same processes reconnect, and a revocation reaches
//! every survivor within a second).
//!
//! The replicas are this test binary run again with [`CHILD`] set: each runs
//! a licensee registry with `RedisCoordination` and `RedisBudget`, prints one
//! JSON line per event and reads one command per line. Redis and the
//! processes keep real time, so the minute is simulated ([`MINUTE`]) and the
//! waits are bounded polls.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use license_gate::licensees::{LicenseeId, Licensees};
use license_gate::providers::HttpOptions;
use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider};
use license_gate::replicas::{RedisBudget, RedisCoordination, RedisOptions, Replicas};
use license_gate::{LicenseGate, VendorSecret};
use license_gate_testkit::ecosire::{EcosireEmulator, EcosireHandle, EmulatedLicense, RateLimits};
use license_gate_testkit::redis::{RedisServer, Reply, command};
use serde_json::Value;
use tokio::sync::mpsc;

/// Set in a replica process: its index.
const CHILD: &str = "LICENSE_GATE_TEST_REPLICA";
const CHILD_REDIS: &str = "LICENSE_GATE_TEST_REPLICA_REDIS";
const CHILD_EMULATOR: &str = "LICENSE_GATE_TEST_REPLICA_EMULATOR";
const CHILD_WATCH: &str = "LICENSE_GATE_TEST_REPLICA_WATCH";

const REPLICAS: usize = 3;
const LICENSEES: usize = 1000;
const PRODUCT: &str = "Shop Booster";
const LICENSE_SECRET: &str = "shop-booster-test-secret";
const NAMESPACE: &str = "replicas-processes";
/// ECOSIRE's published limit per minute.
const VALIDATIONS_PER_MINUTE: u32 = 30;
/// The simulated minute: shorter ones make the budget's slack (a twentieth
/// of a minute) smaller than the jitter of a loaded machine's requests.
const MINUTE: Duration = Duration::from_millis(1000);
/// A lease outlives a validation queued behind the budget.
const LEASE: Duration = Duration::from_secs(3);
/// Revoked while Redis is down.
const REVOKED_OFFLINE: usize = 300;
/// Revoked after Redis is back.
const REVOKED_AFTER_RESTART: usize = 700;

fn key_of(i: usize) -> String {
    format!("SHOP-{i:04}-C3D4-E5F6-G7H8")
}

fn id_of(i: usize) -> String {
    format!("tenant-{i:04}")
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The heartbeat period: the minutes the published limit needs to validate
/// every licensee once, plus a quarter of headroom.
fn period() -> Duration {
    let minutes = (LICENSEES * 5).div_ceil(VALIDATIONS_PER_MINUTE as usize * 4) as u32;
    MINUTE * minutes.max(1)
}

/// The replica role: runs only in a process started with [`CHILD`] set.
#[test]
fn replica_process() {
    let Ok(index) = std::env::var(CHILD) else {
        return;
    };
    let index: usize = index.parse().expect("the replica index is a number");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(replica(index));
}

fn emit(event: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{event}");
    let _ = out.flush();
}

async fn replica(index: usize) {
    let redis_url = std::env::var(CHILD_REDIS).expect("the parent sets the Redis URL");
    let emulator = std::env::var(CHILD_EMULATOR).expect("the parent sets the emulator URL");
    let watched = std::env::var(CHILD_WATCH).unwrap_or_default();
    let replicas = Replicas::connect(
        RedisOptions::new(redis_url)
            .namespace(NAMESPACE)
            .replica(format!("replica-{index}"))
            .lease(LEASE)
            .fresh_for(period() * 2),
    )
    .expect("a loopback Redis URL is accepted");
    let provider = EcosireProvider::from_options(
        EcosireOptions::new(emulator)
            .license_secret(LICENSE_SECRET)
            .platform("odoo", "18.0")
            .http(
                HttpOptions::new()
                    .allow_insecure_loopback()
                    .timeout(Duration::from_secs(5)),
            ),
    )
    .expect("the emulator's options are valid")
    .features(["pro"])
    .activate_on_first_validation(false);
    let licensees: Licensees = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .vendor_secret(
            VendorSecret::new("the vendor secret of the replica processes test")
                .expect("a long enough secret"),
        )
        .heartbeat_interval(period() * 3)
        .request_timeout(Duration::from_secs(2))
        .install_global(false)
        .licensees()
        .coordination(RedisCoordination::new(&replicas))
        .budget(RedisBudget::with_window(
            &replicas,
            MINUTE,
            VALIDATIONS_PER_MINUTE,
            10,
            10,
        ))
        .max_in_flight(16)
        .start()
        .await
        .expect("the registry starts");
    for i in 0..LICENSEES {
        licensees
            .add(
                id_of(i),
                key_of(i).as_str(),
                format!("{}.shop.example", id_of(i)),
            )
            .expect("the licensee is added");
    }

    // Each watched licensee: one `denied` event when a granted state turns
    // into a denial.
    for id in watched.split(',').filter(|id| !id.is_empty()) {
        let mut states = licensees
            .subscribe(&LicenseeId::new(id))
            .expect("the watched licensee is added");
        let id = id.to_owned();
        tokio::spawn(async move {
            let mut granted = false;
            loop {
                let grants = states.borrow_and_update().products[0]
                    .status
                    .grants_access();
                if grants {
                    granted = true;
                } else if granted {
                    emit(serde_json::json!({
                        "event": "denied", "replica": index, "id": id, "at_ms": unix_ms(),
                    }));
                    return;
                }
                if states.changed().await.is_err() {
                    return;
                }
            }
        });
    }
    emit(serde_json::json!({"event": "ready", "replica": index}));

    let (lines, mut commands) = mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    // Stdin closed (the parent is gone) ends the replica, as does `exit`.
    while let Some(line) = commands.recv().await {
        let (verb, id) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let id = LicenseeId::new(id);
        match verb {
            "status" => emit(serde_json::json!({
                "event": "status", "replica": index, "id": id.as_str(),
                "grants": licensees.status(&id).is_some_and(|s| s.grants_access()),
            })),
            "refresh" => {
                let licensees = licensees.clone();
                tokio::spawn(async move {
                    let state = licensees.refresh(&id).await;
                    let grants = state
                        .as_ref()
                        .is_some_and(|s| s.products[0].status.grants_access());
                    let status = state.map(|s| format!("{:?}", s.products[0].status));
                    emit(serde_json::json!({
                        "event": "refreshed", "replica": index, "id": id.as_str(),
                        "grants": grants, "status": status,
                    }));
                });
            }
            "ping" => emit(serde_json::json!({
                "event": "ping", "replica": index, "ok": replicas.ping().await.is_ok(),
            })),
            "exit" => break,
            other => eprintln!("replica {index}: unknown command {other}"),
        }
    }
    licensees.shutdown().await;
}

/// A replica process; killed when dropped (a failed assertion leaves none
/// behind).
struct Process {
    child: Child,
    stdin: ChildStdin,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The replicas and the events they printed.
struct Deployment {
    processes: Vec<Option<Process>>,
    events: mpsc::UnboundedReceiver<(usize, Value)>,
    /// Events received while waiting for others.
    backlog: Vec<(usize, Value)>,
}

impl Deployment {
    fn start(redis_url: &str, emulator_url: &str, watch: &str) -> Self {
        let exe = std::env::current_exe().expect("the test binary's path");
        let (sender, events) = mpsc::unbounded_channel();
        let mut processes = Vec::new();
        for index in 0..REPLICAS {
            let mut child = Command::new(&exe)
                .args([
                    "replica_process",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD, index.to_string())
                .env(CHILD_REDIS, redis_url)
                .env(CHILD_EMULATOR, emulator_url)
                .env(CHILD_WATCH, watch)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("the replica process starts");
            let stdout = child.stdout.take().expect("the replica's stdout");
            let stdin = child.stdin.take().expect("the replica's stdin");
            let sender = sender.clone();
            std::thread::spawn(move || {
                // The test harness's own words are skipped (its `test
                // replica_process ... ` opens the first event's line).
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let Some(at) = line.find('{') else { continue };
                    if let Ok(event) = serde_json::from_str::<Value>(&line[at..])
                        && event.is_object()
                        && sender.send((index, event)).is_err()
                    {
                        return;
                    }
                }
            });
            processes.push(Some(Process { child, stdin }));
        }
        Deployment {
            processes,
            events,
            backlog: Vec::new(),
        }
    }

    fn send(&mut self, replica: usize, line: &str) {
        let process = self.processes[replica]
            .as_mut()
            .unwrap_or_else(|| panic!("replica {replica} was killed"));
        writeln!(process.stdin, "{line}")
            .and_then(|()| process.stdin.flush())
            .unwrap_or_else(|e| panic!("replica {replica} does not read commands: {e}"));
    }

    fn kill(&mut self, replica: usize) {
        let mut process = self.processes[replica]
            .take()
            .unwrap_or_else(|| panic!("replica {replica} was killed already"));
        process.child.kill().expect("the replica is killed");
        process.child.wait().expect("the killed replica is reaped");
    }

    /// The first event `wanted` accepts within `within`; fails saying `what`
    /// did not happen.
    async fn expect(
        &mut self,
        what: &str,
        within: Duration,
        mut wanted: impl FnMut(usize, &Value) -> bool,
    ) -> (usize, Value) {
        if let Some(at) = self.backlog.iter().position(|(r, e)| wanted(*r, e)) {
            return self.backlog.remove(at);
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some((replica, event))) if wanted(replica, &event) => return (replica, event),
                Ok(Some(other)) => self.backlog.push(other),
                Ok(None) => panic!("{what}: every replica process has exited"),
                Err(_) => panic!(
                    "{what}: not within {within:?} (other events meanwhile: {:?})",
                    self.backlog
                ),
            }
        }
    }

    /// Replica `replica`'s answer to `status ID`: whether it grants `id`.
    async fn grants(&mut self, replica: usize, id: &str) -> bool {
        self.send(replica, &format!("status {id}"));
        let (_, event) = self
            .expect(
                &format!("replica {replica} answers whether it grants {id}"),
                Duration::from_secs(10),
                |r, e| r == replica && e["event"] == "status" && e["id"] == id,
            )
            .await;
        event["grants"] == true
    }

    /// Polls `status ID` until replica `replica` grants `id`, for at most
    /// `within`.
    async fn until_granted(&mut self, replica: usize, id: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.grants(replica, id).await {
            assert!(
                Instant::now() < deadline,
                "replica {replica} still does not grant {id} after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Validation requests the emulator received so far.
fn validations(service: &EcosireHandle) -> usize {
    service
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/validate"))
        .count()
}

/// Connections subscribed to a channel (the replicas' change feeds), as
/// `CLIENT LIST` shows them.
fn subscribers(url: &str) -> usize {
    match command(url, &[b"CLIENT", b"LIST"]) {
        Ok(Reply::Bulk(Some(list))) => String::from_utf8_lossy(&list)
            .lines()
            .filter(|client| client.split(' ').any(|field| field == "sub=1"))
            .count(),
        _ => 0,
    }
}

license_gate_testkit::redis_test! {
    /// The deployment end to end: three processes, 1,000 licensees,
    /// a replica killed, Redis stopped and restarted, licensees revoked.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_replica_processes_share_the_checking_through_redis() {
        if std::env::var_os(CHILD).is_some() {
            return;
        }
        let started = Instant::now();
        let mut server = RedisServer::start().expect("redis-server starts");
        let redis_url = server.url();
        let observer = Replicas::connect(RedisOptions::new(&redis_url).namespace(NAMESPACE))
            .expect("a loopback Redis URL is accepted");
        let emulator = EcosireEmulator::start().await.expect("the emulator starts");
        let service = emulator.handle().clone();
        let mut limits = RateLimits::all(10, MINUTE);
        limits.validate = VALIDATIONS_PER_MINUTE;
        service.set_rate_limits(limits);
        for i in 0..LICENSEES {
            service.add_license(EmulatedLicense::new(key_of(i), LICENSE_SECRET));
        }
        let (offline, after_restart) = (id_of(REVOKED_OFFLINE), id_of(REVOKED_AFTER_RESTART));
        let mut deployment = Deployment::start(
            &redis_url,
            &emulator.url(),
            &format!("{offline},{after_restart}"),
        );
        for _ in 0..REPLICAS {
            deployment
                .expect("every replica adds its licensees", Duration::from_secs(60), |_, e| {
                    e["event"] == "ready"
                })
                .await;
        }
        let period = period();
        eprintln!("{REPLICAS} replicas ready after {:?}; period {period:?}", started.elapsed());

        // A quarter of the licensees validated: kill a replica mid-period.
        let checked = || async { observer.checked_at().await.expect("Redis answers").len() };
        let deadline = Instant::now() + period;
        while checked().await < LICENSEES / 4 {
            assert!(
                Instant::now() < deadline,
                "a quarter of the licensees are not validated within one period ({period:?})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        deployment.kill(0);
        let killed_at = Instant::now();
        eprintln!("killed replica 0 after {:?}", started.elapsed());

        // Every licensee validated within one period plus one lease of the
        // kill: the dead replica's leases expired and the others took over.
        let deadline = killed_at + period + LEASE;
        let mut done = checked().await;
        while done < LICENSEES && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            done = checked().await;
        }
        assert_eq!(
            LICENSEES - done,
            0,
            "licensees unchecked one period plus one lease ({:?}) after a replica was killed",
            period + LEASE
        );
        let all_checked_after = killed_at.elapsed();

        // Both survivors hold the authentic state of the licensees revoked
        // later (validated by one, published to the other).
        for replica in [1, 2] {
            for id in [&offline, &after_restart] {
                deployment.until_granted(replica, id, Duration::from_secs(5)).await;
            }
        }
        let validated = validations(&service);
        eprintln!(
            "all {LICENSEES} validated {all_checked_after:?} after the kill; {validated} validations"
        );
        assert!(
            validated * 100 <= LICENSEES * 105,
            "{validated} validations for {LICENSEES} licensees in one period: more than 1.05 per licensee"
        );

        // Redis down: the survivors keep serving what they validated...
        server.stop().expect("redis-server stops");
        for replica in [1, 2] {
            for i in (0..LICENSEES).step_by(97) {
                assert!(
                    deployment.grants(replica, &id_of(i)).await,
                    "replica {replica} stopped granting {} when Redis went down",
                    id_of(i)
                );
            }
        }
        // ...and a licensee revoked meanwhile is denied by the replica that
        // validates it, alone, within its share of the budget.
        service.revoke(&key_of(REVOKED_OFFLINE));
        deployment.send(1, &format!("refresh {offline}"));
        let (_, refreshed) = deployment
            .expect(
                "replica 1 validates a licensee while Redis is down",
                Duration::from_secs(30),
                |r, e| r == 1 && e["event"] == "refreshed" && e["id"] == offline.as_str(),
            )
            .await;
        assert_eq!(
            refreshed["grants"], false,
            "replica 1 granted {offline} after the service revoked it"
        );
        assert!(!deployment.grants(1, &offline).await, "replica 1 grants {offline} again");

        // Redis back on the same port, empty: the same processes reconnect.
        server.restart().expect("redis-server restarts");
        let restarted = Instant::now();
        for replica in [1, 2] {
            loop {
                deployment.send(replica, "ping");
                let (_, pong) = deployment
                    .expect(
                        &format!("replica {replica} answers a ping"),
                        Duration::from_secs(10),
                        |r, e| r == replica && e["event"] == "ping",
                    )
                    .await;
                if pong["ok"] == true {
                    break;
                }
                assert!(
                    restarted.elapsed() < Duration::from_secs(30),
                    "replica {replica} did not reconnect to the restarted Redis within 30 s"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        while subscribers(&redis_url) < 2 {
            assert!(
                restarted.elapsed() < Duration::from_secs(30),
                "the survivors' change feeds did not resubscribe within 30 s of the restart ({} subscribed)",
                subscribers(&redis_url)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let reconnected_after = restarted.elapsed();

        // A revocation after the restart: every survivor denies it within a
        // second of the first denial.
        service.revoke(&key_of(REVOKED_AFTER_RESTART));
        deployment.send(1, &format!("refresh {after_restart}"));
        let (_, refreshed) = deployment
            .expect(
                "replica 1 validates a licensee after Redis is back",
                Duration::from_secs(30),
                |r, e| r == 1 && e["event"] == "refreshed" && e["id"] == after_restart.as_str(),
            )
            .await;
        assert_eq!(
            refreshed["grants"], false,
            "replica 1 granted {after_restart} after the service revoked it"
        );
        let mut denied = BTreeMap::new();
        while denied.len() < 2 {
            let waiting: Vec<usize> = [1, 2].into_iter().filter(|r| !denied.contains_key(r)).collect();
            let (replica, event) = deployment
                .expect(
                    &format!(
                        "replica(s) {waiting:?} still grant {after_restart}, revoked on the service after \
                         Redis restarted (denied so far by {:?})",
                        denied.keys().collect::<Vec<_>>()
                    ),
                    Duration::from_secs(10),
                    |r, e| {
                        e["event"] == "denied"
                            && e["id"] == after_restart.as_str()
                            && !denied.contains_key(&r)
                    },
                )
                .await;
            denied.insert(replica, event["at_ms"].as_u64().expect("a time"));
        }
        let seen_by_all_ms = denied.values().max().unwrap() - denied.values().min().unwrap();
        assert!(
            seen_by_all_ms <= 1000,
            "the revocation reached the last survivor {seen_by_all_ms} ms after the first: more than 1 s"
        );
        for replica in [1, 2] {
            assert!(
                !deployment.grants(replica, &after_restart).await,
                "replica {replica} grants {after_restart} again"
            );
        }

        for replica in [1, 2] {
            deployment.send(replica, "exit");
        }
        eprintln!(
            "{}",
            serde_json::json!({
                "replicas": REPLICAS,
                "licensees": LICENSEES,
                "validations": validated,
                "all_checked_after_kill_ms": all_checked_after.as_millis() as u64,
                "reconnected_after_restart_ms": reconnected_after.as_millis() as u64,
                "revocation_seen_by_all_ms": seen_by_all_ms,
                "period_ms": period.as_millis() as u64,
                "run_ms": started.elapsed().as_millis() as u64,
            })
        );
    }
}
