//! Entry points for the fuzz targets in `fuzz/` (cargo feature `fuzzing`, not API).
//!
//! Each function takes outside bytes and runs them through the code that
//! reads them in a real program: service replies, cache and time-anchor
//! files, timestamps. Whatever parses is then used the way the runtime uses
//! it (displayed, formatted, turned into a status), because a value that
//! parses but panics later is as bad as a parser that panics. None of these
//! functions may panic; an `assert!` here states a property the fuzzer checks.
//!
//! Parsers that live in private modules are reached by compiling their source
//! file once more as a child of this module (`#[path]`): it is the same code,
//! and the providers' files need no change for fuzzing.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use sha2::Sha256;

use crate::cache::{ProductCache, TimeAnchor};
use crate::error::ProviderError;
use crate::secret::LicenseKey;
use crate::state::{LicenseStatus, ProductState, Source};
use crate::time::{format_rfc3339, parse_iso8601};
use crate::transport::HttpReply;
use crate::vendor_secret::VendorSecret;

/// The ECOSIRE reply parser (`providers/ecosire/wire.rs`), compiled here
/// because its module is private to the provider.
#[path = "providers/ecosire/wire.rs"]
#[allow(dead_code, unused_imports, unreachable_pub, clippy::duplicate_mod)]
mod ecosire_reply;

/// The ExisOne wire types (`providers/exisone/wire.rs`): the JSON shapes the
/// client reads, private to the provider.
#[path = "providers/exisone/wire.rs"]
#[allow(dead_code, unused_imports, unreachable_pub, clippy::duplicate_mod)]
mod exisone_types;

/// Formats everything a caller could print about an instant; panics here are
/// what the fuzzer looks for.
fn show_instant(out: &mut String, at: Option<SystemTime>) {
    if let Some(at) = at {
        let _ = write!(out, "{}", format_rfc3339(at));
    }
}

/// Uses an error the way callers do: `Display`, `Debug`, transient or not.
fn show_error(out: &mut String, error: &ProviderError) {
    let _ = write!(out, "{error} {error:?} {}", error.is_transient());
}

fn show_status(out: &mut String, status: &LicenseStatus) {
    let _ = write!(out, "{status} {status:?} {}", status.grants_access());
}

/// An HTTP reply with `status`, the headers that are valid HTTP (others are
/// dropped, as the HTTP stack would refuse them) and `body`.
pub fn http_reply(status: u16, headers: &[(String, Vec<u8>)], body: &[u8]) -> HttpReply {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            map.append(name, value);
        }
    }
    HttpReply {
        status,
        headers: map,
        body: body.to_vec(),
    }
}

/// The ExisOne calls whose replies the client reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExisOneCall {
    /// `POST /api/license/activate`.
    Activate,
    /// `POST /api/license/validate`.
    Validate,
    /// `POST /api/activationkey/generate`.
    Generate,
    /// `GET /api/license/{key}/usage`.
    SeatUsage,
    /// `POST /api/license/features/csv`.
    Features,
}

impl ExisOneCall {
    /// Every call, for picking one from a fuzz input.
    pub const ALL: [ExisOneCall; 5] = [
        ExisOneCall::Activate,
        ExisOneCall::Validate,
        ExisOneCall::Generate,
        ExisOneCall::SeatUsage,
        ExisOneCall::Features,
    ];
}

/// Reads an ExisOne reply to `call` as `ExisOneClient` does (the steps after
/// the transport, in the order the client takes them) and uses the result.
/// Returns a text of what was read, so a target can check it is not empty.
pub fn exisone_reply(call: ExisOneCall, reply: &HttpReply) -> String {
    let mut out = String::new();
    if !reply.is_success() {
        // The client's own reading of an error reply: its body fields, then
        // the transport's status table (429 with its wait headers, 5xx, 4xx).
        show_error(&mut out, &exisone_types::error_for(reply));
        return out;
    }
    match call {
        ExisOneCall::Activate => {
            let versions: exisone_types::VersionsReply =
                serde_json::from_slice(&reply.body).unwrap_or_default();
            let _ = write!(
                out,
                "{:?} {:?} {}",
                versions.server_version,
                versions.minimum_required_version,
                String::from_utf8_lossy(&reply.body)
            );
        }
        ExisOneCall::Validate => match crate::providers::exisone::read_validation(reply) {
            Ok(result) => {
                show_status(&mut out, &result.license_status());
                show_instant(&mut out, result.expiration_date);
                let _ = write!(out, "{result:?}");
            }
            Err(error) => show_error(&mut out, &error),
        },
        ExisOneCall::Generate => {
            let text = String::from_utf8_lossy(&reply.body);
            let key = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::String(key)) => key,
                _ => text.trim().to_owned(),
            };
            let _ = write!(out, "{:?}", LicenseKey::new(key));
        }
        ExisOneCall::SeatUsage => match reply.json::<exisone_types::SeatUsageReply>() {
            Ok(usage) => {
                let usage = usage.into_sdk();
                let _ = write!(out, "{usage:?} {:?}", usage.remaining());
                let usage = crate::SeatUsage::from(usage);
                let _ = write!(out, " {usage:?} {:?}", usage.remaining());
            }
            Err(error) => show_error(&mut out, &error),
        },
        ExisOneCall::Features => match reply.json::<exisone_types::FeaturesReply>() {
            Ok(data) => {
                let features: Vec<&str> = data
                    .features
                    .as_deref()
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .collect();
                assert!(features.iter().all(|f| !f.contains(',')));
                let _ = write!(out, "{features:?}");
            }
            Err(error) => show_error(&mut out, &error),
        },
    }
    out
}

/// The ECOSIRE calls whose replies the client reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EcosireCall {
    /// `POST /licenses/validate`.
    Validate,
    /// `POST /licenses/activate`.
    Activate,
    /// `POST /licenses/deactivate`.
    Deactivate,
}

impl EcosireCall {
    /// Every call, for picking one from a fuzz input.
    pub const ALL: [EcosireCall; 3] = [
        EcosireCall::Validate,
        EcosireCall::Activate,
        EcosireCall::Deactivate,
    ];
}

/// Reads an ECOSIRE reply to `call` with the client's parser
/// (`reply::interpret` with the call's field reader) and uses the result.
pub fn ecosire_reply(call: EcosireCall, reply: &HttpReply) -> String {
    let mut out = String::new();
    match call {
        EcosireCall::Validate => {
            match ecosire_reply::interpret(reply, ecosire_reply::parse_validate) {
                Ok(answer) => {
                    if let Some(status) = answer.status() {
                        let _ = write!(out, "{status} ");
                        if let Some(status) = status.license_status() {
                            show_status(&mut out, &status);
                        }
                    }
                    if let Some(license) = &answer.license {
                        show_instant(&mut out, license.expires_at);
                        let _ = write!(out, "{:?}", license.seats());
                    }
                    let _ = write!(out, "{answer:?}");
                }
                Err(error) => show_error(&mut out, &error),
            }
        }
        EcosireCall::Activate => {
            match ecosire_reply::interpret(reply, ecosire_reply::parse_activate) {
                Ok(answer) => {
                    let _ = write!(out, "{answer:?} {:?}", answer.seats());
                }
                Err(error) => show_error(&mut out, &error),
            }
        }
        EcosireCall::Deactivate => {
            match ecosire_reply::interpret(reply, ecosire_reply::parse_deactivate) {
                Ok(answer) => {
                    let _ = write!(out, "{answer:?}");
                }
                Err(error) => show_error(&mut out, &error),
            }
        }
    }
    out
}

/// Checks a license key against the ECOSIRE format; a key it accepts is
/// normalised, so checking it again gives the same key.
pub fn ecosire_key(text: &str) {
    use crate::providers::ecosire::check_key;
    match check_key(&LicenseKey::new(text)) {
        Ok(key) => {
            let again = check_key(&key).expect("a normalised key is still valid");
            assert_eq!(again.expose(), key.expose(), "normalising is idempotent");
        }
        Err(error) => {
            let mut out = String::new();
            show_error(&mut out, &error);
        }
    }
}

/// Parses an ISO-8601 date as replies and offline codes carry it; a date that
/// parses formats, and the formatted text parses back to the same instant.
pub fn iso8601(text: &str) {
    if let Some(at) = parse_iso8601(text) {
        let formatted = format_rfc3339(at);
        let back = parse_iso8601(&formatted)
            .unwrap_or_else(|| panic!("{formatted:?} (from {text:?}) does not parse back"));
        assert_eq!(back, at, "{text:?} -> {formatted:?}");
    }
}

/// The cache files the fuzz targets write, with the keys they are tagged with.
struct CacheFixture {
    /// Kept for the life of the process (a static is never dropped), so each
    /// run leaves one small `license-gate-fuzz-*` folder behind, which
    /// `scripts/fuzz` removes.
    _dir: tempfile::TempDir,
    /// Keyed by a vendor secret (a cache that grants on its own).
    vendor: ProductCache,
    /// Keyed without one.
    plain: ProductCache,
    anchor: TimeAnchor,
    vendor_key: [u8; 32],
    plain_key: [u8; 32],
    anchor_key: [u8; 32],
}

const PRODUCT: &str = "Fuzz Product";
const KEY: &str = "FUZZ-AAAA-BBBB-CCCC";
const HARDWARE_ID: &str = "FUZZ-HW";

fn cache_fixture() -> &'static CacheFixture {
    static FIXTURE: OnceLock<CacheFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // Memory-backed where the platform has it: every execution writes a file.
        let shm = std::path::Path::new("/dev/shm");
        let mut builder = tempfile::Builder::new();
        builder.prefix("license-gate-fuzz-");
        let dir = if shm.is_dir() {
            builder.tempdir_in(shm)
        } else {
            builder.tempdir()
        }
        .expect("a temporary folder");
        let secret = VendorSecret::new("a vendor secret for fuzzing only").expect("16+ bytes");
        let key = LicenseKey::new(KEY);
        let vendor_dir = dir.path().join("vendor");
        let plain_dir = dir.path().join("plain");
        std::fs::create_dir_all(&vendor_dir).expect("a folder");
        std::fs::create_dir_all(&plain_dir).expect("a folder");
        let vendor =
            ProductCache::new(&vendor_dir, PRODUCT, Some(&key), HARDWARE_ID, Some(&secret));
        let plain = ProductCache::new(&plain_dir, PRODUCT, Some(&key), HARDWARE_ID, None);
        let anchor = TimeAnchor::new(dir.path(), HARDWARE_ID, Some(&secret));
        // The labels below must be the ones `cache.rs` derives its keys with;
        // the self-check after this proves they still are.
        let parts = [PRODUCT, KEY, HARDWARE_ID];
        let fixture = CacheFixture {
            vendor_key: VendorSecret::derive(Some(&secret), "license-gate cache v2", &parts),
            plain_key: VendorSecret::derive(None, "license-gate cache v2", &parts),
            anchor_key: VendorSecret::derive(
                Some(&secret),
                "license-gate time anchor v1",
                &[HARDWARE_ID],
            ),
            _dir: dir,
            vendor,
            plain,
            anchor,
        };
        fixture.self_check();
        fixture
    })
}

fn tag(key: &[u8; 32], body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

impl CacheFixture {
    /// Proves that the files this module tags are the files `cache.rs`
    /// writes: otherwise every tagged input would stop at the integrity check
    /// and the fuzzer would test nothing behind it.
    fn self_check(&self) {
        let state = ProductState {
            source: Source::Online,
            ..ProductState::new(PRODUCT, LicenseStatus::Licensed, ["pro"])
        };
        let now = crate::time::from_unix_millis(1_800_000_000_000);
        for (cache, key) in [
            (&self.vendor, &self.vendor_key),
            (&self.plain, &self.plain_key),
        ] {
            cache.store(&state, now).expect("the cache is written");
            let file = std::fs::read(cache.path()).expect("the cache is read");
            let newline = file.iter().position(|b| *b == b'\n').expect("a tag line");
            assert_eq!(
                tag(key, &file[newline + 1..]).as_bytes(),
                &file[..newline],
                "fuzzing.rs derives cache keys unlike cache.rs: update the labels"
            );
        }
        self.anchor.store(now);
        assert_eq!(self.anchor.load(), Some(now), "the time anchor round-trips");
        let anchor_file = self.anchor_path();
        let file = std::fs::read(&anchor_file).expect("the anchor is read");
        let newline = file.iter().position(|b| *b == b'\n').expect("a tag line");
        assert_eq!(
            tag(&self.anchor_key, &file[newline + 1..]).as_bytes(),
            &file[..newline],
            "fuzzing.rs derives the anchor key unlike cache.rs: update the label"
        );
    }

    fn anchor_path(&self) -> PathBuf {
        self._dir.path().join("time.anchor")
    }
}

/// What to write into a cache or anchor file before loading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileBytes {
    /// The bytes are the whole file, as a user could write it.
    Raw,
    /// The bytes are the body; the tag line that `cache.rs` expects is put in
    /// front, as if the application had written the file. This reaches the
    /// body parser behind the integrity check.
    Tagged,
}

/// Writes `bytes` as a product's cache file and loads it with
/// `ProductCache::load` (keyed with a vendor secret when `vendor` is true,
/// without one otherwise); what loads is used as the gate uses it.
pub fn cache_load(bytes: &[u8], how: FileBytes, vendor: bool) -> String {
    let fixture = cache_fixture();
    let (cache, key) = if vendor {
        (&fixture.vendor, &fixture.vendor_key)
    } else {
        (&fixture.plain, &fixture.plain_key)
    };
    write_file(cache.path(), key, bytes, how);
    let mut out = String::new();
    match cache.load() {
        Ok(cached) => {
            assert_eq!(cached.grants_on_its_own, vendor);
            let state = &cached.state;
            assert_eq!(state.product, PRODUCT);
            show_status(&mut out, &state.status);
            show_instant(&mut out, state.expires_at);
            show_instant(&mut out, state.last_confirmed);
            show_instant(&mut out, Some(cached.latest_seen));
            let _ = write!(out, "{state:?} {}", state.has_feature("pro"));
        }
        Err(rejection) => {
            let _ = write!(out, "{rejection} {rejection:?}");
        }
    }
    out
}

/// Writes `bytes` as the time anchor and loads it with `TimeAnchor::load`.
pub fn anchor_load(bytes: &[u8], how: FileBytes) -> Option<SystemTime> {
    let fixture = cache_fixture();
    write_file(&fixture.anchor_path(), &fixture.anchor_key, bytes, how);
    let at = fixture.anchor.load();
    let mut out = String::new();
    show_instant(&mut out, at);
    at
}

fn write_file(path: &std::path::Path, key: &[u8; 32], bytes: &[u8], how: FileBytes) {
    let file = match how {
        FileBytes::Raw => bytes.to_vec(),
        FileBytes::Tagged => {
            let mut file = tag(key, bytes).into_bytes();
            file.push(b'\n');
            file.extend_from_slice(bytes);
            file
        }
    };
    std::fs::write(path, file).expect("the fuzz file is written");
}

/// An instant `seconds` after the Unix epoch, for targets that build dates.
pub fn instant(seconds: u64) -> SystemTime {
    UNIX_EPOCH
        .checked_add(Duration::from_secs(seconds))
        .unwrap_or(UNIX_EPOCH)
}
