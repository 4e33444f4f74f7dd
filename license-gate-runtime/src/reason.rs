//! Why a product does not grant access, or why its check is still pending:
//! the typed [`Reason`] a status carries.
//!
//! A program acts on the variant (`matches!(reason, Reason::NotActivated)`);
//! a person reads its `Display`, a sentence that ends with the fix where the
//! reason knows one. The gate itself decides by variant, never by comparing
//! text.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ProviderError;

/// Why a [`LicenseStatus`](crate::LicenseStatus) denies: the reason carried
/// by `Pending`, `Unlicensed` and `Invalid`.
///
/// ```
/// use license_gate::{LicenseStatus, Reason};
///
/// let status = LicenseStatus::Unlicensed { reason: Reason::GraceOver };
/// assert!(matches!(&status, LicenseStatus::Unlicensed { reason: Reason::GraceOver }));
/// assert_eq!(
///     status.to_string(),
///     "unlicensed: grace period over: connect to the internet so the license server can confirm the license"
/// );
/// // A service's own words.
/// let invalid = LicenseStatus::Invalid { reason: Reason::message("unknown product") };
/// assert_eq!(invalid.to_string(), "license invalid: unknown product");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Words of the licensing service or of a provider (built with
    /// [`Reason::message`]).
    Message(Arc<str>),
    /// An error of the provider: an explicit refusal (in `Invalid`).
    Provider(Arc<ProviderError>),
    /// No answer yet: the first validation is under way.
    WaitingForServer,
    /// The last attempt to ask the license server failed, and nothing else
    /// grants: `error` says why (the server could not be reached, the
    /// application's access token was refused, ...); `cache` says why the
    /// license cache does not bridge the wait, when there is one.
    #[non_exhaustive]
    NoAnswer {
        /// The last attempt's failure.
        error: Arc<ProviderError>,
        /// Why the cache found at start does not grant on its own.
        cache: Option<Arc<Reason>>,
    },
    /// The license cache was written without a vendor secret, so it does not
    /// grant on its own: the gate waits for the license server.
    CacheWithoutVendorSecret,
    /// The time anchor does not vouch for the license cache (missing, moved,
    /// replaced...), so the cache does not grant on its own; the text says
    /// which.
    CacheNotVouched(Arc<str>),
    /// The state holds no license for the product asked about.
    NoLicense,
    /// The license exists but is not activated on this installation.
    NotActivated,
    /// The license was deactivated on this installation.
    Deactivated,
    /// The server could not be reached for longer than the grace period.
    GraceOver,
    /// The system clock is set back behind what this machine's files show,
    /// so cached and offline-code grants wait for the license server.
    ClockSetBack,
    /// The license check itself failed (an internal error); it restarts.
    CheckStopped,
    /// The gate was shut down.
    GateShutDown,
    /// Every handle of a gate that is not the global one was dropped.
    GateDropped,
    /// The tokio runtime that ran the gate's heartbeat shut down.
    RuntimeStopped,
    /// A gate with licensees was asked outside every licensee's scope: it
    /// never answers with another licensee's license.
    NoLicenseeInScope,
    /// The licensee was removed from this server.
    LicenseeRemoved,
}

impl Reason {
    /// A reason in the service's (or a provider's) own words.
    pub fn message(text: impl Into<Arc<str>>) -> Reason {
        Reason::Message(text.into())
    }

    /// The provider error behind this reason, if there is one.
    pub fn provider_error(&self) -> Option<&ProviderError> {
        match self {
            Reason::Provider(error) | Reason::NoAnswer { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The last attempt failed with `error`; `cache` is why the cache does
    /// not bridge the wait, if it does not.
    pub(crate) fn no_answer(error: ProviderError, cache: Option<Reason>) -> Reason {
        Reason::NoAnswer {
            error: Arc::new(error),
            cache: cache.map(Arc::new),
        }
    }

    /// Why the cache does not grant on its own, when this reason says so.
    pub(crate) fn cache_part(&self) -> Option<&Reason> {
        match self {
            Reason::CacheWithoutVendorSecret | Reason::CacheNotVouched(_) => Some(self),
            Reason::NoAnswer { cache, .. } => cache.as_deref(),
            _ => None,
        }
    }

    /// Whether the text already ends with what to do about it (so a denial
    /// does not add a second remedy).
    pub(crate) fn gives_fix(&self) -> bool {
        match self {
            Reason::Message(_) | Reason::WaitingForServer | Reason::NoLicense => false,
            Reason::Provider(error) | Reason::NoAnswer { error, .. } => error.gives_fix(),
            _ => true,
        }
    }

    /// The stable code a cache stores for a reason without data.
    fn code(&self) -> Option<&'static str> {
        Some(match self {
            Reason::WaitingForServer => "waiting_for_server",
            Reason::NoLicense => "no_license",
            Reason::CacheWithoutVendorSecret => "cache_without_vendor_secret",
            Reason::NotActivated => "not_activated",
            Reason::Deactivated => "deactivated",
            Reason::GraceOver => "grace_over",
            Reason::ClockSetBack => "clock_set_back",
            Reason::CheckStopped => "check_stopped",
            Reason::GateShutDown => "gate_shut_down",
            Reason::GateDropped => "gate_dropped",
            Reason::RuntimeStopped => "runtime_stopped",
            Reason::NoLicenseeInScope => "no_licensee_in_scope",
            Reason::LicenseeRemoved => "licensee_removed",
            _ => return None,
        })
    }

    fn from_code(code: &str) -> Option<Reason> {
        Some(match code {
            "waiting_for_server" => Reason::WaitingForServer,
            "no_license" => Reason::NoLicense,
            "cache_without_vendor_secret" => Reason::CacheWithoutVendorSecret,
            "not_activated" => Reason::NotActivated,
            "deactivated" => Reason::Deactivated,
            "grace_over" => Reason::GraceOver,
            "clock_set_back" => Reason::ClockSetBack,
            "check_stopped" => Reason::CheckStopped,
            "gate_shut_down" => Reason::GateShutDown,
            "gate_dropped" => Reason::GateDropped,
            "runtime_stopped" => Reason::RuntimeStopped,
            "no_licensee_in_scope" => Reason::NoLicenseeInScope,
            "licensee_removed" => Reason::LicenseeRemoved,
            // The words caches of earlier versions stored.
            "grace period over" => Reason::GraceOver,
            _ if code.starts_with("the license is not activated on this installation") => {
                Reason::NotActivated
            }
            _ => return None,
        })
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Message(text) => f.write_str(text),
            Reason::Provider(error) => write!(f, "{error}"),
            Reason::WaitingForServer => f.write_str("waiting for the license server's first answer"),
            Reason::NoAnswer { error, cache } => {
                write!(f, "{error}")?;
                match cache {
                    Some(cache) => write!(f, "; and {cache}"),
                    None => Ok(()),
                }
            }
            Reason::NoLicense => f.write_str("no license is present"),
            Reason::CacheWithoutVendorSecret => f.write_str(
                "the license cache does not grant on its own: it was written without a vendor secret; build the application with one (`embed_secret!`, then `.vendor_secret(..)` on the builder) so a cached license counts at start",
            ),
            Reason::CacheNotVouched(why) => f.write_str(why),
            Reason::NotActivated => f.write_str(
                "the license is not activated on this installation: call `LicenseGate::activate`, or build the gate with `.activate_on_first_use(true)`",
            ),
            Reason::Deactivated => f.write_str(
                "the license was deactivated on this installation: activate it again to use it here",
            ),
            Reason::GraceOver => f.write_str(
                "grace period over: connect to the internet so the license server can confirm the license",
            ),
            Reason::ClockSetBack => f.write_str(
                "the system clock is set back: files on this computer were written later than the clock now says; set the date and time right, or connect to the internet so the license server can confirm the license",
            ),
            Reason::CheckStopped => f.write_str(
                "license check stopped: internal error; the check restarts on its own, and if this lasts, report it to the application's vendor",
            ),
            Reason::GateShutDown => f.write_str(
                "license check stopped: the gate was shut down; start a new gate to check again",
            ),
            Reason::GateDropped => f.write_str(
                "license check stopped: every handle of this gate was dropped; keep the `LicenseGate` for as long as gated code runs",
            ),
            Reason::RuntimeStopped => f.write_str(
                "license check stopped: the async runtime it ran on shut down; start the gate on a runtime that lives as long as the gated code",
            ),
            Reason::NoLicenseeInScope => f.write_str(
                "no licensee in scope: run gated code inside `Licensees::scope(id, ..)` or `Licensees::enter(id)` (the tower layer does it for each request); a gate with licensees never answers with another licensee's license",
            ),
            Reason::LicenseeRemoved => f.write_str(
                "the licensee was removed from this server: add it again to gate its requests",
            ),
        }
    }
}

impl From<&str> for Reason {
    fn from(text: &str) -> Reason {
        Reason::message(text)
    }
}

impl From<String> for Reason {
    fn from(text: String) -> Reason {
        Reason::message(text)
    }
}

impl From<ProviderError> for Reason {
    fn from(error: ProviderError) -> Reason {
        Reason::Provider(Arc::new(error))
    }
}

/// Stored (in the license cache) as a string: a stable code for the reasons
/// without data, the text for the others, which read back as
/// [`Reason::Message`].
impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.code() {
            Some(code) => s.serialize_str(code),
            None => s.serialize_str(&self.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Reason, D::Error> {
        let text = String::deserialize(d)?;
        Ok(Reason::from_code(&text).unwrap_or_else(|| Reason::message(text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_without_data_round_trip_through_their_code() {
        for reason in [
            Reason::WaitingForServer,
            Reason::NoLicense,
            Reason::CacheWithoutVendorSecret,
            Reason::NotActivated,
            Reason::Deactivated,
            Reason::GraceOver,
            Reason::ClockSetBack,
            Reason::CheckStopped,
            Reason::GateShutDown,
            Reason::GateDropped,
            Reason::RuntimeStopped,
            Reason::NoLicenseeInScope,
            Reason::LicenseeRemoved,
        ] {
            let stored = serde_json::to_string(&reason).unwrap();
            assert_eq!(serde_json::from_str::<Reason>(&stored).unwrap(), reason);
        }
        let text = Reason::message("unknown product");
        let stored = serde_json::to_string(&text).unwrap();
        assert_eq!(stored, "\"unknown product\"");
        assert_eq!(serde_json::from_str::<Reason>(&stored).unwrap(), text);
        // Earlier versions stored English words.
        assert_eq!(
            serde_json::from_str::<Reason>("\"grace period over\"").unwrap(),
            Reason::GraceOver
        );
    }

    #[test]
    fn a_failed_attempt_names_the_cache_that_does_not_bridge_it() {
        let reason = Reason::no_answer(
            ProviderError::Unreachable {
                host: "127.0.0.1:9".into(),
                detail: "connection refused".into(),
            },
            Some(Reason::CacheWithoutVendorSecret),
        );
        let text = reason.to_string();
        assert!(text.starts_with("could not reach the license server at 127.0.0.1:9: connection refused; check the network connection; and the license cache does not grant on its own: it was written without a vendor secret"), "{text}");
        assert_eq!(reason.cache_part(), Some(&Reason::CacheWithoutVendorSecret));
        assert!(reason.provider_error().is_some());
    }
}
