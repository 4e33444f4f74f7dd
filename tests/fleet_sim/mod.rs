//! A fleet of installed applications on simulated time: many real
//! `LicenseGate`s (heartbeat, jitter, backoff, grace exactly as shipped) on one
//! tokio runtime with paused time, against one simulated license server that
//! counts the requests of every simulated second and can be taken down or
//! rate limited. Shared by `tests/fleet.rs` and `examples/fleet.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use license_gate::{
    LicenseGate, LicenseStatus, ProviderError,
    provider::{LicenseAnswer, LicenseRequest, Provider},
};
use tokio::time::Instant;

/// One hour.
pub const HOUR: Duration = Duration::from_secs(3600);
/// One day.
pub const DAY: Duration = Duration::from_secs(24 * 3600);

/// Per-window request limits of a server (ECOSIRE publishes 30 validations
/// and 10 activations a minute).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Validations accepted per window.
    pub validate: u32,
    /// Activations accepted per window.
    pub activate: u32,
    /// The window.
    pub window: Duration,
}

impl Limits {
    /// The published ECOSIRE limits.
    pub const ECOSIRE: Limits = Limits {
        validate: 30,
        activate: 10,
        window: Duration::from_secs(60),
    };
}

/// What happened in one simulated second.
#[derive(Clone, Copy, Debug, Default)]
pub struct Second {
    /// Requests that reached the server (answered, refused or rate limited);
    /// while it is down, the requests that tried.
    pub requests: u32,
    /// Requests answered with a license.
    pub answered: u32,
    /// Requests refused with HTTP 429.
    pub limited: u32,
}

#[derive(Debug)]
struct ServerState {
    start: Instant,
    down: bool,
    limits: Option<Limits>,
    window: u64,
    validations: u32,
    activations: u32,
    /// Whether each client has activated (only counted with limits).
    activated: Vec<bool>,
    seconds: Vec<Second>,
}

/// The simulated license server: counts every request per simulated second.
#[derive(Debug, Clone)]
pub struct Server {
    state: Arc<Mutex<ServerState>>,
}

impl Server {
    /// A server for `clients` clients, with `limits` if given.
    pub fn new(clients: usize, limits: Option<Limits>) -> Server {
        Server {
            state: Arc::new(Mutex::new(ServerState {
                start: Instant::now(),
                down: false,
                limits,
                window: 0,
                validations: 0,
                activations: 0,
                activated: vec![false; clients],
                seconds: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ServerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the server down (`true`) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// What happened in each simulated second so far.
    pub fn seconds(&self) -> Vec<Second> {
        self.lock().seconds.clone()
    }

    /// How many clients have activated.
    pub fn activated(&self) -> usize {
        self.lock().activated.iter().filter(|a| **a).count()
    }

    /// A provider for the client `index`.
    pub fn provider(&self) -> SimProvider {
        SimProvider {
            server: self.clone(),
        }
    }

    fn handle(&self, client: usize) -> Result<LicenseAnswer, ProviderError> {
        let mut state = self.lock();
        let elapsed = state.start.elapsed();
        let second = elapsed.as_secs() as usize;
        if state.seconds.len() <= second {
            state.seconds.resize(second + 1, Second::default());
        }
        state.seconds[second].requests += 1;
        if state.down {
            return Err(ProviderError::Unreachable {
                host: "127.0.0.1:9".to_owned(),
                detail: "connection refused".to_owned(),
            });
        }
        let Some(limits) = state.limits else {
            state.seconds[second].answered += 1;
            return Ok(LicenseAnswer::licensed(["pro"]));
        };
        // Fixed windows, as the service counts them.
        let window = elapsed.as_secs() / limits.window.as_secs().max(1);
        if window != state.window {
            state.window = window;
            state.validations = 0;
            state.activations = 0;
        }
        let reset = limits.window.saturating_sub(Duration::from_secs(
            elapsed.as_secs() % limits.window.as_secs().max(1),
        ));
        if state.validations >= limits.validate {
            state.seconds[second].limited += 1;
            return Err(ProviderError::RateLimited {
                retry_after: Some(reset),
            });
        }
        state.validations += 1;
        state.seconds[second].answered += 1;
        // The first validation of an installation activates it, as the
        // ECOSIRE provider does; an activation refused for the rate keeps
        // the validation's answer and is tried again at the next validation.
        if !state.activated.get(client).copied().unwrap_or(true) {
            state.seconds[second].requests += 1;
            if state.activations >= limits.activate {
                state.seconds[second].limited += 1;
            } else {
                state.activations += 1;
                state.seconds[second].answered += 1;
                if let Some(done) = state.activated.get_mut(client) {
                    *done = true;
                }
            }
        }
        Ok(LicenseAnswer::licensed(["pro"]))
    }
}

/// The provider every simulated client uses: one request to the server per call.
#[derive(Debug, Clone)]
pub struct SimProvider {
    server: Server,
}

#[async_trait]
impl Provider for SimProvider {
    fn name(&self) -> &str {
        "fleet-sim"
    }

    async fn validate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        let client = request
            .license_key
            .as_ref()
            .and_then(|key| key.expose().strip_prefix("FLEET-")?.parse().ok())
            .unwrap_or(usize::MAX);
        self.server.handle(client)
    }
}

/// What the clients saw, from their own gates' published states.
#[derive(Debug, Default)]
pub struct ClientStats {
    /// Clients whose license lapsed after it had been granted.
    pub lost: usize,
    /// Clients in grace now.
    pub in_grace: usize,
    /// The latest moment (since the start) a client left grace confirmed.
    pub last_confirmed_again: Option<Duration>,
    /// When each client was first licensed (since the start).
    pub first_licensed: Vec<Option<Duration>>,
}

/// A simple deterministic generator (SplitMix64), so runs start the same.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// A number in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A running fleet.
pub struct Fleet {
    /// The server.
    pub server: Server,
    /// What the clients saw.
    pub stats: Arc<Mutex<ClientStats>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    stop: tokio::sync::watch::Sender<bool>,
    start: Instant,
}

impl Fleet {
    /// Starts `clients` clients with the default gate settings, each at a
    /// random moment within `spread` (installed apps do not start together).
    /// Must run on a runtime with paused time.
    pub fn start(clients: usize, spread: Duration, server: Server, seed: u64) -> Fleet {
        let stats = Arc::new(Mutex::new(ClientStats {
            first_licensed: vec![None; clients],
            ..ClientStats::default()
        }));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let start = Instant::now();
        let mut random = SplitMix(seed);
        let tasks = (0..clients)
            .map(|client| {
                let delay = spread.mul_f64(random.unit());
                let provider = server.provider();
                let stats = stats.clone();
                let mut stopped = stopped.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let gate = LicenseGate::builder()
                        .product("Atlas Studio")
                        .provider(provider)
                        .license_key(format!("FLEET-{client}"))
                        .install_global(false)
                        .no_cache()
                        .start()
                        .await;
                    let Ok(gate) = gate else { return };
                    watch(&gate, client, &stats, start, &mut stopped).await;
                    gate.shutdown().await;
                })
            })
            .collect();
        Fleet {
            server,
            stats,
            tasks,
            stop,
            start,
        }
    }

    /// Simulated time since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Runs simulated time up to `at` since the start.
    pub async fn run_until(&self, at: Duration) {
        tokio::time::sleep_until(self.start + at).await;
    }

    /// Stops every client.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Follows one client's published states into the shared statistics.
async fn watch(
    gate: &LicenseGate,
    client: usize,
    stats: &Mutex<ClientStats>,
    start: Instant,
    stopped: &mut tokio::sync::watch::Receiver<bool>,
) {
    let mut changes = gate.subscribe();
    let mut granted = false;
    let mut in_grace = false;
    loop {
        let status = changes.borrow_and_update().products[0].status.clone();
        {
            let mut stats = stats.lock().unwrap_or_else(|e| e.into_inner());
            let grace = matches!(status, LicenseStatus::Grace { .. });
            if grace != in_grace {
                if grace {
                    stats.in_grace += 1;
                } else {
                    stats.in_grace -= 1;
                    let at = start.elapsed();
                    stats.last_confirmed_again = stats.last_confirmed_again.max(Some(at));
                }
                in_grace = grace;
            }
            if status.grants_access() && !granted {
                granted = true;
                if let Some(first) = stats.first_licensed.get_mut(client) {
                    first.get_or_insert(start.elapsed());
                }
            } else if granted && !status.grants_access() {
                granted = false;
                stats.lost += 1;
            }
        }
        tokio::select! {
            changed = changes.changed() => if changed.is_err() { return },
            _ = stopped.changed() => return,
        }
    }
}

/// Requests per second averaged over bins of `bin` seconds, from `seconds`.
pub fn per_second(seconds: &[Second], bin: usize, pick: fn(&Second) -> u32) -> Vec<f64> {
    seconds
        .chunks(bin.max(1))
        .map(|chunk| chunk.iter().map(|s| f64::from(pick(s))).sum::<f64>() / bin.max(1) as f64)
        .collect()
}

/// The numbers of the outage scenario.
#[derive(Debug, Clone)]
pub struct OutageReport {
    /// Clients simulated.
    pub clients: usize,
    /// Requests per second, mean over the steady day before the outage.
    pub steady_mean: f64,
    /// The highest bin (requests per second over `bin` seconds) from the end
    /// of the outage to the end of the run.
    pub recovery_peak: f64,
    /// The highest bin in the steady day (the noise of a Poisson-like load).
    pub steady_peak: f64,
    /// The highest bin while the server was down (attempts that failed).
    pub outage_peak: f64,
    /// The bin length in seconds.
    pub bin: usize,
    /// From the end of the outage until the last client in grace was confirmed.
    pub all_confirmed_after: Option<Duration>,
    /// Clients that entered grace.
    pub in_grace_at_recovery: usize,
    /// Clients whose license lapsed.
    pub lost: usize,
    /// Requests per second per bin over the whole run.
    pub curve: Vec<f64>,
    /// When the outage started and ended (seconds since the start).
    pub outage: (u64, u64),
}

/// 10,000 clients (or `clients`) with the default interval: one day to start
/// and spread, one steady day, a one-hour outage at the start of day three,
/// then a day of recovery.
pub async fn outage_scenario(clients: usize, bin: usize) -> OutageReport {
    let server = Server::new(clients, None);
    let fleet = Fleet::start(clients, DAY, server.clone(), 0x5eed);
    let outage_start = 2 * DAY;
    let outage_end = outage_start + HOUR;
    fleet.run_until(outage_start).await;
    server.set_down(true);
    fleet.run_until(outage_end).await;
    let in_grace_at_recovery = fleet
        .stats
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .in_grace;
    server.set_down(false);
    fleet.run_until(3 * DAY).await;
    let seconds = server.seconds();
    let (lost, last) = {
        let stats = fleet.stats.lock().unwrap_or_else(|e| e.into_inner());
        (stats.lost, stats.last_confirmed_again)
    };
    fleet.stop().await;
    let curve = per_second(&seconds, bin, |s| s.requests);
    let at = |t: Duration| (t.as_secs() as usize / bin).min(curve.len());
    let steady = &curve[at(DAY)..at(outage_start)];
    let during = &curve[at(outage_start)..at(outage_end)];
    let recovery = &curve[at(outage_end)..];
    OutageReport {
        clients,
        steady_mean: steady.iter().sum::<f64>() / steady.len().max(1) as f64,
        steady_peak: steady.iter().copied().fold(0.0, f64::max),
        outage_peak: during.iter().copied().fold(0.0, f64::max),
        recovery_peak: recovery.iter().copied().fold(0.0, f64::max),
        bin,
        all_confirmed_after: last
            .filter(|at| *at >= outage_end)
            .map(|at| at - outage_end),
        in_grace_at_recovery,
        lost,
        curve,
        outage: (outage_start.as_secs(), outage_end.as_secs()),
    }
}

/// The numbers of the release-day scenario.
#[derive(Debug, Clone)]
pub struct ReleaseReport {
    /// Clients simulated.
    pub clients: usize,
    /// The hours over which the clients started.
    pub launch: Duration,
    /// Requests per second per bin: all that reached the server.
    pub requests: Vec<f64>,
    /// Requests per second per bin answered.
    pub answered: Vec<f64>,
    /// Requests refused with HTTP 429 in all.
    pub limited: u64,
    /// Requests in all.
    pub total: u64,
    /// When the last client was first licensed (since the start).
    pub all_licensed_after: Option<Duration>,
    /// Clients licensed after one hour.
    pub licensed_after_hour: usize,
    /// Clients activated at the end.
    pub activated: usize,
    /// How long was simulated.
    pub simulated: Duration,
    /// The bin length in seconds.
    pub bin: usize,
    /// Clients whose license lapsed.
    pub lost: usize,
}

/// Release day: `clients` start within `launch` against the ECOSIRE rate
/// limits (counted for the whole service), and run for `simulated`.
pub async fn release_scenario(
    clients: usize,
    launch: Duration,
    simulated: Duration,
    bin: usize,
) -> ReleaseReport {
    let server = Server::new(clients, Some(Limits::ECOSIRE));
    let fleet = Fleet::start(clients, launch, server.clone(), 0x1a0c4);
    fleet.run_until(simulated).await;
    let seconds = server.seconds();
    let activated = server.activated();
    let (first, lost) = {
        let stats = fleet.stats.lock().unwrap_or_else(|e| e.into_inner());
        (stats.first_licensed.clone(), stats.lost)
    };
    fleet.stop().await;
    let all_licensed_after = first
        .iter()
        .try_fold(Duration::ZERO, |latest, at| at.map(|at| latest.max(at)));
    ReleaseReport {
        clients,
        launch,
        requests: per_second(&seconds, bin, |s| s.requests),
        answered: per_second(&seconds, bin, |s| s.answered),
        limited: seconds.iter().map(|s| u64::from(s.limited)).sum(),
        total: seconds.iter().map(|s| u64::from(s.requests)).sum(),
        all_licensed_after,
        licensed_after_hour: first
            .iter()
            .filter(|at| at.is_some_and(|at| at <= HOUR))
            .count(),
        activated,
        simulated,
        bin,
        lost,
    }
}
