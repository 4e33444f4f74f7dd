//! Configuring and starting a gate.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use super::cell::StateCell;
use super::config::{GateConfig, ProductSlot};
use super::engine::{Engine, slot_request, supervise};
use super::global;
use super::handle::{GateInner, LicenseGate};
use super::own_runtime::OwnRuntime;
use crate::cache::{
    AnchorRead, Application, CacheLocation, CacheRejection, CachedState, Pairing, ProductCache,
    TimeAnchor, Unvouched, Vouched,
};
use crate::clock_floor::{self, ClockFloor};
use crate::error::GateError;
use crate::provider::Provider;
use crate::retry::RetryPolicy;
use crate::secret::LicenseKey;
use crate::state::{LicenseSnapshot, ProductState, Source};
use crate::time::{Clock, SystemClock};
use crate::vendor_secret::VendorSecret;

/// The longest heartbeat interval and grace period a builder takes: longer
/// ones are almost surely unit mistakes, and bounding them keeps every
/// instant the gate computes representable.
const MAX_PERIOD: Duration = Duration::from_secs(366 * 24 * 3600);
/// The longest start-up and request timeouts a builder takes.
const MAX_TIMEOUT: Duration = Duration::from_secs(600);

/// How much longer than a provider's suggested heartbeat interval the
/// default grace period is at least.
const SUGGESTED_GRACE_MARGIN: Duration = Duration::from_secs(7 * 24 * 3600);

/// The heartbeat interval the providers suggest: the shortest, when every
/// product's provider suggests one (kept between one second and the longest
/// period a builder takes); `None` when any has no suggestion.
fn suggested_heartbeat(slots: &[ProductSlot]) -> Option<Duration> {
    let mut shortest: Option<Duration> = None;
    for slot in slots {
        let interval = slot.provider.default_heartbeat_interval()?;
        shortest = Some(shortest.map_or(interval, |s| s.min(interval)));
    }
    shortest.map(|i| i.clamp(Duration::from_secs(1), MAX_PERIOD))
}

/// Configures a [`LicenseGate`]; made by [`LicenseGate::builder`].
///
/// `.product(..)` starts a product; the `.provider(..)` and `.license_key(..)`
/// calls after it apply to that product. The first product is the default
/// product, the one gated code checks when it names none.
///
/// ```
/// use std::time::Duration;
/// use license_gate::{LicenseGate, providers::mock::MockProvider};
///
/// let (studio, _) = MockProvider::licensed(["pro"]);
/// let (render, _) = MockProvider::licensed(["gpu"]);
/// let builder = LicenseGate::builder()
///     .product("Atlas Studio").provider(studio).license_key("AAAA-BBBB-CCCC-DDDD")
///     .product("Atlas Render").provider(render).license_key("EEEE-FFFF-GGGG-HHHH")
///     .heartbeat_interval(Duration::from_secs(7 * 24 * 3600))
///     .grace_period(Duration::from_secs(14 * 24 * 3600));
/// # let _ = builder;
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `.start()`"]
pub struct LicenseGateBuilder {
    products: Vec<ProductConfig>,
    config: GateConfig,
    install_global: bool,
    /// Whether `.heartbeat_interval(..)` was called (else the providers may
    /// suggest one).
    heartbeat_set: bool,
    /// Whether `.grace_period(..)` was called.
    grace_set: bool,
}

#[derive(Debug, Default)]
struct ProductConfig {
    name: Option<String>,
    provider: Option<Arc<dyn Provider>>,
    license_key: Option<LicenseKey>,
}

impl Default for LicenseGateBuilder {
    fn default() -> Self {
        LicenseGateBuilder {
            products: Vec::new(),
            config: GateConfig {
                heartbeat_interval: Duration::from_secs(24 * 3600),
                jitter: 0.1,
                retry: RetryPolicy::default(),
                grace_period: Duration::from_secs(7 * 24 * 3600),
                startup_timeout: Duration::from_secs(5),
                request_timeout: Duration::from_secs(30),
                clock: Arc::new(SystemClock),
                clock_floor: None,
                system_clock: true,
                cache: CacheLocation::Platform,
                anchor_dir: None,
                application: None,
                hardware_id: None,
                vendor_secret: None,
                activate_on_first_use: false,
                app_version: None,
                known_features: None,
            },
            install_global: true,
            heartbeat_set: false,
            grace_set: false,
        }
    }
}

impl LicenseGateBuilder {
    fn current(&mut self) -> &mut ProductConfig {
        if self.products.is_empty() {
            self.products.push(ProductConfig::default());
        }
        self.products.last_mut().expect("pushed above")
    }

    /// Starts the configuration of `product` (the first is the default product).
    pub fn product(mut self, product: impl Into<String>) -> Self {
        match self.products.last_mut() {
            Some(last) if last.name.is_none() => last.name = Some(product.into()),
            _ => self.products.push(ProductConfig {
                name: Some(product.into()),
                ..Default::default()
            }),
        }
        self
    }

    /// The provider that validates the current product.
    pub fn provider(mut self, provider: impl Provider) -> Self {
        self.current().provider = Some(Arc::new(provider));
        self
    }

    /// A provider already shared elsewhere.
    pub fn shared_provider(mut self, provider: Arc<dyn Provider>) -> Self {
        self.current().provider = Some(provider);
        self
    }

    /// The license key of the current product.
    pub fn license_key(mut self, key: impl Into<LicenseKey>) -> Self {
        self.current().license_key = Some(key.into());
        self
    }

    /// How often the license is validated while the server answers.
    ///
    /// Without this call the providers choose: when every product's provider
    /// suggests an interval ([`Provider::default_heartbeat_interval`]) the
    /// shortest of them is used (the ECOSIRE provider suggests weekly, as its
    /// guide asks), else 24 hours (ExisOne, the mock, your own providers).
    /// When a provider's suggestion is used and no `.grace_period(..)` is set,
    /// the grace period is at least that interval plus 7 days, so a server
    /// that is down at the moment of a heartbeat still leaves a week.
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.config.heartbeat_interval = interval;
        self.heartbeat_set = true;
        self
    }

    /// The fraction (0.0 to 1.0) by which each interval is randomly shortened,
    /// so a fleet does not call the server at the same moment (default 0.1).
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.config.jitter = fraction;
        self
    }

    /// The retries while the server cannot be reached (default: once after
    /// 30 s, then every 30 to 60 min; see [`RetryPolicy`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// How long the last confirmed state holds while the server cannot be
    /// reached (default 7 days; with a provider's suggested heartbeat, at
    /// least that interval plus 7 days, see
    /// [`heartbeat_interval`](LicenseGateBuilder::heartbeat_interval)).
    pub fn grace_period(mut self, grace: Duration) -> Self {
        self.config.grace_period = grace;
        self.grace_set = true;
        self
    }

    /// How long `start` waits for the first answer when there is no cached
    /// state (default 5 s); after it the gate runs with `Pending` and keeps trying.
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.config.startup_timeout = timeout;
        self
    }

    /// How long one provider call may take before it counts as unreachable
    /// (default 30 s).
    ///
    /// This is the call's one deadline, set when the call starts and handed
    /// to the provider in [`LicenseRequest::deadline`](crate::LicenseRequest::deadline):
    /// it bounds the whole call, every HTTP request in it included (ExisOne's
    /// activation and the validation after it, ECOSIRE's validation and the
    /// activation after it). The built-in providers bound each request by the
    /// time left until it, in place of their `HttpOptions::timeout`, and the
    /// gate reports their own `ProviderError::Timeout` (naming the server and
    /// this budget). A provider that ignores the deadline is cut off by the
    /// gate a moment (100 ms) after it, with a `Timeout` naming the provider.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// The wall clock (tests use `testing::TestClock`).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.config.clock = Arc::new(clock);
        self.config.system_clock = false;
        self
    }

    /// Where the gate looks for evidence that the clock was set back (default:
    /// [`ClockFloor::system`] with the system clock, none with a clock set
    /// by [`clock`](Self::clock)).
    ///
    /// When trusted time at start is earlier than the floor by more than its
    /// tolerance, a cached state and an offline code do not grant (the status
    /// is `Unlicensed` with [`CLOCK_SET_BACK`](crate::CLOCK_SET_BACK)) until
    /// the license server answers; the server's answer applies as always.
    pub fn clock_floor(mut self, floor: ClockFloor) -> Self {
        self.config.clock_floor = Some(floor);
        self
    }

    /// Where the tamper-evident cache of the last confirmed state lives
    /// (default [`CacheLocation::Platform`]). With a valid cache, start-up is
    /// immediate and makes no request until the next heartbeat is due.
    pub fn cache(mut self, location: CacheLocation) -> Self {
        self.config.cache = location;
        self
    }

    /// Keeps the cache in `dir`.
    pub fn cache_dir(self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.cache(CacheLocation::Dir(dir.into()))
    }

    /// Keeps no cache.
    pub fn no_cache(self) -> Self {
        self.cache(CacheLocation::Off)
    }

    /// The application's version (usually `env!("CARGO_PKG_VERSION")`), sent
    /// by every provider whose service takes one, so the server can answer
    /// "version outdated" ([`LicenseStatus::VersionOutdated`](crate::LicenseStatus::VersionOutdated),
    /// which names the oldest version it accepts). ExisOne sends it as
    /// `version` on validation and activation (the provider's own
    /// `ExisOneProvider::app_version`, when set, overrides it); the ECOSIRE
    /// protocol has no field for it, so ECOSIRE does not send it. A blank
    /// version is ignored.
    ///
    /// ```
    /// use license_gate::{LicenseGate, providers::mock::MockProvider};
    /// let (provider, _) = MockProvider::licensed(["pro"]);
    /// let builder = LicenseGate::builder()
    ///     .product("Atlas Studio")
    ///     .provider(provider)
    ///     .app_version(env!("CARGO_PKG_VERSION"));
    /// # let _ = builder;
    /// ```
    pub fn app_version(mut self, version: impl Into<String>) -> Self {
        let version = version.into();
        self.config.app_version = (!version.trim().is_empty()).then(|| version.trim().to_owned());
        self
    }

    /// The hardware ID that binds the cache to this machine (default: the
    /// machine's own, see [`crate::hardware_id`]); a blank ID is ignored.
    pub fn hardware_id(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        self.config.hardware_id = (!id.trim().is_empty()).then_some(id);
        self
    }

    /// Uses the hardware ID the official ExisOne SDKs compute
    /// ([`crate::exisone_sdk_hardware_id`]) for this machine: the cache is
    /// bound to it and the ExisOne provider sends it (unless its client has a
    /// `hardware_id_override`).
    ///
    /// Choose it when moving an application from an ExisOne SDK (Python,
    /// .NET, Node, Swift) to license-gate: existing activations keep their
    /// seat, and offline codes issued for SDK-computed IDs keep matching.
    /// Its cost: the kernel release, the C library version and the host name
    /// are part of that ID, so an OS upgrade or a rename makes the machine a
    /// new one (a new seat, a new offline code). Without a migration to
    /// honour, keep the default ([`crate::hardware_id`]), which leaves them out.
    ///
    /// ```
    /// use license_gate::{LicenseGate, providers::mock::MockProvider};
    ///
    /// let (provider, _) = MockProvider::licensed(["pro"]);
    /// let builder = LicenseGate::builder()
    ///     .product("Atlas Studio")
    ///     .provider(provider)
    ///     .license_key("ABCD-EFGH-JKMN-PQRS")
    ///     .exisone_sdk_hardware_id();
    /// # let _ = builder;
    /// ```
    pub fn exisone_sdk_hardware_id(self) -> Self {
        self.hardware_id(crate::sdk_hardware_id::exisone_sdk_hardware_id())
    }

    /// The vendor secret that authenticates the cache and the time anchors
    /// (see [`VendorSecret`] and `embed_secret!`).
    ///
    /// Without one, a cache never grants on its own: a start from it is
    /// `Pending` until the server (or a verified offline code) confirms,
    /// because everything else that keys the cache is known to the user.
    pub fn vendor_secret(mut self, secret: VendorSecret) -> Self {
        self.config.vendor_secret = Some(secret);
        self
    }

    /// Who the application is, so its cache and time anchor live in its own
    /// platform folders (default: named after the executable). Two vendors'
    /// products of the same name then never share a cache.
    pub fn application(mut self, vendor: impl Into<String>, name: impl Into<String>) -> Self {
        self.config.application = Some(Application {
            vendor: vendor.into(),
            name: name.into(),
        });
        self
    }

    /// A second folder for the time anchor, apart from the cache (default:
    /// the application's local data folder with [`CacheLocation::Platform`],
    /// the cache folder otherwise). The later time of the two places counts,
    /// so restoring an old cache does not roll trusted time back. The anchor
    /// also vouches for the cache: a cache whose anchor is missing (this
    /// folder emptied or changed), moved or from another write does not
    /// grant on its own until the server answers.
    pub fn time_anchor_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config.anchor_dir = Some(dir.into());
        self
    }

    /// Activates the license when the server says it is not activated on this
    /// installation yet (a fresh key), so the first run needs no extra code
    /// (default `false`; with ExisOne, set the licensee's email on the provider).
    ///
    /// One rule for every provider, kept by the gate: it activates
    /// - when a validation says the license is not activated on this
    ///   installation (ExisOne's `not_activated`) and this setting is on, or
    /// - after the first validation that grants access when the provider asks
    ///   for it ([`Provider::activates_on_first_validation`]; ECOSIRE does)
    ///   and no activation is recorded for this installation;
    ///
    /// and at most once per start (an activation that could not reach the
    /// server is tried again at the next validation; one the server refused
    /// is not). A successful activation is recorded in the cache, inside its
    /// authenticated content, so later starts of the same installation only
    /// validate. The record counts only with a
    /// [vendor secret](Self::vendor_secret) and a cache the time anchor
    /// vouches for: without a vendor secret the cache is not authentic, and a
    /// provider that activates on first validation activates once at every
    /// start. After [`LicenseGate::deactivate`] the gate does not activate
    /// again until the next start or [`LicenseGate::activate`].
    pub fn activate_on_first_use(mut self, activate: bool) -> Self {
        self.config.activate_on_first_use = activate;
        self
    }

    /// The features this application knows (for example from
    /// `license_gate::declared_features!()`); the gate logs once any feature a
    /// license grants that is not among them.
    pub fn known_features<I, S>(mut self, features: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.known_features = Some(features.into_iter().map(Into::into).collect());
        self
    }

    /// Whether `start` installs the gate as the process-wide gate that the
    /// attributes and free functions consult (default `true`). Parallel tests
    /// start gates with `false` and use [`LicenseGate::enter`] or [`LicenseGate::scope`].
    pub fn install_global(mut self, install: bool) -> Self {
        self.install_global = install;
        self
    }

    pub(crate) fn validate(self) -> Result<(Vec<ProductSlot>, GateConfig, bool), GateError> {
        if self.products.is_empty() {
            return Err(GateError::NoProduct);
        }
        let c = &self.config;
        if c.heartbeat_interval < Duration::from_secs(1) {
            return Err(GateError::Config(format!(
                "the heartbeat interval {:?} is too short: use at least one second",
                c.heartbeat_interval
            )));
        }
        for (name, value, max) in [
            ("heartbeat interval", c.heartbeat_interval, MAX_PERIOD),
            ("grace period", c.grace_period, MAX_PERIOD),
            ("start-up timeout", c.startup_timeout, MAX_TIMEOUT),
            ("request timeout", c.request_timeout, MAX_TIMEOUT),
            ("retry delay", c.retry.max, MAX_PERIOD),
        ] {
            if value > max {
                return Err(GateError::Config(format!(
                    "the {name} {value:?} is too long: use at most {max:?}"
                )));
            }
        }
        if c.request_timeout.is_zero() {
            return Err(GateError::Config(
                "the request timeout is zero: use at least a few seconds".to_owned(),
            ));
        }
        if !(0.0..=1.0).contains(&c.jitter) {
            return Err(GateError::Config(format!(
                "jitter {} is out of range: use a fraction from 0.0 to 1.0",
                c.jitter
            )));
        }
        let mut slots: Vec<ProductSlot> = Vec::new();
        for product in self.products {
            let Some(name) = product.name else {
                return Err(GateError::NoProduct);
            };
            if slots.iter().any(|s| s.name == name) {
                return Err(GateError::DuplicateProduct { product: name });
            }
            let Some(provider) = product.provider else {
                return Err(GateError::MissingProvider { product: name });
            };
            slots.push(ProductSlot {
                name,
                provider,
                license_key: product.license_key,
            });
        }
        let mut config = self.config;
        if !self.heartbeat_set
            && let Some(interval) = suggested_heartbeat(&slots)
        {
            config.heartbeat_interval = interval;
            if !self.grace_set {
                config.grace_period = config
                    .grace_period
                    .max(interval + SUGGESTED_GRACE_MARGIN)
                    .min(MAX_PERIOD);
            }
        }
        Ok((slots, config, self.install_global))
    }

    fn assemble(self) -> Result<(Arc<Engine>, bool), GateError> {
        let (slots, config, install_global) = self.validate()?;
        let application = config
            .application
            .clone()
            .unwrap_or_else(Application::from_executable);
        let hardware_id = match (&config.cache, &config.hardware_id) {
            (_, Some(id)) => id.clone(),
            (CacheLocation::Off, None) if config.anchor_dir.is_none() => String::new(),
            (_, None) => crate::hardware_id::hardware_id(),
        };
        // The caches and the anchor that vouches for them share one pairing.
        let pairing = Arc::new(Pairing::default());
        let caches = open_caches(&slots, &config, &application, &hardware_id, &pairing);
        let anchors = open_anchors(&config, &application, &hardware_id, &pairing);
        let anchor = anchors.first().map(TimeAnchor::read);

        // Trusted time at start: the later of the wall clock and every
        // record of the latest time seen (caches and anchors).
        let cached: Vec<_> = slots
            .iter()
            .zip(&caches)
            .map(|(slot, cache)| {
                cache.as_ref().and_then(|cache| match cache.load() {
                    Ok(cached) => Some(cached),
                    Err(CacheRejection::Missing) => None,
                    Err(reason) => {
                        tracing::warn!(product = %slot.name, path = %cache.path().display(), %reason, "license cache rejected; waiting for the server");
                        None
                    }
                })
            })
            .collect();
        let latest_seen = cached
            .iter()
            .flatten()
            .map(|c| c.latest_seen)
            .chain(anchor.as_ref().and_then(AnchorRead::latest_seen))
            .max();
        let pending = slots
            .iter()
            .map(|s| ProductState::pending(&s.name))
            .collect();
        let cell = Arc::new(StateCell::new(
            LicenseSnapshot::new(pending),
            config.clock.clone(),
            latest_seen,
        ));
        let now = cell.now();

        let mut products = Vec::with_capacity(slots.len());
        let mut activated_here = Vec::with_capacity(slots.len());
        let mut anchor_lags = false;
        for ((slot, cache), cached) in slots.iter().zip(&caches).zip(cached) {
            let request = slot_request(&config, slot, now);
            let evidence = slot.provider.verify_locally(&request);
            let from_cache = cached.filter(|cached| {
                if !cached.grants_on_its_own {
                    tracing::info!(product = %slot.name, "the license cache was written without a vendor secret, so it does not grant on its own; waiting for the server");
                }
                cached.grants_on_its_own
            });
            let vouched = match (&from_cache, cache) {
                (Some(cached), Some(cache)) => vouch(slot, cache, cached, anchor.as_ref()),
                _ => Err(Unvouched::AnchorMissing),
            };
            anchor_lags |= vouched.is_ok_and(|v| v.lagging);
            // An activation recorded in an authentic cache the anchor vouches
            // for: this installation need not activate again.
            let activated = vouched.is_ok() && from_cache.as_ref().is_some_and(|c| c.activated);
            if let Some(cache) = cache {
                cache.record_activation(activated);
            }
            activated_here.push(activated);
            let state = match (from_cache, evidence) {
                (Some(cached), Some(evidence)) if vouched.is_ok() => {
                    bounded_by_evidence(cached.state, &evidence)
                }
                (Some(cached), None) => {
                    let why_not = vouched.err().map(|why| why.to_string());
                    crate::grace::from_cache(
                        cached.state,
                        why_not.as_deref().map_or(Ok(()), Err),
                        now,
                        config.grace_period,
                    )
                }
                (_, Some(evidence)) => crate::grace::next_state(
                    &ProductState::pending(&slot.name),
                    &Ok(evidence),
                    now,
                    config.grace_period,
                ),
                (None, None) => ProductState::pending(&slot.name),
            };
            // Expiry and grace instants that passed while the program was not running.
            products.push(crate::grace::settle(state, now));
        }
        if anchor_lags && let Some(anchor) = anchors.first() {
            // A crash left the anchor one write behind a cache: catch it up
            // now, before the next write, so the pair stays vouched for.
            anchor.store(cell.latest_seen().unwrap_or(now));
        }
        // A clock set back behind what this machine's files show: no cached
        // state or offline code grants until the server answers.
        let set_back = clock_set_back(&config.clock_floor(), now);
        if set_back {
            products = products.into_iter().map(clock_floor::withhold).collect();
        }
        let ready_at_start = products.iter().all(|p| p.source != Source::None);
        cell.publish(LicenseSnapshot::new(products));
        let engine = Engine::new(cell, slots, caches, anchors, ready_at_start, config)
            .activated_here(&activated_here);
        engine.hold_for_clock_set_back(set_back);
        Ok((Arc::new(engine), install_global))
    }

    fn launch(
        engine: Arc<Engine>,
        install: bool,
        runtime: tokio::runtime::Handle,
        own_runtime: Option<OwnRuntime>,
    ) -> Result<(LicenseGate, oneshot::Receiver<()>), GateError> {
        if install && !global::install(engine.cell.clone()) {
            if let Some(own) = own_runtime {
                own.stop();
            }
            return Err(GateError::AlreadyInstalled);
        }
        let (stop, stop_rx) = watch::channel(false);
        let (started, started_rx) = oneshot::channel();
        let task = runtime.spawn(supervise(engine.clone(), stop_rx, started));
        let gate = LicenseGate {
            inner: Arc::new(GateInner {
                engine,
                global: install,
                stop,
                task: Mutex::new(Some(task)),
                own_runtime: Mutex::new(own_runtime),
            }),
        };
        if install {
            // The process keeps the global gate running until `shutdown`,
            // whether or not the caller keeps the handle.
            gate.keep_installed();
        }
        Ok((gate, started_rx))
    }

    /// Starts the gate: installs it (unless `.install_global(false)`), starts
    /// the heartbeat and returns once the first answer is in or the start-up
    /// timeout has passed, whichever comes first.
    ///
    /// Runs on the current tokio runtime, or on a small runtime of its own
    /// when called from another executor.
    pub async fn start(self) -> Result<LicenseGate, GateError> {
        let (engine, install) = self.assemble()?;
        let (runtime, own) = match tokio::runtime::Handle::try_current() {
            Ok(handle) => (handle, None),
            Err(_) => {
                let own = OwnRuntime::spawn()?;
                (own.handle.clone(), Some(own))
            }
        };
        let (gate, started) = Self::launch(engine, install, runtime, own)?;
        let _ = started.await;
        Ok(gate)
    }

    /// Starts the gate from a program without an async runtime (a plain
    /// `fn main`): the heartbeat runs on a small runtime of its own thread.
    ///
    /// ```
    /// use license_gate::{LicenseGate, providers::mock::MockProvider};
    ///
    /// fn main() -> Result<(), license_gate::GateError> {
    ///     let (provider, _handle) = MockProvider::licensed(["pro"]);
    ///     let gate = LicenseGate::builder()
    ///         .product("Atlas CLI")
    ///         .provider(provider)
    ///         .install_global(false)
    ///         .no_cache()
    ///         .start_blocking()?;
    ///     assert!(gate.has_feature("pro"));
    ///     gate.shutdown_blocking();
    ///     Ok(())
    /// }
    /// ```
    pub fn start_blocking(self) -> Result<LicenseGate, GateError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(GateError::Config(
                "`start_blocking` would block the async runtime it was called on: use `.start().await` there"
                    .to_owned(),
            ));
        }
        let (engine, install) = self.assemble()?;
        let own = OwnRuntime::spawn()?;
        let handle = own.handle.clone();
        let (gate, started) = Self::launch(engine, install, handle, Some(own))?;
        let _ = started.blocking_recv();
        Ok(gate)
    }
}

/// Whether trusted time `now` is behind the floor `floor` gives by more than
/// its tolerance (logged with both instants when it is).
fn clock_set_back(floor: &ClockFloor, now: std::time::SystemTime) -> bool {
    let found = floor.collect();
    let at = clock_floor::floor_of(&found);
    let set_back = clock_floor::is_set_back(now, at, floor.tolerance_value());
    if let (true, Some(at)) = (set_back, at) {
        let sources: std::collections::BTreeSet<&str> = found
            .iter()
            .filter(|c| c.at >= at)
            .map(|c| floor.source_name(c.source))
            .collect();
        tracing::warn!(
            clock = %crate::time::format_rfc3339(now),
            files_written_up_to = %crate::time::format_rfc3339(at),
            ?sources,
            "the system clock is set back; cached licenses and offline codes do not grant until the license server answers"
        );
    }
    set_back
}

/// Opens the cache of each product, bound to its key, this machine and the
/// vendor secret.
fn open_caches(
    slots: &[ProductSlot],
    config: &GateConfig,
    application: &Application,
    hardware_id: &str,
    pairing: &Arc<Pairing>,
) -> Vec<Option<ProductCache>> {
    let Some(dir) = config.cache.cache_dir(application) else {
        return slots.iter().map(|_| None).collect();
    };
    slots
        .iter()
        .map(|slot| {
            Some(
                ProductCache::new(
                    &dir,
                    &slot.name,
                    slot.license_key.as_ref(),
                    hardware_id,
                    config.vendor_secret.as_ref(),
                )
                .paired_with(pairing.clone()),
            )
        })
        .collect()
}

/// Opens the time anchors: the one apart from the cache, if any.
fn open_anchors(
    config: &GateConfig,
    application: &Application,
    hardware_id: &str,
    pairing: &Arc<Pairing>,
) -> Vec<TimeAnchor> {
    config
        .anchor_dir
        .clone()
        .or_else(|| config.cache.anchor_dir(application))
        .map(|dir| {
            TimeAnchor::new(&dir, hardware_id, config.vendor_secret.as_ref())
                .paired_with(pairing.clone())
        })
        .into_iter()
        .collect()
}

/// Whether the time anchor vouches for a product's cache (`None`: there is
/// no anchor folder); logged when it does not, since the cache then does not
/// grant until the server answers.
fn vouch(
    slot: &ProductSlot,
    cache: &ProductCache,
    cached: &CachedState,
    anchor: Option<&AnchorRead>,
) -> Result<Vouched, Unvouched> {
    let vouched = match anchor {
        Some(anchor) => cache.vouched_by(cached, anchor),
        None => Err(Unvouched::NoAnchorFolder),
    };
    if let Err(reason) = &vouched {
        tracing::warn!(product = %slot.name, path = %cache.path().display(), %reason, "the time anchor does not vouch for the license cache; it does not grant until the server answers");
    }
    vouched
}

/// A cached state never grants more than the provider's locally verified
/// evidence (a signed offline code) says: the evidence's denial wins, the
/// features are those both name, and the earlier expiry counts.
fn bounded_by_evidence(
    cached: ProductState,
    evidence: &crate::provider::LicenseAnswer,
) -> ProductState {
    if !evidence.status.grants_access() {
        return ProductState {
            status: evidence.status.clone(),
            features: Default::default(),
            expires_at: evidence.expires_at,
            source: evidence.source,
            ..cached
        };
    }
    let expires_at = match (cached.expires_at, evidence.expires_at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    ProductState {
        features: cached
            .features
            .intersection(&evidence.features)
            .cloned()
            .collect(),
        expires_at,
        source: Source::Cache,
        ..cached
    }
}

impl LicenseGate {
    /// Starts configuring a gate.
    pub fn builder() -> LicenseGateBuilder {
        LicenseGateBuilder::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{LicenseAnswer, LicenseRequest};
    use crate::{ProviderError, mock::MockProvider};

    /// A provider that suggests `interval`.
    #[derive(Debug)]
    struct Suggests(Duration);

    #[async_trait::async_trait]
    impl Provider for Suggests {
        fn name(&self) -> &str {
            "suggests"
        }
        async fn validate(&self, _: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
            Ok(LicenseAnswer::licensed(["pro"]))
        }
        fn default_heartbeat_interval(&self) -> Option<Duration> {
            Some(self.0)
        }
    }

    const DAY: Duration = Duration::from_secs(24 * 3600);
    const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);

    fn config(builder: LicenseGateBuilder) -> GateConfig {
        builder.validate().expect("a valid builder").1
    }

    #[test]
    fn providers_suggest_the_heartbeat_and_the_builder_overrides_it() {
        let mock = || MockProvider::licensed(["pro"]).0;
        // No suggestion: the gate's default.
        let c = config(LicenseGate::builder().product("a").provider(mock()));
        assert_eq!((c.heartbeat_interval, c.grace_period), (DAY, WEEK));
        // One suggestion: used, and grace leaves a week after it.
        let c = config(LicenseGate::builder().product("a").provider(Suggests(WEEK)));
        assert_eq!((c.heartbeat_interval, c.grace_period), (WEEK, 2 * WEEK));
        // Several: the shortest; any product without one keeps the default.
        let c = config(
            LicenseGate::builder()
                .product("a")
                .provider(Suggests(WEEK))
                .product("b")
                .provider(Suggests(3 * DAY)),
        );
        assert_eq!(c.heartbeat_interval, 3 * DAY);
        let c = config(
            LicenseGate::builder()
                .product("a")
                .provider(Suggests(WEEK))
                .product("b")
                .provider(mock()),
        );
        assert_eq!((c.heartbeat_interval, c.grace_period), (DAY, WEEK));
        // The builder's settings win, in any order.
        let c = config(
            LicenseGate::builder()
                .heartbeat_interval(2 * DAY)
                .product("a")
                .provider(Suggests(WEEK)),
        );
        assert_eq!((c.heartbeat_interval, c.grace_period), (2 * DAY, WEEK));
        let c = config(
            LicenseGate::builder()
                .product("a")
                .provider(Suggests(WEEK))
                .grace_period(3 * DAY),
        );
        assert_eq!((c.heartbeat_interval, c.grace_period), (WEEK, 3 * DAY));
        // A suggestion out of range is kept in range.
        let c = config(
            LicenseGate::builder()
                .product("a")
                .provider(Suggests(Duration::ZERO)),
        );
        assert_eq!(c.heartbeat_interval, Duration::from_secs(1));
    }
}
