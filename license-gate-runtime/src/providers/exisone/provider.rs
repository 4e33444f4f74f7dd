//! The ExisOne provider: how a gate asks ExisOne about a license.

use std::sync::Arc;

use async_trait::async_trait;

use super::client::{ExisOneClient, ExisOneClientOptions};
use super::offline::{OfflineOutcome, OfflineValidationResult, is_offline_code};
use super::smart::{self, Checked, Released};
use super::wire::ValidationResult;
use crate::error::ProviderError;
use crate::provider::{LicenseAnswer, LicenseRequest, Provider, refusal_answer};
use crate::state::{LicenseStatus, Source};

/// A [`Provider`] backed by ExisOne.
///
/// - `validate` (the heartbeat) validates an online key with the server, and
///   an offline code locally, at the server's time when the server answers
///   the call that tells it about the code (its verdict is ignored), else at
///   trusted time.
///   When the server cannot be reached and a public key is configured, a key
///   that is a valid offline code still answers; otherwise the error stays a
///   transient one, so the gate keeps the last confirmed state through the
///   grace period.
/// - `activate` binds an online key to this machine, sending the
///   application's version, then validates it to learn the features.
/// - `deactivate` releases the activation; it succeeds locally when the
///   server cannot be reached.
///
/// The hardware ID sent is the client's
/// [`hardware_id_override`](ExisOneClientOptions::hardware_id_override) when
/// set, else the installation the gate names
/// ([`LicenseRequest::machine_id`]: the builder's `.hardware_id(..)`, else this
/// machine's hardware ID).
///
/// Explicit answers become statuses: `version_outdated` is
/// [`LicenseStatus::VersionOutdated`], `expired`, `revoked` and `suspended`
/// their statuses, anything else invalid [`LicenseStatus::Invalid`].
///
/// ```no_run
/// use license_gate::LicenseGate;
/// use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let provider = ExisOneProvider::from_options(
///     ExisOneClientOptions::new("https://license.example.com").access_token("api-token"),
/// )?
/// .email("buyer@example.com");
/// let gate = LicenseGate::builder()
///     .product("Atlas Studio")
///     .provider(provider)
///     .app_version(env!("CARGO_PKG_VERSION"))
///     .license_key("ABCD-EFGH-JKMN-PQRS")
///     .start()
///     .await?;
/// println!("{}", gate.status());
/// # Ok(())
/// # }
/// # let _ = run;
/// ```
#[derive(Debug, Clone)]
pub struct ExisOneProvider {
    client: Arc<ExisOneClient>,
    email: String,
    app_version: Option<String>,
}

impl ExisOneProvider {
    /// A provider using `client`.
    pub fn new(client: ExisOneClient) -> Self {
        ExisOneProvider {
            client: Arc::new(client),
            email: String::new(),
            app_version: None,
        }
    }

    /// A provider with a client made from `options`.
    pub fn from_options(options: ExisOneClientOptions) -> Result<Self, ProviderError> {
        Ok(ExisOneProvider::new(ExisOneClient::new(options)?))
    }

    /// The licensee's email address, sent on activation.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }

    /// The application's version, sent on activation and validation so the
    /// server can answer `version_outdated`. Overrides the gate's
    /// [`LicenseGateBuilder::app_version`](crate::LicenseGateBuilder::app_version),
    /// which is the one place to set it for every provider; set it here only
    /// when this product reports another version.
    pub fn app_version(mut self, version: impl Into<String>) -> Self {
        self.app_version = Some(version.into());
        self
    }

    /// The client underneath.
    pub fn client(&self) -> &ExisOneClient {
        &self.client
    }

    /// The version sent for `request`: this provider's own, else the gate's.
    fn version_for<'a>(&'a self, request: &'a LicenseRequest) -> Option<&'a str> {
        self.app_version
            .as_deref()
            .or(request.app_version.as_deref())
    }

    /// The hardware ID sent for `request`: the client's
    /// `hardware_id_override` when set, else the installation the gate names
    /// ([`LicenseRequest::machine_id`]).
    fn hardware_id(&self, request: &LicenseRequest) -> String {
        match self.client.hardware_id_override() {
            Some(id) => id.to_owned(),
            None => request.machine_id(),
        }
    }

    fn offline_answer(&self, result: OfflineValidationResult) -> LicenseAnswer {
        let answer = match result.outcome() {
            OfflineOutcome::Valid => LicenseAnswer::licensed(result.features),
            OfflineOutcome::Expired => LicenseAnswer::denied(LicenseStatus::Expired),
            _ => LicenseAnswer::denied(LicenseStatus::Invalid {
                reason: result
                    .error_message
                    .unwrap_or_else(|| "the offline code is not valid".to_owned())
                    .into(),
            }),
        };
        let answer = answer.from_source(Source::OfflineCode);
        match result.expiration_date {
            Some(at) => answer.expiring_at(at),
            None => answer,
        }
    }
}

/// The answer for a validation reply.
fn online_answer(result: ValidationResult) -> LicenseAnswer {
    let status = result.license_status();
    let mut answer = if status == LicenseStatus::Licensed {
        LicenseAnswer::licensed(result.features)
    } else {
        LicenseAnswer::denied(status)
    };
    if let Some(at) = result.expiration_date {
        answer = answer.expiring_at(at);
    }
    answer.server_time = result.server_time;
    answer
}

#[async_trait]
impl Provider for ExisOneProvider {
    fn name(&self) -> &str {
        "exisone"
    }

    async fn validate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        let key = request.require_key()?.expose();
        let hardware_id = self.hardware_id(request);
        let checked = smart::check(
            &self.client,
            key,
            &hardware_id,
            Some(&request.product),
            self.version_for(request),
            request.now(),
            request.deadline,
        )
        .await;
        match checked {
            Ok(Checked::OfflineCode {
                offline,
                server_time,
            }) => {
                // Read at the server's time when it answered: the gate then
                // re-anchors trusted time on it.
                let mut answer = self.offline_answer(offline);
                answer.server_time = server_time;
                Ok(answer)
            }
            Ok(Checked::Online(result)) => Ok(online_answer(result)),
            // The fallback counts only when it proves the license; otherwise
            // the fault stays transient and grace applies.
            Ok(Checked::Unreachable {
                offline: Some(offline),
                ..
            }) if offline.is_valid => Ok(self.offline_answer(offline)),
            Ok(Checked::Unreachable { error, .. }) => Err(error),
            Err(error) => refusal_answer(&error).ok_or(error),
        }
    }

    /// A license key that is an offline code is re-verified locally
    /// (signature, hardware ID, expiry at trusted time) when a public key is
    /// configured: the gate never grants more from its cache than the code says.
    fn verify_locally(&self, request: &LicenseRequest) -> Option<LicenseAnswer> {
        let key = request.license_key.as_ref()?.expose();
        if !is_offline_code(key) || !self.client.has_offline_key() {
            return None;
        }
        let hardware_id = self.hardware_id(request);
        let result = self
            .client
            .validate_offline_at(key, &hardware_id, request.now());
        Some(self.offline_answer(result))
    }

    async fn activate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        let key = request.require_key()?.expose();
        if is_offline_code(key) {
            // An offline code is activated by being issued for this machine.
            return self.validate(request).await;
        }
        let hardware_id = self.hardware_id(request);
        if let Err(error) = self
            .client
            .activate_until(
                key,
                &self.email,
                &hardware_id,
                &request.product,
                self.version_for(request),
                request.deadline,
            )
            .await
        {
            return match refusal_answer(&error) {
                Some(answer) => Ok(answer),
                None => Err(error),
            };
        }
        self.validate(request).await
    }

    async fn deactivate(&self, request: &LicenseRequest) -> Result<(), ProviderError> {
        let key = request.require_key()?.expose();
        let hardware_id = self.hardware_id(request);
        match smart::release(
            &self.client,
            key,
            &hardware_id,
            &request.product,
            request.deadline,
        )
        .await?
        {
            Released::Told => {}
            Released::NotTold(error) => {
                tracing::warn!(%error, "deactivated locally; the license server could not be told");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_answers_map_statuses() {
        let mut result = ValidationResult::new(true, "licensed");
        result.features = vec!["pro".into()];
        let answer = online_answer(result);
        assert_eq!(answer.status, LicenseStatus::Licensed);
        assert!(answer.features.contains("pro"));
        let denied = online_answer(ValidationResult::new(false, "suspended"));
        assert_eq!(denied.status, LicenseStatus::Suspended);
        assert!(denied.features.is_empty());
        let fresh = online_answer(ValidationResult::new(false, "not_activated"));
        assert_eq!(
            fresh.status,
            LicenseStatus::Unlicensed {
                reason: crate::reason::Reason::NotActivated
            }
        );
        let odd = online_answer(ValidationResult::new(false, "on_hold"));
        assert!(matches!(odd.status, LicenseStatus::Invalid { .. }));
    }
}
