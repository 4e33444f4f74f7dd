//! The emulator's HTTP side: the three endpoints and the rate limiter (the
//! request log is the shared `crate::log` middleware).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};

use super::control::{EcosireHandle, EmulatedStatus, Endpoint, Window};
use super::signature;
use crate::faults::FaultControl;
use crate::log::RequestLog;

/// The path prefix of the service (the public base URL ends in `/api`).
pub(crate) const BASE_PATH: &str = "/api";

pub(crate) fn router(handle: EcosireHandle) -> Router {
    let faults = handle.faults.clone();
    let log = handle.log.clone();
    Router::new()
        .route(
            "/api/licenses/validate",
            post(|s, h, b| endpoint(s, h, b, Endpoint::Validate)),
        )
        .route(
            "/api/licenses/activate",
            post(|s, h, b| endpoint(s, h, b, Endpoint::Activate)),
        )
        .route(
            "/api/licenses/deactivate",
            post(|s, h, b| endpoint(s, h, b, Endpoint::Deactivate)),
        )
        .fallback(|| async { error(false, 404, "Cannot find this route") })
        .with_state(handle.clone())
        .layer(axum::middleware::from_fn_with_state(
            faults,
            FaultControl::middleware,
        ))
        .layer(axum::middleware::from_fn_with_state(
            log,
            RequestLog::record,
        ))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// An error reply `{"statusCode", "message", "error"}`, wrapped when asked.
fn error_with(wrapped: bool, status: u16, message: Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({
        "statusCode": status,
        "message": message,
        "error": code.canonical_reason().unwrap_or("Error"),
    });
    let body = if wrapped {
        json!({"data": null, "error": body})
    } else {
        body
    };
    (code, axum::Json(body)).into_response()
}

fn error(wrapped: bool, status: u16, message: &str) -> Response {
    error_with(wrapped, status, Value::String(message.to_owned()))
}

fn success(wrapped: bool, status: StatusCode, body: Value) -> Response {
    let body = if wrapped {
        json!({"data": body, "error": null})
    } else {
        body
    };
    (status, axum::Json(body)).into_response()
}

/// The rate-limit headers of one request: limit, remaining, reset (Unix seconds).
struct RateHeaders {
    limit: u32,
    remaining: u32,
    reset: u64,
    exceeded: bool,
}

impl RateHeaders {
    fn apply(&self, response: &mut Response) {
        let headers = response.headers_mut();
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset));
    }
}

fn count_request(handle: &EcosireHandle, endpoint: Endpoint) -> RateHeaders {
    let now = SystemTime::now();
    let mut state = handle.lock();
    let limits = state.limits;
    let limit = match endpoint {
        Endpoint::Validate => limits.validate,
        Endpoint::Activate => limits.activate,
        Endpoint::Deactivate => limits.deactivate,
    };
    let window = state.windows.entry(endpoint).or_insert(Window {
        started: now,
        count: 0,
    });
    if now >= window.started + limits.window {
        *window = Window {
            started: now,
            count: 0,
        };
    }
    window.count = window.count.saturating_add(1);
    let ends = window.started + limits.window;
    // Round up so a client that waits until `reset` is past the window.
    let reset = ends
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
        .ceil() as u64;
    RateHeaders {
        limit,
        remaining: limit.saturating_sub(window.count),
        reset,
        exceeded: window.count > limit,
    }
}

async fn endpoint(
    State(handle): State<EcosireHandle>,
    headers: HeaderMap,
    body: Bytes,
    endpoint: Endpoint,
) -> Response {
    let rate = count_request(&handle, endpoint);
    let mut response = if rate.exceeded {
        let wrapped = handle.lock().wrapped;
        error(wrapped, 429, "Too Many Requests")
    } else {
        answer(&handle, &headers, &body, endpoint)
    };
    rate.apply(&mut response);
    response
}

/// The fields every request carries.
const REQUIRED: [&str; 3] = ["key", "domain", "timestamp"];

fn answer(
    handle: &EcosireHandle,
    headers: &HeaderMap,
    body: &[u8],
    endpoint: Endpoint,
) -> Response {
    let mut state = handle.lock();
    let wrapped = state.wrapped;
    let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) else {
        return error(wrapped, 400, "The request body must be a JSON object");
    };
    let problems: Vec<Value> = REQUIRED
        .iter()
        .filter_map(|name| match fields.get(*name) {
            Some(Value::String(s)) if !s.trim().is_empty() => None,
            Some(Value::String(_)) | None | Some(Value::Null) => {
                Some(Value::String(format!("{name} should not be empty")))
            }
            Some(_) => Some(Value::String(format!("{name} must be a string"))),
        })
        .collect();
    if !problems.is_empty() {
        return error_with(wrapped, 400, Value::Array(problems));
    }
    let message = match signature::message(&fields) {
        Ok(message) => message,
        Err(problem) => return error_with(wrapped, 400, json!([problem])),
    };
    let text = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or_default();
    let (key, domain, timestamp) = (text("key"), text("domain"), text("timestamp"));
    let tolerance = state.tolerance;
    let Some(license) = state.licenses.get_mut(key) else {
        return error(wrapped, 404, "License not found");
    };
    let signature_ok = headers
        .get("x-ecosire-signature")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sig| signature::verify(&license.secret, &message, sig));
    if !signature_ok {
        return error(wrapped, 401, "Invalid signature");
    }
    let Ok(timestamp) = timestamp.trim().parse::<u64>() else {
        return error_with(
            wrapped,
            400,
            json!(["timestamp must be Unix seconds as a string"]),
        );
    };
    if unix_now().abs_diff(timestamp) > tolerance.as_secs() {
        return error(
            wrapped,
            400,
            "Request timestamp is too far from the server time",
        );
    }

    let now = SystemTime::now();
    let status = license.effective_status(now);
    let count = license.bindings.len() as u32;
    let limit = license.activation_limit;
    match endpoint {
        Endpoint::Validate => {
            let mut described = Map::new();
            described.insert("key".into(), json!(license.key));
            described.insert("status".into(), json!(status.as_str()));
            described.insert(
                "expiresAt".into(),
                match license.expires_at {
                    Some(at) => json!(crate::instant::format_instant(at)),
                    None => Value::Null,
                },
            );
            described.insert("activationsCount".into(), json!(count));
            described.insert("activationsLimit".into(), json!(limit));
            if let Some(platform) = fields.get("platform").and_then(Value::as_str) {
                described.insert("platform".into(), json!(platform));
                if let Some(version) = fields.get("platform_version").and_then(Value::as_str) {
                    described.insert("platformVersion".into(), json!(version));
                }
            } else if let Some(version) = fields.get("odoo_version").and_then(Value::as_str) {
                described.insert("platform".into(), json!("odoo"));
                described.insert("platformVersion".into(), json!(version));
            }
            let mut reply = Map::new();
            reply.insert("valid".into(), json!(status == EmulatedStatus::Active));
            reply.insert("license".into(), Value::Object(described));
            if let Some(message) = status.message() {
                reply.insert("message".into(), json!(message));
            }
            success(wrapped, StatusCode::OK, Value::Object(reply))
        }
        Endpoint::Activate => {
            if let Some(message) = status.message() {
                return error(wrapped, 403, message);
            }
            if license.bindings.iter().any(|b| b == domain) {
                return success(
                    wrapped,
                    StatusCode::OK,
                    json!({"activated": true, "activationsCount": count, "activationsLimit": limit}),
                );
            }
            if limit.is_some_and(|limit| count >= limit) {
                return error(wrapped, 409, "Activation limit reached");
            }
            license.bindings.push(domain.to_owned());
            success(
                wrapped,
                StatusCode::CREATED,
                json!({"activated": true, "activationsCount": count + 1, "activationsLimit": limit}),
            )
        }
        Endpoint::Deactivate => {
            let before = license.bindings.len();
            license.bindings.retain(|b| b != domain);
            let after = license.bindings.len() as u32;
            if license.bindings.len() == before {
                return success(
                    wrapped,
                    StatusCode::OK,
                    json!({"deactivated": false, "activationsCount": after, "message": "No activation for this domain"}),
                );
            }
            success(
                wrapped,
                StatusCode::OK,
                json!({"deactivated": true, "activationsCount": after}),
            )
        }
    }
}
