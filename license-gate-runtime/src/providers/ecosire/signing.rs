//! Request signing: `X-Ecosire-Signature` is the lowercase hex HMAC-SHA256,
//! keyed with the license secret, of `k1=v1&k2=v2&...` built from the body's
//! fields sorted by key (byte order), values as sent, without escaping.

/// The header that carries the request signature (lower case, as HTTP/2 sends it).
pub const SIGNATURE_HEADER: &str = "x-ecosire-signature";

use std::collections::BTreeMap;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// The fields of one request body, sorted by key (byte order), all strings.
///
/// The JSON body and the signed message are both built from it, so what is
/// sent is exactly what is signed.
///
/// ```
/// use license_gate::Secret;
/// use license_gate::providers::ecosire::__private::SignedPayload;
///
/// let payload = SignedPayload::new([
///     ("timestamp", "1767225600"),
///     ("key", "SHOP-A1B2-C3D4-E5F6-G7H8"),
///     ("domain", "mystore.myshopify.com"),
/// ]);
/// assert_eq!(
///     payload.message(),
///     "domain=mystore.myshopify.com&key=SHOP-A1B2-C3D4-E5F6-G7H8&timestamp=1767225600"
/// );
/// assert_eq!(
///     payload.signature(&Secret::new("test-secret")),
///     "cb73196f2eed4234fb1eaaf911ec14902d00772b6342d85ee4487f4ef3c002f5"
/// );
/// assert_eq!(
///     payload.body(),
///     br#"{"domain":"mystore.myshopify.com","key":"SHOP-A1B2-C3D4-E5F6-G7H8","timestamp":"1767225600"}"#
/// );
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SignedPayload {
    fields: BTreeMap<String, String>,
}

impl SignedPayload {
    /// A payload of these fields (a later duplicate key replaces an earlier one).
    pub fn new<I, K, V>(fields: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        SignedPayload {
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The fields, sorted by key.
    pub fn fields(&self) -> &BTreeMap<String, String> {
        &self.fields
    }

    /// The signed message: `k1=v1&k2=v2...` in key order, values unescaped.
    pub fn message(&self) -> String {
        canonical_message(self.fields.iter())
    }

    /// The lowercase hex HMAC-SHA256 of [`SignedPayload::message`] under `secret`.
    pub fn signature(&self, secret: &Secret) -> String {
        sign(secret, &self.message())
    }

    /// The JSON body: an object of the same fields in the same order, all strings.
    pub fn body(&self) -> Vec<u8> {
        // A map of strings always serializes.
        serde_json::to_vec(&self.fields).unwrap_or_default()
    }
}

impl std::fmt::Debug for SignedPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key field is a license key: mask it like `LicenseKey` does.
        let mut map = f.debug_map();
        for (k, v) in &self.fields {
            if k == "key" {
                map.entry(k, &crate::secret::LicenseKey::new(v.as_str()).masked());
            } else {
                map.entry(k, v);
            }
        }
        map.finish()
    }
}

/// The message `k1=v1&k2=v2...` of `fields`, sorted by key (byte order).
///
/// ```
/// use license_gate::providers::ecosire::__private::canonical_message;
/// let message = canonical_message([("b", "2"), ("a", "x=y&z")]);
/// assert_eq!(message, "a=x=y&z&b=2");
/// ```
pub fn canonical_message<I, K, V>(fields: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut pairs: Vec<(K, V)> = fields.into_iter().collect();
    pairs.sort_by(|a, b| a.0.as_ref().as_bytes().cmp(b.0.as_ref().as_bytes()));
    let mut message = String::new();
    for (index, (k, v)) in pairs.iter().enumerate() {
        if index > 0 {
            message.push('&');
        }
        message.push_str(k.as_ref());
        message.push('=');
        message.push_str(v.as_ref());
    }
    message
}

/// The lowercase hex HMAC-SHA256 of `message` keyed with `secret`.
pub fn sign(secret: &Secret, message: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_bytes_not_by_locale() {
        // `Z` (0x5A) sorts before `_` (0x5F) and `a` (0x61).
        let m = canonical_message([("a", "1"), ("_", "2"), ("Z", "3")]);
        assert_eq!(m, "Z=3&_=2&a=1");
    }

    #[test]
    fn values_are_not_escaped() {
        let p = SignedPayload::new([("domain", "bücher.example/a b&c")]);
        assert_eq!(p.message(), "domain=bücher.example/a b&c");
        let body: serde_json::Value = serde_json::from_slice(&p.body()).unwrap();
        assert_eq!(body["domain"], "bücher.example/a b&c");
    }

    #[test]
    fn debug_masks_the_key() {
        let p = SignedPayload::new([("key", "SHOP-A1B2-C3D4-E5F6-G7H8")]);
        let text = format!("{p:?}");
        assert!(!text.contains("A1B2"), "{text}");
        assert!(text.contains("G7H8"), "{text}");
    }
}
