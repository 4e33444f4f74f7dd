//! The vendor secret: key material that only the vendor's build holds, from
//! which the gate derives the keys that authenticate its cache and its time
//! anchors.
//!
//! Everything else that goes into those keys (product, license key, hardware
//! ID) is known to the application's user. Without a vendor secret a cache is
//! still written, for its time anchor, but it never grants on its own.

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
/// assert!(VendorSecret::new("short").is_err());
/// ```
#[derive(Clone)]
pub struct VendorSecret {
    bytes: Box<[u8]>,
}

impl VendorSecret {
    /// A vendor secret from at least 16 bytes (use 32 random ones).
    pub fn new(secret: impl AsRef<[u8]>) -> Result<Self, GateError> {
        let bytes = secret.as_ref();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(GateError::VendorSecretTooShort { bytes: bytes.len() });
        }
        Ok(VendorSecret {
            bytes: bytes.into(),
        })
    }

    /// A 32-byte key for `purpose`, bound to `parts` (HKDF-SHA256).
    pub(crate) fn derive(secret: Option<&VendorSecret>, purpose: &str, parts: &[&str]) -> [u8; 32] {
        derive_key(secret.map_or(&[][..], |s| &s.bytes), purpose, parts)
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
        f.write_str("VendorSecret(<redacted>)")
    }
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
}
