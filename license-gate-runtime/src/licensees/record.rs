//! One licensee's record as the store keeps it: its state, the latest time
//! seen, whether it is activated on its machine identity, and a generation,
//! sealed with an HMAC-SHA256 keyed like the cache files (`cache.rs`): from
//! the vendor secret, the product, the licensee ID, the license key and the
//! hardware ID (or domain) the licensee uses.
//!
//! A record that was edited, belongs to another licensee, or was written for
//! another key or machine identity fails to open, with the reason. A record
//! sealed without a vendor secret opens (it still carries the latest time
//! seen) but never grants on its own: everything else that keys it is known
//! to whoever can write to the store. A record older than the last one this
//! process wrote or read for the licensee (its generation is lower) is a
//! replay and is rejected.

use std::collections::BTreeSet;
use std::time::SystemTime;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::store::LicenseeId;
use crate::cache::CLOCK_SKEW;
use crate::secret::LicenseKey;
use crate::state::{LicenseStatus, ProductState, SeatUsage, Source};
use crate::time::{from_unix_millis, to_millis};
use crate::vendor_secret::VendorSecret;

/// The format this version writes and reads.
const FORMAT: u32 = 1;
/// The length of the tag in front of the body.
const TAG: usize = 32;
/// The largest sealed record opened; a real one is a few hundred bytes.
const MAX_RECORD_BYTES: usize = 64 * 1024;

/// What the registry keeps about one licensee between runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LicenseeRecord {
    /// The licensee's state of the product.
    pub(crate) state: ProductState,
    /// The latest trusted time the registry had seen when it wrote this.
    pub(crate) latest_seen: SystemTime,
    /// The license is activated on the licensee's machine identity.
    pub(crate) activated: bool,
    /// Bumped at every write: a record with a lower generation than one
    /// already seen is a replay.
    pub(crate) generation: u64,
}

/// A record that opened, and whether it may grant on its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OpenedRecord {
    pub(crate) record: LicenseeRecord,
    /// Sealed with a vendor secret: only the vendor's build could have written it.
    pub(crate) grants_on_its_own: bool,
}

/// Why a stored record was not used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RecordRejection {
    #[error("the stored record is larger than {MAX_RECORD_BYTES} bytes")]
    TooLarge,
    #[error("the stored record is damaged (too short to hold its integrity tag)")]
    Truncated,
    #[error("the stored record is for licensee `{0}`, not this one")]
    OtherLicensee(String),
    #[error(
        "the stored record failed its integrity check (edited, or written for another license key, machine identity or vendor secret)"
    )]
    BadTag,
    #[error("the stored record is not in a known format: {0}")]
    BadFormat(String),
    #[error("the stored record is for product `{0}`")]
    OtherProduct(String),
    #[error(
        "the stored record is older than one already seen (generation {found}, expected at least {expected}): an old record was put back"
    )]
    Replayed { found: u64, expected: u64 },
    #[error(
        "the stored record claims a confirmation later than the time it was written (forged, or written by a clock far ahead)"
    )]
    FromTheFuture,
}

/// The stored form of a record.
#[derive(Serialize, Deserialize)]
struct RecordBody {
    format: u32,
    licensee: String,
    product: String,
    generation: u64,
    #[serde(flatten)]
    status: LicenseStatus,
    features: BTreeSet<String>,
    expires_at_ms: Option<u64>,
    source: Source,
    last_confirmed_ms: Option<u64>,
    seats: Option<SeatUsage>,
    latest_seen_ms: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    activated: bool,
}

/// The key that seals one licensee's record: derived from the vendor secret,
/// the product, the licensee ID, the license key and the machine identity.
#[derive(Clone)]
pub(crate) struct RecordSeal {
    key: [u8; 32],
    keyed_by_vendor: bool,
}

impl std::fmt::Debug for RecordSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordSeal")
            .field("key", &"<redacted>")
            .field("keyed_by_vendor", &self.keyed_by_vendor)
            .finish()
    }
}

impl RecordSeal {
    pub(crate) fn new(
        vendor_secret: Option<&VendorSecret>,
        product: &str,
        licensee: &LicenseeId,
        license_key: Option<&LicenseKey>,
        machine: &str,
    ) -> Self {
        RecordSeal {
            key: VendorSecret::derive(
                vendor_secret,
                "license-gate licensee record v1",
                &[
                    product,
                    licensee.as_str(),
                    license_key.map_or("", LicenseKey::expose),
                    machine,
                ],
            ),
            keyed_by_vendor: vendor_secret.is_some(),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes keys of any length")
    }

    /// `record` of `licensee`, sealed: a 32-byte tag, then the body.
    pub(crate) fn seal(&self, licensee: &LicenseeId, record: &LicenseeRecord) -> Vec<u8> {
        let state = &record.state;
        let body = RecordBody {
            format: FORMAT,
            licensee: licensee.as_str().to_owned(),
            product: state.product.clone(),
            generation: record.generation,
            status: state.status.clone(),
            features: state.features.clone(),
            expires_at_ms: state.expires_at.map(to_millis),
            source: state.source,
            last_confirmed_ms: state.last_confirmed.map(to_millis),
            seats: state.seats.clone(),
            latest_seen_ms: to_millis(record.latest_seen),
            activated: record.activated,
        };
        let body = serde_json::to_vec(&body).expect("a record body always serializes");
        let mut mac = self.mac();
        mac.update(&body);
        let mut sealed = Vec::with_capacity(TAG + body.len());
        sealed.extend_from_slice(&mac.finalize().into_bytes());
        sealed.extend_from_slice(&body);
        sealed
    }

    /// Opens `sealed` as the record of `licensee` for `product`, refusing
    /// one with a generation below `min_generation`.
    pub(crate) fn open(
        &self,
        sealed: &[u8],
        licensee: &LicenseeId,
        product: &str,
        min_generation: u64,
    ) -> Result<OpenedRecord, RecordRejection> {
        if sealed.len() > MAX_RECORD_BYTES {
            return Err(RecordRejection::TooLarge);
        }
        if sealed.len() < TAG {
            return Err(RecordRejection::Truncated);
        }
        let (tag, body) = sealed.split_at(TAG);
        let mut mac = self.mac();
        mac.update(body);
        if mac.verify_slice(tag).is_err() {
            // Read unauthenticated, only to say why: a record of another
            // licensee, or an edit.
            #[derive(Deserialize)]
            struct Whose {
                licensee: String,
            }
            if let Ok(whose) = serde_json::from_slice::<Whose>(body)
                && whose.licensee != licensee.as_str()
            {
                return Err(RecordRejection::OtherLicensee(whose.licensee));
            }
            return Err(RecordRejection::BadTag);
        }
        let body: RecordBody =
            serde_json::from_slice(body).map_err(|e| RecordRejection::BadFormat(e.to_string()))?;
        if body.format != FORMAT {
            return Err(RecordRejection::BadFormat(format!(
                "format {} (this version reads {FORMAT})",
                body.format
            )));
        }
        if body.licensee != licensee.as_str() {
            return Err(RecordRejection::OtherLicensee(body.licensee));
        }
        if body.product != product {
            return Err(RecordRejection::OtherProduct(body.product));
        }
        if body.generation < min_generation {
            return Err(RecordRejection::Replayed {
                found: body.generation,
                expected: min_generation,
            });
        }
        let written = body
            .latest_seen_ms
            .saturating_add(CLOCK_SKEW.as_millis() as u64);
        if body.last_confirmed_ms.is_some_and(|at| at > written) {
            return Err(RecordRejection::FromTheFuture);
        }
        Ok(OpenedRecord {
            grants_on_its_own: self.keyed_by_vendor,
            record: LicenseeRecord {
                state: ProductState {
                    product: body.product,
                    status: body.status,
                    features: body.features,
                    expires_at: body.expires_at_ms.map(from_unix_millis),
                    source: body.source,
                    last_confirmed: body.last_confirmed_ms.map(from_unix_millis),
                    seats: body.seats,
                },
                latest_seen: from_unix_millis(body.latest_seen_ms),
                activated: body.activated,
                generation: body.generation,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn secret() -> VendorSecret {
        VendorSecret::new("a vendor secret for the record tests").unwrap()
    }

    fn record(generation: u64) -> LicenseeRecord {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        LicenseeRecord {
            state: ProductState {
                last_confirmed: Some(t),
                source: Source::Online,
                ..ProductState::new("Atlas", LicenseStatus::Licensed, ["pro"])
            },
            latest_seen: t,
            activated: true,
            generation,
        }
    }

    fn seal_for(id: &str, key: &str, machine: &str, secret: Option<&VendorSecret>) -> RecordSeal {
        RecordSeal::new(
            secret,
            "Atlas",
            &LicenseeId::new(id),
            Some(&LicenseKey::from(key)),
            machine,
        )
    }

    #[test]
    fn a_record_round_trips_and_grants_only_with_a_vendor_secret() {
        let secret = secret();
        let id = LicenseeId::new("u1");
        let seal = seal_for("u1", "KEY-1", "user:u1", Some(&secret));
        let sealed = seal.seal(&id, &record(3));
        let opened = seal.open(&sealed, &id, "Atlas", 0).unwrap();
        assert_eq!(opened.record, record(3));
        assert!(opened.grants_on_its_own);

        let plain = seal_for("u1", "KEY-1", "user:u1", None);
        let opened = plain
            .open(&plain.seal(&id, &record(1)), &id, "Atlas", 0)
            .unwrap();
        assert!(!opened.grants_on_its_own, "no vendor secret: never grants");
        // A record sealed without the secret does not open with it.
        assert_eq!(
            seal.open(&plain.seal(&id, &record(1)), &id, "Atlas", 0),
            Err(RecordRejection::BadTag)
        );
    }

    #[test]
    fn edited_foreign_and_replayed_records_are_rejected_with_a_reason() {
        let secret = secret();
        let id = LicenseeId::new("u1");
        let seal = seal_for("u1", "KEY-1", "user:u1", Some(&secret));
        let sealed = seal.seal(&id, &record(5));
        // Every single-byte edit fails.
        for at in 0..sealed.len() {
            let mut edited = sealed.clone();
            edited[at] ^= 0x01;
            assert!(seal.open(&edited, &id, "Atlas", 0).is_err(), "byte {at}");
        }
        // Another licensee's record, planted under this licensee's ID.
        let other = seal_for("u2", "KEY-1", "user:u1", Some(&secret))
            .seal(&LicenseeId::new("u2"), &record(5));
        assert_eq!(
            seal.open(&other, &id, "Atlas", 0),
            Err(RecordRejection::OtherLicensee("u2".into()))
        );
        // Another key or machine identity.
        for wrong in [
            seal_for("u1", "KEY-2", "user:u1", Some(&secret)),
            seal_for("u1", "KEY-1", "user:u9", Some(&secret)),
        ] {
            assert_eq!(
                wrong.open(&sealed, &id, "Atlas", 0),
                Err(RecordRejection::BadTag)
            );
        }
        // An older generation than one seen.
        assert_eq!(
            seal.open(&sealed, &id, "Atlas", 6),
            Err(RecordRejection::Replayed {
                found: 5,
                expected: 6
            })
        );
        assert_eq!(
            seal.open(&sealed[..10], &id, "Atlas", 0),
            Err(RecordRejection::Truncated)
        );
        // The reason never holds the key.
        let reason = seal.open(&other, &id, "Atlas", 0).unwrap_err().to_string();
        assert!(!reason.contains("KEY-1"), "{reason}");
        assert!(!format!("{seal:?}").contains("KEY"));
    }
}
