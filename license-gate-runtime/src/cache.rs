//! The tamper-evident cache of the last confirmed license state.
//!
//! One file per product holds its last state and the latest wall time the
//! runtime has seen. The file starts with an HMAC-SHA256 of its body, keyed
//! (HKDF) from the vendor secret, the product, the license key and the
//! hardware ID: a cache that was edited, truncated, or copied from another
//! machine (or written for another key) fails the check and is rejected with
//! a log line, never trusted.
//!
//! Only the vendor secret is unknown to the application's user. A cache
//! written without one is authentic only in the sense that anyone could have
//! written it: it still carries the latest time seen, but its state never
//! grants on its own ([`CachedState::grants_on_its_own`]).
//!
//! Writes are atomic: the new state goes to a temporary file in the same
//! folder, is flushed to disk, and replaces the old file by rename. A process
//! killed mid-write leaves the old cache or the new one, never a mix; a failed
//! write keeps the old cache.
//!
//! The caches and the time anchor vouch for each other ([`Pairing`]): every
//! cache names the installation (an identifier drawn at its first write), the
//! folder it was written in and its generation (bumped at every write); the
//! anchor names the installation, its own folder and the generation of every
//! cache it vouches for, all inside the authenticated content. A cache grants
//! on its own only when the anchor beside it vouches for it ([`vouch`]): a
//! deleted, moved or restored record on either side is caught at start. The
//! cache is written first and the anchor after it, and a cache one write
//! ahead of its anchor is still vouched for, so a crash between the two
//! writes leaves a pair that grants what the newer cache says, never more.
//!
//! A cache also records that the license was activated on this installation
//! (`activated`, inside the authenticated content; absent in caches written
//! before it, which read as "no record"). The gate trusts the record only
//! when the cache is keyed by a vendor secret and vouched for by its anchor,
//! and then does not activate again at the next start.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secret::LicenseKey;
use crate::state::{LicenseStatus, ProductState, SeatUsage, Source};
use crate::time::{from_unix_millis, to_millis};
use crate::vendor_secret::VendorSecret;

/// How far a cached instant may lie ahead of the time it was written before
/// the cache counts as forged.
pub(crate) const CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(300);

/// The largest cache file read; a real one is a few hundred bytes.
const MAX_CACHE_BYTES: u64 = 64 * 1024;

/// Format 2: keys derived with HKDF from the vendor secret.
const FORMAT: u32 = 2;

/// Where a gate keeps its cache.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheLocation {
    /// The platform's folders for the application (see
    /// `LicenseGateBuilder::application`): the cache in its cache folder
    /// (`$XDG_CACHE_HOME/<app>` or `~/.cache/<app>` on Linux,
    /// `~/Library/Caches/<vendor>.<app>` on macOS,
    /// `%LOCALAPPDATA%\<vendor>\<app>\cache` on Windows), and the time anchor
    /// in its local data folder.
    Platform,
    /// This folder, for the cache and (unless set apart) the time anchor.
    Dir(PathBuf),
    /// No cache: every start waits for the server (up to the start-up timeout).
    Off,
}

/// Who the application is, for its folders: vendor and application name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Application {
    pub(crate) vendor: String,
    pub(crate) name: String,
}

impl Application {
    /// The application named after the running executable, when the builder
    /// was not told (`LicenseGateBuilder::application`).
    pub(crate) fn from_executable() -> Self {
        let name = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.file_stem()?.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "license-gate".to_owned());
        Application {
            vendor: String::new(),
            name,
        }
    }

    /// `base` joined with this application's folder, the way the platform
    /// names it.
    fn folder(&self, base: PathBuf, windows_leaf: &str) -> PathBuf {
        let (vendor, name) = (slug(&self.vendor), slug(&self.name));
        if cfg!(target_os = "windows") {
            let mut dir = base;
            if !vendor.is_empty() {
                dir.push(&self.vendor);
            }
            dir.join(&self.name).join(windows_leaf)
        } else if cfg!(target_os = "macos") && !vendor.is_empty() {
            base.join(format!("{vendor}.{name}"))
        } else {
            base.join(name)
        }
    }
}

impl CacheLocation {
    /// The folder of the cache.
    pub(crate) fn cache_dir(&self, app: &Application) -> Option<PathBuf> {
        match self {
            CacheLocation::Platform => {
                Some(app.folder(dirs::cache_dir()?, "cache").join("license"))
            }
            CacheLocation::Dir(dir) => Some(dir.clone()),
            CacheLocation::Off => None,
        }
    }

    /// The folder of the time anchor: apart from the cache where the
    /// platform has a second folder, so that one deletion does not take both.
    pub(crate) fn anchor_dir(&self, app: &Application) -> Option<PathBuf> {
        match self {
            CacheLocation::Platform => {
                Some(app.folder(dirs::data_local_dir()?, "data").join("license"))
            }
            CacheLocation::Dir(dir) => Some(dir.clone()),
            CacheLocation::Off => None,
        }
    }
}

/// Why a cache file was not used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CacheRejection {
    #[error("no cache file")]
    Missing,
    #[error("the cache file could not be read: {0}")]
    Unreadable(std::io::Error),
    #[error("the cache file is larger than {MAX_CACHE_BYTES} bytes")]
    TooLarge,
    #[error("the cache file is damaged (no integrity line)")]
    NoTag,
    #[error(
        "the cache file failed its integrity check (edited, truncated, or from another machine or key)"
    )]
    BadTag,
    #[error("the cache file is not in a known format: {0}")]
    BadFormat(String),
    #[error("the cache file is for product `{0}`")]
    OtherProduct(String),
    #[error(
        "the cache file claims a confirmation later than the time it was written (forged, or written by a clock far ahead)"
    )]
    FromTheFuture,
}

/// The stored form of one product's state.
#[derive(Serialize, Deserialize)]
struct CacheBody {
    format: u32,
    product: String,
    #[serde(flatten)]
    status: LicenseStatus,
    features: BTreeSet<String>,
    expires_at_ms: Option<u64>,
    source: Source,
    last_confirmed_ms: Option<u64>,
    seats: Option<SeatUsage>,
    latest_seen_ms: u64,
    /// The installation, the folder and the generation of this write
    /// ([`Pairing`]); absent in caches written before records vouched for
    /// each other, which therefore never grant on their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    paired: Option<CachePairing>,
    /// The license was activated on this installation (the gate's record);
    /// absent (false) in caches written before the record existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    activated: bool,
}

/// What a cache says about the write that made it: the installation it
/// belongs to, the folder it was written in, and its generation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CachePairing {
    pub(crate) install: String,
    pub(crate) dir: String,
    pub(crate) generation: u64,
}

/// What a valid cache file holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CachedState {
    pub(crate) state: ProductState,
    pub(crate) latest_seen: SystemTime,
    /// The key was derived from a vendor secret, so only the vendor's build
    /// could have written this file.
    pub(crate) grants_on_its_own: bool,
    /// The installation, folder and generation the cache names (`None`:
    /// written by an earlier version).
    pub(crate) paired: Option<CachePairing>,
    /// The cache records an activation on this installation (trusted only
    /// when it grants on its own and the anchor vouches for it).
    pub(crate) activated: bool,
}

/// The cache file of one product, bound to its license key and machine.
pub(crate) struct ProductCache {
    path: PathBuf,
    key: [u8; 32],
    product: String,
    keyed_by_vendor: bool,
    pairing: Arc<Pairing>,
    /// The activation record the next write stores.
    activated: AtomicBool,
    /// The activation record the file holds (as last read or written).
    activated_on_disk: AtomicBool,
}

impl std::fmt::Debug for ProductCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProductCache")
            .field("path", &self.path)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl ProductCache {
    /// The cache of `product` in `dir`, keyed from the vendor secret, the
    /// product, the license key and the hardware ID.
    pub(crate) fn new(
        dir: &Path,
        product: &str,
        license_key: Option<&LicenseKey>,
        hardware_id: &str,
        vendor_secret: Option<&VendorSecret>,
    ) -> Self {
        let key = VendorSecret::derive(
            vendor_secret,
            "license-gate cache v2",
            &[
                product,
                license_key.map_or("", LicenseKey::expose),
                hardware_id,
            ],
        );
        ProductCache {
            path: absolute(&dir.join(file_name(product))),
            key,
            product: product.to_owned(),
            keyed_by_vendor: vendor_secret.is_some(),
            pairing: Arc::default(),
            activated: AtomicBool::new(false),
            activated_on_disk: AtomicBool::new(false),
        }
    }

    /// Sets the activation record the next write stores.
    pub(crate) fn record_activation(&self, activated: bool) {
        self.activated.store(activated, Ordering::Release);
    }

    /// Whether the file's activation record differs from the one to store,
    /// so the cache needs a write even when the state did not change.
    pub(crate) fn activation_record_stale(&self) -> bool {
        self.activated.load(Ordering::Acquire) != self.activated_on_disk.load(Ordering::Acquire)
    }

    /// This cache, paired with the time anchor that shares `pairing`.
    pub(crate) fn paired_with(self, pairing: Arc<Pairing>) -> Self {
        ProductCache { pairing, ..self }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// How the pairing names this cache: its absolute path.
    fn name(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// The folder this cache is in, as the pairing names it.
    fn dir_name(&self) -> String {
        self.path
            .parent()
            .map(|dir| dir.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Whether `anchor` vouches for `cached`, read from this cache (see
    /// [`vouch`]). A cache that loads is noted in the pairing, so the next
    /// write gets a generation after it.
    pub(crate) fn vouched_by(
        &self,
        cached: &CachedState,
        anchor: &AnchorRead,
    ) -> Result<Vouched, Unvouched> {
        let vouched = vouch(
            &self.name(),
            &self.dir_name(),
            cached.paired.as_ref(),
            anchor,
        );
        if let Some(paired) = &cached.paired {
            self.pairing
                .note(&self.name(), paired.generation, vouched.is_ok());
        }
        vouched
    }

    /// Reads and checks the cache.
    pub(crate) fn load(&self) -> Result<CachedState, CacheRejection> {
        let bytes = read_capped(&self.path)?;
        let body = verify_tagged(&bytes, &self.key)?;
        let body: CacheBody =
            serde_json::from_slice(body).map_err(|e| CacheRejection::BadFormat(e.to_string()))?;
        if body.format != FORMAT {
            return Err(CacheRejection::BadFormat(format!(
                "format {} (this version reads {FORMAT})",
                body.format
            )));
        }
        if body.product != self.product {
            return Err(CacheRejection::OtherProduct(body.product));
        }
        let written = body
            .latest_seen_ms
            .saturating_add(CLOCK_SKEW.as_millis() as u64);
        if body.last_confirmed_ms.is_some_and(|at| at > written) {
            return Err(CacheRejection::FromTheFuture);
        }
        self.activated_on_disk
            .store(body.activated, Ordering::Release);
        Ok(CachedState {
            grants_on_its_own: self.keyed_by_vendor,
            paired: body.paired,
            activated: body.activated,
            state: ProductState {
                product: body.product,
                status: body.status,
                features: body.features,
                expires_at: body.expires_at_ms.map(from_unix_millis),
                source: body.source,
                last_confirmed: body.last_confirmed_ms.map(from_unix_millis),
                seats: body.seats,
            },
            latest_seen: from_unix_millis(body.latest_seen_ms),
        })
    }

    /// Replaces the cache with `state` atomically, as the next generation of
    /// its pairing; on error the old file stays (and the generation is not
    /// used up). The time anchor is written after it (`TimeAnchor::store`).
    pub(crate) fn store(
        &self,
        state: &ProductState,
        latest_seen: SystemTime,
    ) -> std::io::Result<()> {
        let name = self.name();
        let (install, generation) = self.pairing.next(&name);
        let activated = self.activated.load(Ordering::Acquire);
        let body = CacheBody {
            activated,
            paired: Some(CachePairing {
                install,
                dir: self.dir_name(),
                generation,
            }),
            format: FORMAT,
            product: state.product.clone(),
            status: state.status.clone(),
            features: state.features.clone(),
            expires_at_ms: state.expires_at.map(to_millis),
            source: state.source,
            last_confirmed_ms: state.last_confirmed.map(to_millis),
            seats: state.seats.clone(),
            latest_seen_ms: to_millis(latest_seen),
        };
        let body = serde_json::to_vec(&body).map_err(std::io::Error::other)?;
        write_tagged(&self.path, &self.key, &body)?;
        self.activated_on_disk.store(activated, Ordering::Release);
        self.pairing.note(&name, generation, true);
        Ok(())
    }

    /// Removes the cache (after deactivation).
    pub(crate) fn remove(&self) {
        self.record_activation(false);
        self.activated_on_disk.store(false, Ordering::Release);
        if let Err(error) = fs::remove_file(&self.path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), %error, "could not remove the license cache");
        }
    }
}

fn mac(key: &[u8; 32]) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// The whole of `path` when it holds at most [`MAX_CACHE_BYTES`]; a larger
/// file is never read into memory (it is read through a limit, so a file
/// that grows between a size check and the read cannot get past it).
fn read_capped(path: &Path) -> Result<Vec<u8>, CacheRejection> {
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CacheRejection::Missing);
        }
        Err(e) => return Err(CacheRejection::Unreadable(e)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_CACHE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(CacheRejection::Unreadable)?;
    if bytes.len() as u64 > MAX_CACHE_BYTES {
        return Err(CacheRejection::TooLarge);
    }
    Ok(bytes)
}

/// The body of a `tag\nbody` file whose HMAC under `key` checks out
/// (compared in constant time).
fn verify_tagged<'a>(bytes: &'a [u8], key: &[u8; 32]) -> Result<&'a [u8], CacheRejection> {
    let newline = bytes
        .iter()
        .position(|b| *b == b'\n')
        .ok_or(CacheRejection::NoTag)?;
    let (tag_hex, body) = (&bytes[..newline], &bytes[newline + 1..]);
    let tag = hex::decode(tag_hex).map_err(|_| CacheRejection::NoTag)?;
    let mut mac = mac(key);
    mac.update(body);
    mac.verify_slice(&tag).map_err(|_| CacheRejection::BadTag)?;
    Ok(body)
}

/// Replaces `path` with `tag\nbody` atomically: a temporary file in the same
/// folder, flushed to disk, renamed over the old one. On error the old file
/// stays.
fn write_tagged(path: &Path, key: &[u8; 32], body: &[u8]) -> std::io::Result<()> {
    let mut mac = mac(key);
    mac.update(body);
    let tag = hex::encode(mac.finalize().into_bytes());

    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut file = tempfile::Builder::new()
        .prefix(".license-gate-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    file.write_all(tag.as_bytes())?;
    file.write_all(b"\n")?;
    file.write_all(body)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    remove_stale_temporaries(dir);
    Ok(())
}

/// A second, independent record of the latest trusted time, and the record
/// that vouches for the caches: one small file per machine, away from the
/// cache, authenticated like it. Restoring an old cache with the clock set
/// back does not roll trusted time back while this file (or the cache)
/// remembers a later instant: the later of the two counts. And a cache this
/// file does not vouch for (see [`vouch`]) never grants on its own.
pub(crate) struct TimeAnchor {
    path: PathBuf,
    key: [u8; 32],
    pairing: Arc<Pairing>,
    /// One write of this file at a time, each with the pairing as it is when
    /// the write starts, so the last write holds the latest generations.
    writing: Mutex<()>,
}

impl std::fmt::Debug for TimeAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeAnchor")
            .field("path", &self.path)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Format 1 held only the time; format 2 adds the pairing.
const ANCHOR_FORMAT: u32 = 2;

#[derive(Serialize, Deserialize)]
struct AnchorBody {
    format: u32,
    latest_seen_ms: u64,
    /// The installation's identifier (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    install: Option<String>,
    /// The folder this anchor was written in (format 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dir: Option<String>,
    /// The generation of every cache this anchor vouches for, by the cache
    /// file's absolute path (format 2).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    caches: BTreeMap<String, u64>,
}

/// What reading the time anchor found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AnchorRead {
    /// No anchor file (a first run, or a deleted one).
    Missing,
    /// A file that failed its check (edited, another machine or vendor).
    Rejected,
    /// An authentic anchor.
    Read(AnchorRecord),
}

/// An authentic anchor's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AnchorRecord {
    pub(crate) latest_seen: SystemTime,
    /// `None`: written by an earlier version (format 1), which vouches for nothing.
    pub(crate) install: Option<String>,
    /// The anchor was written in the folder it was read from.
    pub(crate) in_place: bool,
    pub(crate) caches: BTreeMap<String, u64>,
}

impl AnchorRead {
    /// The latest time the anchor holds, if it is authentic.
    pub(crate) fn latest_seen(&self) -> Option<SystemTime> {
        match self {
            AnchorRead::Read(record) => Some(record.latest_seen),
            AnchorRead::Missing | AnchorRead::Rejected => None,
        }
    }
}

impl TimeAnchor {
    /// The anchor file in `dir`, bound to this machine and the vendor secret.
    pub(crate) fn new(dir: &Path, hardware_id: &str, vendor_secret: Option<&VendorSecret>) -> Self {
        TimeAnchor {
            path: absolute(&dir.join("time.anchor")),
            key: VendorSecret::derive(vendor_secret, "license-gate time anchor v1", &[hardware_id]),
            pairing: Arc::default(),
            writing: Mutex::new(()),
        }
    }

    /// This anchor, vouching for the caches that share `pairing`.
    pub(crate) fn paired_with(self, pairing: Arc<Pairing>) -> Self {
        TimeAnchor { pairing, ..self }
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn dir_name(&self) -> String {
        self.path
            .parent()
            .map(|dir| dir.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The latest time the anchor holds; `None` when it is missing or fails
    /// its check (logged). The gate reads the whole record ([`Self::read`]);
    /// the fuzz targets read this.
    #[cfg_attr(not(any(test, feature = "fuzzing")), allow(dead_code))]
    pub(crate) fn load(&self) -> Option<SystemTime> {
        self.read().latest_seen()
    }

    /// Reads and checks the anchor (a failure is logged). An authentic
    /// anchor's installation is adopted by the pairing, so the caches
    /// written next name it.
    pub(crate) fn read(&self) -> AnchorRead {
        let bytes = match read_capped(&self.path) {
            Ok(bytes) => bytes,
            Err(CacheRejection::Missing) => return AnchorRead::Missing,
            Err(reason) => {
                tracing::warn!(path = %self.path.display(), %reason, "the time anchor cannot be read and is ignored");
                return AnchorRead::Rejected;
            }
        };
        let body = verify_tagged(&bytes, &self.key)
            .ok()
            .and_then(|body| serde_json::from_slice::<AnchorBody>(body).ok())
            .filter(|body| body.format == 1 || body.format == ANCHOR_FORMAT);
        let Some(body) = body else {
            tracing::warn!(path = %self.path.display(), "the time anchor failed its integrity check and is ignored");
            return AnchorRead::Rejected;
        };
        let record = AnchorRecord {
            latest_seen: from_unix_millis(body.latest_seen_ms),
            in_place: body.dir.as_deref() == Some(self.dir_name().as_str()),
            install: body.install.filter(|_| body.format == ANCHOR_FORMAT),
            caches: body.caches,
        };
        self.pairing.adopt(&record);
        AnchorRead::Read(record)
    }

    /// Records `latest_seen` and the generation of every cache written
    /// through the pairing; a failed write keeps the old file (logged).
    ///
    /// Entries for caches this process has not written (another gate of the
    /// same installation) are kept from the file on disk.
    pub(crate) fn store(&self, latest_seen: SystemTime) {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        // The pairing only for a copy: a cache write never waits on this
        // file's `fsync`s.
        let (install, written) = {
            let mut pairing = self.pairing.lock();
            (pairing.install().to_owned(), pairing.written.clone())
        };
        let here = self.dir_name();
        let mut caches = match self.read_body() {
            Some(body)
                if body.install.as_deref() == Some(install.as_str())
                    && body.dir.as_deref() == Some(here.as_str()) =>
            {
                body.caches
            }
            _ => BTreeMap::new(),
        };
        caches.extend(written);
        let body = AnchorBody {
            format: ANCHOR_FORMAT,
            latest_seen_ms: to_millis(latest_seen),
            install: Some(install),
            dir: Some(here),
            caches,
        };
        let written = serde_json::to_vec(&body)
            .map_err(std::io::Error::other)
            .and_then(|body| write_tagged(&self.path, &self.key, &body));
        if let Err(error) = written {
            tracing::warn!(path = %self.path.display(), %error, "could not write the time anchor; the previous one is kept");
        }
    }

    /// The authentic body on disk, quietly (for merging before a write).
    fn read_body(&self) -> Option<AnchorBody> {
        let bytes = read_capped(&self.path).ok()?;
        let body = verify_tagged(&bytes, &self.key).ok()?;
        serde_json::from_slice(body).ok()
    }
}

/// The link between one gate's caches and its time anchor: the
/// installation's identifier (adopted from the anchor, or drawn at the first
/// write) and the last generation of each cache. Shared by the caches and the
/// anchor of a gate, behind one lock held only to read or bump a generation,
/// never across a file write.
#[derive(Debug, Default)]
pub(crate) struct Pairing {
    state: Mutex<PairingState>,
}

#[derive(Debug, Default)]
struct PairingState {
    install: Option<String>,
    /// The highest generation known for each cache (read, or written by the
    /// anchor): the next write goes one past it, so no generation is used twice.
    known: BTreeMap<String, u64>,
    /// The generation of each cache as this process last wrote it: what the
    /// anchor records.
    written: BTreeMap<String, u64>,
}

impl PairingState {
    fn install(&mut self) -> &str {
        self.install.get_or_insert_with(draw_install_id)
    }
}

impl Pairing {
    fn lock(&self) -> std::sync::MutexGuard<'_, PairingState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the installation and the known generations of an authentic anchor.
    fn adopt(&self, record: &AnchorRecord) {
        let mut state = self.lock();
        if state.install.is_none() {
            state.install.clone_from(&record.install);
        }
        for (cache, generation) in &record.caches {
            let known = state.known.entry(cache.clone()).or_default();
            *known = (*known).max(*generation);
        }
    }

    /// Notes that `cache` on disk holds `generation`; when `vouched` (the
    /// anchor vouches for it, or this process just wrote it), the anchor's
    /// next write records it, so an anchor one write behind catches up. A
    /// cache the anchor does not vouch for is never recorded: only a write
    /// after a server answer replaces it.
    fn note(&self, cache: &str, generation: u64, vouched: bool) {
        let mut state = self.lock();
        let known = state.known.entry(cache.to_owned()).or_default();
        *known = (*known).max(generation);
        if vouched {
            state.written.insert(cache.to_owned(), generation);
        }
    }

    /// The installation and the generation for the next write of `cache`.
    fn next(&self, cache: &str) -> (String, u64) {
        let mut state = self.lock();
        let generation = state.known.get(cache).copied().unwrap_or(0) + 1;
        (state.install().to_owned(), generation)
    }
}

/// A fresh installation identifier: 128 bits from the process's random
/// hashing keys (drawn from the OS), the time and the process ID, hashed.
/// It needs to be unique, not secret: both records hold it in plain sight,
/// under their tags.
fn draw_install_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut digest = Sha256::new();
    for _ in 0..2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(0x6c67_6174_6573);
        digest.update(hasher.finish().to_le_bytes());
    }
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    digest.update(nanos.to_le_bytes());
    digest.update(std::process::id().to_le_bytes());
    hex::encode(&digest.finalize()[..16])
}

/// A cache the time anchor vouches for; `lagging` when the cache is one
/// write ahead of the anchor (a crash between the two writes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Vouched {
    pub(crate) lagging: bool,
}

/// Why the time anchor does not vouch for a cache, so that it does not grant
/// on its own: each reason reads as the status a user sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unvouched {
    #[error(
        "there is no folder for the time anchor that vouches for the license cache: the license is checked with the server"
    )]
    NoAnchorFolder,
    #[error(
        "the time anchor that vouches for the license cache is missing: the license is checked with the server"
    )]
    AnchorMissing,
    #[error(
        "the time anchor that vouches for the license cache failed its integrity check: the license is checked with the server"
    )]
    AnchorRejected,
    #[error(
        "the license cache was written by an earlier version, before a time anchor vouched for it: the license is checked with the server"
    )]
    EarlierVersion,
    #[error(
        "the license cache or its time anchor was moved or copied from another folder or installation: the license is checked with the server"
    )]
    Relocated,
    #[error(
        "the license cache and its time anchor are from different writes (one of them was restored or replaced): the license is checked with the server"
    )]
    OtherGeneration,
}

/// Whether `anchor` vouches for a cache at `cache_path` in `cache_dir` that
/// names `paired` (`None`: an earlier version's cache). A rule with no I/O:
/// the anchor must be there and authentic, both records must name this
/// installation and the folders they were read from, and the anchor's
/// generation for this cache must be the cache's, or one behind it (the
/// anchor is written after the cache, so a crash between the two writes
/// leaves it one behind). An anchor ahead of the cache, or more than one
/// write behind, means one of them was restored or replaced.
pub(crate) fn vouch(
    cache_path: &str,
    cache_dir: &str,
    paired: Option<&CachePairing>,
    anchor: &AnchorRead,
) -> Result<Vouched, Unvouched> {
    let record = match anchor {
        AnchorRead::Missing => return Err(Unvouched::AnchorMissing),
        AnchorRead::Rejected => return Err(Unvouched::AnchorRejected),
        AnchorRead::Read(record) => record,
    };
    let (Some(paired), Some(install)) = (paired, &record.install) else {
        return Err(Unvouched::EarlierVersion);
    };
    if !record.in_place || paired.dir != cache_dir || &paired.install != install {
        return Err(Unvouched::Relocated);
    }
    let Some(&recorded) = record.caches.get(cache_path) else {
        return Err(Unvouched::OtherGeneration);
    };
    match paired.generation.checked_sub(recorded) {
        Some(0) => Ok(Vouched { lagging: false }),
        Some(1) => Ok(Vouched { lagging: true }),
        _ => Err(Unvouched::OtherGeneration),
    }
}

/// `path` made absolute against the current folder (no file system access,
/// symbolic links kept), as the records name folders.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Temporary files older than this were left by a process that died mid-write
/// (a live writer renames its file within milliseconds).
const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(600);

/// Removes temporary files that a killed writer left behind. They are never
/// read; this only keeps the folder tidy.
fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".license-gate-") && name.ends_with(".tmp")) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMPORARY);
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Makes the rename durable where the platform allows it.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// A file name for `product`: its letters and digits, plus a short hash so
/// products whose names differ only in punctuation do not share a file.
fn file_name(product: &str) -> String {
    let hash = hex::encode(&Sha256::digest(product.as_bytes())[..4]);
    let slug: String = slug(product).chars().take(48).collect();
    format!("{slug}-{hash}.license")
}

/// Lower-case letters and digits of `text`, runs of anything else as one `-`.
fn slug(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ProductState {
        ProductState {
            last_confirmed: Some(from_unix_millis(1_800_000_000_000)),
            expires_at: Some(from_unix_millis(1_900_000_000_000)),
            source: Source::Online,
            ..ProductState::new("Atlas Studio", LicenseStatus::Licensed, ["pro", "export"])
        }
    }

    fn cache(dir: &Path, hw: &str) -> ProductCache {
        ProductCache::new(
            dir,
            "Atlas Studio",
            Some(&LicenseKey::new("AAAA-BBBB-CCCC-DDDD")),
            hw,
            Some(&VendorSecret::new("a vendor secret for the tests").unwrap()),
        )
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), "HW1");
        c.store(&sample(), from_unix_millis(1_850_000_000_000))
            .unwrap();
        let loaded = c.load().unwrap();
        assert_eq!(loaded.state, sample());
        assert_eq!(loaded.latest_seen, from_unix_millis(1_850_000_000_000));
        assert!(loaded.grants_on_its_own);
    }

    #[test]
    fn the_activation_record_is_authenticated_and_old_caches_read_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), "HW1");
        let at = from_unix_millis(1_850_000_000_000);
        // A cache written before the record existed has no `activated` field.
        c.store(&sample(), at).unwrap();
        let bytes = fs::read(c.path()).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("activated"));
        assert!(!c.load().unwrap().activated);
        assert!(!c.activation_record_stale());

        c.record_activation(true);
        assert!(c.activation_record_stale(), "a new record needs a write");
        c.store(&sample(), at).unwrap();
        assert!(!c.activation_record_stale());
        let reopened = cache(dir.path(), "HW1");
        assert!(reopened.load().unwrap().activated);

        // The record is inside the tagged content: turning it on by hand
        // breaks the tag.
        c.record_activation(false);
        c.store(&sample(), at).unwrap();
        let text = String::from_utf8(fs::read(c.path()).unwrap()).unwrap();
        let forged = text.replacen("\"format\":2", "\"activated\":true,\"format\":2", 1);
        assert_ne!(forged, text);
        fs::write(c.path(), forged).unwrap();
        assert!(matches!(reopened.load(), Err(CacheRejection::BadTag)));
    }

    #[test]
    fn files_over_the_cap_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), "HW1");
        let secret = VendorSecret::new("a vendor secret for the tests").unwrap();
        let anchor = TimeAnchor::new(dir.path(), "HW1", Some(&secret));
        let huge = vec![b'a'; MAX_CACHE_BYTES as usize + 1];
        fs::write(c.path(), &huge).unwrap();
        fs::write(anchor.path(), &huge).unwrap();
        assert!(matches!(c.load(), Err(CacheRejection::TooLarge)));
        assert_eq!(anchor.load(), None);
    }

    #[test]
    fn a_confirmation_after_the_time_of_writing_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), "HW1");
        // Confirmed at 1_800_000_000_000 but "written" an hour before that.
        c.store(&sample(), from_unix_millis(1_800_000_000_000 - 3_600_000))
            .unwrap();
        assert!(matches!(c.load(), Err(CacheRejection::FromTheFuture)));
    }

    #[test]
    fn time_anchors_round_trip_and_reject_edits_and_other_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let secret = VendorSecret::new("a vendor secret for the tests").unwrap();
        let anchor = TimeAnchor::new(dir.path(), "HW1", Some(&secret));
        assert_eq!(anchor.load(), None);
        anchor.store(from_unix_millis(1_850_000_000_000));
        assert_eq!(anchor.load(), Some(from_unix_millis(1_850_000_000_000)));
        let mut bytes = fs::read(anchor.path()).unwrap();
        let last = bytes.len() - 2;
        bytes[last] ^= 1;
        fs::write(anchor.path(), &bytes).unwrap();
        assert_eq!(anchor.load(), None);
        anchor.store(from_unix_millis(1_850_000_000_000));
        assert_eq!(
            TimeAnchor::new(dir.path(), "HW2", Some(&secret)).load(),
            None
        );
        assert_eq!(TimeAnchor::new(dir.path(), "HW1", None).load(), None);
    }

    #[test]
    fn every_single_byte_edit_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), "HW1");
        c.store(&sample(), from_unix_millis(1_850_000_000_000))
            .unwrap();
        let original = fs::read(c.path()).unwrap();
        for at in 0..original.len() {
            let mut edited = original.clone();
            edited[at] ^= 0x01;
            fs::write(c.path(), &edited).unwrap();
            assert!(c.load().is_err(), "an edit at byte {at} was accepted");
        }
        for len in 0..original.len() {
            fs::write(c.path(), &original[..len]).unwrap();
            assert!(
                c.load().is_err(),
                "a truncation to {len} bytes was accepted"
            );
        }
    }

    #[test]
    fn another_machine_or_key_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        cache(dir.path(), "HW1")
            .store(&sample(), SystemTime::now())
            .unwrap();
        assert!(matches!(
            cache(dir.path(), "HW2").load(),
            Err(CacheRejection::BadTag)
        ));
        let other_key = ProductCache::new(
            dir.path(),
            "Atlas Studio",
            Some(&LicenseKey::new("ZZZZ-BBBB-CCCC-DDDD")),
            "HW1",
            Some(&VendorSecret::new("a vendor secret for the tests").unwrap()),
        );
        assert!(matches!(other_key.load(), Err(CacheRejection::BadTag)));
        let other_vendor = ProductCache::new(
            dir.path(),
            "Atlas Studio",
            Some(&LicenseKey::new("AAAA-BBBB-CCCC-DDDD")),
            "HW1",
            Some(&VendorSecret::new("another vendor's secret").unwrap()),
        );
        assert!(matches!(other_vendor.load(), Err(CacheRejection::BadTag)));
        let no_vendor = ProductCache::new(
            dir.path(),
            "Atlas Studio",
            Some(&LicenseKey::new("AAAA-BBBB-CCCC-DDDD")),
            "HW1",
            None,
        );
        assert!(matches!(no_vendor.load(), Err(CacheRejection::BadTag)));
        assert!(matches!(other_key.load(), Err(CacheRejection::BadTag)));
    }

    #[test]
    fn what_the_development_secret_wrote_no_real_secret_reads() {
        let dir = tempfile::tempdir().unwrap();
        let key = LicenseKey::new("AAAA-BBBB-CCCC-DDDD");
        let development = crate::vendor_secret::development_secret("APP_SECRET").unwrap();
        let real = VendorSecret::new("a vendor secret for the tests").unwrap();
        // A real secret that happens to hold the development bytes.
        let copied = VendorSecret::new(
            b"license-gate development vendor secret: public, for debug builds only",
        )
        .unwrap();
        let with = |secret: &VendorSecret| {
            ProductCache::new(dir.path(), "Atlas Studio", Some(&key), "HW1", Some(secret))
        };
        with(&development)
            .store(&sample(), from_unix_millis(1_850_000_000_000))
            .unwrap();
        // A debug build reads its own cache back, and it grants on its own.
        let read = with(&development).load().unwrap();
        assert!(read.grants_on_its_own);
        assert_eq!(read.state.status, LicenseStatus::Licensed);
        for secret in [&real, &copied] {
            assert!(matches!(with(secret).load(), Err(CacheRejection::BadTag)));
        }
        let anchor = TimeAnchor::new(dir.path(), "HW1", Some(&development));
        anchor.store(from_unix_millis(1_850_000_000_000));
        assert_eq!(anchor.load(), Some(from_unix_millis(1_850_000_000_000)));
        assert_eq!(TimeAnchor::new(dir.path(), "HW1", Some(&real)).load(), None);
        assert_eq!(
            TimeAnchor::new(dir.path(), "HW1", Some(&copied)).load(),
            None
        );
        // Nor does the development secret read what a real one wrote.
        with(&copied)
            .store(&sample(), from_unix_millis(1_850_000_000_000))
            .unwrap();
        assert!(matches!(
            with(&development).load(),
            Err(CacheRejection::BadTag)
        ));
    }

    #[test]
    fn stale_temporaries_are_removed_and_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".license-gate-dead.tmp");
        let fresh = dir.path().join(".license-gate-live.tmp");
        fs::write(&stale, b"partial").unwrap();
        fs::write(&fresh, b"partial").unwrap();
        let old = SystemTime::now() - STALE_TEMPORARY - std::time::Duration::from_secs(1);
        fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(old)
            .unwrap();
        cache(dir.path(), "HW1")
            .store(&sample(), SystemTime::now())
            .unwrap();
        assert!(
            !stale.exists(),
            "a temporary left by a dead writer is removed"
        );
        assert!(
            fresh.exists(),
            "a temporary that may belong to a live writer is kept"
        );
    }

    /// The rule with no I/O, as a table: what the cache names, what the
    /// anchor holds -> vouched for (lagging or not), or why not.
    #[test]
    fn vouching_as_a_table() {
        let path = "/data/app/cache/atlas-studio-1234.license";
        let dir = "/data/app/cache";
        let paired = |install: &str, dir: &str, generation| CachePairing {
            install: install.to_owned(),
            dir: dir.to_owned(),
            generation,
        };
        let anchor = |install: Option<&str>, in_place, generation: Option<u64>| {
            AnchorRead::Read(AnchorRecord {
                latest_seen: from_unix_millis(1_800_000_000_000),
                install: install.map(str::to_owned),
                in_place,
                caches: generation
                    .map(|g| (path.to_owned(), g))
                    .into_iter()
                    .collect(),
            })
        };
        let ok = Ok(Vouched { lagging: false });
        let lagging = Ok(Vouched { lagging: true });
        /// What the cache names, what the anchor holds, the verdict.
        type Row = (
            &'static str,
            Option<CachePairing>,
            AnchorRead,
            Result<Vouched, Unvouched>,
        );
        let rows: Vec<Row> = vec![
            (
                "the pair of one write",
                Some(paired("I", dir, 5)),
                anchor(Some("I"), true, Some(5)),
                ok,
            ),
            (
                "a crash between the cache and the anchor",
                Some(paired("I", dir, 6)),
                anchor(Some("I"), true, Some(5)),
                lagging,
            ),
            (
                "the anchor deleted",
                Some(paired("I", dir, 5)),
                AnchorRead::Missing,
                Err(Unvouched::AnchorMissing),
            ),
            (
                "the anchor edited or foreign",
                Some(paired("I", dir, 5)),
                AnchorRead::Rejected,
                Err(Unvouched::AnchorRejected),
            ),
            (
                "a cache of an earlier version",
                None,
                anchor(Some("I"), true, Some(5)),
                Err(Unvouched::EarlierVersion),
            ),
            (
                "an anchor of an earlier version",
                Some(paired("I", dir, 5)),
                anchor(None, true, None),
                Err(Unvouched::EarlierVersion),
            ),
            (
                "another installation's cache",
                Some(paired("J", dir, 5)),
                anchor(Some("I"), true, Some(5)),
                Err(Unvouched::Relocated),
            ),
            (
                "a cache copied from another folder",
                Some(paired("I", "/elsewhere", 5)),
                anchor(Some("I"), true, Some(5)),
                Err(Unvouched::Relocated),
            ),
            (
                "an anchor copied from another folder",
                Some(paired("I", dir, 5)),
                anchor(Some("I"), false, Some(5)),
                Err(Unvouched::Relocated),
            ),
            (
                "an anchor that never vouched for this cache",
                Some(paired("I", dir, 5)),
                anchor(Some("I"), true, None),
                Err(Unvouched::OtherGeneration),
            ),
            (
                "an older cache restored",
                Some(paired("I", dir, 4)),
                anchor(Some("I"), true, Some(5)),
                Err(Unvouched::OtherGeneration),
            ),
            (
                "an older anchor restored",
                Some(paired("I", dir, 7)),
                anchor(Some("I"), true, Some(5)),
                Err(Unvouched::OtherGeneration),
            ),
        ];
        for (what, paired, anchor, want) in rows {
            assert_eq!(vouch(path, dir, paired.as_ref(), &anchor), want, "{what}");
        }
    }

    /// A cache and an anchor written through one pairing vouch for each
    /// other on the next start; the generation grows with every write and
    /// an older cache put back is caught.
    #[test]
    fn records_written_together_vouch_for_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let secret = VendorSecret::new("a vendor secret for the tests").unwrap();
        let open = || {
            let pairing = Arc::new(Pairing::default());
            let anchor = TimeAnchor::new(&dir.path().join("data"), "HW1", Some(&secret))
                .paired_with(pairing.clone());
            let cache = cache(&dir.path().join("cache"), "HW1").paired_with(pairing);
            (cache, anchor)
        };
        let at = from_unix_millis(1_850_000_000_000);

        // First run: no records.
        let (c, a) = open();
        assert_eq!(a.read(), AnchorRead::Missing);
        c.store(&sample(), at).unwrap();
        let first = fs::read(c.path()).unwrap();
        a.store(at);

        // Next start: vouched for; a write makes generation 2.
        let (c, a) = open();
        let read = a.read();
        let loaded = c.load().unwrap();
        assert_eq!(loaded.paired.as_ref().map(|p| p.generation), Some(1));
        assert_eq!(c.vouched_by(&loaded, &read), Ok(Vouched { lagging: false }));
        c.store(&sample(), at).unwrap();
        a.store(at);

        // The first cache put back: another generation.
        fs::write(c.path(), &first).unwrap();
        let (c, a) = open();
        let read = a.read();
        let loaded = c.load().unwrap();
        assert_eq!(
            c.vouched_by(&loaded, &read),
            Err(Unvouched::OtherGeneration)
        );
        // Its next write is generation 3: a generation is never used twice.
        c.store(&sample(), at).unwrap();
        assert_eq!(c.load().unwrap().paired.map(|p| p.generation), Some(3));
        // The anchor was not written after it: one write behind, still vouched for.
        let (c, a) = open();
        let read = a.read();
        assert_eq!(
            c.vouched_by(&c.load().unwrap(), &read),
            Ok(Vouched { lagging: true })
        );

        // The anchor deleted: missing.
        fs::remove_file(a.path()).unwrap();
        let (c, a) = open();
        assert_eq!(
            c.vouched_by(&c.load().unwrap(), &a.read()),
            Err(Unvouched::AnchorMissing)
        );
    }

    #[test]
    fn an_anchor_of_the_earlier_format_still_counts_for_time_but_vouches_for_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let secret = VendorSecret::new("a vendor secret for the tests").unwrap();
        let anchor = TimeAnchor::new(dir.path(), "HW1", Some(&secret));
        let body = br#"{"format":1,"latest_seen_ms":1850000000000}"#;
        write_tagged(&anchor.path, &anchor.key, body).unwrap();
        let read = anchor.read();
        assert_eq!(
            read.latest_seen(),
            Some(from_unix_millis(1_850_000_000_000))
        );
        let c = cache(dir.path(), "HW1");
        c.store(&sample(), from_unix_millis(1_850_000_000_000))
            .unwrap();
        assert_eq!(
            c.vouched_by(&c.load().unwrap(), &read),
            Err(Unvouched::EarlierVersion)
        );
        // A cache of the earlier version (no pairing) still loads, for its
        // time, and is not vouched for by a current anchor either.
        let earlier = br#"{"format":2,"product":"Atlas Studio","status":"licensed","features":["pro"],"expires_at_ms":null,"source":"online","last_confirmed_ms":1800000000000,"seats":null,"latest_seen_ms":1850000000000}"#;
        write_tagged(c.path(), &c.key, earlier).unwrap();
        let loaded = c.load().unwrap();
        assert_eq!(loaded.paired, None);
        assert_eq!(loaded.latest_seen, from_unix_millis(1_850_000_000_000));
        let pairing = Arc::new(Pairing::default());
        let current = TimeAnchor::new(dir.path(), "HW1", Some(&secret)).paired_with(pairing);
        current.store(from_unix_millis(1_850_000_000_000));
        assert_eq!(
            c.vouched_by(&loaded, &current.read()),
            Err(Unvouched::EarlierVersion)
        );
    }

    #[test]
    fn file_names_are_tidy() {
        assert!(file_name("Atlas Studio").starts_with("atlas-studio-"));
        assert_ne!(file_name("Atlas Studio"), file_name("Atlas-Studio"));
    }
}
