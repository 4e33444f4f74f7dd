//! ECOSIRE webhooks as a nudge, never as authority: a tower service that
//! accepts the service's published envelope and asks the gate to validate at
//! once.
//!
//! The body of a webhook never changes the license state by itself: the only
//! thing it can do is make the gate ask the server now instead of at the next
//! heartbeat. So a forged or replayed webhook costs at most one validation,
//! and validations it causes are limited per license (one at once, one more
//! queued for the end of the window, the rest folded into those). ECOSIRE has
//! not published how `X-Ecosire-Signature` is computed on webhooks, so the
//! signature is checked only through a scheme the vendor configures
//! ([`EcosireWebhook::verify_with`]).

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;
use tokio::time::Instant;

use crate::gate::LicenseGate;

/// The header that names the event (`license.revoked`, …).
pub const EVENT_HEADER: &str = "x-ecosire-event";
/// The header that carries the delivery's identifier.
pub const DELIVERY_HEADER: &str = "x-ecosire-delivery";
/// The header that carries the webhook's signature (its scheme is not
/// published: see [`EcosireWebhook::verify_with`]).
pub const WEBHOOK_SIGNATURE_HEADER: &str = "x-ecosire-signature";

/// The largest webhook body read; a larger one is refused with 413.
const MAX_BODY_BYTES: usize = 64 * 1024;
/// The default window of one webhook-caused validation per license.
const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(10);

/// A check of a webhook's signature over its headers and raw body.
type Verifier = dyn Fn(&HeaderMap, &[u8]) -> bool + Send + Sync;

/// What a webhook delivery led to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WebhookOutcome {
    /// A validation of the gate's licenses started at once.
    Validating,
    /// A validation ran for this license within the window: one more is
    /// queued for the end of the window.
    Queued,
    /// A validation is already queued for this license: this delivery is
    /// folded into it.
    Coalesced,
    /// The envelope names a license this gate does not hold: nothing to do.
    NotOurs,
    /// The configured signature check refused the delivery.
    BadSignature,
    /// The body is not the published envelope (`{id, event, createdAt, data}`).
    Malformed(String),
}

impl WebhookOutcome {
    /// The HTTP status answered for this outcome: 202 when a validation is
    /// started or queued, 200 when there is nothing to do, 401 for a refused
    /// signature, 400 for a malformed envelope.
    pub fn status(&self) -> StatusCode {
        match self {
            WebhookOutcome::Validating | WebhookOutcome::Queued | WebhookOutcome::Coalesced => {
                StatusCode::ACCEPTED
            }
            WebhookOutcome::NotOurs => StatusCode::OK,
            WebhookOutcome::BadSignature => StatusCode::UNAUTHORIZED,
            WebhookOutcome::Malformed(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl fmt::Display for WebhookOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebhookOutcome::Validating => f.write_str("validating the license now"),
            WebhookOutcome::Queued => {
                f.write_str("a validation ran recently: one more is queued for the end of the window")
            }
            WebhookOutcome::Coalesced => f.write_str("a validation is already queued"),
            WebhookOutcome::NotOurs => f.write_str("the event names a license this gate does not hold"),
            WebhookOutcome::BadSignature => f.write_str(
                "the webhook's signature did not pass the configured check: check the webhook secret",
            ),
            WebhookOutcome::Malformed(why) => write!(
                f,
                "not an ECOSIRE webhook envelope ({why}): expected a JSON object with `id`, `event`, `createdAt` and `data`"
            ),
        }
    }
}

/// The ECOSIRE webhook endpoint of an application: a tower service (and so
/// an axum route) that makes `gate` validate at once when the service
/// announces an event about its license.
///
/// Mount it with axum's `Router::route_service`:
///
/// ```no_run
/// use license_gate::LicenseGate;
/// use license_gate::providers::ecosire::webhook::EcosireWebhook;
///
/// fn routes(gate: LicenseGate) -> axum::Router {
///     axum::Router::new().route_service("/hooks/ecosire", EcosireWebhook::new(gate))
/// }
/// # let _ = routes;
/// ```
///
/// A delivery is answered at once (202 when it starts or queues a
/// validation, 200 when the event names another license); the validation
/// runs on the application's tokio runtime, and its outcome reaches the state
/// like a heartbeat's.
#[derive(Clone)]
pub struct EcosireWebhook {
    inner: Arc<Inner>,
}

struct Inner {
    gate: LicenseGate,
    verifier: Option<Arc<Verifier>>,
    min_interval: Duration,
    /// Per product the envelope names (`None`: it names none): when the
    /// latest webhook-caused validation started, and whether one is queued.
    windows: Mutex<HashMap<Option<usize>, Window>>,
}

#[derive(Clone, Copy)]
struct Window {
    started: Instant,
    queued: bool,
}

impl fmt::Debug for EcosireWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcosireWebhook")
            .field("verifies_signature", &self.inner.verifier.is_some())
            .field("min_interval", &self.inner.min_interval)
            .finish_non_exhaustive()
    }
}

impl EcosireWebhook {
    /// A webhook endpoint that nudges `gate`, with no signature check (the
    /// service publishes no scheme yet; a forged delivery costs at most one
    /// validation per license and window) and a window of 10 seconds.
    pub fn new(gate: LicenseGate) -> Self {
        EcosireWebhook {
            inner: Arc::new(Inner {
                gate,
                verifier: None,
                min_interval: DEFAULT_MIN_INTERVAL,
                windows: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Checks each delivery with `verify` (given the headers, among them
    /// [`WEBHOOK_SIGNATURE_HEADER`], and the raw body) before acting on it;
    /// a refused delivery is answered 401 and validates nothing.
    ///
    /// ```
    /// use license_gate::providers::ecosire::webhook::{EcosireWebhook, WEBHOOK_SIGNATURE_HEADER};
    ///
    /// fn with_check(webhook: EcosireWebhook, expected: String) -> EcosireWebhook {
    ///     webhook.verify_with(move |headers, _body| {
    ///         headers.get(WEBHOOK_SIGNATURE_HEADER).is_some_and(|value| value == expected.as_str())
    ///     })
    /// }
    /// # let _ = with_check;
    /// ```
    pub fn verify_with(
        self,
        verify: impl Fn(&HeaderMap, &[u8]) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.rebuild(|inner| inner.verifier = Some(Arc::new(verify)))
    }

    /// The window of webhook-caused validations per license (10 s by
    /// default): one starts at once, at most one more is queued for the end
    /// of the window.
    pub fn min_interval(self, window: Duration) -> Self {
        self.rebuild(|inner| inner.min_interval = window)
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            gate: self.inner.gate.clone(),
            verifier: self.inner.verifier.clone(),
            min_interval: self.inner.min_interval,
            windows: Mutex::new(HashMap::new()),
        };
        change(&mut inner);
        EcosireWebhook {
            inner: Arc::new(inner),
        }
    }

    /// Handles one delivery given its headers and raw body: what the tower
    /// service does once it has read the body. Must be called on a tokio
    /// runtime (the validation is spawned on it).
    pub fn handle(&self, headers: &HeaderMap, body: &[u8]) -> WebhookOutcome {
        if let Some(verify) = &self.inner.verifier
            && !verify(headers, body)
        {
            tracing::warn!(
                "ECOSIRE webhook refused: its signature did not pass the configured check"
            );
            return WebhookOutcome::BadSignature;
        }
        let envelope = match read_envelope(body) {
            Ok(envelope) => envelope,
            Err(why) => return WebhookOutcome::Malformed(why),
        };
        let product = match &envelope.key {
            Some(key) => match self.inner.gate.product_with_key(key) {
                Some(index) => Some(index),
                None => {
                    tracing::debug!(event = %envelope.event, "ECOSIRE webhook about another license: ignored");
                    return WebhookOutcome::NotOurs;
                }
            },
            None => None,
        };
        let outcome = self.schedule(product);
        tracing::info!(event = %envelope.event, outcome = %outcome, "ECOSIRE webhook received");
        outcome
    }

    /// Starts, queues or folds a validation for `product` (`None`: the
    /// delivery named no license).
    fn schedule(&self, product: Option<usize>) -> WebhookOutcome {
        let now = Instant::now();
        let window = self.inner.min_interval;
        let mut windows = self
            .inner
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = windows.get(&product).copied();
        match entry {
            Some(Window { queued: true, .. }) => WebhookOutcome::Coalesced,
            Some(Window { started, .. }) if now < started + window => {
                let at = started + window;
                windows.insert(
                    product,
                    Window {
                        started,
                        queued: true,
                    },
                );
                let inner = Arc::clone(&self.inner);
                tokio::spawn(async move {
                    tokio::time::sleep_until(at).await;
                    if let Some(slot) = inner
                        .windows
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .get_mut(&product)
                    {
                        *slot = Window {
                            started: Instant::now(),
                            queued: false,
                        };
                    }
                    inner.gate.refresh().await;
                });
                WebhookOutcome::Queued
            }
            _ => {
                windows.insert(
                    product,
                    Window {
                        started: now,
                        queued: false,
                    },
                );
                let gate = self.inner.gate.clone();
                tokio::spawn(async move {
                    gate.refresh().await;
                });
                WebhookOutcome::Validating
            }
        }
    }
}

/// The parts of the published envelope `{id, event, createdAt, data}` the
/// endpoint uses.
struct Envelope {
    event: String,
    key: Option<String>,
}

fn read_envelope(body: &[u8]) -> Result<Envelope, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_owned())?;
    let object = value
        .as_object()
        .ok_or_else(|| "the body is not a JSON object".to_owned())?;
    let event = object
        .get("event")
        .and_then(Value::as_str)
        .filter(|event| !event.is_empty())
        .ok_or_else(|| "`event` is missing".to_owned())?;
    if !object.get("id").is_some_and(Value::is_string) {
        return Err("`id` is missing".to_owned());
    }
    let data = object
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(|| "`data` is missing or not an object".to_owned())?;
    // The data's shape is not published: the key is read where the Licenses
    // API puts it (`key`, or a `license` object's `key`) and where other
    // payloads are seen to (`licenseKey`).
    let key = ["key", "licenseKey", "license_key"]
        .iter()
        .find_map(|field| data.get(*field).and_then(Value::as_str))
        .or_else(|| {
            data.get("license")
                .and_then(|license| license.get("key"))
                .and_then(Value::as_str)
        })
        .filter(|key| !key.trim().is_empty())
        .map(str::to_owned);
    Ok(Envelope {
        event: event.chars().take(64).collect(),
        key,
    })
}

impl<B> tower_service::Service<Request<B>> for EcosireWebhook
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<String>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let webhook = self.clone();
        Box::pin(async move {
            if request.method() != Method::POST {
                return Ok(reply(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "ECOSIRE webhooks are POSTed: send the delivery with POST",
                ));
            }
            let (parts, body) = request.into_parts();
            let bytes = match Limited::new(body, MAX_BODY_BYTES).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    return Ok(reply(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the webhook body is over 64 KiB, or could not be read",
                    ));
                }
            };
            let outcome = webhook.handle(&parts.headers, &bytes);
            Ok(reply(outcome.status(), &outcome.to_string()))
        })
    }
}

fn reply(status: StatusCode, message: &str) -> Response<String> {
    let mut response = Response::new(serde_json::json!({ "message": message }).to_string());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_read_strictly() {
        let ok = br#"{"id":"evt_1","event":"license.revoked","createdAt":"2026-01-01T00:00:00Z","data":{"key":"SHOP-A1B2-C3D4-E5F6-G7H8"}}"#;
        let envelope = read_envelope(ok).unwrap();
        assert_eq!(envelope.event, "license.revoked");
        assert_eq!(envelope.key.as_deref(), Some("SHOP-A1B2-C3D4-E5F6-G7H8"));

        let nested = br#"{"id":"evt_2","event":"charge.refunded","data":{"license":{"key":"K"}}}"#;
        assert_eq!(read_envelope(nested).unwrap().key.as_deref(), Some("K"));
        let none = br#"{"id":"evt_3","event":"invoice.paid","data":{}}"#;
        assert_eq!(read_envelope(none).unwrap().key, None);

        for bad in [
            &b"not json"[..],
            b"[1]",
            br#"{"id":"evt","data":{}}"#,
            br#"{"event":"license.revoked","data":{}}"#,
            br#"{"id":"evt","event":"license.revoked","data":"x"}"#,
        ] {
            assert!(
                read_envelope(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
