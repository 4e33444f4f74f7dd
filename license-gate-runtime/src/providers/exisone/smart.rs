//! The one decision behind ExisOne's "smart" calls and the gate's
//! provider: an offline code is checked locally, an online key by the server,
//! and when the server cannot be reached the key falls back to an offline
//! check if a public key is configured. [`ExisOneClient::validate_smart`],
//! [`ExisOneClient::deactivate_smart`] and the
//! [`ExisOneProvider`](super::ExisOneProvider) each map from it.

use std::time::SystemTime;

use super::client::ExisOneClient;
use super::offline::{OfflineValidationResult, is_offline_code, validate_offline_code};
use super::wire::{DeactivationResult, SmartValidationResult, ValidationResult};
use crate::error::ProviderError;
use crate::provider::Deadline;
use crate::secret::LicenseKey;

/// How long telling the server about a valid offline code may take before
/// the client stops waiting (the code's local answer stands either way).
pub const NOTIFY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What checking a key found.
#[derive(Debug)]
pub(crate) enum Checked {
    /// The key is an offline code, checked locally (valid or not) at the
    /// server's time when the server answered (`server_time`), else at
    /// trusted time.
    OfflineCode {
        offline: OfflineValidationResult,
        server_time: Option<SystemTime>,
    },
    /// The server answered.
    Online(ValidationResult),
    /// The server could not be reached: why (the key masked), and the key
    /// checked as an offline code when a public key is configured.
    Unreachable {
        error: ProviderError,
        offline: Option<OfflineValidationResult>,
    },
}

/// Checks `key` for `hardware_id`, offline instants compared with `now`
/// (trusted time), every request bounded by `deadline` when there is one.
/// Explicit refusals of the server (404, ...) and a refused access token
/// (401/403) are errors; the token's refusal is transient for a gate, but it
/// says the server was reached, so it is no reason to fall back to an offline
/// check.
pub(crate) async fn check(
    client: &ExisOneClient,
    key: &str,
    hardware_id: &str,
    product_name: Option<&str>,
    version: Option<&str>,
    now: SystemTime,
    deadline: Option<Deadline>,
) -> Result<Checked, ProviderError> {
    if is_offline_code(key) {
        // The server is told about the code and its reply's `Date` read,
        // whatever the code says here: the code is read at the server's
        // time when it answers, so neither a clock set back nor trusted time
        // once pushed far ahead decides it; at trusted time when it does not.
        let server_time = client.tell_server(key, hardware_id, deadline).await;
        let offline = client.validate_offline_at(key, hardware_id, server_time.unwrap_or(now));
        return Ok(Checked::OfflineCode {
            offline,
            server_time,
        });
    }
    match client
        .validate_until(key, hardware_id, product_name, version, deadline)
        .await
    {
        Ok(online) => Ok(Checked::Online(online)),
        Err(error) if error.is_transient() && !error.is_credentials_fault() => {
            Ok(Checked::Unreachable {
                // The error may be shown or logged: mask the key.
                error: error.redact_key(&LicenseKey::new(key)),
                offline: client
                    .has_offline_key()
                    .then(|| client.validate_offline_at(key, hardware_id, now)),
            })
        }
        Err(error) => Err(error),
    }
}

/// What releasing an activation found.
#[derive(Debug)]
pub(crate) enum Released {
    /// The server released the seat.
    Told,
    /// The server could not be reached (the key masked in the error): the
    /// deactivation stands on this machine.
    NotTold(ProviderError),
}

/// Releases the activation of `key` on `hardware_id`, bounded by `deadline`
/// when there is one; a transient failure is a local success. Explicit
/// refusals are errors.
pub(crate) async fn release(
    client: &ExisOneClient,
    key: &str,
    hardware_id: &str,
    product_name: &str,
    deadline: Option<Deadline>,
) -> Result<Released, ProviderError> {
    match client
        .deactivate_until(key, hardware_id, product_name, deadline)
        .await
    {
        Ok(()) => Ok(Released::Told),
        Err(error) if error.is_transient() => {
            Ok(Released::NotTold(error.redact_key(&LicenseKey::new(key))))
        }
        Err(error) => Err(error),
    }
}

impl SmartValidationResult {
    /// The SDK's smart result for what [`check`] found.
    fn from_checked(checked: Checked, product_name: Option<&str>) -> Self {
        let local = |offline: OfflineValidationResult, status: &str, error_message| {
            let mut validation = ValidationResult::new(offline.is_valid, status);
            validation.expiration_date = offline.expiration_date;
            validation.features = offline.features;
            SmartValidationResult {
                validation,
                was_offline: true,
                error_message,
                product_name: offline.product_name,
            }
        };
        match checked {
            Checked::OfflineCode { offline, .. } => {
                let status = if offline.is_valid {
                    "licensed"
                } else if offline.is_expired {
                    "expired"
                } else {
                    "invalid"
                };
                let message = offline.error_message.clone();
                local(offline, status, message)
            }
            Checked::Online(validation) => SmartValidationResult {
                validation,
                was_offline: false,
                error_message: None,
                product_name: product_name.map(str::to_owned),
            },
            Checked::Unreachable {
                error,
                offline: Some(offline),
            } => {
                let status = if offline.is_valid {
                    "licensed"
                } else {
                    "invalid"
                };
                let message = (!offline.is_valid).then(|| {
                    format!("the license server could not be reached ({error}) and the key is not a valid offline code")
                });
                local(offline, status, message)
            }
            Checked::Unreachable {
                error,
                offline: None,
            } => SmartValidationResult {
                validation: ValidationResult::new(false, "offline"),
                was_offline: true,
                error_message: Some(format!(
                    "the license server could not be reached ({error}) and offline validation is not configured"
                )),
                product_name: product_name.map(str::to_owned),
            },
        }
    }
}

impl SmartValidationResult {
    /// The SDK's answer to an explicit refusal of the server (400, 403, 404,
    /// 409, 426, ...): not valid, with the reason (the key already masked in
    /// `error`). The status is the state the refusal names (`expired`,
    /// `revoked`, `suspended`, `version_outdated`, also for any 426), else
    /// `invalid`.
    fn refused(error: ProviderError, product_name: Option<&str>) -> Self {
        let (status, minimum) = match &error {
            ProviderError::Refused {
                status,
                code,
                minimum_required_version,
                ..
            } => {
                let code = code
                    .as_deref()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                let word = code.strip_prefix("license_").unwrap_or(&code);
                let status = match word {
                    "expired" | "revoked" | "suspended" | "version_outdated" => word.to_owned(),
                    _ if *status == 426 => "version_outdated".to_owned(),
                    _ => "invalid".to_owned(),
                };
                (status, minimum_required_version.clone())
            }
            _ => ("invalid".to_owned(), None),
        };
        let mut validation = ValidationResult::new(false, status);
        validation.minimum_required_version = minimum;
        SmartValidationResult {
            validation,
            was_offline: false,
            error_message: Some(error.to_string()),
            product_name: product_name.map(str::to_owned),
        }
    }
}

impl ExisOneClient {
    /// Checks an offline code locally, without the server.
    ///
    /// Never fails: a code that cannot be trusted, or a client without a
    /// public key, gives `is_valid == false` with the reason in `error_message`.
    /// Expiry is checked against trusted time ([`crate::time::trusted_now`]),
    /// so a clock set back does not revive an expired code.
    pub fn validate_offline(
        &self,
        offline_code: &str,
        hardware_id: &str,
    ) -> OfflineValidationResult {
        self.validate_offline_at(offline_code, hardware_id, crate::time::trusted_now())
    }

    /// [`ExisOneClient::validate_offline`] at the instant `now`.
    pub fn validate_offline_at(
        &self,
        offline_code: &str,
        hardware_id: &str,
        now: SystemTime,
    ) -> OfflineValidationResult {
        validate_offline_code(offline_code, hardware_id, self.offline_key.as_ref(), now)
    }

    /// Validates an online key or an offline code, whichever `key` is.
    ///
    /// An offline code is checked locally, at the server's time (its `Date`)
    /// when the server answers the validation call that tells it about the
    /// code, else at trusted time; the call's verdict is ignored. An online key is
    /// validated by the server; when the server cannot be reached, the key is
    /// checked as an offline code if a public key is configured, else the
    /// result has status `offline`. Offline instants are compared with
    /// trusted time ([`crate::time::trusted_now`]).
    ///
    /// An explicit refusal of the server (400 bad product, 403 permission,
    /// 404 unknown key, 426 outdated client, ...) is, as in the SDK, a result
    /// that is not valid, with the server's reason in `error_message` (the
    /// key masked) and `was_offline == false`; unlike the SDK, a refusal is
    /// never taken for an unreachable server, so it is not checked as an
    /// offline code. Only a key that is blank (`InvalidKey`) or a
    /// configuration fault (`Config`) is an error: nothing was sent.
    pub async fn validate_smart(
        &self,
        key: &str,
        hardware_id: &str,
        product_name: Option<&str>,
    ) -> Result<SmartValidationResult, ProviderError> {
        let now = crate::time::trusted_now();
        let checked = match check(self, key, hardware_id, product_name, None, now, None).await {
            Ok(checked) => checked,
            Err(error @ (ProviderError::Config(_) | ProviderError::InvalidKey(_))) => {
                return Err(error);
            }
            Err(error) => {
                let error = error.redact_key(&LicenseKey::new(key));
                return Ok(SmartValidationResult::refused(error, product_name));
            }
        };
        Ok(SmartValidationResult::from_checked(checked, product_name))
    }

    /// Deactivates and says whether the server was told: when the server
    /// cannot be reached, the deactivation still succeeds locally
    /// (`server_notified == false`). An explicit refusal of the server gives
    /// `success == false` with its reason for an online key; an offline code
    /// is a license of this machine alone, so it stays deactivated here
    /// (`success == true`, `server_notified == false`, the refusal in
    /// `error_message`), as the SDK answers for it.
    pub async fn deactivate_smart(
        &self,
        key: &str,
        hardware_id: &str,
        product_name: &str,
    ) -> DeactivationResult {
        match release(self, key, hardware_id, product_name, None).await {
            Ok(Released::Told) => DeactivationResult {
                success: true,
                server_notified: true,
                error_message: None,
            },
            Ok(Released::NotTold(error)) => DeactivationResult {
                success: true,
                server_notified: false,
                error_message: Some(format!(
                    "deactivated on this machine; the license server could not be told ({error})"
                )),
            },
            Err(error) if is_offline_code(key) => DeactivationResult {
                success: true,
                server_notified: false,
                error_message: Some(format!(
                    "deactivated on this machine; the license server did not record it ({})",
                    error.redact_key(&LicenseKey::new(key))
                )),
            },
            Err(error) => DeactivationResult {
                success: false,
                server_notified: false,
                error_message: Some(error.redact_key(&LicenseKey::new(key)).to_string()),
            },
        }
    }

    /// Tells the server about an offline code and returns its clock (the
    /// reply's `Date`, refusal or not); the reply's verdict is ignored, and
    /// the call gives up after [`NOTIFY_TIMEOUT`] (or at `deadline`, when
    /// that comes first) so a slow server never holds up a local answer.
    async fn tell_server(
        &self,
        key: &str,
        hardware_id: &str,
        deadline: Option<Deadline>,
    ) -> Option<SystemTime> {
        let call = self.validate_timed(key, hardware_id, deadline);
        match tokio::time::timeout(NOTIFY_TIMEOUT, call).await {
            Ok((server_time, Ok(_))) => server_time,
            Ok((server_time, Err(error))) => {
                // The code is the key: keep it out of the log line.
                let error = error.redact_key(&LicenseKey::new(key));
                tracing::debug!(%error, "the license server did not take the offline code");
                server_time
            }
            Err(_) => {
                tracing::debug!("the license server did not answer in time about the offline code");
                None
            }
        }
    }
}
