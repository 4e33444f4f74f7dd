//! What a provider author uses: the [`Provider`] trait (how the gate asks a
//! licensing service about a license), the [`LicenseRequest`] it is given,
//! the [`LicenseAnswer`] it returns and the [`Deadline`] of a call; and, for
//! providers and tests that keep time, [`Clock`], [`SystemClock`] and
//! [`trusted_now`].

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::time::Instant;

use crate::error::ProviderError;
use crate::secret::LicenseKey;
use crate::state::{LicenseStatus, SeatUsage, Source};

pub use crate::time::{Clock, SystemClock, trusted_now};

/// What the gate asks a provider about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LicenseRequest {
    /// The product name as configured on the gate.
    pub product: String,
    /// The license key the user entered, if any (masked in `Debug`).
    pub license_key: Option<LicenseKey>,
    /// Trusted time when the gate made the request (never earlier than the
    /// latest instant the gate has seen); `None` outside a gate.
    pub trusted_now: Option<SystemTime>,
    /// This installation's identity as the gate resolved it (the builder's
    /// `.hardware_id(..)`); `None`: this machine's hardware ID. Read it with
    /// [`LicenseRequest::machine_id`].
    pub machine_id: Option<String>,
    /// The application's version as the gate was given it
    /// ([`LicenseGateBuilder::app_version`](crate::LicenseGateBuilder::app_version)),
    /// sent by every provider whose service takes one (ExisOne's `version`);
    /// `None`: not set.
    pub app_version: Option<String>,
    /// When the call must be over: set by the gate for every provider call
    /// (its [request timeout](crate::LicenseGateBuilder::request_timeout)
    /// from the moment the call starts); `None` outside a gate. The built-in
    /// providers bound their HTTP requests by it.
    pub deadline: Option<Deadline>,
}

/// The one deadline of a provider call: the instant it must be over, and the
/// whole time it was given (named by the timeout error).
///
/// ```
/// use std::time::Duration;
/// use license_gate::provider::Deadline;
///
/// let deadline = Deadline::after(Duration::from_secs(10));
/// assert_eq!(deadline.budget(), Duration::from_secs(10));
/// assert!(deadline.remaining() <= Duration::from_secs(10));
/// assert!(!deadline.has_passed());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
    budget: Duration,
}

impl Deadline {
    /// The deadline `budget` from now (on the tokio clock, so paused time in
    /// tests moves it too). A budget too long to add to the clock ends in
    /// about a century.
    pub fn after(budget: Duration) -> Self {
        let now = Instant::now();
        let at = now
            .checked_add(budget)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        Deadline { at, budget }
    }

    /// The instant the call must be over.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// The whole time the call was given.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The time left until the deadline; zero once it has passed.
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    /// Whether the deadline has passed.
    pub fn has_passed(&self) -> bool {
        Instant::now() >= self.at
    }
}

impl LicenseRequest {
    /// A request for `product` with `license_key`.
    pub fn new(product: impl Into<String>, license_key: Option<LicenseKey>) -> Self {
        LicenseRequest {
            product: product.into(),
            license_key,
            trusted_now: None,
            machine_id: None,
            app_version: None,
            deadline: None,
        }
    }

    /// The same request with a deadline: the provider's call must be over by
    /// then (see [`LicenseRequest::deadline`]).
    pub fn with_deadline(mut self, deadline: Deadline) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The same request for the installation `id` (a blank ID is ignored).
    pub fn with_machine_id(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        self.machine_id = (!id.trim().is_empty()).then_some(id);
        self
    }

    /// The same request from application version `version` (a blank
    /// version is ignored).
    ///
    /// ```
    /// use license_gate::provider::LicenseRequest;
    /// let request = LicenseRequest::new("Atlas Studio", None).with_app_version("2.4.1");
    /// assert_eq!(request.app_version.as_deref(), Some("2.4.1"));
    /// ```
    pub fn with_app_version(mut self, version: impl Into<String>) -> Self {
        let version = version.into();
        self.app_version = (!version.trim().is_empty()).then(|| version.trim().to_owned());
        self
    }

    /// The identity of this installation that providers send to their
    /// service (ExisOne's hardware ID, ECOSIRE's binding when no domain is
    /// configured): the one the gate was given, else this machine's
    /// [hardware ID](crate::hardware_id::hardware_id).
    ///
    /// ```
    /// use license_gate::provider::LicenseRequest;
    /// let request = LicenseRequest::new("Atlas Studio", None).with_machine_id("build-agent-7");
    /// assert_eq!(request.machine_id(), "build-agent-7");
    /// let default = LicenseRequest::new("Atlas Studio", None);
    /// assert_eq!(default.machine_id(), license_gate::hardware_id());
    /// ```
    pub fn machine_id(&self) -> String {
        match &self.machine_id {
            Some(id) => id.clone(),
            None => crate::hardware_id::hardware_id(),
        }
    }

    /// The same request made at trusted time `now`.
    pub fn at(mut self, now: SystemTime) -> Self {
        self.trusted_now = Some(now);
        self
    }

    /// The time a provider checks expiry instants against: the gate's trusted
    /// time, or the process's trusted time outside a gate. Never the raw
    /// wall clock, so a clock set back does not revive an expired code.
    pub fn now(&self) -> SystemTime {
        self.trusted_now.unwrap_or_else(crate::time::trusted_now)
    }

    /// The license key, or a configuration error saying how to give one.
    pub fn require_key(&self) -> Result<&LicenseKey, ProviderError> {
        self.license_key.as_ref().ok_or_else(|| {
            ProviderError::Config(format!(
                "no license key is configured for `{}`: call `.license_key(..)` on the builder",
                self.product
            ))
        })
    }
}

/// An explicit answer about a license: what the server (or an offline code, or
/// a mock) says. The gate applies it at once, with no grace.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LicenseAnswer {
    /// Where the license stands.
    pub status: LicenseStatus,
    /// The features the license grants.
    pub features: BTreeSet<String>,
    /// When the license expires, if it does.
    pub expires_at: Option<SystemTime>,
    /// Where the answer came from.
    pub source: Source,
    /// Seat usage, where known.
    pub seats: Option<SeatUsage>,
    /// The server's clock when it answered (its HTTP `Date` header), for an
    /// answer that came over a verified connection; `None` for offline codes,
    /// mocks and servers that send no `Date`. The gate re-anchors trusted
    /// time from it.
    pub server_time: Option<SystemTime>,
}

impl LicenseAnswer {
    /// A valid license with these features, from the server.
    ///
    /// ```
    /// use license_gate::provider::LicenseAnswer;
    /// let answer = LicenseAnswer::licensed(["pro", "export"]);
    /// assert!(answer.status.grants_access());
    /// assert!(answer.features.contains("export"));
    /// ```
    pub fn licensed<I, S>(features: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        LicenseAnswer {
            status: LicenseStatus::Licensed,
            features: features.into_iter().map(Into::into).collect(),
            expires_at: None,
            source: Source::Online,
            seats: None,
            server_time: None,
        }
    }

    /// A denial (expired, revoked, ...) with no features.
    pub fn denied(status: LicenseStatus) -> Self {
        LicenseAnswer {
            status,
            ..LicenseAnswer::licensed(None::<String>)
        }
    }

    /// The same answer with an expiry instant.
    pub fn expiring_at(mut self, at: SystemTime) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// The same answer from another source.
    pub fn from_source(mut self, source: Source) -> Self {
        self.source = source;
        self
    }

    /// The same answer with seat usage.
    pub fn with_seats(mut self, seats: SeatUsage) -> Self {
        self.seats = Some(seats);
        self
    }

    /// The same answer stamped with the server's clock (its `Date` header).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use license_gate::provider::LicenseAnswer;
    /// let at = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
    /// let answer = LicenseAnswer::licensed(["pro"]).with_server_time(at);
    /// assert_eq!(answer.server_time, Some(at));
    /// ```
    pub fn with_server_time(mut self, at: SystemTime) -> Self {
        self.server_time = Some(at);
        self
    }
}

/// The denial a service's status word names: `version_outdated` (with the
/// oldest version the server accepts), `expired`, `suspended` and `revoked`,
/// in any case; `None` for any other word.
#[cfg(feature = "http")]
pub(crate) fn denial_for_word(word: &str, minimum: Option<&str>) -> Option<LicenseStatus> {
    match word.trim().to_ascii_lowercase().as_str() {
        "version_outdated" => Some(LicenseStatus::VersionOutdated {
            minimum: minimum.unwrap_or("unknown").into(),
        }),
        "expired" => Some(LicenseStatus::Expired),
        "suspended" => Some(LicenseStatus::Suspended),
        "revoked" => Some(LicenseStatus::Revoked),
        _ => None,
    }
}

/// The answer an explicit refusal stands for when it names the license's
/// state, for every provider: a [`ProviderError::Refused`] whose code is
/// `version_outdated`, `expired`, `suspended` or `revoked` (ECOSIRE's
/// `license_` prefix allowed), or any HTTP 426 (Upgrade Required), denies
/// with that status. `None`: the error stays an error.
#[cfg(feature = "http")]
pub(crate) fn refusal_answer(error: &ProviderError) -> Option<LicenseAnswer> {
    let ProviderError::Refused {
        status,
        code,
        minimum_required_version,
        ..
    } = error
    else {
        return None;
    };
    let minimum = minimum_required_version.as_deref();
    let named = code.as_deref().and_then(|code| {
        let code = code.trim().to_ascii_lowercase();
        let word = code.strip_prefix("license_").unwrap_or(&code);
        denial_for_word(word, minimum)
    });
    let status = match named {
        Some(status) => status,
        None if *status == 426 => denial_for_word("version_outdated", minimum)?,
        None => return None,
    };
    Some(LicenseAnswer::denied(status))
}

/// A licensing service as the gate sees it.
///
/// `Ok(answer)` is an explicit answer and applies at once. `Err(error)` with
/// [`ProviderError::is_transient`] means the server could not be reached: the
/// gate keeps the last confirmed state through the grace period. Any other
/// error is an explicit refusal and denies at once.
///
/// Implemented by `ExisOneProvider`, `EcosireProvider` and `MockProvider`
/// ([`providers::mock`](crate::providers::mock)); implement it for your own
/// service the same way:
///
/// ```
/// use license_gate::{ProviderError, provider::{LicenseAnswer, LicenseRequest, Provider}};
///
/// #[derive(Debug)]
/// struct AlwaysPro;
///
/// #[async_trait::async_trait]
/// impl Provider for AlwaysPro {
///     fn name(&self) -> &str { "always-pro" }
///     async fn validate(&self, _: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
///         Ok(LicenseAnswer::licensed(["pro"]))
///     }
/// }
/// let _provider = AlwaysPro;
/// ```
#[async_trait]
pub trait Provider: Send + Sync + std::fmt::Debug + 'static {
    /// A short name for logs (`exisone`, `ecosire`, `mock`).
    fn name(&self) -> &str;

    /// Confirms the license; the heartbeat calls this.
    async fn validate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError>;

    /// Binds the license to this installation. Defaults to [`Provider::validate`]
    /// for services without activation.
    async fn activate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        self.validate(request).await
    }

    /// Whether the gate activates the license once per installation after
    /// the first validation that grants access (ECOSIRE's lifecycle:
    /// validate, then activate once). The gate records the activation in its
    /// cache and does not activate again at later starts (see
    /// [`LicenseGateBuilder::activate_on_first_use`](crate::LicenseGateBuilder::activate_on_first_use)
    /// for the whole rule). Defaults to `false`: the gate activates only when
    /// a validation says the license is not activated on this installation
    /// and the builder asks for it.
    fn activates_on_first_validation(&self) -> bool {
        false
    }

    /// Activates right after a validation that answered `validated`, when
    /// the gate activates on its own. Defaults to [`Provider::activate`]; a
    /// provider whose activation needs the validation's answer (ECOSIRE's
    /// reply has no features or expiry) overrides it to skip a second
    /// validation.
    async fn activate_after_validation(
        &self,
        request: &LicenseRequest,
        validated: LicenseAnswer,
    ) -> Result<LicenseAnswer, ProviderError> {
        let _ = validated;
        self.activate(request).await
    }

    /// Checks, without the network, the evidence for this license that the
    /// provider can verify on its own (a signed offline code). `None`: the
    /// provider has no such evidence.
    ///
    /// The gate calls this at every start. A cached state never grants more
    /// than this answer says (features, expiry, status), and a verified
    /// answer lets the gate start without a server even with no cache.
    fn verify_locally(&self, request: &LicenseRequest) -> Option<LicenseAnswer> {
        let _ = request;
        None
    }

    /// Releases this installation's activation (on uninstall). Defaults to
    /// doing nothing for services without activation.
    async fn deactivate(&self, request: &LicenseRequest) -> Result<(), ProviderError> {
        let _ = request;
        Ok(())
    }

    /// The heartbeat interval the service asks its clients for, when it asks
    /// for one (ECOSIRE: weekly). The gate uses it unless the builder's
    /// `.heartbeat_interval(..)` sets one (see
    /// [`LicenseGateBuilder::heartbeat_interval`](crate::LicenseGateBuilder::heartbeat_interval)).
    /// Defaults to `None`: the gate's default of 24 hours.
    fn default_heartbeat_interval(&self) -> Option<std::time::Duration> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, code: Option<&str>) -> ProviderError {
        ProviderError::Refused {
            status,
            code: code.map(str::to_owned),
            message: "m".into(),
            minimum_required_version: Some("3.1".into()),
        }
    }

    #[test]
    fn refusals_that_name_a_state_become_statuses() {
        let status = |e: ProviderError| refusal_answer(&e).map(|a| a.status);
        let outdated = LicenseStatus::VersionOutdated {
            minimum: "3.1".into(),
        };
        assert_eq!(
            status(refused(400, Some("version_outdated"))),
            Some(outdated.clone())
        );
        assert_eq!(status(refused(426, None)), Some(outdated.clone()));
        assert_eq!(status(refused(426, Some("too_old"))), Some(outdated));
        assert_eq!(
            status(refused(400, Some("revoked"))),
            Some(LicenseStatus::Revoked)
        );
        assert_eq!(
            status(refused(403, Some("license_suspended"))),
            Some(LicenseStatus::Suspended)
        );
        assert_eq!(
            status(refused(200, Some("license_expired"))),
            Some(LicenseStatus::Expired)
        );
        assert_eq!(status(refused(400, Some("invalid_product"))), None);
        assert_eq!(status(refused(400, None)), None);
        assert_eq!(
            status(ProviderError::NotFound {
                message: "m".into()
            }),
            None
        );
    }
}
