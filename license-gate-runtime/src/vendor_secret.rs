//! The vendor secret: key material that only the vendor's build holds, from
//! which the gate derives the keys that authenticate its cache and its time
//! anchors.
//!
//! Everything else that goes into those keys (product, license key, hardware
//! ID) is known to the application's user. Without a vendor secret a cache is
//! still written, for its time anchor, but it never grants on its own.
//!
//! A debug build whose `embed_secret!` variable is not set gets the
//! *development* secret ([`VendorSecret::is_development`]): fixed, public, and
//! kept apart from every real secret in key derivation, so that nothing it
//! writes is accepted by a build with a real secret. A release build cannot
//! have it: there, the unset variable is a compile error.

use std::fmt;

use hkdf::Hkdf;
use sha2::Sha256;

use crate::error::GateError;

/// The fewest bytes a vendor secret may have.
const MIN_SECRET_BYTES: usize = 16;

/// Secret key material that only the vendor's build holds.
///
/// Give it to [`LicenseGateBuilder::vendor_secret`](crate::LicenseGateBuilder::vendor_secret).
/// Embed it at build time with `license_gate::embed_secret!`, which reads an
/// environment variable of the build and lays the value out afresh in every
/// build, never verbatim, or load it any other way your build allows.
///
/// `Debug` never shows the bytes.
///
/// ```
/// use license_gate::VendorSecret;
///
/// let secret = VendorSecret::new("a long random string only our build knows").unwrap();
/// assert_eq!(format!("{secret:?}"), "VendorSecret(<redacted>)");
/// assert!(!secret.is_development());
/// assert!(VendorSecret::new("short").is_err());
/// ```
#[derive(Clone)]
pub struct VendorSecret {
    bytes: Box<[u8]>,
    /// `Some(variable)`: the development secret, which `embed_secret!` gives
    /// a debug build in which `variable` was not set.
    development: Option<&'static str>,
}

/// The development secret's bytes: public by design (they are in this
/// source), so a cache keyed by them is only as authentic as a debug build
/// needs. Keys derived from them are also kept apart by their purpose
/// ([`VendorSecret::derive`]), so even a real secret of these same bytes
/// never reads what the development secret wrote.
const DEVELOPMENT_SECRET: &[u8] =
    b"license-gate development vendor secret: public, for debug builds only";

/// What the development secret adds to every key's purpose.
const DEVELOPMENT_PURPOSE: &str = " (development secret)";

impl VendorSecret {
    /// A vendor secret from at least 16 bytes (use 32 random ones).
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, GateError> {
        let bytes = secret.as_ref();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(GateError::VendorSecretTooShort { bytes: bytes.len() });
        }
        Ok(VendorSecret {
            bytes: bytes.into(),
            development: None,
        })
    }

    /// The development secret a debug build gets when `variable` (the one
    /// its `embed_secret!` names) is not set.
    fn development(variable: &'static str) -> Self {
        VendorSecret {
            bytes: DEVELOPMENT_SECRET.into(),
            development: Some(variable),
        }
    }

    /// Whether this is the development secret: what `embed_secret!` gives a
    /// debug build (and its tests) when the variable is not set. It is
    /// public, so its caches are authentic only against a user who does not
    /// read this crate's source; a build with a real secret never accepts
    /// them, and a release build cannot be built with it.
    pub fn is_development(&self) -> bool {
        self.development.is_some()
    }

    /// The variable `embed_secret!` named, when this is the development
    /// secret.
    pub(crate) fn unset_variable(&self) -> Option<&'static str> {
        self.development
    }

    /// A 32-byte key for `purpose`, bound to `parts` (HKDF-SHA256). The
    /// development secret derives under a purpose of its own, so its keys
    /// differ from those of every real secret, the same bytes included.
    pub(crate) fn derive(secret: Option<&VendorSecret>, purpose: &str, parts: &[&str]) -> [u8; 32] {
        match secret {
            Some(secret) if secret.is_development() => derive_key(
                &secret.bytes,
                &format!("{purpose}{DEVELOPMENT_PURPOSE}"),
                parts,
            ),
            Some(secret) => derive_key(&secret.bytes, purpose, parts),
            None => derive_key(&[], purpose, parts),
        }
    }
}

fn derive_key(secret: &[u8], purpose: &str, parts: &[&str]) -> [u8; 32] {
    let hkdf = Hkdf::<Sha256>::new(Some(purpose.as_bytes()), secret);
    let mut info = Vec::new();
    for part in parts {
        // Length-prefixed so ("ab", "c") and ("a", "bc") differ.
        info.extend_from_slice(&(part.len() as u64).to_le_bytes());
        info.extend_from_slice(part.as_bytes());
    }
    let mut key = [0u8; 32];
    hkdf.expand(&info, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

impl fmt::Debug for VendorSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.development {
            Some(variable) => write!(f, "VendorSecret(development: `{variable}` was not set)"),
            None => f.write_str("VendorSecret(<redacted>)"),
        }
    }
}

/// What a gate's vendor secret does not give, from
/// [`LicenseGate::vendor_secret_warning`](crate::LicenseGate::vendor_secret_warning):
/// for an application to show or log where no tracing subscriber runs.
///
/// `Display` is one sentence that says what it means and how to fix it.
///
/// ```
/// use license_gate::{LicenseGate, providers::mock::MockProvider};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// let (provider, _handle) = MockProvider::licensed(["pro"]);
/// let gate = LicenseGate::builder()
///     .product("Atlas Studio")
///     .provider(provider)
///     .license_key("AAAA-BBBB-CCCC-DDDD")
///     .cache_dir(dir.path())
///     .start()
///     .await?;
/// // No `.vendor_secret(..)`: the cache does not grant on its own.
/// let warning = gate.vendor_secret_warning().expect("no vendor secret");
/// assert!(warning.to_string().starts_with("no vendor secret: the cache never grants on its own"));
/// # gate.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VendorSecretWarning {
    /// The gate has no vendor secret and keeps a cache: the cache never
    /// grants on its own, so a start while the license server cannot be
    /// reached stays pending.
    Missing,
    /// The gate runs with the development secret: `embed_secret!` gave it to
    /// this debug build because `variable` was not set. It works as a real
    /// secret does, but it is public, and a build with a real secret does
    /// not accept what it wrote.
    Development {
        /// The environment variable `embed_secret!` named.
        variable: &'static str,
    },
}

impl VendorSecretWarning {
    /// The warning for a gate with `secret` (`None`: no vendor secret) and,
    /// when `caching`, a cache.
    pub(crate) fn of(secret: Option<&VendorSecret>, caching: bool) -> Option<Self> {
        match secret {
            None if caching => Some(VendorSecretWarning::Missing),
            None => None,
            Some(secret) => secret
                .unset_variable()
                .map(|variable| VendorSecretWarning::Development { variable }),
        }
    }
}

impl fmt::Display for VendorSecretWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VendorSecretWarning::Missing => f.write_str(
                "no vendor secret: the cache never grants on its own, so a start while the license server cannot be reached stays pending; give the builder `.vendor_secret(license_gate::embed_secret!(\"YOUR_APP_LICENSE_SECRET\")?)` (`license-gate secret new` makes a secret and prints where to put it)",
            ),
            VendorSecretWarning::Development { variable } => write!(
                f,
                "development vendor secret: `{variable}` was not set when this debug build was built, so `embed_secret!` gave it the public development secret, whose caches a build with a real secret does not accept (and a release build without `{variable}` does not compile); run `license-gate secret new` and set `{variable}` as it prints"
            ),
        }
    }
}

/// Not public API: what `embed_secret!` expands to in a debug build whose
/// `variable` is not set (a release build's expansion is a compile error).
#[doc(hidden)]
pub fn development_secret(variable: &'static str) -> Result<VendorSecret, GateError> {
    Ok(VendorSecret::development(variable))
}

/// Not public API: what `embed_secret!` expands to, given the recombined
/// bytes.
#[doc(hidden)]
pub fn embedded_secret(bytes: &[u8]) -> Result<VendorSecret, GateError> {
    VendorSecret::new(bytes)
}

/// Not public API: one share of an embedded secret, read through a volatile
/// barrier so that the optimiser cannot fold the recombination of the shares
/// back into the plain secret in the binary.
#[doc(hidden)]
#[inline(always)]
pub fn read_share<const N: usize>(share: &'static [u8; N]) -> [u8; N] {
    // SAFETY: `share` is a reference, so valid for reads, aligned and
    // initialised; a volatile read of it is an ordinary read the compiler may
    // not see through.
    unsafe { core::ptr::read_volatile(share) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_secrets_are_checked_like_any_other() {
        let share: &'static [u8; 3] = &[1, 2, 3];
        assert_eq!(read_share(share), [1, 2, 3]);
        let secret = embedded_secret(b"an example vendor secret of some length").unwrap();
        assert_eq!(&*secret.bytes, b"an example vendor secret of some length");
        assert!(embedded_secret(b"short").is_err());
    }

    #[test]
    fn keys_depend_on_secret_purpose_and_every_part() {
        let a = VendorSecret::new([1u8; 32]).unwrap();
        let b = VendorSecret::new([2u8; 32]).unwrap();
        let base = VendorSecret::derive(Some(&a), "p", &["x", "y"]);
        assert_ne!(base, VendorSecret::derive(Some(&b), "p", &["x", "y"]));
        assert_ne!(base, VendorSecret::derive(None, "p", &["x", "y"]));
        assert_ne!(base, VendorSecret::derive(Some(&a), "q", &["x", "y"]));
        assert_ne!(base, VendorSecret::derive(Some(&a), "p", &["xy", ""]));
        assert_eq!(base, VendorSecret::derive(Some(&a), "p", &["x", "y"]));
    }

    #[test]
    fn the_development_secret_keys_apart_from_every_real_one() {
        let development = development_secret("APP_SECRET").unwrap();
        assert!(development.is_development());
        assert_eq!(development.unset_variable(), Some("APP_SECRET"));
        assert_eq!(
            format!("{development:?}"),
            "VendorSecret(development: `APP_SECRET` was not set)"
        );
        // A real secret of the very same bytes derives other keys.
        let same_bytes = VendorSecret::new(DEVELOPMENT_SECRET).unwrap();
        assert!(!same_bytes.is_development());
        let key = VendorSecret::derive(Some(&development), "p", &["x"]);
        assert_ne!(key, VendorSecret::derive(Some(&same_bytes), "p", &["x"]));
        assert_ne!(key, VendorSecret::derive(None, "p", &["x"]));
        // Whichever variable was unset, the development keys are the same.
        let other = development_secret("OTHER").unwrap();
        assert_eq!(key, VendorSecret::derive(Some(&other), "p", &["x"]));
    }
}
