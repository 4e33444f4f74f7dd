//! What the ExisOne client returns, and the JSON it sends and reads.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use serde_json::Value;

use crate::error::ProviderError;
use crate::state::{LicenseStatus, SeatUsage};
use crate::transport::{ErrorDetail, HttpReply};

/// The result of a successful activation, with the fields of the ExisOne
/// SDK's `ActivationResult`.
///
/// [`ExisOneClient::activate`](super::ExisOneClient::activate) returns it for a
/// 2xx reply and an error for anything else; build the SDK's failure shape
/// from that error with [`ActivationResult::from_error`].
///
/// `Debug` shows the length of `license_data`, never the raw reply (it may
/// echo the key).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActivationResult {
    /// Whether the license was activated.
    pub success: bool,
    /// The server's machine-readable error code, such as `version_outdated`.
    pub error_code: Option<String>,
    /// What went wrong, in words.
    pub error_message: Option<String>,
    /// The server's version (`serverVersion`).
    pub server_version: Option<String>,
    /// The oldest client version the server accepts (`minimumRequiredVersion`).
    pub minimum_required_version: Option<String>,
    /// The raw reply body, kept as license data.
    pub license_data: Option<String>,
}

impl std::fmt::Debug for ActivationResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivationResult")
            .field("success", &self.success)
            .field("error_code", &self.error_code)
            .field("error_message", &self.error_message)
            .field("server_version", &self.server_version)
            .field("minimum_required_version", &self.minimum_required_version)
            .field(
                "license_data",
                &self
                    .license_data
                    .as_ref()
                    .map(|d| format!("<{} bytes>", d.len())),
            )
            .finish()
    }
}

impl ActivationResult {
    /// The SDK's failure shape for an activation that failed with `error`.
    ///
    /// ```
    /// use license_gate::ProviderError;
    /// use license_gate::providers::exisone::ActivationResult;
    /// let err = ProviderError::Refused {
    ///     status: 426,
    ///     code: Some("version_outdated".into()),
    ///     message: "update the app".into(),
    ///     minimum_required_version: Some("2.0.0".into()),
    /// };
    /// let result = ActivationResult::from_error(&err);
    /// assert!(!result.success);
    /// assert_eq!(result.error_code.as_deref(), Some("version_outdated"));
    /// assert_eq!(result.minimum_required_version.as_deref(), Some("2.0.0"));
    /// ```
    pub fn from_error(error: &ProviderError) -> Self {
        let (code, minimum) = match error {
            ProviderError::Refused {
                code,
                minimum_required_version,
                ..
            } => (code.clone(), minimum_required_version.clone()),
            _ => (None, None),
        };
        ActivationResult {
            success: false,
            error_code: code,
            error_message: Some(error.to_string()),
            server_version: None,
            minimum_required_version: minimum,
            license_data: None,
        }
    }
}

/// The result of an online validation, with the fields of the ExisOne SDK's
/// `ValidationResult`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidationResult {
    /// Whether the license is valid (`isValid`).
    pub is_valid: bool,
    /// The server's status word (`licensed`, `expired`, `revoked`,
    /// `version_outdated`, ...); `licensed` or `invalid` when it sent none.
    pub status: String,
    /// When the license expires (`expirationDate`; no zone means UTC).
    pub expiration_date: Option<SystemTime>,
    /// The licensed features.
    pub features: Vec<String>,
    /// The server's version.
    pub server_version: Option<String>,
    /// The oldest client version the server accepts.
    pub minimum_required_version: Option<String>,
    /// The server's `Date` header, when it sent one.
    pub server_time: Option<SystemTime>,
}

impl ValidationResult {
    /// The license status this answer means.
    ///
    /// ```
    /// use license_gate::LicenseStatus;
    /// use license_gate::providers::exisone::ValidationResult;
    /// let mut result = ValidationResult::new(false, "revoked");
    /// assert_eq!(result.license_status(), LicenseStatus::Revoked);
    /// result.status = "licensed".into();
    /// result.is_valid = true;
    /// assert_eq!(result.license_status(), LicenseStatus::Licensed);
    /// ```
    pub fn license_status(&self) -> LicenseStatus {
        status_from_word(
            self.is_valid,
            &self.status,
            self.minimum_required_version.as_deref(),
        )
    }

    /// A result with `is_valid` and `status` and nothing else, for tests.
    pub fn new(is_valid: bool, status: impl Into<String>) -> Self {
        ValidationResult {
            is_valid,
            status: status.into(),
            expiration_date: None,
            features: Vec::new(),
            server_version: None,
            minimum_required_version: None,
            server_time: None,
        }
    }
}

/// The status a status word of the server means.
pub(crate) fn status_from_word(is_valid: bool, word: &str, minimum: Option<&str>) -> LicenseStatus {
    if let Some(denial) = crate::provider::denial_for_word(word, minimum) {
        return denial;
    }
    match word.trim().to_ascii_lowercase().as_str() {
        "not_activated" if !is_valid => LicenseStatus::Unlicensed {
            reason: crate::reason::Reason::NotActivated,
        },
        _ if is_valid => LicenseStatus::Licensed,
        "" | "invalid" => LicenseStatus::Invalid {
            reason: "the license server says the license is not valid".into(),
        },
        other => LicenseStatus::Invalid {
            reason: format!("the license server says the license is `{other}`").into(),
        },
    }
}

/// The result of [`validate_smart`](super::ExisOneClient::validate_smart),
/// with the fields of the ExisOne SDK's `SmartValidationResult`: the
/// validation (from the server, or built from the offline check) and where it
/// came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmartValidationResult {
    /// The validation: `is_valid`, the status (`licensed`, `expired`,
    /// `invalid`, `offline` or the server's status word), expiry, features,
    /// and the server's versions (online answers only).
    pub validation: ValidationResult,
    /// Whether the answer was found locally (an offline code, or the server
    /// could not be reached).
    pub was_offline: bool,
    /// What went wrong, in words.
    pub error_message: Option<String>,
    /// The product name.
    pub product_name: Option<String>,
}

/// The result of [`deactivate_smart`](super::ExisOneClient::deactivate_smart),
/// with the fields of the ExisOne SDK's `DeactivationResult`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeactivationResult {
    /// Whether the license counts as deactivated on this machine.
    pub success: bool,
    /// Whether the server was told.
    pub server_notified: bool,
    /// What went wrong, in words.
    pub error_message: Option<String>,
}

/// Seat usage of a corporate (multi-seat) license, with the fields and the
/// meaning of the ExisOne SDK's `SeatUsage`; what
/// [`ExisOneClient::get_seat_usage`](super::ExisOneClient::get_seat_usage)
/// returns. The gate's state keeps the shorter [`SeatUsage`] (`From` maps it).
///
/// ```
/// use license_gate::providers::exisone::ExisOneSeatUsage;
///
/// let usage = ExisOneSeatUsage::new(7, Some(5), false, false);
/// assert_eq!(usage.remaining(), Some(0));
/// let unlimited = ExisOneSeatUsage::new(12, None, true, true);
/// assert_eq!(unlimited.remaining(), None);
/// assert_eq!(license_gate::SeatUsage::from(unlimited).limit, None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExisOneSeatUsage {
    /// Seats in use: the active activations (`currentSeats`; 0 when the
    /// reply has none).
    pub current_seats: u32,
    /// Seats allowed (`maxSeats`); `None` means unlimited.
    pub max_seats: Option<u32>,
    /// Whether the license has room for at least one more activation, as the
    /// server says it (`hasCapacity`; `false` when the reply has none).
    pub has_capacity: bool,
    /// Whether the license has no seat limit (`isUnlimited`).
    pub is_unlimited: bool,
}

impl ExisOneSeatUsage {
    /// A seat usage with these fields (for tests and for other sources).
    pub fn new(
        current_seats: u32,
        max_seats: Option<u32>,
        has_capacity: bool,
        is_unlimited: bool,
    ) -> Self {
        ExisOneSeatUsage {
            current_seats,
            max_seats,
            has_capacity,
            is_unlimited,
        }
    }

    /// Seats still available: `None` when unlimited (`is_unlimited`, or no
    /// `max_seats`), else `max_seats - current_seats` clamped at 0.
    pub fn remaining(&self) -> Option<u32> {
        if self.is_unlimited {
            return None;
        }
        self.max_seats
            .map(|max| max.saturating_sub(self.current_seats))
    }
}

impl From<ExisOneSeatUsage> for SeatUsage {
    /// The state's seat view: an unlimited license has no limit.
    fn from(usage: ExisOneSeatUsage) -> Self {
        SeatUsage {
            used: usage.current_seats,
            limit: if usage.is_unlimited {
                None
            } else {
                usage.max_seats
            },
        }
    }
}

/// The seat usage reply of a corporate (multi-seat) license, read as the
/// ExisOne SDK reads it (a missing or null field is 0, unlimited or false).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SeatUsageReply {
    /// Seats in use (`currentSeats`).
    #[serde(default)]
    pub(crate) current_seats: Option<u32>,
    /// Seats allowed (`maxSeats`); `None` means unlimited.
    #[serde(default)]
    pub(crate) max_seats: Option<u32>,
    /// Whether one more activation fits (`hasCapacity`).
    #[serde(default)]
    pub(crate) has_capacity: Option<bool>,
    /// Whether the license has no seat limit (`isUnlimited`).
    #[serde(default)]
    pub(crate) is_unlimited: Option<bool>,
}

impl SeatUsageReply {
    /// The SDK's seat usage.
    pub(crate) fn into_sdk(self) -> ExisOneSeatUsage {
        ExisOneSeatUsage {
            current_seats: self.current_seats.unwrap_or(0),
            max_seats: self.max_seats,
            has_capacity: self.has_capacity.unwrap_or(false),
            is_unlimited: self.is_unlimited.unwrap_or(false),
        }
    }
}

/// The status words of a validation reply this client knows.
const KNOWN_STATUS_WORDS: [&str; 6] = [
    "licensed",
    "expired",
    "revoked",
    "suspended",
    "version_outdated",
    "invalid",
];

/// Reads a validation reply exactly as the protocol describes it: a JSON
/// object with `isValid` (a boolean, required), `status` (a string),
/// `expirationDate` (ISO-8601), `features` (a list of strings). Anything else
/// is `MalformedReply` (a transport fault: the gate keeps its last confirmed
/// state, never grants from it), and so is `isValid: true` with a status word
/// this client does not know.
pub(crate) fn read_validation(reply: &HttpReply) -> Result<ValidationResult, ProviderError> {
    let map = reply.json_object()?;
    let kind = crate::transport::json_kind;
    let is_valid = match map.get("isValid") {
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(reply.malformed(format!(
                "`isValid` is {} instead of true or false",
                kind(other)
            )));
        }
        None => return Err(reply.malformed("the field `isValid` is missing")),
    };
    let text = |field: &str| -> Result<Option<String>, ProviderError> {
        match map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(other) => {
                Err(reply.malformed(format!("`{field}` is {} instead of a string", kind(other))))
            }
        }
    };
    let word = text("status")?;
    if is_valid
        && let Some(word) = &word
        && !KNOWN_STATUS_WORDS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(word))
    {
        return Err(reply.malformed(format!(
            "`isValid` is true with the status {word:?}, which this client does not know: update license-gate"
        )));
    }
    let status = word.unwrap_or_else(|| if is_valid { "licensed" } else { "invalid" }.to_owned());
    let expiration_date = match text("expirationDate")? {
        Some(date) => Some(crate::time::parse_iso8601_checked(&date).map_err(|reason| {
            reply.malformed(format!(
                "`expirationDate` is not a date we can read: {reason}"
            ))
        })?),
        None => None,
    };
    let features = match map.get("features") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(reply.malformed(format!(
                    "`features` holds {} instead of feature names",
                    kind(other)
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(reply.malformed(format!(
                "`features` is {} instead of a list of names",
                kind(other)
            )));
        }
    };
    Ok(ValidationResult {
        is_valid,
        status,
        expiration_date,
        features,
        server_version: text("serverVersion")?,
        minimum_required_version: text("minimumRequiredVersion")?,
        server_time: None,
    })
}

/// The error a non-2xx reply means: the transport's status table, with the
/// `message`, `error` (the code) and `minimumRequiredVersion` of a JSON body.
///
/// Only a body of the service's documented error shape (a JSON object with
/// a non-empty string `error` or `message`, or a validation's `status`
/// word) is the service's own refusal; anything else (an HTML page of a CDN
/// or firewall, JSON of another shape) is
/// [`ProviderError::NotAnAnswer`], which is transient.
pub(crate) fn error_for(reply: &HttpReply) -> ProviderError {
    let fields = match serde_json::from_slice::<Value>(&reply.body) {
        Ok(Value::Object(fields)) => Some(fields),
        _ => None,
    };
    let field = |name: &str| {
        fields
            .as_ref()?
            .get(name)?
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let (message, code, status_word) = (field("message"), field("error"), field("status"));
    if message.is_none() && code.is_none() && status_word.is_none() {
        return reply.error(ErrorDetail::not_from_service());
    }
    reply.error(ErrorDetail::new(
        message,
        code.or(status_word),
        field("minimumRequiredVersion"),
    ))
}

// ---- wire bodies ----------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ActivateBody<'a> {
    pub(crate) activation_key: &'a str,
    pub(crate) email: &'a str,
    pub(crate) hardware_id: &'a str,
    pub(crate) product_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ValidateBody<'a> {
    pub(crate) activation_key: &'a str,
    pub(crate) hardware_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) product_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeactivateBody<'a> {
    pub(crate) license_key: &'a str,
    pub(crate) hardware_id: &'a str,
    pub(crate) product_name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerateBody<'a> {
    pub(crate) product_name: &'a str,
    pub(crate) email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plan_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) validity_days: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FeaturesBody<'a> {
    pub(crate) activation_key: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TicketBody<'a> {
    pub(crate) product_name: &'a str,
    pub(crate) email: &'a str,
    pub(crate) subject: &'a str,
    pub(crate) message: &'a str,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct VersionsReply {
    #[serde(default)]
    pub(crate) server_version: Option<String>,
    #[serde(default)]
    pub(crate) minimum_required_version: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct FeaturesReply {
    #[serde(default)]
    pub(crate) features: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn reply(status: u16, body: &str) -> HttpReply {
        HttpReply {
            status,
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn json_refusals_keep_code_message_and_minimum() {
        let err = error_for(&reply(
            426,
            r#"{"error":"version_outdated","message":"update","minimumRequiredVersion":"2.0.0"}"#,
        ));
        assert_eq!(
            err,
            ProviderError::Refused {
                status: 426,
                code: Some("version_outdated".into()),
                message: "update".into(),
                minimum_required_version: Some("2.0.0".into()),
            }
        );
        assert!(!err.is_transient());
    }

    #[test]
    fn bodies_not_of_the_service_shape_are_not_answers() {
        let err = error_for(&reply(400, "<html>bad product</html>"));
        let text = err.to_string();
        assert!(text.contains("HTTP 400 Bad Request"), "{text}");
        assert!(text.contains("<html>bad product</html>"), "{text}");
        for (status, body) in [
            (403, "<html><body>Access denied (CDN)</body></html>"),
            (404, "<html>Not Found</html>"),
            (404, ""),
            (409, "{}"),
            (
                404,
                r#"{"type":"https://tools.ietf.org/html/rfc7231","title":"Not Found","status":404}"#,
            ),
        ] {
            let e = error_for(&reply(status, body));
            assert!(
                matches!(e, ProviderError::NotAnAnswer { .. }) && e.is_transient(),
                "{status} {body}: {e:?}"
            );
        }
        assert!(error_for(&reply(503, "down")).is_transient());
    }

    #[test]
    fn refusals_of_the_service_shape_keep_their_meaning() {
        let denied = error_for(&reply(
            403,
            r#"{"error":"forbidden","message":"no verify"}"#,
        ));
        assert!(
            matches!(denied, ProviderError::PermissionDenied { status: 403, .. }),
            "{denied:?}"
        );
        assert!(denied.is_transient() && denied.is_credentials_fault());
        let unknown = error_for(&reply(404, r#"{"error":"not_found","message":"no key"}"#));
        assert!(matches!(unknown, ProviderError::NotFound { .. }));
        assert!(!unknown.is_transient());
        assert!(matches!(
            error_for(&reply(409, r#"{"error":"seat_limit","message":"full"}"#)),
            ProviderError::ActivationLimitReached { .. }
        ));
        let revoked = error_for(&reply(400, r#"{"isValid":false,"status":"revoked"}"#));
        assert!(
            matches!(&revoked, ProviderError::Refused { code: Some(c), .. } if c == "revoked"),
            "{revoked:?}"
        );
    }

    #[test]
    fn validation_replies_are_read_strictly() {
        let malformed = |body: &str| {
            let e = read_validation(&reply(200, body)).unwrap_err();
            assert!(
                matches!(e, ProviderError::MalformedReply { .. }),
                "{body}: {e:?}"
            );
            assert!(e.is_transient());
            e.to_string()
        };
        assert!(malformed("[true]").contains("a list instead of a JSON object"));
        assert!(malformed("true").contains("a boolean instead of a JSON object"));
        assert!(malformed(r#""licensed""#).contains("a string instead"));
        assert!(malformed("{}").contains("`isValid` is missing"));
        assert!(malformed(r#"{"isValid": "true"}"#).contains("a string instead of true"));
        assert!(malformed(r#"{"isValid": true, "status": "lifetime"}"#).contains("does not know"));
        assert!(
            malformed(r#"{"isValid": true, "expirationDate": "someday"}"#)
                .contains("not an ISO-8601 date")
        );
        assert!(malformed(r#"{"isValid": true, "features": "pro"}"#).contains("list of names"));
        assert!(malformed(r#"{"isValid": true, "features": [1]}"#).contains("feature names"));

        let ok = read_validation(&reply(
            200,
            r#"{"isValid": true, "status": "licensed", "expirationDate": "2030-01-01T00:00:00", "features": ["pro"], "extra": 1}"#,
        ))
        .unwrap();
        assert!(ok.is_valid);
        assert_eq!(ok.features, vec!["pro".to_owned()]);
        // An unknown word on a refusal is still a refusal.
        let odd =
            read_validation(&reply(200, r#"{"isValid": false, "status": "paused"}"#)).unwrap();
        assert!(!odd.license_status().grants_access());
    }
}
