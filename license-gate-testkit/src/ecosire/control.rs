//! The control handle of the ECOSIRE emulator and the state behind it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use crate::faults::FaultControl;
use crate::log::{RecordedRequest, RequestLog};

/// A license status as the ECOSIRE service names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EmulatedStatus {
    /// `active`.
    Active,
    /// `expired`.
    Expired,
    /// `suspended`.
    Suspended,
    /// `revoked`.
    Revoked,
}

impl EmulatedStatus {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EmulatedStatus::Active => "active",
            EmulatedStatus::Expired => "expired",
            EmulatedStatus::Suspended => "suspended",
            EmulatedStatus::Revoked => "revoked",
        }
    }

    /// The service's message for a license in this status, when it is not active.
    pub fn message(self) -> Option<&'static str> {
        match self {
            EmulatedStatus::Active => None,
            EmulatedStatus::Expired => Some("License expired"),
            EmulatedStatus::Suspended => Some("License suspended"),
            EmulatedStatus::Revoked => Some("License revoked"),
        }
    }
}

/// A license the emulator knows, made with [`EmulatedLicense::new`].
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use license_gate_testkit::ecosire::{EmulatedLicense, EmulatedStatus};
///
/// let license = EmulatedLicense::new("SHOP-A1B2-C3D4-E5F6-G7H8", "test-secret")
///     .activation_limit(2)
///     .expires_at(SystemTime::now() + Duration::from_secs(30 * 86_400))
///     .status(EmulatedStatus::Active);
/// assert!(!format!("{license:?}").contains("test-secret"));
/// ```
#[derive(Clone)]
pub struct EmulatedLicense {
    pub(crate) key: String,
    pub(crate) secret: String,
    pub(crate) status: EmulatedStatus,
    pub(crate) activation_limit: Option<u32>,
    pub(crate) expires_at: Option<SystemTime>,
    pub(crate) bindings: Vec<String>,
}

impl EmulatedLicense {
    /// An active license for `key` (matched exactly, as sent), whose requests
    /// are signed with `secret`; no expiry and no activation limit until set.
    pub fn new(key: impl Into<String>, secret: impl Into<String>) -> Self {
        EmulatedLicense {
            key: key.into().trim().to_owned(),
            secret: secret.into(),
            status: EmulatedStatus::Active,
            activation_limit: None,
            expires_at: None,
            bindings: Vec::new(),
        }
    }

    /// How many domains or installations may be activated at once.
    pub fn activation_limit(mut self, limit: u32) -> Self {
        self.activation_limit = Some(limit);
        self
    }

    /// The license expires at `at` (an active license reads as expired from then on).
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// The license status.
    pub fn status(mut self, status: EmulatedStatus) -> Self {
        self.status = status;
        self
    }

    /// The status as of `now`: an active license past its expiry is expired.
    pub(crate) fn effective_status(&self, now: SystemTime) -> EmulatedStatus {
        match self.status {
            EmulatedStatus::Active if self.expires_at.is_some_and(|at| now >= at) => {
                EmulatedStatus::Expired
            }
            other => other,
        }
    }
}

impl fmt::Debug for EmulatedLicense {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatedLicense")
            .field(
                "key",
                &license_gate_runtime::LicenseKey::new(self.key.as_str()),
            )
            .field("secret", &"<redacted>")
            .field("status", &self.status)
            .field("activation_limit", &self.activation_limit)
            .field("expires_at", &self.expires_at)
            .field("bindings", &self.bindings)
            .finish()
    }
}

/// Per-endpoint request limits, counted in fixed windows.
///
/// The defaults are the published ones: 30 validations and 10 activations a
/// minute; deactivation has no published limit and shares the activation one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimits {
    /// Requests to `/licenses/validate` per window.
    pub validate: u32,
    /// Requests to `/licenses/activate` per window.
    pub activate: u32,
    /// Requests to `/licenses/deactivate` per window.
    pub deactivate: u32,
    /// The window length.
    pub window: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            validate: 30,
            activate: 10,
            deactivate: 10,
            window: Duration::from_secs(60),
        }
    }
}

impl RateLimits {
    /// The same limit for every endpoint, per `window`.
    pub fn all(limit: u32, window: Duration) -> Self {
        RateLimits {
            validate: limit,
            activate: limit,
            deactivate: limit,
            window,
        }
    }
}

/// The endpoints, for rate limiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Endpoint {
    Validate,
    Activate,
    Deactivate,
}

/// One rate-limit window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub(crate) started: SystemTime,
    pub(crate) count: u32,
}

#[derive(Debug)]
pub(crate) struct EmulatorState {
    pub(crate) licenses: HashMap<String, EmulatedLicense>,
    pub(crate) wrapped: bool,
    pub(crate) limits: RateLimits,
    pub(crate) windows: HashMap<Endpoint, Window>,
    pub(crate) tolerance: Duration,
}

impl Default for EmulatorState {
    fn default() -> Self {
        EmulatorState {
            licenses: HashMap::new(),
            wrapped: false,
            limits: RateLimits::default(),
            windows: HashMap::new(),
            tolerance: Duration::from_secs(300),
        }
    }
}

/// Controls a running ECOSIRE emulator; cheap to clone.
///
/// Changes take effect for the next request. Methods that name a key panic
/// when no license with that key was added, so a typo in a test fails loudly.
#[derive(Clone, Debug, Default)]
pub struct EcosireHandle {
    pub(crate) state: Arc<Mutex<EmulatorState>>,
    pub(crate) faults: FaultControl,
    pub(crate) log: RequestLog,
}

impl EcosireHandle {
    pub(crate) fn lock(&self) -> MutexGuard<'_, EmulatorState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[track_caller]
    fn with_license<T>(&self, key: &str, f: impl FnOnce(&mut EmulatedLicense) -> T) -> T {
        let mut state = self.lock();
        match state.licenses.get_mut(key.trim()) {
            Some(license) => f(license),
            None => panic!(
                "the ECOSIRE emulator has no license with the key {}: add it with `add_license` first",
                license_gate_runtime::LicenseKey::new(key)
            ),
        }
    }

    /// Adds (or replaces) a license.
    pub fn add_license(&self, license: EmulatedLicense) {
        self.lock().licenses.insert(license.key.clone(), license);
    }

    /// Whether a license with `key` was added (and not removed).
    pub fn has_license(&self, key: &str) -> bool {
        self.lock().licenses.contains_key(key.trim())
    }

    /// The keys of every license, sorted.
    pub fn license_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.lock().licenses.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// A license's status as of now (an active license past its expiry is
    /// expired); `None` when there is no such license.
    pub fn status_of(&self, key: &str) -> Option<EmulatedStatus> {
        self.lock()
            .licenses
            .get(key.trim())
            .map(|l| l.effective_status(SystemTime::now()))
    }

    /// Removes a license: its key is unknown from now on (404 `License not found`).
    pub fn remove_license(&self, key: &str) {
        self.lock().licenses.remove(key.trim());
    }

    /// Sets a license's status.
    #[track_caller]
    pub fn set_status(&self, key: &str, status: EmulatedStatus) {
        self.with_license(key, |l| l.status = status);
    }

    /// Revokes a license.
    #[track_caller]
    pub fn revoke(&self, key: &str) {
        self.set_status(key, EmulatedStatus::Revoked);
    }

    /// Suspends a license (a payment is past due).
    #[track_caller]
    pub fn suspend(&self, key: &str) {
        self.set_status(key, EmulatedStatus::Suspended);
    }

    /// Marks a license expired.
    #[track_caller]
    pub fn expire(&self, key: &str) {
        self.set_status(key, EmulatedStatus::Expired);
    }

    /// Makes a license active again.
    #[track_caller]
    pub fn restore(&self, key: &str) {
        self.set_status(key, EmulatedStatus::Active);
    }

    /// Sets or clears a license's expiry.
    #[track_caller]
    pub fn set_expiry(&self, key: &str, at: Option<SystemTime>) {
        self.with_license(key, |l| l.expires_at = at);
    }

    /// Sets or clears a license's activation limit.
    #[track_caller]
    pub fn set_activation_limit(&self, key: &str, limit: Option<u32>) {
        self.with_license(key, |l| l.activation_limit = limit);
    }

    /// Activates `domain` directly, as if another installation had (ignores the limit).
    #[track_caller]
    pub fn bind(&self, key: &str, domain: &str) {
        self.with_license(key, |l| {
            if !l.bindings.iter().any(|b| b == domain) {
                l.bindings.push(domain.to_owned());
            }
        });
    }

    /// The domains or installations a license is activated on, oldest first.
    #[track_caller]
    pub fn bindings(&self, key: &str) -> Vec<String> {
        self.with_license(key, |l| l.bindings.clone())
    }

    /// Whether replies come wrapped as `{"data": {...}, "error": null}` (and
    /// errors as `{"data": null, "error": {...}}`); default plain.
    pub fn set_wrapped_replies(&self, wrapped: bool) {
        self.lock().wrapped = wrapped;
    }

    /// Replaces the rate limits and starts fresh windows.
    pub fn set_rate_limits(&self, limits: RateLimits) {
        let mut state = self.lock();
        state.limits = limits;
        state.windows.clear();
    }

    /// How far a request's timestamp may be from the emulator's clock, either
    /// way (default 5 minutes: ECOSIRE publishes no tolerance, so this is the
    /// emulator's choice). A request outside it gets 400 "Request timestamp is
    /// too far from the server time", which clients retry with the time of
    /// that reply's `Date`.
    pub fn set_timestamp_tolerance(&self, tolerance: Duration) {
        self.lock().tolerance = tolerance;
    }

    /// The fault side: fail the next N requests, delay, drop, go down.
    pub fn faults(&self) -> &FaultControl {
        &self.faults
    }

    /// Every request received so far (faulted and rate-limited ones included;
    /// none while the service is down, as connections are closed unread).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log.all()
    }

    /// The most recent request.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.log.last()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.log.clear();
    }
}
