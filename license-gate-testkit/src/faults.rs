//! Fault injection shared by every emulator: the part of the control handle
//! that makes a service fail, stall, break or go away.

use std::collections::VecDeque;

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;

/// One injected fault, applied to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Reply with this HTTP status and a JSON error body (429 carries rate-limit headers).
    Status(u16),
    /// Reply 200 with a body that is not JSON.
    MalformedJson,
    /// Reply 200 with a body of this many bytes.
    Oversized(usize),
    /// Send the reply head, then break the connection.
    DropConnection,
    /// Reply with this HTTP status and exactly this body (as JSON content),
    /// for replies a real server might send that the emulator never does.
    Reply(u16, String),
    /// Reply with this HTTP status and this HTML page, as a CDN, a proxy or
    /// a firewall in front of the service answers (an HTML 403 or 404).
    Page(u16, String),
}

/// The fault side of an emulator's control handle; cheap to clone.
///
/// ```
/// # use license_gate_testkit::faults::{FaultControl, Fault};
/// # use std::time::Duration;
/// let faults = FaultControl::default();
/// faults.fail_next(2, 503);
/// faults.inject_next(1, Fault::DropConnection);
/// faults.set_delay(Duration::from_millis(50));
/// faults.go_down();
/// assert_eq!(faults.requests(), 0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct FaultControl {
    inner: Arc<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    queue: Mutex<VecDeque<Fault>>,
    delay: Mutex<Duration>,
    down: AtomicBool,
    requests: AtomicU64,
}

impl FaultControl {
    /// The next `n` requests get `fault`.
    pub fn inject_next(&self, n: usize, fault: Fault) {
        let mut queue = self.inner.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.extend(std::iter::repeat_n(fault, n));
    }

    /// The next `n` requests are answered with HTTP `status`.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.inject_next(n, Fault::Status(status));
    }

    /// The next `n` replies break off after their head.
    pub fn drop_next(&self, n: usize) {
        self.inject_next(n, Fault::DropConnection);
    }

    /// Every reply waits `delay` first (zero: no delay).
    pub fn set_delay(&self, delay: Duration) {
        *self.inner.delay.lock().unwrap_or_else(|e| e.into_inner()) = delay;
    }

    /// The service goes away: new connections are closed at once and requests
    /// on open ones break.
    pub fn go_down(&self) {
        self.inner.down.store(true, Ordering::SeqCst);
    }

    /// The service is back.
    pub fn come_up(&self) {
        self.inner.down.store(false, Ordering::SeqCst);
    }

    /// Whether the service is down.
    pub fn is_down(&self) -> bool {
        self.inner.down.load(Ordering::SeqCst)
    }

    /// Removes pending faults and the delay, and brings the service up.
    pub fn clear(&self) {
        self.inner
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.set_delay(Duration::ZERO);
        self.come_up();
    }

    /// How many requests reached the service (faulted ones included).
    pub fn requests(&self) -> u64 {
        self.inner.requests.load(Ordering::SeqCst)
    }

    fn next_fault(&self) -> Option<Fault> {
        if self.is_down() {
            return Some(Fault::DropConnection);
        }
        self.inner
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }

    fn delay(&self) -> Duration {
        *self.inner.delay.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The axum middleware that applies the faults; emulators layer it with
    /// `axum::middleware::from_fn_with_state(faults, FaultControl::middleware)`.
    pub async fn middleware(
        State(faults): State<FaultControl>,
        request: Request,
        next: Next,
    ) -> Response {
        faults.inner.requests.fetch_add(1, Ordering::SeqCst);
        let delay = faults.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match faults.next_fault() {
            None => next.run(request).await,
            Some(fault) => fault_response(fault),
        }
    }
}

fn fault_response(fault: Fault) -> Response {
    match fault {
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::json!({
                "statusCode": code,
                "error": status.canonical_reason().unwrap_or("Error"),
                "message": format!("injected fault: HTTP {code}"),
            });
            let mut response = (status, axum::Json(body)).into_response();
            if code == 429 {
                let reset = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs()
                    + 60;
                let headers = response.headers_mut();
                headers.insert("x-ratelimit-limit", HeaderValue::from_static("30"));
                headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
                headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
            }
            response
        }
        Fault::MalformedJson => (
            StatusCode::OK,
            [("content-type", "application/json")],
            "{\"isValid\": tru",
        )
            .into_response(),
        Fault::Oversized(bytes) => {
            let mut body = String::with_capacity(bytes);
            body.push_str("{\"padding\":\"");
            body.extend(std::iter::repeat_n(
                'x',
                bytes.saturating_sub(body.len() + 2),
            ));
            body.push_str("\"}");
            (StatusCode::OK, [("content-type", "application/json")], body).into_response()
        }
        Fault::DropConnection => Response::new(Body::new(BrokenBody)),
        Fault::Reply(code, body) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [("content-type", "application/json")],
            body,
        )
            .into_response(),
        Fault::Page(code, page) => (
            StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [("content-type", "text/html; charset=utf-8")],
            page,
        )
            .into_response(),
    }
}

/// A body that fails on its first frame, so the server aborts the connection
/// after the head: the client sees the connection drop mid-reply.
struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected drop",
        ))))
    }
}
