//! The replies of the ECOSIRE service, in all three shapes it uses: the plain
//! object, the same wrapped as `{"data": {...}, "error": null}`, and error
//! bodies `{"statusCode", "message" (a string or a list of strings), "error"}`
//! (also when wrapped as `{"data": null, "error": {...}}`).
//!
//! Parsing never panics: what cannot be read becomes
//! [`ProviderError::MalformedReply`] saying what was wrong.

use std::fmt;
use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::error::ProviderError;
use crate::secret::LicenseKey;
use crate::state::{LicenseStatus, SeatUsage};
use crate::transport::{ErrorDetail, HttpReply, is_transient_status, json_kind as kind};

/// [`ProviderError::Refused`] code when the server says the license expired.
pub const CODE_EXPIRED: &str = "license_expired";
/// [`ProviderError::Refused`] code when the server says the license is suspended.
pub const CODE_SUSPENDED: &str = "license_suspended";
/// [`ProviderError::Refused`] code when the server says the license was revoked.
pub const CODE_REVOKED: &str = "license_revoked";
/// [`ProviderError::Refused`] code when the reply is about another key than
/// the one sent.
pub const CODE_KEY_MISMATCH: &str = "key_mismatch";

/// A license status as the ECOSIRE service names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcosireStatus {
    /// `active`: the license is in force.
    Active,
    /// `expired`.
    Expired,
    /// `suspended` (for example, a payment is past due).
    Suspended,
    /// `revoked`.
    Revoked,
    /// A status this client does not know, as sent (lower case).
    Other(String),
}

impl EcosireStatus {
    /// Reads a status name (case-insensitive).
    ///
    /// ```
    /// use license_gate::providers::ecosire::EcosireStatus;
    /// assert_eq!(EcosireStatus::parse("Suspended"), EcosireStatus::Suspended);
    /// assert_eq!(EcosireStatus::parse("paused"), EcosireStatus::Other("paused".into()));
    /// ```
    pub fn parse(text: &str) -> Self {
        let lower = text.trim().to_ascii_lowercase();
        match lower.as_str() {
            "active" => EcosireStatus::Active,
            "expired" => EcosireStatus::Expired,
            "suspended" => EcosireStatus::Suspended,
            "revoked" => EcosireStatus::Revoked,
            _ => EcosireStatus::Other(lower),
        }
    }

    /// The name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            EcosireStatus::Active => "active",
            EcosireStatus::Expired => "expired",
            EcosireStatus::Suspended => "suspended",
            EcosireStatus::Revoked => "revoked",
            EcosireStatus::Other(other) => other,
        }
    }

    /// The gate's status for this one: `active` is
    /// [`LicenseStatus::Licensed`], the others their namesakes; an unknown
    /// status has none.
    pub fn license_status(&self) -> Option<LicenseStatus> {
        match self {
            EcosireStatus::Active => Some(LicenseStatus::Licensed),
            EcosireStatus::Expired => Some(LicenseStatus::Expired),
            EcosireStatus::Suspended => Some(LicenseStatus::Suspended),
            EcosireStatus::Revoked => Some(LicenseStatus::Revoked),
            EcosireStatus::Other(_) => None,
        }
    }
}

impl fmt::Display for EcosireStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The license object of a validate reply.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EcosireLicense {
    /// The key the server echoed (masked in `Debug`).
    pub key: Option<LicenseKey>,
    /// The license status.
    pub status: Option<EcosireStatus>,
    /// When the license expires; `None` when it does not (or the server did not say).
    pub expires_at: Option<SystemTime>,
    /// Activations in use.
    pub activations_count: Option<u32>,
    /// Activations allowed.
    pub activations_limit: Option<u32>,
    /// The platform the license is for, such as `odoo`.
    pub platform: Option<String>,
    /// The platform version, such as `18.0`.
    pub platform_version: Option<String>,
}

impl EcosireLicense {
    /// Seat usage, when the server reported the activations in use.
    pub fn seats(&self) -> Option<SeatUsage> {
        seats(self.activations_count, self.activations_limit)
    }
}

/// The reply to `POST /licenses/validate`.
///
/// A reply with `valid: true` always carries a license object whose status
/// is `active` and which names a key: anything else is read as a malformed
/// reply, never as a grant.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidateReply {
    /// Whether the license is valid.
    pub valid: bool,
    /// The license, when the server described it.
    pub license: Option<EcosireLicense>,
    /// The server's explanation, usually present when the license is not valid.
    pub message: Option<String>,
    /// The server's `Date` header, when it sent one.
    pub server_time: Option<SystemTime>,
}

impl ValidateReply {
    /// The status of the license, when the server said.
    pub fn status(&self) -> Option<&EcosireStatus> {
        self.license.as_ref()?.status.as_ref()
    }
}

/// The reply to `POST /licenses/activate`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActivateReply {
    /// Whether this domain or installation is now activated.
    pub activated: bool,
    /// Activations in use.
    pub activations_count: Option<u32>,
    /// Activations allowed.
    pub activations_limit: Option<u32>,
    /// The server's explanation, if any.
    pub message: Option<String>,
}

impl ActivateReply {
    /// Seat usage, when the server reported the activations in use.
    pub fn seats(&self) -> Option<SeatUsage> {
        seats(self.activations_count, self.activations_limit)
    }
}

/// The reply to `POST /licenses/deactivate`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeactivateReply {
    /// Whether the activation was released: true for any 2xx reply unless
    /// it says `"deactivated": false`, as the guide reads it.
    pub deactivated: bool,
    /// Activations in use afterwards.
    pub activations_count: Option<u32>,
    /// The server's explanation, if any.
    pub message: Option<String>,
}

fn seats(used: Option<u32>, limit: Option<u32>) -> Option<SeatUsage> {
    Some(SeatUsage { used: used?, limit })
}

/// An error body: `{"statusCode", "message", "error"}`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct ErrorBody {
    pub(crate) status_code: Option<u16>,
    /// The message; a list of messages is joined with `; `.
    pub(crate) message: Option<String>,
    pub(crate) error: Option<String>,
    /// Whether the body has the service's documented error shape (a
    /// `message`, flat with a `statusCode` or inside the `{"data", "error"}`
    /// envelope): only such a body can be the service's own refusal.
    pub(crate) from_service: bool,
}

impl ErrorBody {
    fn from_value(value: &Value) -> ErrorBody {
        match value {
            Value::Object(map) => {
                let message = map.get("message").and_then(message_text);
                ErrorBody {
                    status_code: map
                        .get("statusCode")
                        .and_then(Value::as_u64)
                        .and_then(|c| u16::try_from(c).ok()),
                    from_service: message.is_some(),
                    message,
                    error: map.get("error").and_then(message_text),
                }
            }
            // `{"data": null, "error": "License revoked"}`: a message alone
            // in the envelope.
            other => {
                let message = message_text(other);
                ErrorBody {
                    from_service: message.is_some(),
                    message,
                    ..ErrorBody::default()
                }
            }
        }
    }

    fn text(&self, status: u16) -> String {
        self.message
            .clone()
            .or_else(|| self.error.clone())
            .unwrap_or_else(|| format!("HTTP {status} without a message"))
    }
}

/// A message: a string, or a list of strings joined with `; `.
fn message_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|item| match item {
                    Value::String(s) => Some(s.clone()),
                    Value::Null => None,
                    other => Some(other.to_string()),
                })
                .collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        other => Some(other.to_string()),
    }
}

/// What a reply body holds once the envelope is removed.
enum Body {
    Success(Map<String, Value>),
    Error(ErrorBody),
}

/// Removes the `{"data", "error"}` envelope and tells success from error bodies.
fn unwrap_body(value: Value) -> Result<Body, String> {
    let Value::Object(mut map) = value else {
        return Err("the body is not a JSON object".to_owned());
    };
    let wrapped = map.contains_key("data")
        && map
            .keys()
            .all(|k| matches!(k.as_str(), "data" | "error" | "meta" | "success"));
    if wrapped {
        let error = map.remove("error").unwrap_or(Value::Null);
        if !error.is_null() {
            return Ok(Body::Error(ErrorBody::from_value(&error)));
        }
        return match map.remove("data") {
            Some(Value::Object(inner)) => unwrap_body(Value::Object(inner)),
            Some(Value::Null) | None => {
                Err("the envelope holds neither `data` nor `error`".to_owned())
            }
            Some(_) => Err("`data` is not a JSON object".to_owned()),
        };
    }
    let is_error = map
        .get("statusCode")
        .and_then(Value::as_u64)
        .is_some_and(|code| code >= 400);
    if is_error {
        return Ok(Body::Error(ErrorBody::from_value(&Value::Object(map))));
    }
    Ok(Body::Success(map))
}

/// Whether an error message is the service's refusal of the request's
/// `timestamp` ("Request timestamp is too far from the server time").
pub(crate) fn is_timestamp_refusal(message: &str) -> bool {
    message.to_ascii_lowercase().contains("timestamp")
}

/// Turns an HTTP reply into `T` (read from the success object by `parse`),
/// or into the error it carries.
pub(crate) fn interpret<T>(
    reply: &HttpReply,
    parse: impl FnOnce(&Map<String, Value>) -> Result<T, String>,
) -> Result<T, ProviderError> {
    if is_transient_status(reply.status) || (300..400).contains(&reply.status) {
        return Err(reply.error(ErrorDetail::default()));
    }
    let value: Option<Value> = serde_json::from_slice(&reply.body).ok();
    let success = reply.is_success();
    let body = match value.map(unwrap_body) {
        Some(Ok(body)) => body,
        Some(Err(reason)) if success => return Err(reply.malformed(reason)),
        None if success => {
            return Err(reply.malformed("the body is not JSON"));
        }
        // An error status with a body that is not JSON (a CDN's or a
        // firewall's page) is not the service's answer.
        _ => return Err(reply.error(ErrorDetail::not_from_service())),
    };
    match body {
        Body::Success(map) if success => parse(&map).map_err(|reason| reply.malformed(reason)),
        // An error status with JSON of another shape than the service's
        // error body: not the service's answer either.
        Body::Success(_) => Err(reply.error(ErrorDetail::not_from_service())),
        Body::Error(error) => {
            let status = if success {
                error.status_code.unwrap_or(reply.status)
            } else {
                reply.status
            };
            Err(classify(reply, status, &error))
        }
    }
}

/// The error an error body stands for: a documented message wins over the
/// status (an activation limit or a license state can come with several
/// codes) unless the status is transient; then the transport's status table.
///
/// Only a body of the service's error shape is its refusal; among those, a
/// 404 must say "License not found" (another 404 is a route of the service
/// or of something in front of it, not an answer about the license), and a
/// refusal of the `timestamp` is [`ProviderError::ClockOff`] (the client
/// fills in the offset and retries with the server's time).
fn classify(reply: &HttpReply, status: u16, body: &ErrorBody) -> ProviderError {
    if is_transient_status(status) {
        return reply.error_for_status(status, ErrorDetail::default());
    }
    if !body.from_service {
        return reply.error_for_status(status, ErrorDetail::not_from_service());
    }
    let message = body.text(status);
    if let Some(error) = classify_message(status, &message) {
        return error;
    }
    if is_timestamp_refusal(&message) {
        return ProviderError::ClockOff {
            offset_secs: None,
            message,
        };
    }
    if status == 404 {
        return reply.not_an_answer(
            status,
            format!(
                "HTTP 404 whose message ({message:?}) does not say the license was not found: a wrong base URL, or something in front of the service"
            ),
        );
    }
    reply.error_for_status(status, ErrorDetail::message(message))
}

/// The error a documented message stands for, whatever the status.
pub(crate) fn classify_message(status: u16, message: &str) -> Option<ProviderError> {
    let lower = message.to_ascii_lowercase();
    if lower.contains("activation limit") {
        return Some(ProviderError::ActivationLimitReached {
            used: None,
            limit: None,
            message: Some(message.to_owned()),
        });
    }
    if lower.contains("license not found") {
        return Some(ProviderError::NotFound {
            message: message.to_owned(),
        });
    }
    let code = [
        ("license expired", CODE_EXPIRED),
        ("license suspended", CODE_SUSPENDED),
        ("license revoked", CODE_REVOKED),
    ]
    .into_iter()
    .find(|(phrase, _)| lower.contains(phrase))?
    .1;
    Some(ProviderError::Refused {
        status,
        code: Some(code.to_owned()),
        message: message.to_owned(),
        minimum_required_version: None,
    })
}

/// Reads a validate reply. `valid: true` counts only with a license object
/// whose status is `active` and which names the key: a grant resting on less
/// (`{"valid": true}` alone, an unknown status word) is malformed, so the
/// gate keeps its last confirmed state and never grants from it. Malformed
/// rather than a refusal: a service adding a status word must not lock out
/// paying users at once; grace covers them while the client is updated.
pub(crate) fn parse_validate(map: &Map<String, Value>) -> Result<ValidateReply, String> {
    let valid = required_bool(map, "valid")?;
    let license = match map.get("license") {
        None | Some(Value::Null) => None,
        Some(Value::Object(license)) => Some(parse_license(license)?),
        Some(_) => return Err("`license` is not a JSON object".to_owned()),
    };
    if valid {
        let Some(license) = &license else {
            return Err("`valid` is true but the reply has no `license` object".to_owned());
        };
        match &license.status {
            None => return Err("`valid` is true but `license.status` is missing".to_owned()),
            Some(EcosireStatus::Other(word)) => {
                return Err(format!(
                    "`license.status` is {word:?}, which is not a status this client knows (active, expired, suspended, revoked): update license-gate"
                ));
            }
            Some(_) => {}
        }
        if license.key.is_none() {
            return Err("`valid` is true but `license.key` is missing".to_owned());
        }
    }
    Ok(ValidateReply {
        valid,
        license,
        message: map.get("message").and_then(message_text),
        server_time: None,
    })
}

fn parse_license(map: &Map<String, Value>) -> Result<EcosireLicense, String> {
    Ok(EcosireLicense {
        key: optional_string(map, "key")?.map(LicenseKey::new),
        status: optional_string(map, "status")?.map(|s| EcosireStatus::parse(&s)),
        expires_at: optional_instant(map, "expiresAt")?,
        activations_count: optional_count(map, "activationsCount")?,
        activations_limit: optional_count(map, "activationsLimit")?,
        platform: optional_string(map, "platform")?,
        platform_version: optional_string(map, "platformVersion")?,
    })
}

pub(crate) fn parse_activate(map: &Map<String, Value>) -> Result<ActivateReply, String> {
    Ok(ActivateReply {
        activated: required_bool(map, "activated")?,
        activations_count: optional_count(map, "activationsCount")?,
        activations_limit: optional_count(map, "activationsLimit")?,
        message: map.get("message").and_then(message_text),
    })
}

/// Reads a deactivate reply as the ECOSIRE guide reads it: a 2xx reply
/// means deactivated unless it says `"deactivated": false` (a missing or
/// null `deactivated` is true; any other value is malformed).
pub(crate) fn parse_deactivate(map: &Map<String, Value>) -> Result<DeactivateReply, String> {
    let deactivated = match map.get("deactivated") {
        None | Some(Value::Null) => true,
        Some(_) => required_bool(map, "deactivated")?,
    };
    Ok(DeactivateReply {
        deactivated,
        activations_count: optional_count(map, "activationsCount")?,
        message: map.get("message").and_then(message_text),
    })
}

fn required_bool(map: &Map<String, Value>, field: &str) -> Result<bool, String> {
    match map.get(field) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!(
            "`{field}` is {} instead of true or false",
            kind(other)
        )),
        None => Err(format!("the field `{field}` is missing")),
    }
}

fn optional_string(map: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("`{field}` is {} instead of a string", kind(other))),
    }
}

/// A count: a non-negative integer or such a number in a string. A negative
/// number reads as "no limit" (`None`).
fn optional_count(map: &Map<String, Value>, field: &str) -> Result<Option<u32>, String> {
    let bad = |v: &Value| format!("`{field}` is {} instead of a count", kind(v));
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                Ok(Some(u32::try_from(u).unwrap_or(u32::MAX)))
            } else if n.as_i64().is_some() {
                Ok(None)
            } else {
                Err(bad(&Value::Number(n.clone())))
            }
        }
        Some(Value::String(s)) => s
            .trim()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| format!("`{field}` is the string {s:?} instead of a count")),
        Some(other) => Err(bad(other)),
    }
}

/// An instant: an ISO-8601 string, or Unix seconds (or milliseconds) as a number.
fn optional_instant(map: &Map<String, Value>, field: &str) -> Result<Option<SystemTime>, String> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => crate::time::parse_iso8601_checked(s)
            .map(Some)
            .map_err(|reason| format!("`{field}` is not a date we can read: {reason}")),
        Some(Value::Number(n)) => {
            let Some(n) = n.as_u64() else {
                return Err(format!("`{field}` is the number {n}, not a Unix time"));
            };
            // Ten-digit numbers are seconds, thirteen-digit ones milliseconds.
            // Dates past 9999-12-31 saturate there (a license that far out
            // does not expire in any meaningful sense), so nothing overflows
            // and every instant can be printed.
            let at = if n >= 100_000_000_000 {
                crate::time::from_unix_millis(n)
            } else {
                crate::time::from_unix_seconds(n)
            };
            Ok(Some(at))
        }
        Some(other) => Err(format!("`{field}` is {} instead of a date", kind(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};
    use std::time::{Duration, UNIX_EPOCH};

    fn reply(status: u16, body: &str) -> HttpReply {
        HttpReply {
            status,
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn validate(status: u16, body: &str) -> Result<ValidateReply, ProviderError> {
        interpret(&reply(status, body), parse_validate)
    }

    const PLAIN: &str = r#"{"valid": true, "license": {"key": "SHOP-A1B2-C3D4-E5F6-G7H8", "status": "active",
        "expiresAt": "2030-01-01T00:00:00.000Z", "activationsCount": 1, "activationsLimit": 3,
        "platform": "odoo", "platformVersion": "18.0"}}"#;

    #[test]
    fn plain_and_wrapped_success_parse_alike() {
        let plain = validate(200, PLAIN).unwrap();
        let wrapped = validate(200, &format!(r#"{{"data": {PLAIN}, "error": null}}"#)).unwrap();
        assert_eq!(plain, wrapped);
        assert!(plain.valid);
        let license = plain.license.unwrap();
        assert_eq!(license.status, Some(EcosireStatus::Active));
        assert_eq!(
            license.expires_at,
            crate::time::parse_iso8601("2030-01-01T00:00:00Z")
        );
        assert_eq!(
            license.seats(),
            Some(SeatUsage {
                used: 1,
                limit: Some(3)
            })
        );
        assert_eq!(license.platform.as_deref(), Some("odoo"));
        assert_eq!(license.platform_version.as_deref(), Some("18.0"));
        assert!(!format!("{license:?}").contains("A1B2"));
    }

    #[test]
    fn error_bodies_plain_and_wrapped_with_string_or_list_messages() {
        let e = validate(
            404,
            r#"{"statusCode": 404, "message": "License not found", "error": "Not Found"}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            ProviderError::NotFound {
                message: "License not found".into()
            }
        );
        let e = validate(
            400,
            r#"{"statusCode": 400, "message": ["key should not be empty", "domain must be a string"], "error": "Bad Request"}"#,
        )
        .unwrap_err();
        assert_eq!(
            e,
            ProviderError::Refused {
                status: 400,
                code: None,
                message: "key should not be empty; domain must be a string".into(),
                minimum_required_version: None
            }
        );
        let e = validate(
            401,
            r#"{"data": null, "error": {"statusCode": 401, "message": "Invalid signature", "error": "Unauthorized"}}"#,
        )
        .unwrap_err();
        assert!(
            matches!(e, ProviderError::PermissionDenied { status: 401, ref message } if message == "Invalid signature")
        );
        // An error inside a 200 envelope counts with its own status.
        let e = validate(200, r#"{"data": null, "error": {"statusCode": 409, "message": "Activation limit reached"}}"#).unwrap_err();
        assert!(matches!(e, ProviderError::ActivationLimitReached { .. }));
        let e = validate(200, r#"{"data": null, "error": "License revoked"}"#).unwrap_err();
        assert!(
            matches!(e, ProviderError::Refused { ref code, .. } if code.as_deref() == Some(CODE_REVOKED))
        );
    }

    #[test]
    fn status_codes_map_to_the_shared_errors() {
        let body = |code: u16, message: &str| {
            format!(r#"{{"statusCode": {code}, "message": "{message}", "error": "x"}}"#)
        };
        type Check = fn(&ProviderError) -> bool;
        let cases: Vec<(u16, &str, Check)> = vec![
            (401, "Invalid signature", |e| {
                matches!(e, ProviderError::PermissionDenied { status: 401, .. })
            }),
            (403, "Forbidden", |e| {
                matches!(e, ProviderError::PermissionDenied { status: 403, .. })
            }),
            (
                403,
                "License suspended",
                |e| matches!(e, ProviderError::Refused { code: Some(c), .. } if c == CODE_SUSPENDED),
            ),
            (
                403,
                "License expired",
                |e| matches!(e, ProviderError::Refused { code: Some(c), .. } if c == CODE_EXPIRED),
            ),
            (409, "Activation limit reached", |e| {
                matches!(e, ProviderError::ActivationLimitReached { .. })
            }),
            (409, "Conflict", |e| {
                matches!(e, ProviderError::ActivationLimitReached { .. })
            }),
            (422, "Unprocessable", |e| {
                matches!(e, ProviderError::Refused { status: 422, .. })
            }),
            (429, "Too Many Requests", |e| {
                matches!(e, ProviderError::RateLimited { .. })
            }),
            (500, "boom", |e| {
                matches!(e, ProviderError::ServerFault { status: 500, .. })
            }),
            (502, "Bad Gateway", |e| {
                matches!(e, ProviderError::ServerFault { status: 502, .. })
            }),
            (503, "Unavailable", |e| {
                matches!(e, ProviderError::ServerFault { status: 503, .. })
            }),
        ];
        for (code, message, check) in cases {
            let e = validate(code, &body(code, message)).unwrap_err();
            assert!(check(&e), "{code} {message}: {e:?}");
            let wrapped = format!(r#"{{"data": null, "error": {}}}"#, body(code, message));
            let e = validate(code, &wrapped).unwrap_err();
            assert!(check(&e), "wrapped {code} {message}: {e:?}");
        }
    }

    #[test]
    fn transient_and_explicit_errors_split_correctly() {
        assert!(
            validate(503, "<html>down</html>")
                .unwrap_err()
                .is_transient()
        );
        // Only the service's own "License not found" is explicit; an empty
        // or HTML 404, or one about a route, is not an answer.
        let not_found =
            r#"{"statusCode": 404, "message": "License not found", "error": "Not Found"}"#;
        assert!(!validate(404, not_found).unwrap_err().is_transient());
        for (status, body) in [
            (404, ""),
            (404, "<html><h1>404 Not Found</h1></html>"),
            (403, "<html>Access denied by the CDN</html>"),
            (
                404,
                r#"{"statusCode": 404, "message": "Cannot POST /api/licenses/validate", "error": "Not Found"}"#,
            ),
            (403, r#"{"success": false, "errors": [{"code": 1020}]}"#),
            (401, r#"{"statusCode": 401}"#),
        ] {
            let e = validate(status, body).unwrap_err();
            assert!(
                matches!(e, ProviderError::NotAnAnswer { .. }) && e.is_transient(),
                "{status} {body}: {e:?}"
            );
        }
        let clock = validate(
            400,
            r#"{"statusCode": 400, "message": "Request timestamp is too far from the server time", "error": "Bad Request"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(clock, ProviderError::ClockOff { .. }) && clock.is_transient(),
            "{clock:?}"
        );
        assert!(validate(200, "not json").unwrap_err().is_transient());
        assert!(
            validate(200, r#"{"license": {}}"#)
                .unwrap_err()
                .is_transient()
        );
        assert!(validate(302, "").unwrap_err().is_transient());
        let mut limited = reply(429, "");
        limited
            .headers
            .insert("retry-after", HeaderValue::from_static("7"));
        let e = interpret(&limited, parse_validate).unwrap_err();
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn malformed_fields_say_what_is_wrong() {
        let e = validate(200, r#"{"valid": "yes"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`valid` is a string instead of true or false"),
            "{e}"
        );
        let e = validate(200, r#"{"valid": true, "license": {"expiresAt": "soon"}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an ISO-8601 date"), "{e}");
        let e = validate(
            200,
            r#"{"valid": true, "license": {"activationsCount": "x"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("instead of a count"), "{e}");
        let e = validate(200, "[1, 2]").unwrap_err().to_string();
        assert!(e.contains("not a JSON object"), "{e}");
        let e = validate(200, r#"{"data": null, "error": null}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("neither `data` nor `error`"), "{e}");
    }

    #[test]
    fn a_grant_needs_an_active_license_object_naming_a_key() {
        let malformed = |body: &str| {
            let e = validate(200, body).unwrap_err();
            assert!(
                matches!(e, ProviderError::MalformedReply { .. }),
                "{body}: {e:?}"
            );
            e.to_string()
        };
        let e = malformed(r#"{"valid": true}"#);
        assert!(e.contains("no `license` object"), "{e}");
        malformed(r#"{"valid": true, "license": null}"#);
        malformed(r#"{"data": {"valid": true}, "error": null}"#);
        let e = malformed(r#"{"valid": true, "license": {"key": "SHOP-A1B2-C3D4-E5F6-G7H8"}}"#);
        assert!(e.contains("`license.status` is missing"), "{e}");
        let e = malformed(
            r#"{"valid": true, "license": {"key": "SHOP-A1B2-C3D4-E5F6-G7H8", "status": "lifetime"}}"#,
        );
        assert!(e.contains("\"lifetime\", which is not a status"), "{e}");
        let e = malformed(r#"{"valid": true, "license": {"status": "active"}}"#);
        assert!(e.contains("`license.key` is missing"), "{e}");
        malformed("[true]");
        malformed("true");
        // A refusal may come without a license object.
        let refusal = validate(200, r#"{"valid": false, "message": "License revoked"}"#).unwrap();
        assert!(!refusal.valid);
    }

    #[test]
    fn far_future_expiry_saturates() {
        let r = validate(
            200,
            r#"{"valid": true, "license": {"key": "SHOP-A1B2-C3D4-E5F6-G7H8", "status": "active", "expiresAt": 300000000000000}}"#,
        )
        .unwrap();
        let at = r.license.unwrap().expires_at.unwrap();
        assert_eq!(at, crate::time::max_date());
        assert_eq!(crate::time::format_rfc3339(at), "9999-12-31T23:59:59Z");
        let e = validate(
            200,
            r#"{"valid": true, "license": {"key": "K", "status": "active", "expiresAt": "+300000-01-01T00:00:00Z"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("past 9999"), "{e}");
    }

    #[test]
    fn lenient_values() {
        let r = validate(
            200,
            r#"{"valid": false, "message": "License expired", "license": {"status": "EXPIRED",
              "expiresAt": 1767225600, "activationsCount": "2", "activationsLimit": -1}}"#,
        )
        .unwrap();
        let l = r.license.unwrap();
        assert_eq!(l.status, Some(EcosireStatus::Expired));
        assert_eq!(
            l.expires_at,
            Some(UNIX_EPOCH + Duration::from_secs(1_767_225_600))
        );
        assert_eq!(
            l.seats(),
            Some(SeatUsage {
                used: 2,
                limit: None
            })
        );
        assert_eq!(r.message.as_deref(), Some("License expired"));
    }

    #[test]
    fn activate_and_deactivate_replies() {
        let a = interpret(
            &reply(
                201,
                r#"{"activated": true, "activationsCount": 2, "activationsLimit": 2}"#,
            ),
            parse_activate,
        )
        .unwrap();
        assert!(a.activated);
        assert_eq!(
            a.seats(),
            Some(SeatUsage {
                used: 2,
                limit: Some(2)
            })
        );
        let d = interpret(
            &reply(
                200,
                r#"{"data": {"deactivated": true, "activationsCount": 1}, "error": null}"#,
            ),
            parse_deactivate,
        )
        .unwrap();
        assert!(d.deactivated);
        assert_eq!(d.activations_count, Some(1));

        // As the guide reads it: 2xx is deactivated unless it says false.
        for body in [
            r#"{"activationsCount": 0}"#,
            r#"{"deactivated": null, "message": "ok"}"#,
            r#"{"data": {"success": true}, "error": null}"#,
        ] {
            let d = interpret(&reply(200, body), parse_deactivate).unwrap();
            assert!(d.deactivated, "{body}");
        }
        let d = interpret(&reply(200, r#"{"deactivated": false}"#), parse_deactivate).unwrap();
        assert!(!d.deactivated);
        let err =
            interpret(&reply(200, r#"{"deactivated": "yes"}"#), parse_deactivate).unwrap_err();
        assert!(err.to_string().contains("`deactivated`"), "{err}");
    }
}
