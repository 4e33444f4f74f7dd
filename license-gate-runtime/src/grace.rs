//! Offline grace: how one provider outcome turns the last state into the next.
//!
//! The rules (ARCHITECTURE.md, "Where each rule lives"):
//! - an explicit answer applies at once, with no grace;
//! - not reaching the server keeps the last confirmed state until
//!   `last_confirmed + grace`, shown as [`LicenseStatus::Grace`]; after that the
//!   status is unlicensed with the reason [`GRACE_OVER`];
//! - expiry applies at its instant; `now` is the runtime's monotonic wall time,
//!   so a clock set backwards extends nothing.

use std::time::{Duration, SystemTime};

use crate::error::ProviderError;
use crate::provider::LicenseAnswer;
use crate::state::{LicenseStatus, ProductState};

use crate::state::GRACE_OVER;

/// The next state of a product after `outcome`, at trusted time `now`.
pub(crate) fn next_state(
    previous: &ProductState,
    outcome: &Result<LicenseAnswer, ProviderError>,
    now: SystemTime,
    grace: Duration,
) -> ProductState {
    match outcome {
        Ok(answer) => {
            let state = ProductState {
                product: previous.product.clone(),
                status: answer.status.clone(),
                features: answer.features.clone(),
                expires_at: answer.expires_at,
                source: answer.source,
                last_confirmed: Some(now),
                seats: answer.seats.clone(),
            };
            settle(state, now)
        }
        Err(error) if error.is_transient() => {
            if !previous.status.grants_access() {
                // Pending keeps trying; an explicit denial stays a denial.
                return settle(previous.clone(), now);
            }
            let until = previous
                .last_confirmed
                .map(|at| crate::time::saturating_add(at, grace));
            let status = match until {
                Some(until) if now < until => LicenseStatus::Grace { until },
                _ => LicenseStatus::Unlicensed {
                    reason: GRACE_OVER.into(),
                },
            };
            settle(
                ProductState {
                    status,
                    ..previous.clone()
                },
                now,
            )
        }
        Err(error) => ProductState {
            status: LicenseStatus::Invalid {
                reason: error.to_string().into(),
            },
            features: Default::default(),
            expires_at: None,
            last_confirmed: Some(now),
            seats: None,
            ..previous.clone()
        },
    }
}

/// Applies the instants that have passed (expiry, end of grace) to a state.
pub(crate) fn settle(mut state: ProductState, now: SystemTime) -> ProductState {
    state.status = state.effective_status(now);
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Source;

    const DAY: Duration = Duration::from_secs(86_400);

    fn licensed_at(t: SystemTime) -> ProductState {
        ProductState {
            last_confirmed: Some(t),
            source: Source::Online,
            ..ProductState::new("P", LicenseStatus::Licensed, ["pro"])
        }
    }

    fn unreachable() -> Result<LicenseAnswer, ProviderError> {
        Err(ProviderError::Unreachable {
            host: "h".into(),
            detail: "refused".into(),
        })
    }

    #[test]
    fn unreachable_keeps_the_license_until_grace_ends() {
        let t0 = SystemTime::UNIX_EPOCH + 1000 * DAY;
        let prev = licensed_at(t0);
        let during = next_state(&prev, &unreachable(), t0 + 6 * DAY, 7 * DAY);
        assert_eq!(
            during.status,
            LicenseStatus::Grace {
                until: t0 + 7 * DAY
            }
        );
        assert!(during.features.contains("pro"));
        let after = next_state(&during, &unreachable(), t0 + 7 * DAY, 7 * DAY);
        assert_eq!(
            after.status,
            LicenseStatus::Unlicensed {
                reason: GRACE_OVER.into()
            }
        );
    }

    #[test]
    fn explicit_answers_apply_at_once() {
        let t0 = SystemTime::UNIX_EPOCH + 1000 * DAY;
        let next = next_state(
            &licensed_at(t0),
            &Ok(LicenseAnswer::denied(LicenseStatus::Revoked)),
            t0 + DAY,
            7 * DAY,
        );
        assert_eq!(next.status, LicenseStatus::Revoked);
        let refused = next_state(
            &licensed_at(t0),
            &Err(ProviderError::NotFound {
                message: "License not found".into(),
            }),
            t0 + DAY,
            7 * DAY,
        );
        assert!(matches!(refused.status, LicenseStatus::Invalid { .. }));
    }

    #[test]
    fn pending_stays_pending_while_unreachable() {
        let prev = ProductState::pending("P");
        let next = next_state(&prev, &unreachable(), SystemTime::UNIX_EPOCH, DAY);
        assert_eq!(next.status, LicenseStatus::Pending);
    }

    #[test]
    fn an_answer_already_past_its_expiry_is_expired() {
        let t0 = SystemTime::UNIX_EPOCH + 1000 * DAY;
        let answer = LicenseAnswer::licensed(["pro"]).expiring_at(t0 - DAY);
        let next = next_state(&ProductState::pending("P"), &Ok(answer), t0, DAY);
        assert_eq!(next.status, LicenseStatus::Expired);
    }
}
