//! The license state: one immutable [`LicenseSnapshot`] per validation.
//!
//! A snapshot is never changed after it is built. The gate swaps a whole new
//! snapshot in, so a reader sees either the old state or the new one, never half
//! of an update.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::reason::Reason;

/// Where a product stands with its license.
///
/// Only [`Licensed`](LicenseStatus::Licensed) and [`Grace`](LicenseStatus::Grace)
/// grant access; see [`LicenseStatus::grants_access`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LicenseStatus {
    /// The license is valid.
    Licensed,
    /// The server could not be reached; the last confirmed state holds until `until`.
    Grace {
        /// When the grace period ends unless the server confirms the license again.
        #[serde(with = "unix_millis")]
        until: SystemTime,
    },
    /// The license has expired.
    Expired,
    /// The license is suspended (for example, a payment is past due).
    Suspended,
    /// The license was revoked.
    Revoked,
    /// This version of the application is older than the license allows.
    VersionOutdated {
        /// The oldest version the server accepts.
        minimum: Arc<str>,
    },
    /// The server rejected the license key (unknown key, bad signature, wrong product...).
    Invalid {
        /// Why: the service's own words ([`Reason::Message`]) or the
        /// provider's refusal ([`Reason::Provider`]).
        reason: Reason,
    },
    /// There is no license for this product, or it lapsed (for example, the grace period is over).
    Unlicensed {
        /// Why ([`Reason::GraceOver`], [`Reason::NotActivated`], ...).
        reason: Reason,
    },
    /// No answer yet, and nothing else grants: the first validation is under
    /// way ([`Reason::WaitingForServer`]), or its last attempt failed
    /// ([`Reason::NoAnswer`], which says why), or the cache found at start
    /// does not grant on its own ([`Reason::CacheWithoutVendorSecret`]).
    Pending {
        /// Why the check is still pending.
        reason: Reason,
    },
}

impl LicenseStatus {
    /// Whether this status lets gated code run.
    ///
    /// ```
    /// use license_gate::LicenseStatus;
    /// assert!(LicenseStatus::Licensed.grants_access());
    /// assert!(!LicenseStatus::Revoked.grants_access());
    /// assert!(!LicenseStatus::pending().grants_access());
    /// ```
    pub fn grants_access(&self) -> bool {
        matches!(self, LicenseStatus::Licensed | LicenseStatus::Grace { .. })
    }

    /// A short machine-friendly name: `licensed`, `grace`, `expired`, ...
    pub fn name(&self) -> &'static str {
        match self {
            LicenseStatus::Licensed => "licensed",
            LicenseStatus::Grace { .. } => "grace",
            LicenseStatus::Expired => "expired",
            LicenseStatus::Suspended => "suspended",
            LicenseStatus::Revoked => "revoked",
            LicenseStatus::VersionOutdated { .. } => "version_outdated",
            LicenseStatus::Invalid { .. } => "invalid",
            LicenseStatus::Unlicensed { .. } => "unlicensed",
            LicenseStatus::Pending { .. } => "pending",
        }
    }

    /// A check still waiting for the license server's first answer.
    pub fn pending() -> LicenseStatus {
        LicenseStatus::Pending {
            reason: Reason::WaitingForServer,
        }
    }

    /// The reason this status carries (`Pending`, `Unlicensed`, `Invalid`).
    ///
    /// ```
    /// use license_gate::{LicenseStatus, Reason};
    /// assert_eq!(LicenseStatus::pending().reason(), Some(&Reason::WaitingForServer));
    /// assert_eq!(LicenseStatus::Licensed.reason(), None);
    /// ```
    pub fn reason(&self) -> Option<&Reason> {
        match self {
            LicenseStatus::Invalid { reason }
            | LicenseStatus::Unlicensed { reason }
            | LicenseStatus::Pending { reason } => Some(reason),
            _ => None,
        }
    }

    /// What a user can do about this status, as a sentence fragment; `None`
    /// when the status's own text already ends with it (its reason says what
    /// to do), so that a denial never says it twice.
    pub(crate) fn remedy(&self) -> Option<&'static str> {
        if self.reason().is_some_and(Reason::gives_fix) {
            return None;
        }
        Some(match self {
            LicenseStatus::Licensed | LicenseStatus::Grace { .. } => "no action is needed",
            LicenseStatus::Expired => "renew the license",
            LicenseStatus::Suspended => "settle the outstanding payment with the vendor",
            LicenseStatus::Revoked => "contact the vendor for a new license",
            LicenseStatus::VersionOutdated { .. } => "update the application",
            LicenseStatus::Invalid { .. } => "check the license key and the product name",
            LicenseStatus::Unlicensed { .. } => {
                "activate a license, or connect to the internet so it can be confirmed"
            }
            LicenseStatus::Pending { .. } => {
                "wait for the license server to answer, or check the connection"
            }
        })
    }
}

impl fmt::Display for LicenseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LicenseStatus::Licensed => f.write_str("licensed"),
            LicenseStatus::Grace { until } => {
                write!(
                    f,
                    "offline grace period until {}",
                    crate::time::format_rfc3339(*until)
                )
            }
            LicenseStatus::Expired => f.write_str("license expired"),
            LicenseStatus::Suspended => f.write_str("license suspended"),
            LicenseStatus::Revoked => f.write_str("license revoked"),
            LicenseStatus::VersionOutdated { minimum } => {
                write!(f, "application version outdated (minimum {minimum})")
            }
            LicenseStatus::Invalid { reason } => write!(f, "license invalid: {reason}"),
            LicenseStatus::Unlicensed { reason } => write!(f, "unlicensed: {reason}"),
            LicenseStatus::Pending { reason } => write!(f, "license check pending: {reason}"),
        }
    }
}

/// Where the state of a product came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Source {
    /// An answer of the license server.
    Online,
    /// A signed offline activation code, checked locally.
    OfflineCode,
    /// The tamper-evident cache of the last confirmed state.
    Cache,
    /// A test override or a mock provider.
    Test,
    /// Nothing yet.
    None,
}

/// Seat usage of a corporate (multi-seat) license.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SeatUsage {
    /// Seats in use.
    pub used: u32,
    /// Seats allowed; `None` means unlimited.
    pub limit: Option<u32>,
}

impl SeatUsage {
    /// `used` seats of `limit` (`None`: unlimited).
    pub fn new(used: u32, limit: Option<u32>) -> Self {
        SeatUsage { used, limit }
    }

    /// Seats still free; `None` when the license is unlimited.
    ///
    /// ```
    /// use license_gate::SeatUsage;
    /// assert_eq!(SeatUsage::new(7, Some(5)).remaining(), Some(0));
    /// assert_eq!(SeatUsage::new(1, None).remaining(), None);
    /// ```
    pub fn remaining(&self) -> Option<u32> {
        self.limit.map(|limit| limit.saturating_sub(self.used))
    }
}

/// The license state of one product.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProductState {
    /// The product name as configured.
    pub product: String,
    /// Where the license stands.
    pub status: LicenseStatus,
    /// The features the license grants.
    pub features: BTreeSet<String>,
    /// When the license expires, if it does.
    pub expires_at: Option<SystemTime>,
    /// Where this state came from.
    pub source: Source,
    /// When the license server last confirmed the license.
    pub last_confirmed: Option<SystemTime>,
    /// Seat usage, where the provider reports it.
    pub seats: Option<SeatUsage>,
}

impl ProductState {
    /// A product with no answer yet.
    pub fn pending(product: impl Into<String>) -> Self {
        ProductState {
            product: product.into(),
            status: LicenseStatus::pending(),
            features: BTreeSet::new(),
            expires_at: None,
            source: Source::None,
            last_confirmed: None,
            seats: None,
        }
    }

    /// A product with a fixed status and features, as tests and mocks build them.
    ///
    /// ```
    /// use license_gate::{LicenseStatus, ProductState};
    /// let p = ProductState::new("Atlas", LicenseStatus::Licensed, ["pro"]);
    /// assert!(p.has_feature("pro"));
    /// ```
    pub fn new<I, S>(product: impl Into<String>, status: LicenseStatus, features: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ProductState {
            features: features.into_iter().map(Into::into).collect(),
            status,
            ..ProductState::pending(product)
        }
    }

    /// Whether this product's license grants access now and includes `feature`.
    ///
    /// "Now" is trusted time ([`trusted_now`](crate::provider::trusted_now)), not the raw wall
    /// clock: a clock set back does not bring an expired license back.
    pub fn has_feature(&self, feature: &str) -> bool {
        self.grants_access_at(crate::time::trusted_now()) && self.features.contains(feature)
    }

    /// Whether the license grants access at `now`: its status allows it and it has
    /// not expired (expiry takes effect at its instant, between heartbeats too).
    pub fn grants_access_at(&self, now: SystemTime) -> bool {
        self.effective_status(now).grants_access()
    }

    /// The status as of `now`: a license or grace period whose instant has passed
    /// reads as expired or unlicensed even before the runtime publishes the change.
    pub fn effective_status(&self, now: SystemTime) -> LicenseStatus {
        match &self.status {
            LicenseStatus::Licensed | LicenseStatus::Grace { .. }
                if self.expires_at.is_some_and(|at| now >= at) =>
            {
                LicenseStatus::Expired
            }
            LicenseStatus::Grace { until } if now >= *until => LicenseStatus::Unlicensed {
                reason: Reason::GraceOver,
            },
            other => other.clone(),
        }
    }
}

/// The whole license state of the application at one moment: every product.
///
/// Snapshots are immutable and shared (`Arc`); get the current one with
/// [`crate::snapshot`] or [`crate::LicenseGate::snapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LicenseSnapshot {
    /// Counts the snapshots a gate has published, starting at 1.
    pub sequence: u64,
    /// Every product; the first is the default product.
    pub products: Vec<ProductState>,
}

impl LicenseSnapshot {
    /// A snapshot of the given products, the first being the default product.
    pub fn new(products: Vec<ProductState>) -> Self {
        LicenseSnapshot {
            sequence: 0,
            products,
        }
    }

    /// The state of `product`, or of the default product when `None`.
    pub fn product(&self, product: Option<&str>) -> Option<&ProductState> {
        match product {
            None => self.products.first(),
            Some(name) => self.products.iter().find(|p| p.product == name),
        }
    }

    /// The default product (the first configured).
    pub fn default_product(&self) -> Option<&ProductState> {
        self.products.first()
    }

    /// The earliest instant at which some product's access ends by itself
    /// (expiry or end of grace), for the timer that flips the gate then.
    pub fn next_deadline(&self) -> Option<SystemTime> {
        self.products
            .iter()
            .flat_map(|p| {
                let grace = match p.status {
                    LicenseStatus::Grace { until } => Some(until),
                    _ => None,
                };
                let expiry = if p.status.grants_access() {
                    p.expires_at
                } else {
                    None
                };
                grace.into_iter().chain(expiry)
            })
            .min()
    }
}

/// A shared snapshot.
pub(crate) type SharedSnapshot = Arc<LicenseSnapshot>;

pub(crate) mod unix_millis {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::time::{SystemTime, UNIX_EPOCH};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        let ms = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        ms.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let ms = i64::deserialize(d)?.max(0) as u64;
        Ok(crate::time::from_unix_millis(ms))
    }
}
