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
/// Embed it at build time with [`embed_secret!`](crate::embed_secret), which
/// reads an environment variable of the build and keeps the value out of the
/// binary verbatim, or load it any other way your build allows.
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
            return Err(GateError::Config(format!(
                "the vendor secret has {} bytes: use at least {MIN_SECRET_BYTES} (32 random bytes are best)",
                bytes.len()
            )));
        }
        Ok(VendorSecret {
            bytes: bytes.into(),
        })
    }

    /// Not public API: what [`embed_secret!`](crate::embed_secret) expands to.
    #[doc(hidden)]
    pub fn __unmask(masked: &[u8], seed: u64) -> Result<Self, GateError> {
        let mut bytes = masked.to_vec();
        for (byte, mask) in bytes.iter_mut().zip(KeyStream(seed)) {
            *byte ^= mask;
        }
        VendorSecret::new(bytes)
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

/// The mask stream of [`embed_secret!`](crate::embed_secret) (splitmix64):
/// it only keeps the secret from appearing verbatim in the binary, which is
/// all a client-side secret can get.
struct KeyStream(u64);

impl Iterator for KeyStream {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        self.0 = splitmix(self.0);
        Some((self.0 >> 32) as u8)
    }
}

const fn splitmix(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Not public API: a mask seed from where `embed_secret!` was written.
#[doc(hidden)]
pub const fn __seed(name: &str, file: &str, line: u32, column: u32) -> u64 {
    let mut state = splitmix(((line as u64) << 32) | column as u64);
    let mut i = 0;
    while i < name.len() {
        state = splitmix(state ^ name.as_bytes()[i] as u64);
        i += 1;
    }
    let mut i = 0;
    while i < file.len() {
        state = splitmix(state ^ file.as_bytes()[i] as u64);
        i += 1;
    }
    state
}

/// Not public API: `raw` masked with the stream of `seed`, at compile time.
#[doc(hidden)]
pub const fn __mask<const N: usize>(raw: &[u8], seed: u64) -> [u8; N] {
    let mut out = [0u8; N];
    let mut state = seed;
    let mut i = 0;
    while i < N {
        state = splitmix(state);
        out[i] = raw[i] ^ ((state >> 32) as u8);
        i += 1;
    }
    out
}

/// Embeds a vendor secret from an environment variable of the build.
///
/// The value is read when the application is compiled (cargo rebuilds when it
/// changes) and stored masked, so it does not appear verbatim in the binary.
/// The build fails with a clear message when the variable is not set.
/// Evaluates to `Result<VendorSecret, GateError>` (an error when the value is
/// shorter than 16 bytes).
///
/// ```
/// // Built with ATLAS_LICENSE_SECRET set, for example from your CI's secrets.
/// let secret = license_gate::embed_secret!("ATLAS_LICENSE_SECRET")?;
/// let builder = license_gate::LicenseGate::builder().vendor_secret(secret);
/// # let _ = builder;
/// # Ok::<(), license_gate::GateError>(())
/// ```
///
/// Masking raises the cost of reading the secret out of the binary to that of
/// a debugger session; it cannot make it impossible (see the security guide).
#[macro_export]
macro_rules! embed_secret {
    ($name:literal) => {{
        const __LICENSE_GATE_RAW: &[u8] = ::core::env!(
            $name,
            "the vendor secret is not set: set this environment variable when building the application, or give the secret to `LicenseGateBuilder::vendor_secret` another way"
        )
        .as_bytes();
        const __LICENSE_GATE_SEED: u64 = $crate::__private::__seed(
            $name,
            ::core::file!(),
            ::core::line!(),
            ::core::column!(),
        );
        static __LICENSE_GATE_MASKED: [u8; __LICENSE_GATE_RAW.len()] =
            $crate::__private::__mask::<{ __LICENSE_GATE_RAW.len() }>(
                __LICENSE_GATE_RAW,
                __LICENSE_GATE_SEED,
            );
        $crate::VendorSecret::__unmask(&__LICENSE_GATE_MASKED, __LICENSE_GATE_SEED)
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_round_trips_and_hides_the_value() {
        const RAW: &[u8] = b"an example vendor secret of some length";
        const SEED: u64 = __seed("NAME", "file.rs", 1, 2);
        let masked: [u8; RAW.len()] = __mask::<{ RAW.len() }>(RAW, SEED);
        assert!(!masked.windows(8).any(|w| RAW.windows(8).any(|r| r == w)));
        let secret = VendorSecret::__unmask(&masked, SEED).unwrap();
        assert_eq!(&*secret.bytes, RAW);
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
