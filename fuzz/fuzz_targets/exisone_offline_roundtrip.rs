//! Fuzzes offline codes from the other side: structured license content is
//! signed (a 1024-bit key generated once from a fixed seed), encoded and
//! checked again; what comes back must be what went in, and the verdict must
//! follow the hardware ID and the expiry. Raw payloads (any bytes, signed)
//! check that signed but odd content never panics.

#![no_main]

use std::sync::LazyLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use license_gate_runtime::fuzzing::instant;
use license_gate_runtime::providers::exisone::__private::{encode_base32, format_code};
use license_gate_runtime::providers::exisone::{
    OfflineOutcome, OfflinePublicKey, validate_offline_code,
};
use license_gate_runtime::time::{format_rfc3339, parse_iso8601};
use rand::SeedableRng;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use sha2::Sha256;

struct Keys {
    signing: SigningKey<Sha256>,
    public: OfflinePublicKey,
}

static KEYS: LazyLock<Keys> = LazyLock::new(|| {
    // Fixed seed: the same key in every run, so crashes reproduce. 1024 bits
    // is the smallest key the rsa crate accepts, and signing is the cost of
    // every execution here.
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x6c69_6365_6e73_6567);
    let private = rsa::PrivateKey::new(&mut rng, 1024).expect("a key is generated");
    let pem = private
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("the public key encodes");
    Keys {
        public: OfflinePublicKey::from_pem(&pem).expect("the public key reads"),
        signing: SigningKey::new(private),
    }
});

#[derive(Arbitrary, Debug)]
enum Expiry {
    None,
    /// Seconds after the epoch, written the way `format_rfc3339` writes.
    At(u64),
    /// Any text, as a vendor's tool might write it.
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Spelling {
    Same,
    Upper,
    Lower,
    Padded,
    OtherMachine,
}

#[derive(Arbitrary, Debug)]
enum Input {
    License {
        product_id: i64,
        product_name: String,
        hardware_id: String,
        spelling: Spelling,
        expiry: Expiry,
        email: String,
        features: Vec<String>,
        tenant_id: i64,
        version: String,
    },
    Raw(Vec<u8>),
}

fn mint(payload: &[u8]) -> Option<String> {
    let length = u16::try_from(payload.len()).ok()?;
    let signature = KEYS.signing.try_sign(payload).expect("signing works");
    let mut bytes = length.to_le_bytes().to_vec();
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(&signature.to_vec());
    Some(format_code(&encode_base32(&bytes)))
}

fuzz_target!(|input: Input| {
    let now = instant(1_800_000_000);
    match input {
        Input::Raw(payload) => {
            if let Some(code) = mint(&payload) {
                let result = validate_offline_code(&code, "HW", Some(&KEYS.public), now);
                let _ = format!("{result:?}");
                if let Some(at) = result.expiration_date {
                    let _ = format_rfc3339(at);
                }
            }
        }
        Input::License {
            product_id,
            product_name,
            hardware_id,
            spelling,
            expiry,
            email,
            features,
            tenant_id,
            version,
        } => {
            let expiration_text = match &expiry {
                Expiry::None => String::new(),
                Expiry::At(seconds) => format_rfc3339(instant(*seconds)),
                Expiry::Text(text) => text.clone(),
            };
            let payload = serde_json::json!({
                "productId": product_id,
                "productName": product_name,
                "hardwareId": hardware_id,
                "expirationDate": expiration_text,
                "email": email,
                "features": features,
                "tenantId": tenant_id,
                "version": version,
            })
            .to_string();
            let Some(code) = mint(payload.as_bytes()) else {
                return;
            };
            let machine = match spelling {
                Spelling::Same => hardware_id.clone(),
                Spelling::Upper => hardware_id.to_ascii_uppercase(),
                Spelling::Lower => hardware_id.to_ascii_lowercase(),
                Spelling::Padded => format!("  {hardware_id}\t"),
                Spelling::OtherMachine => format!("{hardware_id}-other"),
            };
            let result = validate_offline_code(&code, &machine, Some(&KEYS.public), now);
            let _ = format!("{result:?}");

            let expires = if expiration_text.trim().is_empty() {
                None
            } else {
                match parse_iso8601(&expiration_text) {
                    Some(at) => Some(at),
                    None => {
                        // A date that does not read makes the code untrustworthy.
                        assert_eq!(result.outcome(), OfflineOutcome::Invalid, "{result:?}");
                        return;
                    }
                }
            };
            assert_eq!(result.product_id, product_id);
            assert_eq!(result.tenant_id, tenant_id);
            assert_eq!(
                result.product_name.clone().unwrap_or_default(),
                product_name
            );
            assert_eq!(result.email.clone().unwrap_or_default(), email);
            assert_eq!(result.version.clone().unwrap_or_default(), version);
            assert_eq!(result.expiration_date, expires);
            if let Some(at) = result.expiration_date {
                let _ = format_rfc3339(at);
            }
            if matches!(spelling, Spelling::OtherMachine) {
                assert_eq!(result.outcome(), OfflineOutcome::HardwareMismatch);
                assert!(result.features.is_empty());
            } else if expires.is_some_and(|at| at > now) {
                assert_eq!(result.outcome(), OfflineOutcome::Valid, "{payload}");
                assert_eq!(result.features, features);
            } else {
                assert_eq!(result.outcome(), OfflineOutcome::Expired, "{payload}");
                assert_eq!(result.features, features);
            }
        }
    }
});
