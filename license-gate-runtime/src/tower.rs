//! HTTP services and licenses (cargo feature `tower`): the
//! [`LicenseeLayer`], which gates every request by the licensee it comes
//! from, and [`problem`], which turns a denial into the
//! `application/problem+json` reply (RFC 9457) a client can act on.
//!
//! The layer takes the licensee from each request with a function the
//! application gives (from its authentication: a session, a token's subject,
//! a tenant header set by a trusted proxy) and runs the handler in that
//! licensee's scope, so `#[requires_feature]`, `#[licensed]` and
//! `check_feature` inside it answer for that licensee. A request with no
//! licensee runs with none in scope: ungated routes answer as usual, gated
//! code is denied, and [`problem`] answers 403 with type
//! `/problems/no-licensee`.
//!
//! Gated handlers return their error type, whose response calls
//! [`problem`] for a license denial:
//!
//! ```
//! use axum::response::{IntoResponse, Response};
//! use license_gate::LicenseError;
//!
//! #[derive(Debug, thiserror::Error)]
//! enum ApiError {
//!     #[error(transparent)]
//!     License(#[from] LicenseError),
//! }
//!
//! impl IntoResponse for ApiError {
//!     fn into_response(self) -> Response {
//!         match self {
//!             ApiError::License(denied) => license_gate::tower::problem(&denied).into_response(),
//!         }
//!     }
//! }
//!
//! #[license_gate::requires_feature("export")]
//! async fn export() -> Result<&'static str, ApiError> {
//!     Ok("exported")
//! }
//! # let _ = export;
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response, StatusCode, header};

use crate::error::LicenseError;
use crate::gate::scope::Scoped;
use crate::licensees::{LicenseeId, Licensees, NO_LICENSEE_IN_SCOPE};
use crate::state::LicenseStatus;

/// The reply to a denied call: its status and its problem document.
///
/// - **403** `/problems/feature-not-licensed`: the license is in force but
///   its plan lacks the feature (paying for a lapsed license would not help;
///   an upgrade would);
/// - **402** `/problems/not-licensed`: no license in force (expired,
///   suspended, revoked, grace over, not added...): paying (again) fixes it;
/// - **403** `/problems/no-licensee`: the request names no licensee (it
///   is authenticated, or the route is open, but nobody holds a license for
///   it). Not 401: a 401 must name an authentication scheme
///   (`WWW-Authenticate`), which is the application's, not the library's,
///   and signing in again does not make a licensee of a caller that is none;
/// - **503** `/problems/licensing-unavailable`: no gate runs or the product
///   is not configured, the operator's mistake, not the client's.
///
/// The document carries `detail` (the denial's message), `license_status`
/// (`expired`, `revoked`... or null) and `required_features`, enough for an
/// upgrade prompt. The body is a `String`, which is an HTTP body as it is:
/// axum answers it with `.into_response()`.
///
/// ```
/// use license_gate::{LicenseError, LicenseStatus, Required};
/// let denied = LicenseError::NotLicensed {
///     product: "Atlas".into(),
///     required: Required::feature("pro"),
///     status: LicenseStatus::Revoked,
/// };
/// let reply = license_gate::tower::problem(&denied);
/// assert_eq!(reply.status(), 402);
/// assert_eq!(reply.headers()["content-type"], "application/problem+json");
/// assert!(reply.body().contains("\"/problems/not-licensed\""));
/// ```
pub fn problem(denied: &LicenseError) -> Response<String> {
    let (status, kind, title) = match denied {
        LicenseError::MissingFeature { .. } => (
            StatusCode::FORBIDDEN,
            "feature-not-licensed",
            "The license does not include this feature",
        ),
        LicenseError::NotLicensed {
            status: LicenseStatus::Unlicensed { reason },
            ..
        } if &**reason == NO_LICENSEE_IN_SCOPE => (
            StatusCode::FORBIDDEN,
            "no-licensee",
            "The request names no licensee",
        ),
        LicenseError::NotLicensed { .. } => (
            StatusCode::PAYMENT_REQUIRED,
            "not-licensed",
            "The service is not licensed",
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "licensing-unavailable",
            "Licensing is not available",
        ),
    };
    let body = serde_json::json!({
        "type": format!("/problems/{kind}"),
        "title": title,
        "status": status.as_u16(),
        "detail": denied.to_string(),
        "license_status": denied.status().map(LicenseStatus::name),
        "required_features": denied.required_features().collect::<Vec<_>>(),
    });
    let mut response = Response::new(body.to_string());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// A tower layer that runs each request's handler in the scope of the
/// licensee the request comes from.
///
/// `identify` reads the licensee from the request (it runs after the
/// application's authentication layer, so it reads what that one put in the
/// request's extensions or headers). `None`: no licensee, gated code is
/// denied (see [`problem`]). An ID that is not added is denied too; never
/// another licensee's license.
///
/// ```
/// use axum::{Router, routing::get};
/// use license_gate::licensees::{LicenseeId, Licensees};
/// use license_gate::tower::LicenseeLayer;
///
/// fn app(licensees: Licensees) -> Router {
///     Router::new()
///         .route("/reports", get(|| async { "reports" }))
///         .layer(LicenseeLayer::new(licensees, |request: &http::Request<_>| {
///             // Set by the authentication layer in front of this one.
///             request.extensions().get::<LicenseeId>().cloned()
///         }))
/// }
/// # let _ = app;
/// ```
pub struct LicenseeLayer<F> {
    licensees: Licensees,
    identify: Arc<F>,
}

impl<F> LicenseeLayer<F> {
    /// The layer for `licensees`, taking each request's licensee with `identify`.
    pub fn new(licensees: Licensees, identify: F) -> Self {
        LicenseeLayer {
            licensees,
            identify: Arc::new(identify),
        }
    }
}

impl<F> Clone for LicenseeLayer<F> {
    fn clone(&self) -> Self {
        LicenseeLayer {
            licensees: self.licensees.clone(),
            identify: self.identify.clone(),
        }
    }
}

impl<F> std::fmt::Debug for LicenseeLayer<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LicenseeLayer")
            .field("licensees", &self.licensees)
            .finish_non_exhaustive()
    }
}

impl<S, F> tower_layer::Layer<S> for LicenseeLayer<F> {
    type Service = LicenseeService<S, F>;

    fn layer(&self, inner: S) -> Self::Service {
        LicenseeService {
            inner,
            licensees: self.licensees.clone(),
            identify: self.identify.clone(),
        }
    }
}

/// The service [`LicenseeLayer`] wraps around the application's.
pub struct LicenseeService<S, F> {
    inner: S,
    licensees: Licensees,
    identify: Arc<F>,
}

impl<S: Clone, F> Clone for LicenseeService<S, F> {
    fn clone(&self) -> Self {
        LicenseeService {
            inner: self.inner.clone(),
            licensees: self.licensees.clone(),
            identify: self.identify.clone(),
        }
    }
}

impl<S, F> std::fmt::Debug for LicenseeService<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LicenseeService")
            .field("licensees", &self.licensees)
            .finish_non_exhaustive()
    }
}

impl<S, F, B, ResBody> tower_service::Service<Request<B>> for LicenseeService<S, F>
where
    S: tower_service::Service<Request<B>, Response = Response<ResBody>>,
    F: Fn(&Request<B>) -> Option<LicenseeId>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = LicenseeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let licensee = (self.identify)(&request);
        let future = self.inner.call(request);
        LicenseeFuture {
            scoped: match &licensee {
                Some(id) => self.licensees.scope(id, future),
                None => self.licensees.scope_none(future),
            },
        }
    }
}

/// The handler's future, in its licensee's scope on every poll.
#[must_use = "futures do nothing unless awaited"]
pub struct LicenseeFuture<Fut> {
    scoped: Scoped<Fut>,
}

impl<Fut> std::fmt::Debug for LicenseeFuture<Fut> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LicenseeFuture").finish_non_exhaustive()
    }
}

impl<Fut: Future> Future for LicenseeFuture<Fut> {
    type Output = Fut::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Scoped` keeps its future boxed, so it is `Unpin`.
        Pin::new(&mut self.get_mut().scoped).poll(cx)
    }
}
