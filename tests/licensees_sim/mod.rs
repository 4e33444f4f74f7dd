//! Many licensees in one server process on simulated time: one real
//! `Licensees` registry (its one scheduler, the ECOSIRE request budget, the
//! redb store) holding every licensee, against a simulated service that
//! counts the requests of every simulated minute. Shared by
//! `tests/licensees_sim.rs` (2,000 licensees) and `examples/licensees.rs`
//! (100,000).
//!
//! A run has two parts. [`populate`] is yesterday's server: it adds every
//! licensee with no stored record, lets each validate and activate (no
//! budget, so it takes no simulated time), and leaves their sealed records
//! in the store. [`run`] is today's: it starts from that store with the
//! ECOSIRE budget (30 validations and 10 activations a minute), measures
//! the start, the memory and the gated call, runs the simulated days,
//! revokes one licensee on the service and asks for its validation.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use license_gate::licensees::{
    LicenseeId, LicenseeStore, Licensees, RedbStore, StoreError, StoredRecord, TokenBucketBudget,
    Unlimited,
};
use license_gate::provider::{LicenseAnswer, LicenseRequest, Provider};
use license_gate::{
    LicenseError, LicenseGate, LicenseGateBuilder, LicenseStatus, ProviderError, VendorSecret,
    requires_feature,
};
use tokio::time::Instant;

/// One simulated minute: the service's window.
pub const MINUTE: Duration = Duration::from_secs(60);
/// One simulated day.
pub const DAY: Duration = Duration::from_secs(24 * 3600);
/// The validations ECOSIRE accepts a minute, for the whole account.
pub const VALIDATIONS_PER_MINUTE: u32 = 30;
/// The activations (and deactivations) ECOSIRE accepts a minute.
pub const ACTIVATIONS_PER_MINUTE: u32 = 10;
/// The share of the validation budget the heartbeat is planned to use: the
/// rest is room for the jitter, retries and validations asked for at once
/// (a revocation, a new licensee).
pub const PLANNED_SHARE: f64 = 0.8;
/// How long the simulated service takes to answer (a round trip over
/// HTTPS), in simulated time.
pub const LATENCY: Duration = Duration::from_millis(120);
/// The product every licensee holds.
pub const PRODUCT: &str = "Atlas Server";

/// The heartbeat period the budget allows for `licensees`: every licensee
/// validated once per period, using [`PLANNED_SHARE`] of the validations a
/// minute, rounded up to whole minutes. 100,000 licensees at 24 a minute
/// is 4,167 minutes (69.4 hours): a daily heartbeat for them would need
/// 69 validations a minute, more than twice the limit.
pub fn heartbeat_for(licensees: usize) -> Duration {
    let per_minute = f64::from(VALIDATIONS_PER_MINUTE) * PLANNED_SHARE;
    let minutes = (licensees as f64 / per_minute).ceil().max(1.0);
    MINUTE * minutes as u32
}

/// Licensee `i`'s identifier (the application's tenant ID).
pub fn id(i: usize) -> LicenseeId {
    LicenseeId::new(format!("tenant-{i:06}"))
}

fn key(i: usize) -> String {
    format!("SIM-{i:06}-KEY")
}

fn machine(i: usize) -> String {
    format!("tenant-{i:06}.example.com")
}

/// The licensee a request is for, from its key.
fn index_of(request: &LicenseRequest) -> Option<usize> {
    request
        .license_key
        .as_ref()?
        .expose()
        .strip_prefix("SIM-")?
        .strip_suffix("-KEY")?
        .parse()
        .ok()
}

/// Requests the service received in one simulated minute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Minute {
    /// Validations.
    pub validations: u32,
    /// Activations.
    pub activations: u32,
    /// Deactivations.
    pub deactivations: u32,
}

#[derive(Debug)]
struct ServerState {
    start: Instant,
    minutes: Vec<Minute>,
    /// Validations of each licensee.
    validated: Vec<u32>,
    revoked: Vec<bool>,
}

/// The simulated service: answers every licensee with "pro" unless revoked,
/// [`LATENCY`] after the request, and counts every request per simulated
/// minute from its creation.
#[derive(Clone, Debug)]
pub struct Server {
    state: Arc<Mutex<ServerState>>,
}

impl Server {
    /// A service for `licensees` licensees, counting from now.
    pub fn new(licensees: usize) -> Server {
        Server {
            state: Arc::new(Mutex::new(ServerState {
                start: Instant::now(),
                minutes: Vec::new(),
                validated: vec![0; licensees],
                revoked: vec![false; licensees],
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Revokes licensee `i`'s license: its next validation is answered
    /// "revoked".
    pub fn revoke(&self, i: usize) {
        if let Some(revoked) = self.lock().revoked.get_mut(i) {
            *revoked = true;
        }
    }

    /// The requests of every simulated minute so far.
    pub fn minutes(&self) -> Vec<Minute> {
        self.lock().minutes.clone()
    }

    /// How many licensees were validated at least once.
    pub fn validated_licensees(&self) -> usize {
        self.lock().validated.iter().filter(|n| **n > 0).count()
    }

    fn count(&self, count: impl FnOnce(&mut Minute)) {
        let mut state = self.lock();
        let minute = (state.start.elapsed().as_secs() / 60) as usize;
        if state.minutes.len() <= minute {
            state.minutes.resize(minute + 1, Minute::default());
        }
        count(&mut state.minutes[minute]);
    }

    /// The provider every licensee uses.
    pub fn provider(&self) -> SimProvider {
        SimProvider {
            server: self.clone(),
        }
    }
}

/// The provider of the simulated service, ECOSIRE's shape: validate, then
/// activate once per licensee after its first validation.
#[derive(Clone, Debug)]
pub struct SimProvider {
    server: Server,
}

#[async_trait]
impl Provider for SimProvider {
    fn name(&self) -> &str {
        "licensees-sim"
    }

    async fn validate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        self.server.count(|m| m.validations += 1);
        tokio::time::sleep(LATENCY).await;
        let i = index_of(request).unwrap_or(usize::MAX);
        let mut state = self.server.lock();
        if let Some(n) = state.validated.get_mut(i) {
            *n += 1;
        }
        if state.revoked.get(i).copied().unwrap_or(true) {
            return Ok(LicenseAnswer::denied(LicenseStatus::Revoked));
        }
        Ok(LicenseAnswer::licensed(["pro"]))
    }

    fn activates_on_first_validation(&self) -> bool {
        true
    }

    async fn activate_after_validation(
        &self,
        _request: &LicenseRequest,
        validated: LicenseAnswer,
    ) -> Result<LicenseAnswer, ProviderError> {
        self.server.count(|m| m.activations += 1);
        tokio::time::sleep(LATENCY).await;
        Ok(validated)
    }

    async fn deactivate(&self, _request: &LicenseRequest) -> Result<(), ProviderError> {
        self.server.count(|m| m.deactivations += 1);
        tokio::time::sleep(LATENCY).await;
        Ok(())
    }
}

/// The store of the simulation: the redb store, written once a simulated
/// minute. The registry writes changed records at most a second after they
/// change, which on a real clock is at most one synced transaction a
/// second; with two days passing in minutes of wall time, one per simulated
/// second would make the run a benchmark of the disk's sync. The records
/// written are the same; loading goes straight to the redb store.
#[derive(Debug)]
pub struct MinuteStore {
    redb: RedbStore,
    pending: Mutex<Pending>,
    writes: Mutex<u64>,
}

/// The records waiting for the next write, and when the last one was.
#[derive(Debug, Default)]
struct Pending {
    last_write: Option<Instant>,
    records: BTreeMap<LicenseeId, Vec<u8>>,
}

impl MinuteStore {
    /// The redb store, written once a simulated minute.
    pub fn new(redb: RedbStore) -> MinuteStore {
        MinuteStore {
            redb,
            pending: Mutex::new(Pending::default()),
            writes: Mutex::new(0),
        }
    }

    /// Writes what is pending now.
    pub async fn write_pending(&self) -> Result<(), StoreError> {
        let records: Vec<StoredRecord> = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            pending.last_write = Some(Instant::now());
            std::mem::take(&mut pending.records)
                .into_iter()
                .map(|(licensee, sealed)| StoredRecord { licensee, sealed })
                .collect()
        };
        if records.is_empty() {
            return Ok(());
        }
        *self.writes.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.redb.save(records).await
    }

    /// The transactions written to the redb store.
    pub fn writes(&self) -> u64 {
        *self.writes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl LicenseeStore for MinuteStore {
    async fn load_all(&self) -> Result<Vec<StoredRecord>, StoreError> {
        self.redb.load_all().await
    }

    async fn save(&self, records: Vec<StoredRecord>) -> Result<(), StoreError> {
        let due = {
            let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
            for record in records {
                pending.records.insert(record.licensee, record.sealed);
            }
            pending
                .last_write
                .is_none_or(|last| last.elapsed() >= MINUTE)
        };
        if due {
            self.write_pending().await?;
        }
        Ok(())
    }

    async fn forget(&self, licensee: &LicenseeId) -> Result<(), StoreError> {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .records
            .remove(licensee);
        self.redb.forget(licensee).await
    }
}

/// The error of the gated function.
#[derive(Debug)]
pub struct Denied(pub LicenseError);

impl From<LicenseError> for Denied {
    fn from(error: LicenseError) -> Self {
        Denied(error)
    }
}

/// A small function behind the "pro" feature: what a request handler calls.
#[requires_feature("pro")]
#[inline(never)]
pub fn gated(x: u64) -> Result<u64, Denied> {
    Ok(black_box(x).wrapping_mul(3))
}

/// The same function, ungated.
#[inline(never)]
pub fn ungated(x: u64) -> Result<u64, Denied> {
    Ok(black_box(x).wrapping_mul(3))
}

/// Nanoseconds per call of `f`, the best of `rounds` rounds of `calls`
/// calls. Timed in this thread's CPU time where the system has it (Linux),
/// so that time the thread spends preempted by other work on the machine is
/// not counted; else in wall time.
pub fn ns_per_call(f: fn(u64) -> Result<u64, Denied>, calls: u64, rounds: u32) -> f64 {
    let mut best = f64::INFINITY;
    for _ in 0..rounds {
        let started = CpuTime::now();
        let mut ok = 0u64;
        for i in 0..calls {
            ok += u64::from(black_box(f(black_box(i))).is_ok());
        }
        let ns = started.elapsed_ns() / calls as f64;
        assert_eq!(ok, calls, "every measured call is allowed");
        best = best.min(ns);
    }
    best
}

/// A start of a measurement in this thread's CPU time (Linux), or in wall
/// time elsewhere.
struct CpuTime {
    #[cfg(target_os = "linux")]
    ns: u128,
    #[cfg(not(target_os = "linux"))]
    wall: std::time::Instant,
}

impl CpuTime {
    #[cfg(target_os = "linux")]
    fn now() -> CpuTime {
        CpuTime {
            ns: thread_cpu_ns(),
        }
    }

    #[cfg(target_os = "linux")]
    fn elapsed_ns(&self) -> f64 {
        (thread_cpu_ns() - self.ns) as f64
    }

    #[cfg(not(target_os = "linux"))]
    fn now() -> CpuTime {
        CpuTime {
            wall: std::time::Instant::now(),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn elapsed_ns(&self) -> f64 {
        self.wall.elapsed().as_nanos() as f64
    }
}

#[cfg(target_os = "linux")]
fn thread_cpu_ns() -> u128 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    now.tv_sec as u128 * 1_000_000_000 + now.tv_nsec as u128
}

/// This process's resident memory in bytes (Linux: `/proc/self/statm`).
#[cfg(target_os = "linux")]
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// This process's resident memory: not read on this system.
#[cfg(not(target_os = "linux"))]
pub fn resident_bytes() -> Option<u64> {
    None
}

/// The vendor secret the simulated vendor builds with.
fn vendor_secret() -> VendorSecret {
    VendorSecret::new("the licensees simulation's vendor secret, 32+ bytes")
        .expect("a valid vendor secret")
}

fn builder(provider: SimProvider, licensees: usize) -> LicenseGateBuilder {
    LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .vendor_secret(vendor_secret())
        .heartbeat_interval(heartbeat_for(licensees))
        .jitter(0.1)
        .install_global(false)
}

/// Yesterday's server: adds `licensees` licensees with no stored record,
/// lets each validate and activate with no budget, and leaves their sealed
/// records in the redb store at `path`. Runs on paused time.
pub async fn populate(path: &Path, licensees: usize) -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::new(licensees);
    let registry = builder(server.provider(), licensees)
        .licensees()
        .store(RedbStore::open(path)?)
        .budget(Unlimited)
        .max_in_flight(256)
        .start()
        .await?;
    for i in 0..licensees {
        registry.add(id(i), key(i), machine(i))?;
    }
    // Every licensee validated and activated: then every record is queued.
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let activated: u32 = server.minutes().iter().map(|m| m.activations).sum();
        if activated as usize >= licensees {
            break;
        }
    }
    registry.flush().await;
    registry.shutdown().await;
    Ok(())
}

/// What to run.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// How many licensees (the store must hold their records: [`populate`]).
    pub licensees: usize,
    /// How long to run, simulated.
    pub simulated: Duration,
    /// When to revoke a licensee on the service, since the start.
    pub revoke_at: Duration,
    /// The redb store.
    pub store: PathBuf,
    /// Calls per round when timing the gated call (and rounds).
    pub timing_calls: u64,
    /// Rounds when timing the gated call.
    pub timing_rounds: u32,
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Licensees.
    pub licensees: usize,
    /// The heartbeat period used.
    pub heartbeat: Duration,
    /// Resident memory growth from before the start to the end of the run,
    /// per licensee (`None`: not measurable on this system).
    pub bytes_per_licensee: Option<f64>,
    /// A gated call in a licensee's scope, ns (this thread's CPU time on
    /// Linux: see [`ns_per_call`]).
    pub gated_call_ns: f64,
    /// The same call ungated, ns.
    pub ungated_call_ns: f64,
    /// Wall time from opening the store to every licensee answering a gated
    /// call allowed.
    pub start_from_store_ms: f64,
    /// Of the start: the store opened and loaded, and the registry started
    /// (ms since the start of the start).
    pub loaded_ms: f64,
    /// Of the start: every licensee added, its record opened (ms since the
    /// start of the start).
    pub added_ms: f64,
    /// Licensees granted from their stored record at the start.
    pub granted_from_store: usize,
    /// Validations the service received per simulated day.
    pub validations_per_day: f64,
    /// The busiest minute's validations over the mean minute's.
    pub peak_to_mean: f64,
    /// Minutes in which the service received more than its published limit.
    pub budget_exceeded_minutes: usize,
    /// Simulated time from the revocation on the service to the licensee's
    /// next gated call denied, when its validation is asked for at once.
    pub revocation_seen_ms: f64,
    /// Whether the other licensees kept their license after the revocation.
    pub others_unaffected: bool,
    /// Licensees the service validated at least once during the run.
    pub validated_licensees: usize,
    /// Licensees (other than the revoked one) not granted at the end.
    pub lost: usize,
    /// Validations of every simulated minute.
    pub validations_per_minute: Vec<u32>,
    /// The busiest minute's activations and deactivations.
    pub peak_activations: u32,
    /// Transactions written to the redb store during the run.
    pub store_writes: u64,
    /// Wall time of the simulated run (after the start).
    pub wall_s: f64,
}

/// Today's server: starts from the store, runs `config.simulated` of
/// simulated time, revokes one licensee on the service at
/// `config.revoke_at` and asks for its validation. Runs on paused time.
pub async fn run(config: RunConfig) -> Result<Report, Box<dyn std::error::Error>> {
    let n = config.licensees;
    let server = Server::new(n);
    let heartbeat = heartbeat_for(n);

    let memory_before = resident_bytes();
    let wall = std::time::Instant::now();
    let store = Arc::new(MinuteStore::new(RedbStore::open(&config.store)?));
    let registry = builder(server.provider(), n)
        .licensees()
        .shared_store(store.clone())
        .budget(TokenBucketBudget::ecosire())
        .start()
        .await?;
    let loaded_ms = wall.elapsed().as_secs_f64() * 1e3;
    let mut granted_from_store = 0;
    for i in 0..n {
        if registry.add(id(i), key(i), machine(i))?.grants_access() {
            granted_from_store += 1;
        }
    }
    let added_ms = wall.elapsed().as_secs_f64() * 1e3;
    let serving = serving(&registry, 0..n).await;
    let start_from_store_ms = wall.elapsed().as_secs_f64() * 1e3;
    if serving != n {
        return Err(format!(
            "{serving} of {n} licensees were served from the store at the start; populate the store first"
        )
        .into());
    }

    // The gated call in one licensee's scope, and the same call ungated.
    let (gated_call_ns, ungated_call_ns) = registry
        .scope(&id(0), async {
            let mut gated_ns = f64::INFINITY;
            let mut ungated_ns = f64::INFINITY;
            for _ in 0..config.timing_rounds {
                gated_ns = gated_ns.min(ns_per_call(gated, config.timing_calls, 1));
                ungated_ns = ungated_ns.min(ns_per_call(ungated, config.timing_calls, 1));
            }
            (gated_ns, ungated_ns)
        })
        .await;

    let start = Instant::now();
    let wall = std::time::Instant::now();
    tokio::time::sleep_until(start + config.revoke_at).await;
    let revoked = n / 2;
    let other = (revoked + 1) % n;
    server.revoke(revoked);
    let revoked_at = Instant::now();
    registry.refresh(&id(revoked)).await;
    let denied = registry
        .scope(&id(revoked), async { gated(7) })
        .await
        .is_err();
    let revocation_seen_ms = revoked_at.elapsed().as_secs_f64() * 1e3;
    if !denied {
        return Err("the revoked licensee's call was still allowed after its validation".into());
    }
    let others_unaffected = registry.scope(&id(other), async { gated(7) }).await.is_ok();

    tokio::time::sleep_until(start + config.simulated).await;
    let memory_after = resident_bytes();
    let lost = n - 1 - serving_except(&registry, n, revoked).await;
    let wall_s = wall.elapsed().as_secs_f64();

    registry.flush().await;
    store.write_pending().await?;
    let store_writes = store.writes();
    registry.shutdown().await;

    let minutes = server.minutes();
    let simulated_minutes = (config.simulated.as_secs() / 60).max(1) as usize;
    let mut validations_per_minute: Vec<u32> = minutes.iter().map(|m| m.validations).collect();
    validations_per_minute.resize(simulated_minutes.max(validations_per_minute.len()), 0);
    let total: u64 = validations_per_minute.iter().map(|v| u64::from(*v)).sum();
    let mean = total as f64 / validations_per_minute.len() as f64;
    let peak = validations_per_minute.iter().copied().max().unwrap_or(0);
    let budget_exceeded_minutes = minutes
        .iter()
        .filter(|m| {
            m.validations > VALIDATIONS_PER_MINUTE
                || m.activations > ACTIVATIONS_PER_MINUTE
                || m.deactivations > ACTIVATIONS_PER_MINUTE
        })
        .count();
    Ok(Report {
        licensees: n,
        heartbeat,
        bytes_per_licensee: memory_before
            .zip(memory_after)
            .map(|(before, after)| after.saturating_sub(before) as f64 / n as f64),
        gated_call_ns,
        ungated_call_ns,
        start_from_store_ms,
        loaded_ms,
        added_ms,
        granted_from_store,
        validations_per_day: total as f64 / (config.simulated.as_secs_f64() / DAY.as_secs_f64()),
        peak_to_mean: if mean > 0.0 {
            f64::from(peak) / mean
        } else {
            0.0
        },
        budget_exceeded_minutes,
        revocation_seen_ms,
        others_unaffected,
        validated_licensees: server.validated_licensees(),
        lost,
        validations_per_minute,
        peak_activations: minutes
            .iter()
            .map(|m| m.activations.max(m.deactivations))
            .max()
            .unwrap_or(0),
        store_writes,
        wall_s,
    })
}

/// How many of `licensees` answer a gated call in their scope allowed.
async fn serving(registry: &Licensees, licensees: std::ops::Range<usize>) -> usize {
    let mut allowed = 0;
    for i in licensees {
        if registry.scope(&id(i), async { gated(1) }).await.is_ok() {
            allowed += 1;
        }
    }
    allowed
}

async fn serving_except(registry: &Licensees, n: usize, except: usize) -> usize {
    serving(registry, 0..except).await + serving(registry, except + 1..n).await
}
