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

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
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
}

/// What a valid cache file holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CachedState {
    pub(crate) state: ProductState,
    pub(crate) latest_seen: SystemTime,
    /// The key was derived from a vendor secret, so only the vendor's build
    /// could have written this file.
    pub(crate) grants_on_its_own: bool,
}

/// The cache file of one product, bound to its license key and machine.
pub(crate) struct ProductCache {
    path: PathBuf,
    key: [u8; 32],
    product: String,
    keyed_by_vendor: bool,
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
            path: dir.join(file_name(product)),
            key,
            product: product.to_owned(),
            keyed_by_vendor: vendor_secret.is_some(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
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
        Ok(CachedState {
            grants_on_its_own: self.keyed_by_vendor,
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

    /// Replaces the cache with `state` atomically; on error the old file stays.
    pub(crate) fn store(
        &self,
        state: &ProductState,
        latest_seen: SystemTime,
    ) -> std::io::Result<()> {
        let body = CacheBody {
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
        write_tagged(&self.path, &self.key, &body)
    }

    /// Removes the cache (after deactivation).
    pub(crate) fn remove(&self) {
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

/// A second, independent record of the latest trusted time: one small file per
/// machine, away from the cache, authenticated like it. Restoring an old cache
/// with the clock set back does not roll trusted time back while this file
/// (or the cache) remembers a later instant: the later of the two counts.
pub(crate) struct TimeAnchor {
    path: PathBuf,
    key: [u8; 32],
}

impl std::fmt::Debug for TimeAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeAnchor")
            .field("path", &self.path)
            .field("key", &"<redacted>")
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct AnchorBody {
    format: u32,
    latest_seen_ms: u64,
}

impl TimeAnchor {
    /// The anchor file in `dir`, bound to this machine and the vendor secret.
    pub(crate) fn new(dir: &Path, hardware_id: &str, vendor_secret: Option<&VendorSecret>) -> Self {
        TimeAnchor {
            path: dir.join("time.anchor"),
            key: VendorSecret::derive(vendor_secret, "license-gate time anchor v1", &[hardware_id]),
        }
    }

    #[cfg(test)]
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The latest time the anchor holds; `None` when it is missing or fails
    /// its check (logged).
    pub(crate) fn load(&self) -> Option<SystemTime> {
        let bytes = match read_capped(&self.path) {
            Ok(bytes) => bytes,
            Err(CacheRejection::Missing) => return None,
            Err(reason) => {
                tracing::warn!(path = %self.path.display(), %reason, "the time anchor cannot be read and is ignored");
                return None;
            }
        };
        let body = verify_tagged(&bytes, &self.key)
            .ok()
            .and_then(|body| serde_json::from_slice::<AnchorBody>(body).ok())
            .filter(|body| body.format == 1);
        if body.is_none() {
            tracing::warn!(path = %self.path.display(), "the time anchor failed its integrity check and is ignored");
        }
        body.map(|body| from_unix_millis(body.latest_seen_ms))
    }

    /// Records `latest_seen`; a failed write keeps the old file (logged).
    pub(crate) fn store(&self, latest_seen: SystemTime) {
        let body = AnchorBody {
            format: 1,
            latest_seen_ms: to_millis(latest_seen),
        };
        let written = serde_json::to_vec(&body)
            .map_err(std::io::Error::other)
            .and_then(|body| write_tagged(&self.path, &self.key, &body));
        if let Err(error) = written {
            tracing::warn!(path = %self.path.display(), %error, "could not write the time anchor; the previous one is kept");
        }
    }
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

    #[test]
    fn file_names_are_tidy() {
        assert!(file_name("Atlas Studio").starts_with("atlas-studio-"));
        assert_ne!(file_name("Atlas Studio"), file_name("Atlas-Studio"));
    }
}
