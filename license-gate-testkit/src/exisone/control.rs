//! The emulator's records (licenses, tokens, versions) and the control handle
//! that changes them while a test runs.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use super::offline::{OfflineCodeMinter, OfflineCodeSpec};
use crate::faults::FaultControl;
use crate::log::{RecordedRequest, RequestLog};

/// A permission of an access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Permission {
    /// Validate licenses (`POST /api/license/validate`).
    Verify,
    /// Generate activation keys (`POST /api/activationkey/generate`).
    Generate,
    /// Send support tickets (`POST /api/support/ticket`).
    Email,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 3] = [Permission::Verify, Permission::Generate, Permission::Email];

    /// The permission's name as the service spells it.
    pub fn name(self) -> &'static str {
        match self {
            Permission::Verify => "verify",
            Permission::Generate => "generate",
            Permission::Email => "email",
        }
    }
}

/// Where a license stands on the emulated server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LicenseState {
    /// In force.
    Active,
    /// Revoked by the vendor.
    Revoked,
    /// Suspended (for example, a payment is past due).
    Suspended,
}

/// A license record of the emulated server.
///
/// ```
/// use license_gate_testkit::exisone::EmulatedLicense;
/// let license = EmulatedLicense::new("AAAA-BBBB-CCCC-DDDD", "Atlas Studio")
///     .features(["pro", "export"])
///     .seats(5);
/// assert_eq!(license.max_seats, Some(5));
/// assert!(license.corporate);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmulatedLicense {
    /// The activation key.
    pub key: String,
    /// The product name it is for (compared without regard to case).
    pub product: String,
    /// The licensee's email address (set by activation when empty).
    pub email: String,
    /// The licensed features.
    pub features: Vec<String>,
    /// When it expires; `None` never.
    pub expires_at: Option<SystemTime>,
    /// Activations allowed; `None` unlimited. Standard licenses allow one.
    pub max_seats: Option<u32>,
    /// Whether it is a corporate (multi-seat) license with seat usage.
    pub corporate: bool,
    /// Where it stands.
    pub state: LicenseState,
    /// The hardware IDs it is activated on.
    pub activations: Vec<String>,
}

impl EmulatedLicense {
    /// A standard (one-seat) license for `product`, active, never expiring,
    /// with no features.
    pub fn new(key: impl Into<String>, product: impl Into<String>) -> Self {
        EmulatedLicense {
            key: key.into(),
            product: product.into(),
            email: String::new(),
            features: Vec::new(),
            expires_at: None,
            max_seats: Some(1),
            corporate: false,
            state: LicenseState::Active,
            activations: Vec::new(),
        }
    }

    /// Sets the features.
    pub fn features<I, S>(mut self, features: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.features = features.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the expiry instant.
    pub fn expires_at(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// Makes it a corporate license with `seats` seats.
    pub fn seats(mut self, seats: u32) -> Self {
        self.max_seats = Some(seats);
        self.corporate = true;
        self
    }

    /// Makes it a corporate license without a seat limit.
    pub fn unlimited_seats(mut self) -> Self {
        self.max_seats = None;
        self.corporate = true;
        self
    }

    /// Counts it as already activated on `hardware_id`.
    pub fn activated_on(mut self, hardware_id: impl Into<String>) -> Self {
        self.activations.push(hardware_id.into());
        self
    }

    /// Sets the licensee's email address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }

    pub(crate) fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    pub(crate) fn is_bound_to(&self, hardware_id: &str) -> bool {
        self.activations
            .iter()
            .any(|h| h.eq_ignore_ascii_case(hardware_id.trim()))
    }
}

#[derive(Debug)]
pub(crate) struct Records {
    pub(crate) licenses: HashMap<String, EmulatedLicense>,
    pub(crate) tokens: HashMap<String, BTreeSet<Permission>>,
    pub(crate) minimum_version: Option<String>,
    pub(crate) server_version: String,
    pub(crate) generated: u64,
}

impl Records {
    pub(crate) fn license_mut(&mut self, key: &str) -> Option<&mut EmulatedLicense> {
        self.licenses.get_mut(&normalise(key))
    }

    pub(crate) fn insert(&mut self, license: EmulatedLicense) {
        self.licenses.insert(normalise(&license.key), license);
    }
}

/// Keys are compared without regard to case and surrounding white space.
fn normalise(key: &str) -> String {
    key.trim().to_ascii_uppercase()
}

/// The state shared by the handlers and the control handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) records: Mutex<Records>,
    pub(crate) log: RequestLog,
    pub(crate) faults: FaultControl,
    pub(crate) minter: OfflineCodeMinter,
}

impl Shared {
    pub(crate) fn new(token: &str) -> Self {
        let mut tokens = HashMap::new();
        tokens.insert(token.to_owned(), Permission::ALL.into_iter().collect());
        Shared {
            records: Mutex::new(Records {
                licenses: HashMap::new(),
                tokens,
                minimum_version: None,
                server_version: "1.0.0".to_owned(),
                generated: 0,
            }),
            log: RequestLog::default(),
            faults: FaultControl::default(),
            minter: OfflineCodeMinter::test_key(),
        }
    }

    pub(crate) fn records(&self) -> MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Changes the emulated ExisOne service while a test runs; cheap to clone.
///
/// Methods that name a license panic with a clear message when the emulator
/// has no such license: that is a mistake in the test.
#[derive(Clone, Debug)]
pub struct ExisOneControl {
    pub(crate) shared: Arc<Shared>,
}

impl ExisOneControl {
    fn with_license<T>(&self, key: &str, f: impl FnOnce(&mut EmulatedLicense) -> T) -> T {
        let mut records = self.shared.records();
        let license = records.license_mut(key).unwrap_or_else(|| {
            panic!("the emulator has no license with this key: add it with `add_license` first")
        });
        f(license)
    }

    /// Adds (or replaces) a license.
    pub fn add_license(&self, license: EmulatedLicense) {
        self.shared.records().insert(license);
    }

    /// Removes a license: its key is unknown from now on (404 `not_found`).
    pub fn remove_license(&self, key: &str) {
        self.shared.records().licenses.remove(&normalise(key));
    }

    /// The license with `key`, as it stands now.
    pub fn license(&self, key: &str) -> Option<EmulatedLicense> {
        self.shared.records().license_mut(key).map(|l| l.clone())
    }

    /// The keys of every license, sorted.
    pub fn license_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .shared
            .records()
            .licenses
            .values()
            .map(|l| l.key.clone())
            .collect();
        keys.sort();
        keys
    }

    /// Revokes the license.
    pub fn revoke(&self, key: &str) {
        self.with_license(key, |l| l.state = LicenseState::Revoked);
    }

    /// Suspends the license.
    pub fn suspend(&self, key: &str) {
        self.with_license(key, |l| l.state = LicenseState::Suspended);
    }

    /// Puts a revoked or suspended license back in force.
    pub fn reinstate(&self, key: &str) {
        self.with_license(key, |l| l.state = LicenseState::Active);
    }

    /// Makes the license expired (its expiry a day ago).
    pub fn expire(&self, key: &str) {
        let yesterday = SystemTime::now() - Duration::from_secs(86_400);
        self.with_license(key, |l| l.expires_at = Some(yesterday));
    }

    /// Sets the license's expiry (`None`: never).
    pub fn set_expiry(&self, key: &str, at: Option<SystemTime>) {
        self.with_license(key, |l| l.expires_at = at);
    }

    /// Sets the license's features.
    pub fn set_features<I, S>(&self, key: &str, features: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let features = features.into_iter().map(Into::into).collect();
        self.with_license(key, |l| l.features = features);
    }

    /// Activates the license on `hardware_id`, as if the client had.
    pub fn bind(&self, key: &str, hardware_id: &str) {
        let hardware_id = hardware_id.to_owned();
        self.with_license(key, |l| {
            if !l.is_bound_to(&hardware_id) {
                l.activations.push(hardware_id);
            }
        });
    }

    /// The hardware IDs the license is activated on.
    pub fn activations(&self, key: &str) -> Vec<String> {
        self.with_license(key, |l| l.activations.clone())
    }

    /// Clients older than `minimum` get `version_outdated` (`None`: no minimum).
    pub fn set_minimum_version(&self, minimum: Option<&str>) {
        self.shared.records().minimum_version = minimum.map(str::to_owned);
    }

    /// The version the server reports (`serverVersion`).
    pub fn set_server_version(&self, version: &str) {
        self.shared.records().server_version = version.to_owned();
    }

    /// Adds an access token with these permissions (replacing one of the same value).
    pub fn add_token(&self, token: &str, permissions: &[Permission]) {
        self.shared
            .records()
            .tokens
            .insert(token.to_owned(), permissions.iter().copied().collect());
    }

    /// Removes an access token.
    pub fn remove_token(&self, token: &str) {
        self.shared.records().tokens.remove(token);
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.all()
    }

    /// The latest request received.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared.log.last()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// The fault side of the handle: fail N with a status, delay, drop, go down.
    pub fn faults(&self) -> FaultControl {
        self.shared.faults.clone()
    }

    /// A signed offline code for `spec`, with the test key.
    pub fn mint_offline_code(&self, spec: &OfflineCodeSpec) -> String {
        self.shared.minter.mint(spec)
    }

    /// The public key (PEM) that verifies the emulator's offline codes.
    pub fn offline_public_key_pem(&self) -> String {
        self.shared.minter.public_key_pem().to_owned()
    }
}
