//! Minting ExisOne offline activation codes with a test key.

use std::fmt;
use std::time::SystemTime;

use license_gate_runtime::providers::exisone::__private::{encode_base32, format_code};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
use rsa::sha2::Sha256;
use rsa::signature::{SignatureEncoding, Signer};

/// The test-only private key (PKCS#8 PEM) the emulator signs codes with.
/// It is published with this crate, so a code it signs proves nothing:
/// never trust [`TEST_PUBLIC_KEY_PEM`] in a shipped application.
pub const TEST_PRIVATE_KEY_PEM: &str = include_str!("../../keys/exisone-test-private.pem");

/// The public half of [`TEST_PRIVATE_KEY_PEM`] (SubjectPublicKeyInfo PEM), to
/// configure as `offline_public_key` in tests.
pub const TEST_PUBLIC_KEY_PEM: &str = include_str!("../../keys/exisone-test-public.pem");

/// The content of an offline code, as the vendor's portal writes it.
///
/// ```
/// use license_gate_testkit::exisone::OfflineCodeSpec;
/// let spec = OfflineCodeSpec::new("Atlas Studio", "4945EC7B")
///     .features(["pro"])
///     .expiration_date("2099-12-31T23:59:59Z");
/// assert!(spec.to_json().contains("\"productName\":\"Atlas Studio\""));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OfflineCodeSpec {
    /// `productId`.
    pub product_id: i64,
    /// `productName`.
    pub product_name: String,
    /// `hardwareId`: the machine the code is for.
    pub hardware_id: String,
    /// `expirationDate`, written as given.
    pub expiration_date: String,
    /// `email`.
    pub email: String,
    /// `features`.
    pub features: Vec<String>,
    /// `tenantId`.
    pub tenant_id: i64,
    /// `version`.
    pub version: String,
}

impl OfflineCodeSpec {
    /// A code for `product` on `hardware_id`, expiring at the end of 2099,
    /// with no features.
    pub fn new(product: impl Into<String>, hardware_id: impl Into<String>) -> Self {
        OfflineCodeSpec {
            product_id: 1,
            product_name: product.into(),
            hardware_id: hardware_id.into(),
            expiration_date: "2099-12-31T23:59:59Z".to_owned(),
            email: "buyer@example.com".to_owned(),
            features: Vec::new(),
            tenant_id: 1,
            version: "1.0.0".to_owned(),
        }
    }

    /// Sets the features.
    pub fn features<I, S>(mut self, features: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.features = features.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `expirationDate` verbatim (any ISO-8601 form).
    pub fn expiration_date(mut self, text: impl Into<String>) -> Self {
        self.expiration_date = text.into();
        self
    }

    /// Sets `expirationDate` to an instant (RFC 3339, UTC, at most seven
    /// fractional digits as the vendor's portal writes them).
    pub fn expires_at(self, at: SystemTime) -> Self {
        self.expiration_date(crate::instant::format_instant(at))
    }

    /// Sets `email`.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }

    /// The payload JSON, fields in the order the vendor's portal writes them.
    pub fn to_json(&self) -> String {
        let text = |s: &str| serde_json::Value::from(s).to_string();
        format!(
            "{{\"productId\":{},\"productName\":{},\"hardwareId\":{},\"expirationDate\":{},\"email\":{},\"features\":{},\"tenantId\":{},\"version\":{}}}",
            self.product_id,
            text(&self.product_name),
            text(&self.hardware_id),
            text(&self.expiration_date),
            text(&self.email),
            serde_json::Value::from(self.features.clone()),
            self.tenant_id,
            text(&self.version),
        )
    }
}

/// Why a PEM text cannot sign offline codes; the message says what to pass instead.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MintKeyError {
    /// The text holds a public key: it verifies codes but cannot sign them.
    PublicKey,
    /// The text holds no RSA private key in a PEM form this crate reads.
    NotAPrivateKey(String),
}

impl fmt::Display for MintKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MintKeyError::PublicKey => f.write_str(
                "it holds a public key, which can only verify codes: pass the private key (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`) it belongs to",
            ),
            MintKeyError::NotAPrivateKey(detail) => write!(
                f,
                "it is not an RSA private key in PEM form (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`): {detail}"
            ),
        }
    }
}

impl std::error::Error for MintKeyError {}

/// Signs offline codes: `u16 LE length | payload | RSA PKCS#1 v1.5 SHA-256
/// signature`, Crockford Base32 in dash-separated groups.
#[derive(Clone)]
pub struct OfflineCodeMinter {
    key: SigningKey<Sha256>,
    public_pem: String,
}

impl fmt::Debug for OfflineCodeMinter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OfflineCodeMinter(<private key redacted>)")
    }
}

impl OfflineCodeMinter {
    /// A minter with the crate's test-only key.
    pub fn test_key() -> Self {
        Self::from_pkcs8_pem(TEST_PRIVATE_KEY_PEM).expect("the bundled test key is valid")
    }

    /// A minter with a PKCS#8 PEM private key (`BEGIN PRIVATE KEY`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, String> {
        let private = rsa::PrivateKey::from_pkcs8_pem(pem.trim())
            .map_err(|e| format!("not a PKCS#8 RSA private key in PEM form: {e}"))?;
        Self::from_private(private)
    }

    /// A minter with an RSA private key in PEM form, PKCS#8 (`BEGIN PRIVATE
    /// KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`); a public key is refused with
    /// [`MintKeyError::PublicKey`].
    ///
    /// ```
    /// use license_gate_testkit::exisone::{MintKeyError, OfflineCodeMinter, TEST_PRIVATE_KEY_PEM, TEST_PUBLIC_KEY_PEM};
    /// assert!(OfflineCodeMinter::from_pem(TEST_PRIVATE_KEY_PEM).is_ok());
    /// assert_eq!(OfflineCodeMinter::from_pem(TEST_PUBLIC_KEY_PEM).unwrap_err(), MintKeyError::PublicKey);
    /// ```
    pub fn from_pem(pem: &str) -> Result<Self, MintKeyError> {
        let pem = pem.trim();
        if pem.contains("PUBLIC KEY-----") && !pem.contains("PRIVATE KEY-----") {
            return Err(MintKeyError::PublicKey);
        }
        let private = if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
            rsa::PrivateKey::from_pkcs1_pem(pem)
                .map_err(|e| MintKeyError::NotAPrivateKey(e.to_string()))?
        } else if pem.contains("-----BEGIN PRIVATE KEY-----") {
            rsa::PrivateKey::from_pkcs8_pem(pem)
                .map_err(|e| MintKeyError::NotAPrivateKey(e.to_string()))?
        } else if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(MintKeyError::NotAPrivateKey(
                "it is encrypted; decrypt it first, e.g. `openssl pkcs8 -in key.pem -out plain.pem`"
                    .to_owned(),
            ));
        } else {
            return Err(MintKeyError::NotAPrivateKey(
                "no `-----BEGIN PRIVATE KEY-----` line found".to_owned(),
            ));
        };
        Self::from_private(private).map_err(MintKeyError::NotAPrivateKey)
    }

    fn from_private(private: rsa::PrivateKey) -> Result<Self, String> {
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| format!("could not encode the public key: {e}"))?;
        Ok(OfflineCodeMinter {
            key: SigningKey::new(private),
            public_pem,
        })
    }

    /// The public key (SubjectPublicKeyInfo PEM) that verifies this minter's codes.
    pub fn public_key_pem(&self) -> &str {
        &self.public_pem
    }

    /// A signed code for `spec`.
    pub fn mint(&self, spec: &OfflineCodeSpec) -> String {
        self.mint_payload(spec.to_json().as_bytes())
    }

    /// A signed code around any payload bytes (for tests of bad content).
    ///
    /// # Panics
    /// When the payload is longer than 65535 bytes.
    pub fn mint_payload(&self, payload: &[u8]) -> String {
        let length = u16::try_from(payload.len()).expect("payloads fit in 65535 bytes");
        let signature = self
            .key
            .try_sign(payload)
            .expect("signing with a valid key works");
        let mut bytes = Vec::with_capacity(2 + payload.len() + 256);
        bytes.extend_from_slice(&length.to_le_bytes());
        bytes.extend_from_slice(payload);
        bytes.extend_from_slice(&signature.to_vec());
        format_code(&encode_base32(&bytes))
    }
}
