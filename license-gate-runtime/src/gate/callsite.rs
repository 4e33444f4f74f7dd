//! The hot path: one gated call site and its cached answer.

use std::sync::atomic::{AtomicU64, Ordering};

use super::cell::StateCell;
use super::global;
use crate::error::LicenseError;
use crate::state::{LicenseSnapshot, LicenseStatus};

/// What a call site needs from the license.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement<'a> {
    /// Only that the product is licensed (`#[licensed]`).
    Licensed,
    /// Every one of these features (`#[requires_feature("a", "b")]`).
    All(&'a [&'a str]),
    /// At least one of these features (`#[requires_feature(any("a", "b"))]`).
    Any(&'a [&'a str]),
}

/// One gated call site: its requirement and its cached answer.
///
/// The attribute macros put one of these in a `static` inside each gated
/// function. [`CallSite::check`] costs one atomic load and one compare while
/// the license state is unchanged: the site remembers the epoch at which it was
/// last allowed, and any published change moves the epoch.
///
/// ```
/// use license_gate::__private::{CallSite, Requirement};
/// static SITE: CallSite = CallSite::new(None, Requirement::All(&["pro"]));
/// // No gate is running here, so the call is denied with a helpful error.
/// assert!(SITE.check().is_err());
/// ```
#[derive(Debug)]
pub struct CallSite {
    product: Option<&'static str>,
    requirement: Requirement<'static>,
    allowed_at: AtomicU64,
}

impl CallSite {
    /// A call site for `product` (`None`: the default product).
    pub const fn new(product: Option<&'static str>, requirement: Requirement<'static>) -> Self {
        CallSite {
            product,
            requirement,
            allowed_at: AtomicU64::new(0),
        }
    }

    /// Whether the license allows this call now.
    #[inline(always)]
    pub fn check(&self) -> Result<(), LicenseError> {
        if self.allowed_at.load(Ordering::Relaxed) == global::epoch() {
            Ok(())
        } else {
            self.check_slow()
        }
    }

    #[cold]
    #[inline(never)]
    fn check_slow(&self) -> Result<(), LicenseError> {
        // Read the epoch before the state: a change published after this read
        // moves the epoch again, so a stale answer is never cached as current.
        let epoch = global::epoch();
        let (result, cacheable) = global::with_current(|cell| match cell {
            Some(cell) => evaluate(cell, self.product, self.requirement),
            None => (Err(LicenseError::NoGate), false),
        });
        if result.is_ok() && cacheable && epoch & 1 == 0 {
            self.allowed_at.store(epoch, Ordering::Relaxed);
        }
        result
    }

    /// The requirement of this site.
    pub fn requirement(&self) -> Requirement<'static> {
        self.requirement
    }
}

/// Decides a requirement against a cell; the flag says whether the answer may
/// be cached until the next epoch (not when an expiry instant has just passed
/// and the change is not published yet).
pub(crate) fn evaluate(
    cell: &StateCell,
    product: Option<&str>,
    requirement: Requirement<'_>,
) -> (Result<(), LicenseError>, bool) {
    let now = cell.now();
    cell.with_snapshot(|snapshot| {
        let result = decide(snapshot, now, product, requirement);
        let stale = snapshot
            .next_deadline()
            .is_some_and(|deadline| now >= deadline);
        (result, !stale)
    })
}

pub(crate) fn decide(
    snapshot: &LicenseSnapshot,
    now: std::time::SystemTime,
    product: Option<&str>,
    requirement: Requirement<'_>,
) -> Result<(), LicenseError> {
    let Some(state) = snapshot.product(product) else {
        return Err(match product {
            Some(name) if !snapshot.products.is_empty() => LicenseError::UnknownProduct {
                product: name.to_owned(),
            },
            name => LicenseError::NotLicensed {
                product: name.unwrap_or("this application").to_owned(),
                status: LicenseStatus::Unlicensed {
                    reason: "no license is present".to_owned(),
                },
            },
        });
    };
    let status = state.effective_status(now);
    if !status.grants_access() {
        return Err(LicenseError::NotLicensed {
            product: state.product.clone(),
            status,
        });
    }
    let missing = |feature: String| LicenseError::MissingFeature {
        product: state.product.clone(),
        feature,
        status: status.clone(),
    };
    match requirement {
        Requirement::Licensed => Ok(()),
        Requirement::All(features) => match features.iter().find(|f| !state.features.contains(**f))
        {
            Some(f) => Err(missing((*f).to_owned())),
            None => Ok(()),
        },
        Requirement::Any(features) => {
            if features.iter().any(|f| state.features.contains(*f)) {
                Ok(())
            } else {
                Err(missing(format!("any({})", features.join(", "))))
            }
        }
    }
}
