//! Replicas of one server sharing the checking through Redis, measured.
//!
//! ```text
//! cargo run --release -p examples-providers --example replicas -- --replicas 3 --licensees 1000
//! ```
//!
//! Starts `redis-server` on a free loopback port (or uses `REDIS_URL`), the
//! ECOSIRE emulator with one license per licensee (its published limit: 30
//! validations per simulated minute), and the replicas as processes of their
//! own, each running a licensee registry with `RedisCoordination` and the
//! shared `RedisBudget`. Then one heartbeat period: every licensee is
//! validated once for the whole deployment; a replica is killed mid-way
//! (its leases expire and the others take its licensees over); a licensee is
//! revoked and one replica asked to validate it; every replica must deny it.
//!
//! Time runs for real (Redis keeps real time), with a simulated minute of
//! `--minute-ms` (default 1,000 ms) so the period fits in seconds. Shorter
//! minutes make the budget's slack (a twentieth of a minute) smaller than the
//! jitter of a loaded machine's loopback requests. The last line is one
//! JSON object; every number in it is measured in this run.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use license_gate::licensees::{LicenseeId, Licensees};
use license_gate::providers::HttpOptions;
use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider};
use license_gate::replicas::{RedisBudget, RedisCoordination, RedisOptions, Replicas};
use license_gate::{LicenseGate, VendorSecret};
use license_gate_testkit::ecosire::{EcosireEmulator, EmulatedLicense, RateLimits};
use license_gate_testkit::redis::RedisServer;

const PRODUCT: &str = "Shop Booster";
const LICENSE_SECRET: &str = "shop-booster-demo-secret";
/// The service's published limit per minute.
const VALIDATIONS_PER_MINUTE: u32 = 30;
/// A lease outlives a validation queued behind the budget.
const LEASE: Duration = Duration::from_secs(3);

#[derive(Debug, Clone)]
struct Args {
    replicas: usize,
    licensees: usize,
    minute: Duration,
    child: Option<usize>,
    redis: Option<String>,
    emulator: Option<String>,
    watch: Option<String>,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        replicas: 3,
        licensees: 1000,
        minute: Duration::from_millis(1000),
        child: None,
        redis: None,
        emulator: None,
        watch: None,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = || given.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--replicas" => {
                args.replicas = value()?.parse().map_err(|e| format!("--replicas: {e}"))?
            }
            "--licensees" => {
                args.licensees = value()?.parse().map_err(|e| format!("--licensees: {e}"))?
            }
            "--minute-ms" => {
                args.minute = Duration::from_millis(
                    value()?.parse().map_err(|e| format!("--minute-ms: {e}"))?,
                )
            }
            "--child" => args.child = Some(value()?.parse().map_err(|e| format!("--child: {e}"))?),
            "--redis" => args.redis = Some(value()?),
            "--emulator" => args.emulator = Some(value()?),
            "--watch" => args.watch = Some(value()?),
            other => {
                return Err(format!(
                    "unknown argument {other}: use --replicas N --licensees N [--minute-ms MS]"
                ));
            }
        }
    }
    if args.replicas < 2 || args.licensees == 0 {
        return Err("use at least 2 replicas and 1 licensee".to_owned());
    }
    Ok(args)
}

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
/// every licensee once, plus a quarter of headroom (a deployment whose period
/// leaves none cannot catch up after a fault).
fn period(args: &Args) -> Duration {
    let minutes = (args.licensees * 5).div_ceil(VALIDATIONS_PER_MINUTE as usize * 4) as u32;
    args.minute * minutes.max(1)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    match args.child {
        Some(index) => runtime.block_on(replica(index, args)),
        None => runtime.block_on(deployment(args)),
    }
}

/// One replica: a licensee registry coordinated through Redis. Prints one
/// JSON line per event on stdout; reads commands (`refresh ID`) on stdin.
async fn replica(index: usize, args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let redis_url = args.redis.clone().ok_or("--redis is missing")?;
    let emulator = args.emulator.clone().ok_or("--emulator is missing")?;
    let replicas = Replicas::connect(
        RedisOptions::new(redis_url)
            .namespace("replicas-example")
            .replica(format!("replica-{index}"))
            .lease(LEASE)
            .fresh_for(period(&args) * 2),
    )?;
    let provider = EcosireProvider::from_options(
        EcosireOptions::new(emulator)
            .license_secret(LICENSE_SECRET)
            .platform("odoo", "18.0")
            .http(
                HttpOptions::new()
                    .allow_insecure_loopback()
                    .timeout(Duration::from_secs(5)),
            ),
    )?
    .features(["pro"])
    .activate_on_first_validation(false);
    let licensees: Licensees = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .vendor_secret(VendorSecret::new(
            "the vendor secret of the replicas example",
        )?)
        .heartbeat_interval(period(&args) * 3)
        .request_timeout(Duration::from_secs(2))
        .install_global(false)
        .licensees()
        .coordination(RedisCoordination::new(&replicas))
        .budget(RedisBudget::with_window(
            &replicas,
            args.minute,
            VALIDATIONS_PER_MINUTE,
            10,
            10,
        ))
        .max_in_flight(16)
        .start()
        .await?;
    for i in 0..args.licensees {
        licensees.add(
            id_of(i),
            key_of(i).as_str(),
            format!("{}.shop.example", id_of(i)),
        )?;
    }
    println!("{{\"event\":\"ready\",\"replica\":{index}}}");

    if let Some(watched) = args.watch.clone() {
        let mut states = licensees
            .subscribe(&LicenseeId::new(&watched))
            .ok_or("the watched licensee is not added")?;
        tokio::spawn(async move {
            let mut granted = false;
            loop {
                let grants = states.borrow_and_update().products[0]
                    .status
                    .grants_access();
                if grants {
                    granted = true;
                } else if granted {
                    println!(
                        "{{\"event\":\"denied\",\"replica\":{index},\"at_ms\":{}}}",
                        unix_ms()
                    );
                    return;
                }
                if states.changed().await.is_err() {
                    return;
                }
            }
        });
    }

    // Commands from the deployment, one per line.
    let (lines, mut commands) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    while let Some(command) = commands.recv().await {
        match command.split_once(' ') {
            Some(("refresh", id)) => {
                licensees.refresh(&LicenseeId::new(id)).await;
            }
            _ if command == "exit" => break,
            _ => eprintln!("replica {index}: unknown command {command}"),
        }
    }
    licensees.shutdown().await;
    Ok(())
}

/// A replica process and the lines it printed.
struct Process {
    child: Child,
    stdin: ChildStdin,
}

/// The deployment: Redis, the emulator, the replicas, and the measurements.
async fn deployment(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let _own_redis;
    let redis_url = match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            let server = RedisServer::start()?;
            let url = server.url();
            _own_redis = server;
            url
        }
    };
    let replicas = Replicas::connect(RedisOptions::new(&redis_url).namespace("replicas-example"))?;
    replicas.ping().await?;
    eprintln!("Redis at {}", replicas.masked_url());
    let emulator = EcosireEmulator::start().await?;
    let service = emulator.handle().clone();
    let mut limits = RateLimits::all(10, args.minute);
    limits.validate = VALIDATIONS_PER_MINUTE;
    service.set_rate_limits(limits);
    for i in 0..args.licensees {
        service.add_license(EmulatedLicense::new(key_of(i), LICENSE_SECRET));
    }
    let watched = args.licensees / 2;

    let (events, received) = mpsc::channel::<(usize, serde_json::Value)>();
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let mut processes = Vec::new();
    for index in 0..args.replicas {
        let mut child = Command::new(&exe)
            .args([
                "--child",
                &index.to_string(),
                "--redis",
                &redis_url,
                "--emulator",
                &emulator.url(),
            ])
            .args(["--licensees", &args.licensees.to_string()])
            .args(["--minute-ms", &args.minute.as_millis().to_string()])
            .args(["--watch", &id_of(watched)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let events = events.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str(&line) {
                    let _ = events.send((index, event));
                }
            }
        });
        processes.push(Process { child, stdin });
    }

    // Kill one replica a little into the period: whatever it held is lost
    // with it.
    let period = period(&args);
    tokio::time::sleep(period / 4).await;
    processes[0].child.kill()?;
    processes[0].child.wait()?;
    let killed_at = Instant::now();
    eprintln!("killed replica 0 after {:?}", started.elapsed());

    // Every licensee validated within one period plus one lease of the kill?
    let deadline = killed_at + period + LEASE;
    let mut checked = 0;
    while Instant::now() < deadline {
        checked = replicas.checked_at().await?.len();
        if checked >= args.licensees {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let unchecked_after_kill = args.licensees.saturating_sub(checked);
    eprintln!(
        "{checked} of {} licensees validated after {:?}",
        args.licensees,
        started.elapsed()
    );
    let validations_in_period = validations(&service);

    // Revoke one licensee, and ask one surviving replica to validate it.
    service.revoke(&key_of(watched));
    writeln!(processes[1].stdin, "refresh {}", id_of(watched))?;
    let mut denied: BTreeMap<usize, u64> = BTreeMap::new();
    let wait_until = Instant::now() + Duration::from_secs(10);
    while denied.len() < args.replicas - 1 && Instant::now() < wait_until {
        if let Ok((index, event)) = received.recv_timeout(Duration::from_millis(100))
            && event["event"] == "denied"
        {
            denied.insert(index, event["at_ms"].as_u64().unwrap_or_default());
        }
    }
    let revocation_seen_by_all_ms = match (
        denied.len() == args.replicas - 1,
        denied.values().min(),
        denied.values().max(),
    ) {
        (true, Some(first), Some(last)) => serde_json::json!(last - first),
        _ => serde_json::Value::Null,
    };

    for process in &mut processes[1..] {
        let _ = writeln!(process.stdin, "exit");
    }
    for process in &mut processes[1..] {
        let _ = process.child.wait();
    }

    let requests = service.requests();
    let window_ms = args.minute.as_millis() as u64;
    let mut per_minute: BTreeMap<u64, u32> = BTreeMap::new();
    for request in requests.iter().filter(|r| r.path.ends_with("/validate")) {
        let at = request
            .received_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        *per_minute.entry(at / window_ms).or_default() += 1;
    }
    let budget_exceeded_minutes = per_minute
        .values()
        .filter(|&&n| n > VALIDATIONS_PER_MINUTE)
        .count();
    let busiest = per_minute.values().max().copied().unwrap_or(0);

    println!(
        "{}",
        serde_json::json!({
            "replicas": args.replicas,
            "licensees": args.licensees,
            "validations": validations_in_period,
            "validations_per_licensee": validations_in_period as f64 / args.licensees as f64,
            "revocation_seen_by_all_ms": revocation_seen_by_all_ms,
            "replicas_denying": denied.len(),
            "unchecked_after_kill": unchecked_after_kill,
            "budget_exceeded_minutes": budget_exceeded_minutes,
            "busiest_minute_validations": busiest,
            "limit_per_minute": VALIDATIONS_PER_MINUTE,
            "minute_ms": window_ms,
            "period_ms": period.as_millis() as u64,
            "run_ms": started.elapsed().as_millis() as u64,
        })
    );
    Ok(())
}

/// Validation requests the emulator received so far.
fn validations(service: &license_gate_testkit::ecosire::EcosireHandle) -> usize {
    service
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/validate"))
        .count()
}
