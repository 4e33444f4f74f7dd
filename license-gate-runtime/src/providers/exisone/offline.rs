//! Offline activation codes: signed licenses that work without the server.
//!
//! A code is the Crockford Base32 text of
//! `u16 little-endian payload length | payload (UTF-8 JSON) | RSA signature`,
//! where the signature is RSASSA-PKCS1-v1_5 with SHA-256 over the payload
//! bytes, made with the vendor's private key. Codes are shown in dash-separated
//! groups.
//!
//! Reading is forgiving where it costs nothing: dashes and white space are
//! dropped, lower case is accepted, and Crockford's look-alikes are read as the
//! digits they stand for (`O` as `0`, `I` and `L` as `1`). A code that is
//! malformed in any way is reported as invalid, never with a panic.

use std::fmt;
use std::time::SystemTime;

use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use serde_json::Value;
use sha2::Sha256;

use crate::error::ProviderError;
use crate::time::parse_iso8601;

/// The Crockford Base32 alphabet (no `I`, `L`, `O`, `U`).
pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Keys of at least this many characters (without dashes and spaces) are
/// offline codes; online keys look like `XXXX-XXXX-XXXX-XXXX`.
pub const OFFLINE_CODE_MIN_LENGTH: usize = 50;

/// The number of characters between dashes when a code is formatted.
pub const GROUP_LENGTH: usize = 5;

/// Whether `key` is an offline activation code rather than an online key:
/// at least [`OFFLINE_CODE_MIN_LENGTH`] characters once dashes and white space
/// are dropped.
///
/// ```
/// use license_gate::providers::exisone::is_offline_code;
/// assert!(!is_offline_code("ABCD-EFGH-JKMN-PQRS"));
/// assert!(is_offline_code(&"0123456789".repeat(5)));
/// ```
pub fn is_offline_code(key: &str) -> bool {
    key.chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .count()
        >= OFFLINE_CODE_MIN_LENGTH
}

/// Encodes bytes as Crockford Base32 (upper case, no dashes, no padding).
///
/// ```
/// use license_gate::providers::exisone::__private::{decode_base32, encode_base32};
/// let text = encode_base32(b"license");
/// assert_eq!(decode_base32(&text).unwrap(), b"license");
/// ```
pub fn encode_base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Splits an encoded code into dash-separated groups of [`GROUP_LENGTH`].
///
/// ```
/// use license_gate::providers::exisone::__private::format_code;
/// assert_eq!(format_code("ABCDEFGHJK12"), "ABCDE-FGHJK-12");
/// ```
pub fn format_code(encoded: &str) -> String {
    let chars: Vec<char> = encoded.chars().collect();
    chars
        .chunks(GROUP_LENGTH)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Decodes Crockford Base32 as people type it: dashes and white space are
/// dropped, case is ignored, `O` reads as `0` and `I`/`L` as `1`. Bits left
/// over at the end (padding) are ignored.
///
/// ```
/// use license_gate::providers::exisone::__private::decode_base32;
/// assert_eq!(decode_base32("c5q6-6ts1").unwrap(), decode_base32("C5Q66TSL").unwrap());
/// assert!(decode_base32("HELLO U").is_err());
/// ```
pub fn decode_base32(text: &str) -> Result<Vec<u8>, OfflineCodeError> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for (position, c) in text.chars().enumerate() {
        if c == '-' || c.is_whitespace() {
            continue;
        }
        let value = match c.to_ascii_uppercase() {
            'O' => 0,
            'I' | 'L' => 1,
            upper => match ALPHABET.iter().position(|&a| char::from(a) == upper) {
                Some(v) => v as u32,
                None => {
                    return Err(OfflineCodeError::BadCharacter {
                        character: c,
                        position: position + 1,
                    });
                }
            },
        };
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xFF) as u8);
        }
        buffer &= (1 << bits) - 1;
    }
    Ok(out)
}

/// Why an offline code could not be read or trusted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OfflineCodeError {
    /// No public key is configured, so no code can be checked.
    #[error(
        "offline validation is not configured: set `offline_public_key` to the vendor's RSA public key (PEM)"
    )]
    NotConfigured,
    /// The code is empty.
    #[error("the offline code is empty: paste the whole code the vendor sent")]
    Empty,
    /// A character that is not Crockford Base32.
    #[error(
        "the offline code has `{character}` at position {position}, which cannot appear in a code: copy the code again"
    )]
    BadCharacter {
        /// The character.
        character: char,
        /// Its position, counting from 1.
        position: usize,
    },
    /// The code is too short or cut off.
    #[error("the offline code is incomplete ({0}): copy the whole code again")]
    Truncated(String),
    /// The signature does not match the payload and the public key.
    #[error(
        "the offline code's signature is not valid: the code was altered, or it was issued for another product's key"
    )]
    BadSignature,
    /// The signed payload is not a JSON object.
    #[error("the offline code's content cannot be read ({0}): ask the vendor for a new code")]
    BadPayload(String),
}

/// The vendor's RSA public key that offline codes are checked against.
#[derive(Clone)]
pub struct OfflinePublicKey {
    key: VerifyingKey<Sha256>,
}

impl OfflinePublicKey {
    /// Reads a PEM public key: `BEGIN PUBLIC KEY` (SubjectPublicKeyInfo) or
    /// `BEGIN RSA PUBLIC KEY` (PKCS#1).
    ///
    /// ```
    /// use license_gate::providers::exisone::OfflinePublicKey;
    /// let err = OfflinePublicKey::from_pem("not a key").unwrap_err();
    /// assert!(err.to_string().contains("PEM"));
    /// ```
    pub fn from_pem(pem: &str) -> Result<Self, ProviderError> {
        let pem = pem.trim();
        let key = rsa::PublicKey::from_public_key_pem(pem)
            .or_else(|_| rsa::PublicKey::from_pkcs1_pem(pem))
            .map_err(|e| {
                ProviderError::Config(format!(
                    "the offline public key is not an RSA public key in PEM form ({e}): pass the text that starts with `-----BEGIN PUBLIC KEY-----`"
                ))
            })?;
        Ok(OfflinePublicKey {
            key: VerifyingKey::new(key),
        })
    }

    /// Whether `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `payload`.
    pub fn verify(&self, payload: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = Signature::try_from(signature) else {
            return false;
        };
        self.key.verify(payload, &signature).is_ok()
    }
}

impl fmt::Debug for OfflinePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OfflinePublicKey(RSA)")
    }
}

/// The signed content of a valid offline code.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OfflinePayload {
    /// `productId`.
    pub product_id: i64,
    /// `productName`.
    pub product_name: String,
    /// `hardwareId`: the machine the code is bound to.
    pub hardware_id: String,
    /// `expirationDate` as written in the code.
    pub expiration_text: String,
    /// `expirationDate` read as an instant (no zone means UTC); `None` when
    /// the code has none.
    pub expiration_date: Option<SystemTime>,
    /// `email`.
    pub email: String,
    /// `features`.
    pub features: Vec<String>,
    /// `tenantId`.
    pub tenant_id: i64,
    /// `version`.
    pub version: String,
}

/// Reads and verifies an offline code; returns its payload when the framing
/// and the signature are right. Expiry and hardware binding are not checked
/// here (see [`validate_offline_code`]).
pub fn read_offline_code(
    code: &str,
    key: &OfflinePublicKey,
) -> Result<OfflinePayload, OfflineCodeError> {
    if code.chars().all(|c| c == '-' || c.is_whitespace()) {
        return Err(OfflineCodeError::Empty);
    }
    let bytes = decode_base32(code)?;
    if bytes.len() < 4 {
        return Err(OfflineCodeError::Truncated(format!(
            "{} bytes decoded",
            bytes.len()
        )));
    }
    let length = usize::from(u16::from_le_bytes([bytes[0], bytes[1]]));
    if bytes.len() < 2 + length + 1 {
        return Err(OfflineCodeError::Truncated(format!(
            "it announces {length} bytes of content but holds {}",
            bytes.len().saturating_sub(2)
        )));
    }
    let (payload, signature) = bytes[2..].split_at(length);
    if !key.verify(payload, signature) {
        return Err(OfflineCodeError::BadSignature);
    }
    let value: Value = serde_json::from_slice(payload)
        .map_err(|e| OfflineCodeError::BadPayload(format!("not JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(OfflineCodeError::BadPayload("not a JSON object".to_owned()));
    };
    let text = |name: &str| {
        fields
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let number = |name: &str| fields.get(name).and_then(Value::as_i64).unwrap_or(0);
    let features = match fields.get("features") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    OfflineCodeError::BadPayload("a feature is not a string".to_owned())
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(OfflineCodeError::BadPayload(
                "`features` is not a list".to_owned(),
            ));
        }
    };
    let expiration_text = text("expirationDate");
    let expiration_date = if expiration_text.trim().is_empty() {
        None
    } else {
        Some(parse_iso8601(&expiration_text).ok_or_else(|| {
            OfflineCodeError::BadPayload(format!(
                "the expiration date `{expiration_text}` is not an ISO-8601 date"
            ))
        })?)
    };
    Ok(OfflinePayload {
        product_id: number("productId"),
        product_name: text("productName"),
        hardware_id: text("hardwareId"),
        expiration_text,
        expiration_date,
        email: text("email"),
        features,
        tenant_id: number("tenantId"),
        version: text("version"),
    })
}

/// What checking an offline code found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OfflineOutcome {
    /// Signed, bound to this machine, not expired.
    Valid,
    /// Signed and bound to this machine, but past its expiration date.
    Expired,
    /// Signed, but bound to another machine.
    HardwareMismatch,
    /// Not a trustworthy code (bad framing, signature or content), or offline
    /// validation is not configured.
    Invalid,
}

/// The result of checking an offline code locally, with the fields of the
/// ExisOne SDK's `OfflineValidationResult`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OfflineValidationResult {
    /// Whether the code is valid for this machine now.
    pub is_valid: bool,
    /// Why not, in words a user can act on.
    pub error_message: Option<String>,
    /// The product the code is for.
    pub product_name: Option<String>,
    /// The product's numeric ID (0 when unknown).
    pub product_id: i64,
    /// When the license expires.
    pub expiration_date: Option<SystemTime>,
    /// The licensee's email address.
    pub email: Option<String>,
    /// The features the code grants (empty unless the code is valid or expired).
    pub features: Vec<String>,
    /// The product version the code was issued for.
    pub version: Option<String>,
    /// The tenant that issued the code (0 when unknown).
    pub tenant_id: i64,
    /// The code was valid but has expired.
    pub is_expired: bool,
    /// The code is bound to another machine.
    pub hardware_mismatch: bool,
}

impl OfflineValidationResult {
    /// A result for a code that cannot be trusted.
    pub fn invalid(error: &OfflineCodeError) -> Self {
        OfflineValidationResult {
            is_valid: false,
            error_message: Some(error.to_string()),
            product_name: None,
            product_id: 0,
            expiration_date: None,
            email: None,
            features: Vec::new(),
            version: None,
            tenant_id: 0,
            is_expired: false,
            hardware_mismatch: false,
        }
    }

    /// The outcome in one word.
    pub fn outcome(&self) -> OfflineOutcome {
        if self.is_valid {
            OfflineOutcome::Valid
        } else if self.hardware_mismatch {
            OfflineOutcome::HardwareMismatch
        } else if self.is_expired {
            OfflineOutcome::Expired
        } else {
            OfflineOutcome::Invalid
        }
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// Checks an offline code for the machine `hardware_id` at `now`: signature,
/// then hardware binding (case-insensitive), then expiry. A code without an
/// expiration date counts as expired, as in the ExisOne SDK.
pub fn validate_offline_code(
    code: &str,
    hardware_id: &str,
    key: Option<&OfflinePublicKey>,
    now: SystemTime,
) -> OfflineValidationResult {
    let Some(key) = key else {
        return OfflineValidationResult::invalid(&OfflineCodeError::NotConfigured);
    };
    let payload = match read_offline_code(code, key) {
        Ok(payload) => payload,
        Err(error) => return OfflineValidationResult::invalid(&error),
    };
    let mut result = OfflineValidationResult {
        is_valid: false,
        error_message: None,
        product_name: non_empty(&payload.product_name),
        product_id: payload.product_id,
        expiration_date: payload.expiration_date,
        email: non_empty(&payload.email),
        features: payload.features,
        version: non_empty(&payload.version),
        tenant_id: payload.tenant_id,
        is_expired: false,
        hardware_mismatch: false,
    };
    if !payload
        .hardware_id
        .trim()
        .eq_ignore_ascii_case(hardware_id.trim())
    {
        result.hardware_mismatch = true;
        result.features = Vec::new();
        result.error_message = Some(
            "this offline code is bound to another machine: ask the vendor for a code for this machine's hardware ID".to_owned(),
        );
        return result;
    }
    match payload.expiration_date {
        Some(at) if at > now => {
            result.is_valid = true;
        }
        _ => {
            result.is_expired = true;
            result.error_message = Some(format!(
                "this offline code expired{}: ask the vendor for a new code",
                if payload.expiration_text.is_empty() {
                    String::new()
                } else {
                    format!(" on {}", payload.expiration_text)
                }
            ));
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_round_trips_every_length() {
        for len in 0..40usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let text = encode_base32(&bytes);
            assert_eq!(decode_base32(&text).unwrap(), bytes, "length {len}");
            assert_eq!(
                decode_base32(&format_code(&text).to_lowercase()).unwrap(),
                bytes
            );
        }
    }

    #[test]
    fn look_alikes_read_as_digits() {
        assert_eq!(decode_base32("OIL").unwrap(), decode_base32("011").unwrap());
        let err = decode_base32("AB-U").unwrap_err();
        assert_eq!(
            err,
            OfflineCodeError::BadCharacter {
                character: 'U',
                position: 4
            }
        );
    }

    #[test]
    fn detection_ignores_dashes_and_spaces() {
        let key = "ABCD-".repeat(12);
        assert!(!is_offline_code(&key));
        assert!(is_offline_code(&"ABCDE ".repeat(10)));
    }
}
