//! The log of requests an emulator received, so tests can assert the exact
//! request a client sent. Both emulators record through the same middleware.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The largest request body an emulator accepts.
const MAX_LOGGED_BODY: usize = 1024 * 1024;

/// One request as the emulator received it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`...
    pub method: String,
    /// The path as sent (percent-encoding kept), without the query.
    pub path: String,
    /// Every header, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<serde_json::Value>,
    /// The raw body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub received_at: SystemTime,
}

impl RecordedRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A string field of the JSON body.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.json.as_ref()?.get(name)?.as_str()
    }
}

/// The shared request log.
#[derive(Clone, Debug, Default)]
pub(crate) struct RequestLog {
    entries: Arc<Mutex<Vec<RecordedRequest>>>,
}

impl RequestLog {
    pub(crate) fn last(&self) -> Option<RecordedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last()
            .cloned()
    }

    pub(crate) fn all(&self) -> Vec<RecordedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn push(&self, entry: RecordedRequest) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(entry);
    }

    /// The middleware that records each request before the faults and handlers see it.
    pub(crate) async fn record(
        State(log): State<RequestLog>,
        request: Request,
        next: Next,
    ) -> Response {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_LOGGED_BODY).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
        };
        log.push(RecordedRequest {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            json: serde_json::from_slice(&bytes).ok(),
            body: bytes.to_vec(),
            received_at: SystemTime::now(),
        });
        next.run(Request::from_parts(parts, Body::from(bytes)))
            .await
    }
}
