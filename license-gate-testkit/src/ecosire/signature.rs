//! The server side of request signing, written apart from the client's so a
//! mistake in one does not hide in the other.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The signed message of a request body: its fields sorted by key (byte
/// order), `k=v` joined with `&`, string values as sent; numbers and booleans
/// as their JSON text. Nested objects and lists cannot be signed and are an
/// error naming the field.
pub(crate) fn message(fields: &Map<String, Value>) -> Result<String, String> {
    let mut pairs: Vec<(&str, String)> = Vec::with_capacity(fields.len());
    for (key, value) in fields {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => String::new(),
            Value::Array(_) | Value::Object(_) => {
                return Err(format!("{key} must be a string"));
            }
        };
        pairs.push((key.as_str(), text));
    }
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&"))
}

/// The lowercase hex HMAC-SHA256 of `message` keyed with `secret`.
pub(crate) fn sign(secret: &str, message: &str) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (hex) is the HMAC of `message` under `secret`,
/// compared in constant time.
pub(crate) fn verify(secret: &str, message: &str, signature: &str) -> bool {
    let Ok(tag) = hex::decode(signature.trim()) else {
        return false;
    };
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(message.as_bytes());
    mac.verify_slice(&tag).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::vectors_test! {
        fn matches_the_shared_vectors() {
            let text = crate::vectors::require("ecosire-signing/cases.json");
            let doc: Value = serde_json::from_str(&text).expect("cases.json is JSON");
            let cases = doc["cases"].as_array().expect("a list of cases");
            assert!(!cases.is_empty());
            for case in cases {
                let secret = case["secret"].as_str().unwrap();
                let payload = case["payload"].as_object().unwrap();
                let m = message(payload).unwrap();
                assert_eq!(m, case["message"].as_str().unwrap());
                let expected = case["signature"].as_str().unwrap();
                assert_eq!(sign(secret, &m), expected);
                assert!(verify(secret, &m, expected));
                assert!(verify(secret, &m, &expected.to_uppercase()));
                assert!(!verify(secret, &m, &expected[..62]));
                assert!(!verify("other", &m, expected));
                assert!(!verify(secret, &m, "not hex"));
            }
        }
    }
}
