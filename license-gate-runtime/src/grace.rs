//! Offline grace: how one provider outcome turns the last state into the next.
//!
//! The rules (ARCHITECTURE.md, "Where each rule lives"):
//! - an explicit answer applies at once, with no grace;
//! - not reaching the server keeps the last confirmed state until
//!   `last_confirmed + grace`, shown as [`LicenseStatus::Grace`]; after that the
//!   status is unlicensed with the reason [`Reason::GraceOver`];
//! - a check still pending says why: the last attempt's failure, and why
//!   the cache found at start does not bridge the wait;
//! - expiry applies at its instant; `now` is the runtime's monotonic wall time,
//!   so a clock set backwards extends nothing.

use std::time::{Duration, SystemTime};

use crate::error::ProviderError;
use crate::provider::LicenseAnswer;
use crate::reason::Reason;
use crate::state::{LicenseStatus, ProductState};

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
            if let LicenseStatus::Pending { reason } = &previous.status {
                // Pending keeps trying, and says why it still waits.
                let cache = reason.cache_part().cloned();
                return ProductState {
                    status: LicenseStatus::Pending {
                        reason: Reason::no_answer(error.clone(), cache),
                    },
                    ..previous.clone()
                };
            }
            if !previous.status.grants_access() {
                // An explicit denial stays a denial.
                return settle(previous.clone(), now);
            }
            let until = previous
                .last_confirmed
                .map(|at| crate::time::saturating_add(at, grace));
            let status = match until {
                Some(until) if now < until => LicenseStatus::Grace { until },
                _ => LicenseStatus::Unlicensed {
                    reason: Reason::GraceOver,
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
                reason: Reason::from(error.clone()),
            },
            features: Default::default(),
            expires_at: None,
            last_confirmed: Some(now),
            seats: None,
            ..previous.clone()
        },
    }
}

/// The state a product starts in from its cache, at trusted time `now`,
/// before it grants anything:
/// - a cache the time anchor does not vouch for (`vouched` is the reason
///   why not) grants nothing on its own: the product is pending with that
///   reason ([`Reason::CacheNotVouched`]), and the state has no source, so
///   the gate waits for the server and never writes it over the cache;
/// - a cached grant is held to its last confirmation: `Licensed` grants only
///   until `last_confirmed + grace`, a `Grace { until }` never past it (a
///   grant with no confirmation at all is over), so restarting never
///   stretches a confirmation that a check cut short did not renew;
/// - then expiry and end of grace apply as everywhere ([`settle`]).
pub(crate) fn from_cache(
    cached: ProductState,
    vouched: Result<(), &str>,
    now: SystemTime,
    grace: Duration,
) -> ProductState {
    if let Err(reason) = vouched {
        return ProductState {
            status: LicenseStatus::Pending {
                reason: Reason::CacheNotVouched(reason.into()),
            },
            ..ProductState::pending(cached.product)
        };
    }
    let held = cached
        .last_confirmed
        .map(|at| crate::time::saturating_add(at, grace));
    let status = match (cached.status, held) {
        (LicenseStatus::Licensed, Some(held)) if now < held => LicenseStatus::Licensed,
        (LicenseStatus::Grace { until }, Some(held)) if now < until.min(held) => {
            LicenseStatus::Grace {
                until: until.min(held),
            }
        }
        (LicenseStatus::Licensed | LicenseStatus::Grace { .. }, _) => LicenseStatus::Unlicensed {
            reason: Reason::GraceOver,
        },
        (other, _) => other,
    };
    settle(
        ProductState {
            status,
            source: crate::state::Source::Cache,
            ..cached
        },
        now,
    )
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
                reason: Reason::GraceOver
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
        assert!(
            matches!(&next.status, LicenseStatus::Pending { reason: Reason::NoAnswer { error, cache: None, .. } } if matches!(**error, ProviderError::Unreachable { .. })),
            "{:?}",
            next.status
        );
        assert_eq!(
            next.status.to_string(),
            "license check pending: could not reach the license server at h: refused; check the network connection"
        );
    }

    /// The start from a cache, as a table: what was cached, whether the
    /// anchor vouches for it, trusted time at start -> the state it starts in.
    #[test]
    fn a_cached_state_is_held_to_its_confirmation_and_its_anchor() {
        let t0 = SystemTime::UNIX_EPOCH + 1000 * DAY;
        let grace = 7 * DAY;
        let over = || LicenseStatus::Unlicensed {
            reason: Reason::GraceOver,
        };
        let with = |status: LicenseStatus,
                    confirmed: Option<SystemTime>,
                    expires: Option<SystemTime>| ProductState {
            status,
            last_confirmed: confirmed,
            expires_at: expires,
            source: Source::Online,
            ..ProductState::new("P", LicenseStatus::Licensed, ["pro"])
        };
        let far = Some(t0 + 365 * DAY);
        let missing = "the time anchor that vouches for the license cache is missing";
        /// What was cached, the anchor's verdict, trusted time at start, the state it starts in.
        type Row<'a> = (
            &'a str,
            ProductState,
            Result<(), &'a str>,
            SystemTime,
            LicenseStatus,
        );
        let rows: Vec<Row> = vec![
            (
                "licensed, within its confirmation",
                with(LicenseStatus::Licensed, Some(t0), far),
                Ok(()),
                t0 + DAY,
                LicenseStatus::Licensed,
            ),
            (
                "licensed, confirmation + grace passed, expiry far away",
                with(LicenseStatus::Licensed, Some(t0), far),
                Ok(()),
                t0 + 30 * DAY,
                over(),
            ),
            (
                "licensed, exactly at confirmation + grace",
                with(LicenseStatus::Licensed, Some(t0), None),
                Ok(()),
                t0 + grace,
                over(),
            ),
            (
                "licensed, never confirmed",
                with(LicenseStatus::Licensed, None, None),
                Ok(()),
                t0,
                over(),
            ),
            (
                "licensed, expired while closed",
                with(LicenseStatus::Licensed, Some(t0), Some(t0 + DAY)),
                Ok(()),
                t0 + 2 * DAY,
                LicenseStatus::Expired,
            ),
            (
                "grace within both bounds",
                with(
                    LicenseStatus::Grace {
                        until: t0 + 5 * DAY,
                    },
                    Some(t0),
                    far,
                ),
                Ok(()),
                t0 + DAY,
                LicenseStatus::Grace {
                    until: t0 + 5 * DAY,
                },
            ),
            (
                "grace past its confirmation is cut to it",
                with(
                    LicenseStatus::Grace {
                        until: t0 + 30 * DAY,
                    },
                    Some(t0),
                    far,
                ),
                Ok(()),
                t0 + DAY,
                LicenseStatus::Grace { until: t0 + grace },
            ),
            (
                "grace past its confirmation, at start after it",
                with(
                    LicenseStatus::Grace {
                        until: t0 + 30 * DAY,
                    },
                    Some(t0),
                    far,
                ),
                Ok(()),
                t0 + 8 * DAY,
                over(),
            ),
            (
                "grace over",
                with(LicenseStatus::Grace { until: t0 + DAY }, Some(t0), far),
                Ok(()),
                t0 + 2 * DAY,
                over(),
            ),
            (
                "revoked stays revoked",
                with(LicenseStatus::Revoked, Some(t0), None),
                Ok(()),
                t0 + DAY,
                LicenseStatus::Revoked,
            ),
            (
                "licensed, not vouched for",
                with(LicenseStatus::Licensed, Some(t0), far),
                Err(missing),
                t0 + DAY,
                LicenseStatus::Pending {
                    reason: Reason::CacheNotVouched(missing.into()),
                },
            ),
            (
                "revoked, not vouched for",
                with(LicenseStatus::Revoked, Some(t0), None),
                Err(missing),
                t0 + DAY,
                LicenseStatus::Pending {
                    reason: Reason::CacheNotVouched(missing.into()),
                },
            ),
        ];
        for (what, cached, vouched, now, want) in rows {
            let started = from_cache(cached.clone(), vouched, now, grace);
            assert_eq!(started.status, want, "{what}");
            assert_eq!(started.product, "P", "{what}");
            if vouched.is_ok() {
                assert_eq!(started.source, Source::Cache, "{what}");
                assert_eq!(
                    started.last_confirmed, cached.last_confirmed,
                    "{what}: no confirmation is made up"
                );
            } else {
                assert_eq!(started.source, Source::None, "{what}: nothing to keep");
                assert!(started.features.is_empty(), "{what}");
            }
            if let LicenseStatus::Grace { until } = started.status {
                assert!(
                    until <= cached.last_confirmed.map_or(t0, |at| at + grace),
                    "{what}: grace never later than its confirmation allows"
                );
            }
        }
    }

    #[test]
    fn an_answer_already_past_its_expiry_is_expired() {
        let t0 = SystemTime::UNIX_EPOCH + 1000 * DAY;
        let answer = LicenseAnswer::licensed(["pro"]).expiring_at(t0 - DAY);
        let next = next_state(&ProductState::pending("P"), &Ok(answer), t0, DAY);
        assert_eq!(next.status, LicenseStatus::Expired);
    }
}
