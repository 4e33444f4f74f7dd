//! The endpoints of the emulated ExisOne service.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::instant::format_instant;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use license_gate_runtime::providers::exisone::__private::encode_base32;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::control::{EmulatedLicense, LicenseState, Permission, Records, Shared};

/// An error reply: a status and a JSON body.
struct ApiError(StatusCode, Value);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(self.1)).into_response()
    }
}

type Reply = Result<Response, ApiError>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/license/activate", post(activate))
        .route("/api/license/validate", post(validate))
        .route("/api/license/deactivate", post(deactivate))
        .route("/api/activationkey/generate", post(generate))
        .route("/api/license/{key}/usage", get(usage))
        .route("/api/license/features/csv", post(features_csv))
        .route("/api/support/ticket", post(support_ticket))
        .with_state(shared)
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError(status, json!({ "error": code, "message": message.into() }))
}

fn ok_json(value: Value) -> Reply {
    Ok((StatusCode::OK, axum::Json(value)).into_response())
}

/// Checks the `Authorization` header: an unknown token is 401; a known one
/// without `needed` is 403; no header is 401 only when a permission is needed.
fn authorize(
    shared: &Shared,
    headers: &HeaderMap,
    needed: Option<Permission>,
) -> Result<(), ApiError> {
    let token = match headers.get("authorization") {
        None => None,
        Some(value) => {
            let text = value.to_str().unwrap_or_default();
            match text.strip_prefix("ExisOneApi ") {
                Some(token) => Some(token.trim().to_owned()),
                None => {
                    return Err(error(
                        StatusCode::UNAUTHORIZED,
                        "unauthorized",
                        "the Authorization header must be `ExisOneApi <token>`",
                    ));
                }
            }
        }
    };
    let records = shared.records();
    let permissions = match &token {
        None => None,
        Some(token) => match records.tokens.get(token) {
            Some(permissions) => Some(permissions),
            None => {
                return Err(error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "unknown access token",
                ));
            }
        },
    };
    match (needed, permissions) {
        (None, _) => Ok(()),
        (Some(_), None) => Err(error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an access token is required",
        )),
        (Some(permission), Some(granted)) if granted.contains(&permission) => Ok(()),
        (Some(permission), Some(_)) => Err(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "the access token lacks the `{}` permission",
                permission.name()
            ),
        )),
    }
}

/// The body as a JSON object, or 400.
fn object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be a JSON object",
        )),
    }
}

/// A required non-empty string field, or 400 naming it.
fn required<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    fields
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("`{name}` is required"),
            )
        })
}

/// An optional string field (absent or null), or 400 when of another type.
fn optional<'a>(fields: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("`{name}` must be a string"),
        )),
    }
}

/// Whether dotted version `version` is older than `minimum`.
pub(crate) fn older_than(version: &str, minimum: &str) -> bool {
    let parts = |v: &str| -> Vec<u64> {
        v.trim()
            .trim_start_matches(['v', 'V'])
            .split(['.', '-', '+'])
            .map(|p| {
                p.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .unwrap_or(0)
            })
            .collect()
    };
    let (a, b) = (parts(version), parts(minimum));
    let len = a.len().max(b.len());
    for i in 0..len {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x < y;
        }
    }
    false
}

fn outdated(records: &Records, version: Option<&str>) -> Option<String> {
    let minimum = records.minimum_version.as_deref()?;
    let version = version?;
    older_than(version, minimum).then(|| minimum.to_owned())
}

fn versions(records: &Records) -> (Value, Value) {
    (
        Value::from(records.server_version.clone()),
        records
            .minimum_version
            .clone()
            .map(Value::from)
            .unwrap_or(Value::Null),
    )
}

fn expiration(license: &EmulatedLicense) -> Value {
    license
        .expires_at
        .map(|at| Value::from(format_instant(at)))
        .unwrap_or(Value::Null)
}

fn not_found() -> ApiError {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no license has this activation key",
    )
}

fn wrong_product(product: &str) -> ApiError {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_product",
        format!("the activation key is not for the product `{product}`"),
    )
}

async fn activate(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Reply {
    authorize(&shared, &headers, None)?;
    let fields = object(&body)?;
    let key = required(&fields, "activationKey")?;
    let email = required(&fields, "email")?;
    let hardware_id = required(&fields, "hardwareId")?;
    let product = required(&fields, "productName")?;
    let version = optional(&fields, "version")?;
    let mut records = shared.records();
    let (server_version, minimum) = versions(&records);
    if let Some(minimum) = outdated(&records, version) {
        return Err(ApiError(
            StatusCode::UPGRADE_REQUIRED,
            json!({
                "error": "version_outdated",
                "message": format!("this version is no longer supported: update to {minimum} or later"),
                "serverVersion": server_version,
                "minimumRequiredVersion": minimum,
            }),
        ));
    }
    let Some(license) = records.license_mut(key) else {
        return Err(not_found());
    };
    if !license.product.eq_ignore_ascii_case(product.trim()) {
        return Err(wrong_product(product));
    }
    match license.state {
        LicenseState::Revoked => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "revoked",
                "the license was revoked",
            ));
        }
        LicenseState::Suspended => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "suspended",
                "the license is suspended",
            ));
        }
        LicenseState::Active => {}
    }
    if license.is_expired(SystemTime::now()) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "expired",
            "the license has expired",
        ));
    }
    if !license.is_bound_to(hardware_id) {
        let used = license.activations.len();
        if license.max_seats.is_some_and(|max| used >= max as usize) {
            return Err(error(
                StatusCode::CONFLICT,
                "activation_limit_reached",
                format!(
                    "All seats are in use ({used} of {})",
                    license.max_seats.unwrap_or_default()
                ),
            ));
        }
        license.activations.push(hardware_id.trim().to_owned());
    }
    if license.email.is_empty() {
        license.email = email.to_owned();
    }
    ok_json(json!({
        "success": true,
        "message": "license activated",
        "expirationDate": expiration(license),
        "features": license.features,
        "serverVersion": server_version,
        "minimumRequiredVersion": minimum,
    }))
}

async fn validate(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Reply {
    authorize(&shared, &headers, Some(Permission::Verify))?;
    let fields = object(&body)?;
    let key = required(&fields, "activationKey")?;
    let hardware_id = required(&fields, "hardwareId")?;
    let product = optional(&fields, "productName")?;
    let version = optional(&fields, "version")?;
    let mut records = shared.records();
    let (server_version, minimum) = versions(&records);
    let outdated_minimum = outdated(&records, version);
    let Some(license) = records.license_mut(key) else {
        return Err(not_found());
    };
    if let Some(product) = product
        && !license.product.eq_ignore_ascii_case(product.trim())
    {
        return Err(wrong_product(product));
    }
    let status = if outdated_minimum.is_some() {
        "version_outdated"
    } else if license.state == LicenseState::Revoked {
        "revoked"
    } else if license.state == LicenseState::Suspended {
        "suspended"
    } else if license.is_expired(SystemTime::now()) {
        "expired"
    } else if !license.is_bound_to(hardware_id) {
        "not_activated"
    } else {
        "licensed"
    };
    ok_json(json!({
        "isValid": status == "licensed",
        "status": status,
        "expirationDate": expiration(license),
        "features": license.features,
        "serverVersion": server_version,
        "minimumRequiredVersion": minimum,
    }))
}

async fn deactivate(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Reply {
    authorize(&shared, &headers, None)?;
    let fields = object(&body)?;
    let key = required(&fields, "licenseKey")?;
    let hardware_id = required(&fields, "hardwareId")?;
    let product = required(&fields, "productName")?;
    let mut records = shared.records();
    let Some(license) = records.license_mut(key) else {
        return Err(not_found());
    };
    if !license.product.eq_ignore_ascii_case(product.trim()) {
        return Err(wrong_product(product));
    }
    // The service deactivates only when the hardware matches: another
    // machine cannot free a seat it does not hold.
    if !license.is_bound_to(hardware_id) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "hardware_mismatch",
            "the license is not activated on this hardware",
        ));
    }
    license
        .activations
        .retain(|h| !h.eq_ignore_ascii_case(hardware_id.trim()));
    ok_json(json!({ "success": true, "message": "license deactivated" }))
}

/// A fresh key `XXXX-XXXX-XXXX-XXXX` (Crockford Base32 of a counter's hash).
fn new_key(counter: u64) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let digest = Sha256::digest(format!("{counter}:{nanos}").as_bytes());
    let text = encode_base32(&digest);
    text.as_bytes()
        .chunks(4)
        .take(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

async fn generate(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Reply {
    authorize(&shared, &headers, Some(Permission::Generate))?;
    let fields = object(&body)?;
    let product = required(&fields, "productName")?;
    let email = required(&fields, "email")?;
    let integer = |name: &str| -> Result<Option<i64>, ApiError> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => value.as_i64().map(Some).ok_or_else(|| {
                error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    format!("`{name}` must be an integer"),
                )
            }),
        }
    };
    let _plan = integer("planId")?;
    let validity_days = integer("validityDays")?;
    let mut records = shared.records();
    records.generated += 1;
    let key = new_key(records.generated);
    let mut license = EmulatedLicense::new(key.clone(), product).email(email);
    if let Some(days) = validity_days {
        license = license
            .expires_at(SystemTime::now() + Duration::from_secs(86_400 * days.max(0) as u64));
    }
    records.insert(license);
    Ok((
        StatusCode::OK,
        [("content-type", "text/plain; charset=utf-8")],
        key,
    )
        .into_response())
}

async fn usage(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Reply {
    authorize(&shared, &headers, None)?;
    let mut records = shared.records();
    let Some(license) = records.license_mut(&key) else {
        return Err(not_found());
    };
    if !license.corporate {
        return Err(error(
            StatusCode::NOT_FOUND,
            "not_corporate",
            "seat usage exists only for corporate licenses",
        ));
    }
    let used = license.activations.len() as u32;
    ok_json(json!({
        "currentSeats": used,
        "maxSeats": license.max_seats,
        "hasCapacity": license.max_seats.is_none_or(|max| used < max),
        "isUnlimited": license.max_seats.is_none(),
    }))
}

async fn features_csv(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Reply {
    authorize(&shared, &headers, None)?;
    let fields = object(&body)?;
    let key = required(&fields, "activationKey")?;
    let mut records = shared.records();
    let Some(license) = records.license_mut(key) else {
        return Err(not_found());
    };
    ok_json(json!({ "features": license.features.join(",") }))
}

async fn support_ticket(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    authorize(&shared, &headers, Some(Permission::Email))?;
    let fields = object(&body)?;
    for name in ["productName", "email", "subject", "message"] {
        required(&fields, name)?;
    }
    ok_json(json!({ "success": true, "message": "ticket received" }))
}

#[cfg(test)]
mod tests {
    use super::older_than;

    #[test]
    fn versions_compare_numerically() {
        assert!(older_than("1.9.0", "1.10.0"));
        assert!(older_than("1.2", "1.2.1"));
        assert!(!older_than("2.0.0", "2.0"));
        assert!(!older_than("v3.1.0", "3.0.9"));
    }
}
