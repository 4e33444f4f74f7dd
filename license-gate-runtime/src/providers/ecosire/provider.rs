//! The gate's ECOSIRE provider: the lifecycle the ECOSIRE guide prescribes.

use std::collections::BTreeSet;

use async_trait::async_trait;

use super::client::{EcosireClient, EcosireOptions};
use super::wire::{ActivateReply, EcosireStatus, ValidateReply, classify_message};
use crate::error::ProviderError;
use crate::provider::{Deadline, LicenseAnswer, LicenseRequest, Provider, refusal_answer};
use crate::secret::LicenseKey;
use crate::state::LicenseStatus;

/// The ECOSIRE provider for a [`LicenseGate`](crate::LicenseGate).
///
/// It follows the lifecycle of the ECOSIRE guide:
/// - the gate activates the license once per installation, after the first
///   validation that finds it active, binding the configured domain, or this
///   installation's fingerprint when no domain is set
///   ([`LicenseRequest::machine_id`]: the builder's `.hardware_id(..)`, else
///   the machine's [hardware ID](crate::hardware_id)); activating an already
///   bound domain again does not take another slot. With a vendor secret and
///   a cache the gate records the activation there and later starts only
///   validate; without a vendor secret the cache is not authentic, and every
///   start activates once. ECOSIRE's validation does not say whether the
///   domain is bound, so a binding removed on the server is made again only
///   when the record is gone (after [`LicenseGate::deactivate`](crate::LicenseGate::deactivate),
///   or with the cache);
///   The domain stays a provider setting: the protocol binds a shop or site
///   domain (which moves with the site, not the machine) or, failing one, an
///   installation fingerprint;
/// - every heartbeat validates;
/// - [`LicenseGate::deactivate`](crate::LicenseGate::deactivate) releases the
///   activation (call it on uninstall to free the slot).
///
/// ECOSIRE licenses carry no feature list: the features an active license
/// grants are the ones given to [`EcosireProvider::features`].
///
/// The gate's [`app_version`](crate::LicenseGateBuilder::app_version) is not
/// sent: the ECOSIRE protocol has no field for the application's version (its
/// optional `platform_version` and `odoo_version` name the platform the
/// application runs on, such as Odoo), so an ECOSIRE server never answers
/// "version outdated".
///
/// Answers: `active` is licensed; `expired`, `suspended` and `revoked` deny at
/// once with that status, and so do "License not found" (an error, not
/// transient), a bad signature and a full activation limit. Not reaching the
/// server (connection errors, timeouts, 408, 5xx, 429, unreadable replies) is a
/// transient error: the gate keeps the last confirmed state through its grace
/// period.
///
/// ```no_run
/// use license_gate::LicenseGate;
/// use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let provider = EcosireProvider::from_options(EcosireOptions::default())? // secret from ECOSIRE_LICENSE_SECRET
///     .domain("mystore.example.com")
///     .features(["pro", "export"]);
/// let gate = LicenseGate::builder()
///     .product("Shop Booster")
///     .provider(provider)
///     .license_key("SHOP-A1B2-C3D4-E5F6-G7H8")
///     .heartbeat_interval(std::time::Duration::from_secs(7 * 24 * 3600))
///     .start()
///     .await?;
/// assert!(gate.has_feature("pro"));
/// # Ok(())
/// # }
/// # let _ = demo;
/// ```
#[derive(Debug)]
pub struct EcosireProvider {
    client: EcosireClient,
    domain: Option<String>,
    features: BTreeSet<String>,
    activate_on_first_validation: bool,
}

impl EcosireProvider {
    /// A provider using `client`, bound to this installation's fingerprint
    /// until [`EcosireProvider::domain`] says otherwise, granting no features
    /// until [`EcosireProvider::features`] lists them.
    pub fn new(client: EcosireClient) -> Self {
        EcosireProvider {
            client,
            domain: None,
            features: BTreeSet::new(),
            activate_on_first_validation: true,
        }
    }

    /// A provider with a new client for `options`.
    pub fn from_options(options: EcosireOptions) -> Result<Self, ProviderError> {
        Ok(EcosireProvider::new(EcosireClient::new(options)?))
    }

    /// Binds the license to `domain` (a shop or site domain) instead of the
    /// installation fingerprint. A blank domain keeps the fingerprint.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        let domain = domain.into();
        if !domain.trim().is_empty() {
            self.domain = Some(domain.trim().to_owned());
        }
        self
    }

    /// The features an active license grants.
    pub fn features<I, S>(mut self, features: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.features = features.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the gate activates the license once per installation after
    /// the first validation that finds it active (default `true`; see
    /// [`Provider::activates_on_first_validation`]). With `false`, call
    /// [`LicenseGate::activate`](crate::LicenseGate::activate) yourself, for
    /// example from an installer.
    pub fn activate_on_first_validation(mut self, activate: bool) -> Self {
        self.activate_on_first_validation = activate;
        self
    }

    /// What requests for `request` send as `domain`: the configured domain,
    /// else the installation the gate names ([`LicenseRequest::machine_id`]).
    pub fn binding(&self, request: &LicenseRequest) -> String {
        match &self.domain {
            Some(domain) => domain.clone(),
            None => request.machine_id(),
        }
    }

    /// The client.
    pub fn client(&self) -> &EcosireClient {
        &self.client
    }

    /// Validates (bounded by `deadline` when there is one) and turns the reply
    /// into an answer.
    async fn check(
        &self,
        key: &LicenseKey,
        binding: &str,
        deadline: Option<Deadline>,
    ) -> Result<LicenseAnswer, ProviderError> {
        match self.client.validate_until(key, binding, deadline).await {
            Ok(reply) => self.answer(reply),
            Err(error) => refusal_answer(&error).ok_or(error),
        }
    }

    fn answer(&self, reply: ValidateReply) -> Result<LicenseAnswer, ProviderError> {
        let license = reply.license.clone().unwrap_or_default();
        let denial = license
            .status
            .as_ref()
            .and_then(EcosireStatus::license_status)
            .filter(|s| !s.grants_access());
        let active = license.status == Some(EcosireStatus::Active);
        let answer = match denial {
            Some(status) => LicenseAnswer::denied(status),
            // Only `valid: true` with an active license object grants (the
            // client already rejects other `valid: true` replies as malformed).
            None if reply.valid && active => LicenseAnswer::licensed(self.features.iter().cloned()),
            None if reply.valid => {
                return Err(ProviderError::MalformedReply {
                    status: 200,
                    reason: "`valid` is true without an active license object".to_owned(),
                    excerpt: String::new(),
                });
            }
            None => {
                let message = reply
                    .message
                    .clone()
                    .unwrap_or_else(|| match &license.status {
                        Some(status) => {
                            format!("the server says the license is not valid (status `{status}`)")
                        }
                        None => "the server says the license is not valid".to_owned(),
                    });
                match classify_message(200, &message) {
                    Some(error) => return refusal_answer(&error).ok_or(error),
                    None => LicenseAnswer::denied(LicenseStatus::Invalid {
                        reason: message.into(),
                    }),
                }
            }
        };
        let mut answer = answer;
        answer.expires_at = license.expires_at;
        answer.seats = license.seats();
        answer.server_time = reply.server_time;
        Ok(answer)
    }

    /// Applies an activation reply to the answer of the validation before it.
    fn activated(
        &self,
        mut answer: LicenseAnswer,
        reply: ActivateReply,
    ) -> Result<LicenseAnswer, ProviderError> {
        if reply.activated {
            tracing::info!(
                provider = "ecosire",
                "license activated on this installation"
            );
            if let Some(seats) = reply.seats() {
                answer.seats = Some(seats);
            }
            return Ok(answer);
        }
        let message = reply
            .message
            .clone()
            .unwrap_or_else(|| "the server did not activate the license".to_owned());
        let error = classify_message(200, &message).unwrap_or(ProviderError::Refused {
            status: 200,
            code: None,
            message,
            minimum_required_version: None,
        });
        Err(match error {
            ProviderError::ActivationLimitReached { message, .. } => {
                ProviderError::ActivationLimitReached {
                    used: reply.activations_count,
                    limit: reply.activations_limit,
                    message,
                }
            }
            other => other,
        })
    }

    /// Activates after a validation that granted access, by the same
    /// `deadline`.
    async fn activate_after(
        &self,
        key: &LicenseKey,
        binding: &str,
        answer: LicenseAnswer,
        deadline: Option<Deadline>,
    ) -> Result<LicenseAnswer, ProviderError> {
        let seats = answer.seats.clone();
        match self.client.activate_until(key, binding, deadline).await {
            Ok(reply) => self.activated(answer, reply),
            Err(ProviderError::ActivationLimitReached {
                used,
                limit,
                message,
            }) => {
                // The validation before may have said how many slots there are.
                Err(ProviderError::ActivationLimitReached {
                    used: used.or(seats.as_ref().map(|s| s.used)),
                    limit: limit.or(seats.and_then(|s| s.limit)),
                    message,
                })
            }
            Err(error) => Err(error),
        }
    }
}

#[async_trait]
impl Provider for EcosireProvider {
    fn name(&self) -> &str {
        "ecosire"
    }

    /// Weekly, as the ECOSIRE guide asks ([`super::DEFAULT_HEARTBEAT_INTERVAL`]).
    fn default_heartbeat_interval(&self) -> Option<std::time::Duration> {
        Some(super::DEFAULT_HEARTBEAT_INTERVAL)
    }

    /// The gate activates once per installation after the first validation
    /// that finds the license active, unless
    /// [`EcosireProvider::activate_on_first_validation`] turned it off.
    fn activates_on_first_validation(&self) -> bool {
        self.activate_on_first_validation
    }

    /// Validates; activation is the gate's call
    /// ([`Provider::activates_on_first_validation`]).
    async fn validate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        let key = request.require_key()?;
        let binding = self.binding(request);
        self.check(key, &binding, request.deadline).await
    }

    /// Activates after the gate's validation found the license active,
    /// without validating again: validate, then activate, as the guide says.
    async fn activate_after_validation(
        &self,
        request: &LicenseRequest,
        validated: LicenseAnswer,
    ) -> Result<LicenseAnswer, ProviderError> {
        if !validated.status.grants_access() {
            return self.activate(request).await;
        }
        let key = request.require_key()?;
        let binding = self.binding(request);
        self.activate_after(key, &binding, validated, request.deadline)
            .await
    }

    /// Validates, then activates when the license is active.
    async fn activate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        let key = request.require_key()?;
        let binding = self.binding(request);
        let answer = self.check(key, &binding, request.deadline).await?;
        if !answer.status.grants_access() {
            return Ok(answer);
        }
        self.activate_after(key, &binding, answer, request.deadline)
            .await
    }

    /// Releases this installation's activation. A reply that says nothing was
    /// released is an explicit refusal carrying the server's message.
    async fn deactivate(&self, request: &LicenseRequest) -> Result<(), ProviderError> {
        let key = request.require_key()?;
        let reply = self
            .client
            .deactivate_until(key, &self.binding(request), request.deadline)
            .await?;
        if reply.deactivated {
            tracing::info!(
                provider = "ecosire",
                "license deactivated on this installation"
            );
            return Ok(());
        }
        let message = reply
            .message
            .unwrap_or_else(|| "the server did not deactivate the license".to_owned());
        Err(
            classify_message(200, &message).unwrap_or(ProviderError::Refused {
                status: 200,
                code: None,
                message,
                minimum_required_version: None,
            }),
        )
    }
}
