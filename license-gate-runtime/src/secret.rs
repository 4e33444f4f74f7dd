//! Wrappers that keep secrets out of logs, `Debug` and `Display`.

use std::fmt;

/// A secret string: an access token, a license secret, a signing key.
///
/// `Debug` and `Display` print `<redacted>`; the value is reachable only through
/// [`Secret::expose`], so every place that reads it is easy to audit.
///
/// ```
/// use license_gate::Secret;
/// let token = Secret::new("s3cr3t");
/// assert_eq!(format!("{token:?}"), "Secret(<redacted>)");
/// assert_eq!(token.expose(), "s3cr3t");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value. Never log what this returns.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty or only white space.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

/// A license key or activation key.
///
/// `Debug` and `Display` show it masked: the shape stays visible so a support
/// engineer can tell which key a log line is about, the characters do not.
/// Every character but the last four letters and digits becomes `*`; dashes stay.
///
/// ```
/// use license_gate::LicenseKey;
/// let key = LicenseKey::new("SHOP-A1B2-C3D4-E5F6-G7H8");
/// assert_eq!(key.to_string(), "****-****-****-****-G7H8");
/// assert_eq!(key.expose(), "SHOP-A1B2-C3D4-E5F6-G7H8");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LicenseKey(String);

impl LicenseKey {
    /// Wraps a key as the user typed it (surrounding white space removed).
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        LicenseKey(value.trim().to_owned())
    }

    /// The key itself, for a request body. Never log what this returns.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `text` spells this key: the same letters and digits, in any
    /// case, whatever stands between them (`shop-a1b2 c3d4` spells
    /// `SHOP-A1B2-C3D4`).
    #[cfg(feature = "webhooks")]
    pub(crate) fn is_spelled_by(&self, text: &str) -> bool {
        let letters = |s: &str| {
            s.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_uppercase())
                .collect::<Vec<_>>()
        };
        letters(&self.0) == letters(text)
    }

    /// The key with all but its last four alphanumeric characters masked.
    pub fn masked(&self) -> String {
        let alnum = self.0.chars().filter(|c| c.is_ascii_alphanumeric()).count();
        // Long offline codes would print hundreds of stars: keep such masks short.
        if self.0.len() > 40 {
            let tail: String = self
                .0
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            return format!("<{} characters>…{tail}", self.0.chars().count());
        }
        let mut seen = 0;
        self.0
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    seen += 1;
                    if seen + 4 > alnum { c } else { '*' }
                } else if c == '-' || c == ' ' {
                    c
                } else {
                    '*'
                }
            })
            .collect()
    }
}

impl fmt::Debug for LicenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LicenseKey({})", self.masked())
    }
}

impl fmt::Display for LicenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl From<&str> for LicenseKey {
    fn from(value: &str) -> Self {
        LicenseKey::new(value)
    }
}

impl From<String> for LicenseKey {
    fn from(value: String) -> Self {
        LicenseKey::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "webhooks")]
    #[test]
    fn a_key_is_spelled_in_any_case_and_punctuation() {
        let key = LicenseKey::new("SHOP-A1B2-C3D4");
        assert!(key.is_spelled_by("shop-a1b2 c3d4"));
        assert!(key.is_spelled_by("SHOPA1B2C3D4"));
        assert!(!key.is_spelled_by("SHOP-A1B2-C3D5"));
        assert!(!key.is_spelled_by("SHOP-A1B2"));
    }

    #[test]
    fn short_keys_keep_only_the_last_four_characters() {
        assert_eq!(LicenseKey::new("ABCD").masked(), "ABCD");
        assert_eq!(LicenseKey::new("AB").masked(), "AB");
        assert_eq!(LicenseKey::new("XXXX-YYYY-1234").masked(), "****-****-1234");
    }

    #[test]
    fn long_codes_are_summarised() {
        let code = "0".repeat(300) + "WXYZ";
        let masked = LicenseKey::new(code).masked();
        assert_eq!(masked, "<304 characters>…WXYZ");
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
    }
}
