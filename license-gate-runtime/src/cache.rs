//! The tamper-evident cache of the last confirmed license state.
//!
//! One file per product holds its last state and the latest wall time the
//! runtime has seen. The file starts with an HMAC-SHA256 of its body, keyed
//! from the product, the license key and the hardware ID: a cache that was
//! edited, truncated, or copied from another machine (or written for another
//! key) fails the check and is rejected with a log line, never trusted.
//!
//! Writes are atomic: the new state goes to a temporary file in the same
//! folder, is flushed to disk, and replaces the old file by rename. A process
//! killed mid-write leaves the old cache or the new one, never a mix; a failed
//! write keeps the old cache.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secret::LicenseKey;
use crate::state::{LicenseStatus, ProductState, SeatUsage, Source};
use crate::time::{from_millis, to_millis};

/// The largest cache file read; a real one is a few hundred bytes.
const MAX_CACHE_BYTES: u64 = 64 * 1024;

const FORMAT: u32 = 1;

/// Where a gate keeps its cache.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheLocation {
    /// The platform's cache folder (`$XDG_CACHE_HOME` or `~/.cache` on Linux,
    /// `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows), in `license-gate/`.
    Platform,
    /// This folder.
    Dir(PathBuf),
    /// No cache: every start waits for the server (up to the start-up timeout).
    Off,
}

impl CacheLocation {
    pub(crate) fn resolve(&self) -> Option<PathBuf> {
        match self {
            CacheLocation::Platform => Some(dirs::cache_dir()?.join("license-gate")),
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
}

/// The cache file of one product, bound to its license key and machine.
pub(crate) struct ProductCache {
    path: PathBuf,
    key: [u8; 32],
    product: String,
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
    /// The cache of `product` in `dir`, keyed from the product, the license
    /// key and the hardware ID.
    pub(crate) fn new(
        dir: &Path,
        product: &str,
        license_key: Option<&LicenseKey>,
        hardware_id: &str,
    ) -> Self {
        let mut derive = Sha256::new();
        for part in [
            "license-gate cache v1",
            product,
            license_key.map_or("", LicenseKey::expose),
            hardware_id,
        ] {
            // Length-prefixed so ("ab", "c") and ("a", "bc") differ.
            derive.update((part.len() as u64).to_le_bytes());
            derive.update(part.as_bytes());
        }
        let key: [u8; 32] = derive.finalize().into();
        ProductCache {
            path: dir.join(file_name(product)),
            key,
            product: product.to_owned(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }

    /// Reads and checks the cache.
    pub(crate) fn load(&self) -> Result<CachedState, CacheRejection> {
        let file = match fs::File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CacheRejection::Missing);
            }
            Err(e) => return Err(CacheRejection::Unreadable(e)),
        };
        let len = file.metadata().map_err(CacheRejection::Unreadable)?.len();
        if len > MAX_CACHE_BYTES {
            return Err(CacheRejection::TooLarge);
        }
        let bytes = fs::read(&self.path).map_err(CacheRejection::Unreadable)?;
        let newline = bytes
            .iter()
            .position(|b| *b == b'\n')
            .ok_or(CacheRejection::NoTag)?;
        let (tag_hex, body) = (&bytes[..newline], &bytes[newline + 1..]);
        let tag = hex::decode(tag_hex).map_err(|_| CacheRejection::NoTag)?;
        let mut mac = self.mac();
        mac.update(body);
        // Constant-time comparison.
        mac.verify_slice(&tag).map_err(|_| CacheRejection::BadTag)?;
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
        Ok(CachedState {
            state: ProductState {
                product: body.product,
                status: body.status,
                features: body.features,
                expires_at: body.expires_at_ms.map(from_millis),
                source: body.source,
                last_confirmed: body.last_confirmed_ms.map(from_millis),
                seats: body.seats,
            },
            latest_seen: from_millis(body.latest_seen_ms),
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
        let mut mac = self.mac();
        mac.update(&body);
        let tag = hex::encode(mac.finalize().into_bytes());

        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let mut file = tempfile::Builder::new()
            .prefix(".license-gate-")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        file.write_all(tag.as_bytes())?;
        file.write_all(b"\n")?;
        file.write_all(&body)?;
        file.as_file().sync_all()?;
        file.persist(&self.path).map_err(|e| e.error)?;
        sync_dir(dir);
        remove_stale_temporaries(dir);
        Ok(())
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
    let slug: String = product
        .chars()
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
        .join("-");
    let hash = hex::encode(&Sha256::digest(product.as_bytes())[..4]);
    let slug: String = slug.chars().take(48).collect();
    format!("{slug}-{hash}.license")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ProductState {
        ProductState {
            last_confirmed: Some(from_millis(1_800_000_000_000)),
            expires_at: Some(from_millis(1_900_000_000_000)),
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
        )
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), "HW1");
        c.store(&sample(), from_millis(1_850_000_000_000)).unwrap();
        let loaded = c.load().unwrap();
        assert_eq!(loaded.state, sample());
        assert_eq!(loaded.latest_seen, from_millis(1_850_000_000_000));
    }

    #[test]
    fn every_single_byte_edit_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path(), "HW1");
        c.store(&sample(), from_millis(1_850_000_000_000)).unwrap();
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
        );
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
