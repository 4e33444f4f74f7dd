//! The one HTTP transport both providers use: https with the web roots
//! compiled into the binary (plain http only for loopback hosts, and only when
//! the application opts in), optional SPKI pins, no redirects, capped reply
//! bodies, typed errors, the server's `Date` on every reply, and a rate-limit
//! brake that waits out a 429 instead of hammering the server.

mod tls;

pub use tls::{crypto_provider, spki_pin_of};

use std::fmt;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::error::ProviderError;
use crate::provider::Deadline;

/// The default cap on reply bodies: license replies are small.
pub const DEFAULT_MAX_REPLY_BYTES: usize = 256 * 1024;

/// The default time one request may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest a connection may take to open, within a request's time: a
/// host that does not answer at all fails then rather than at the deadline.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of a reply body error messages quote.
const EXCERPT_CHARS: usize = 200;

/// The longest wait a server's rate-limit headers can impose.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(3600);

/// The connection settings of a provider's HTTP client, the same for every
/// provider: embed them with `.http(..)` on the provider's options.
///
/// Trust: the Mozilla web roots compiled into the binary (webpki-roots), plus
/// [`extra_root_certificate`](Self::extra_root_certificate). The machine's
/// store, `SSL_CERT_FILE` and `SSL_CERT_DIR` are never read: the user of the
/// application could add a root there and answer for the license server. A
/// proxy from `HTTPS_PROXY` may carry the connection; it sees only the TLS
/// tunnel.
///
/// Each setting has one way in, its method; the fields are not public.
///
/// ```
/// use std::time::Duration;
/// use license_gate::providers::HttpOptions;
///
/// let http = HttpOptions::new()
///     .timeout(Duration::from_secs(10))
///     .allowed_hosts(["license.example.com"]);
/// assert_eq!(http, HttpOptions::new().allowed_hosts(["license.example.com"]).timeout(Duration::from_secs(10)));
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpOptions {
    /// How long one request may take (connect, send, read the whole reply)
    /// when nothing sets a deadline: calls of a standalone client or of the
    /// CLI; default 30 s. Inside a gate, every HTTP request of a provider call
    /// is bounded instead by the time left until the call's one deadline, the
    /// gate's [request timeout](crate::LicenseGateBuilder::request_timeout),
    /// and this setting does not apply.
    pub(crate) timeout: Duration,
    /// Extra trusted root certificates (PEM), trusted next to the bundled web
    /// roots, for private deployments and tests.
    pub(crate) extra_root_certificates: Vec<Vec<u8>>,
    /// SPKI pins: base64 SHA-256 hashes of SubjectPublicKeyInfo (`sha256/`
    /// prefix allowed). When any are given, one certificate of the server's
    /// chain must carry a pinned key, on top of the normal verification.
    pub(crate) spki_pins: Vec<String>,
    /// Allows plain `http://` to loopback hosts (127.0.0.0/8, `::1`,
    /// `localhost`), for tests and local emulators. Off by default, and never
    /// turned on from the environment: a user could otherwise point the app
    /// at a fake server of their own.
    pub(crate) allow_insecure_loopback: bool,
    /// When set, only these hosts may be contacted.
    pub(crate) allowed_hosts: Option<Vec<String>>,
    /// The largest reply body read (default 256 KiB); larger replies fail
    /// with `ReplyTooLarge`.
    pub(crate) max_reply_bytes: usize,
}

impl fmt::Debug for HttpOptions {
    /// Certificates show as a count: their PEM text says nothing useful in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpOptions")
            .field("timeout", &self.timeout)
            .field(
                "extra_root_certificates",
                &self.extra_root_certificates.len(),
            )
            .field("spki_pins", &self.spki_pins)
            .field("allow_insecure_loopback", &self.allow_insecure_loopback)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("max_reply_bytes", &self.max_reply_bytes)
            .finish()
    }
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: DEFAULT_TIMEOUT,
            extra_root_certificates: Vec::new(),
            spki_pins: Vec::new(),
            allow_insecure_loopback: false,
            allowed_hosts: None,
            max_reply_bytes: DEFAULT_MAX_REPLY_BYTES,
        }
    }
}

impl HttpOptions {
    /// The defaults: a 30 s timeout, the bundled web roots, no pins, https
    /// only, any host, replies up to 256 KiB.
    pub fn new() -> Self {
        HttpOptions::default()
    }

    /// Sets the timeout of one request made outside a gate (see
    /// [`HttpOptions::timeout`](#structfield.timeout): in a gate, the gate's
    /// request timeout bounds the whole call instead).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Trusts one more root certificate (PEM), next to the bundled web roots.
    pub fn extra_root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_root_certificates.push(pem.into());
        self
    }

    /// Pins the server's key: base64 SHA-256 of its SubjectPublicKeyInfo
    /// (see [`HttpOptions::spki_pin_of`]). Call again to allow a backup key.
    pub fn spki_pin(mut self, pin: impl Into<String>) -> Self {
        self.spki_pins.push(pin.into());
        self
    }

    /// The pin of a PEM or DER certificate for [`HttpOptions::spki_pin`]:
    /// base64 SHA-256 of its SubjectPublicKeyInfo, or `None` when the bytes
    /// are not a certificate.
    pub fn spki_pin_of(certificate: &[u8]) -> Option<String> {
        spki_pin_of(certificate)
    }

    /// Allows plain `http://` to a loopback host, for tests and local emulators.
    pub fn allow_insecure_loopback(mut self) -> Self {
        self.allow_insecure_loopback = true;
        self
    }

    /// Restricts the hosts that may be contacted (the base URL must be one).
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// Caps reply bodies at `bytes` (default 256 KiB).
    pub fn max_reply_bytes(mut self, bytes: usize) -> Self {
        self.max_reply_bytes = bytes;
        self
    }
}

/// One request to send.
#[derive(Debug)]
pub struct HttpRequest {
    /// GET, POST...
    pub method: Method,
    /// The path below the base URL, such as `/api/license/validate`.
    pub path: String,
    /// Extra headers (secrets here are never logged).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// A JSON body, sent with `Content-Type: application/json`.
    pub json_body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// A POST of `body` (already serialized JSON) to `path`.
    pub fn post_json(path: impl Into<String>, body: Vec<u8>) -> Self {
        HttpRequest {
            method: Method::POST,
            path: path.into(),
            headers: Vec::new(),
            json_body: Some(body),
        }
    }

    /// A GET of `path`.
    pub fn get(path: impl Into<String>) -> Self {
        HttpRequest {
            method: Method::GET,
            path: path.into(),
            headers: Vec::new(),
            json_body: None,
        }
    }

    /// Adds a header. Mark secret values with `HeaderValue::set_sensitive`.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

/// A reply whose body was read within the cap.
///
/// `Debug` shows the status, the header names and the body's length, never
/// the body: it may echo the license key.
#[derive(Clone)]
pub struct HttpReply {
    /// The HTTP status code.
    pub status: u16,
    /// The reply headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpReply")
            .field("status", &self.status)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl HttpReply {
    /// The server's `Date` header, read after the exchange completed (over
    /// verified TLS, or plain loopback when opted in); `None` when absent or
    /// not an HTTP date.
    pub fn server_time(&self) -> Option<SystemTime> {
        let value = self.headers.get(reqwest::header::DATE)?.to_str().ok()?;
        crate::time::parse_http_date(value)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as a JSON object, or `MalformedReply`: license replies are
    /// objects, and anything else (an array such as `[true]`, a bare `true`)
    /// is a broken or forged reply, never an answer.
    pub fn json_object(&self) -> Result<serde_json::Map<String, serde_json::Value>, ProviderError> {
        match serde_json::from_slice::<serde_json::Value>(&self.body) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            Ok(other) => Err(self.malformed(format!(
                "the body is {} instead of a JSON object",
                json_kind(&other)
            ))),
            Err(e) => Err(self.malformed(format!("the body is not JSON ({e})"))),
        }
    }

    /// The body, a JSON object, as `T`; or `MalformedReply` saying what was wrong.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ProviderError> {
        let map = self.json_object()?;
        serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| self.malformed(format!("the body is not the expected JSON ({e})")))
    }

    /// A `MalformedReply` error for this reply.
    pub fn malformed(&self, reason: impl Into<String>) -> ProviderError {
        ProviderError::MalformedReply {
            status: self.status,
            reason: reason.into(),
            excerpt: self.excerpt(),
        }
    }

    /// A [`ProviderError::NotAnAnswer`] for this reply (transient): an error
    /// reply that says nothing about the license.
    pub fn not_an_answer(&self, status: u16, reason: impl Into<String>) -> ProviderError {
        ProviderError::NotAnAnswer {
            status,
            reason: reason.into(),
            excerpt: self.excerpt(),
        }
    }

    /// The body as text, for error messages: the first 200 characters.
    pub fn excerpt(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        if text.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        excerpt
    }

    /// The error this reply stands for, read from its HTTP status: see
    /// [`HttpReply::error_for_status`].
    pub fn error(&self, detail: ErrorDetail) -> ProviderError {
        self.error_for_status(self.status, detail)
    }

    /// The one table from an error status to the error it stands for, shared
    /// by every provider; the provider only reads `detail` from the body.
    ///
    /// - 429 is [`ProviderError::RateLimited`], with the wait from
    ///   `X-RateLimit-Reset` or `Retry-After`; 408 and 5xx are
    ///   [`ProviderError::ServerFault`]: all transient, so the gate keeps its
    ///   last confirmed state through grace.
    /// - 3xx is a malformed reply (redirects are not followed).
    /// - A body that is not the service's documented error shape
    ///   (`detail.from_service` false: an HTML page of a CDN, proxy or
    ///   firewall in front of the service, JSON of another shape) is
    ///   [`ProviderError::NotAnAnswer`], whatever the status: transient, so
    ///   nobody in front of the service can revoke a paying user.
    /// - In the service's shape: 401 and 403 are
    ///   [`ProviderError::PermissionDenied`] (the application's credentials:
    ///   transient, logged at error level by the gate), 404
    ///   [`ProviderError::NotFound`], 409
    ///   [`ProviderError::ActivationLimitReached`], any other 4xx (and an
    ///   error inside a 2xx reply) an explicit [`ProviderError::Refused`].
    ///
    /// `status` is the reply's status, or the one an error body names (some
    /// services wrap errors in a 2xx reply). The message is `detail.message`,
    /// else `detail.code`, else the status and the start of the body.
    pub fn error_for_status(&self, status: u16, detail: ErrorDetail) -> ProviderError {
        let reason = reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Unknown Status");
        match status {
            429 => {
                return ProviderError::RateLimited {
                    retry_after: rate_limit_wait(&self.headers),
                };
            }
            408 | 500..=599 => {
                return ProviderError::ServerFault {
                    status,
                    excerpt: self.excerpt(),
                };
            }
            300..=399 => {
                return self.malformed(format!(
                    "the server answered with a redirect (HTTP {status} {reason}), which is not followed: check the base URL"
                ));
            }
            _ => {}
        }
        let ErrorDetail {
            message,
            code,
            minimum_required_version,
            from_service,
        } = detail;
        if !from_service {
            return self.not_an_answer(
                status,
                format!(
                    "HTTP {status} {reason} with a body that is not an error of the license service (a page of a proxy, CDN or firewall in front of it?)"
                ),
            );
        }
        let text = message.clone().or_else(|| code.clone()).unwrap_or_else(|| {
            let excerpt = self.excerpt();
            if excerpt.trim().is_empty() {
                format!("{status} {reason}")
            } else {
                format!("{status} {reason}: {excerpt}")
            }
        });
        match status {
            401 | 403 => ProviderError::PermissionDenied {
                status,
                message: text,
            },
            404 => ProviderError::NotFound { message: text },
            409 => ProviderError::ActivationLimitReached {
                used: None,
                limit: None,
                message,
            },
            200..=299 | 400..=499 => ProviderError::Refused {
                status,
                code,
                message: text,
                minimum_required_version,
            },
            _ => self.malformed(format!("unexpected HTTP status {status} {reason}")),
        }
    }
}

/// Whether an HTTP status means the server could not answer now (408, 429,
/// 5xx) rather than an answer: such statuses are transient whatever the body says.
pub fn is_transient_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

/// What a provider read from an error reply's body, for
/// [`HttpReply::error_for_status`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorDetail {
    /// The server's message, in words.
    pub message: Option<String>,
    /// The server's machine-readable error code, such as `version_outdated`.
    pub code: Option<String>,
    /// The oldest client version the server accepts, when it says.
    pub minimum_required_version: Option<String>,
    /// Whether the body has the service's documented error shape. Only such
    /// a reply can be an explicit refusal; anything else (the default) is
    /// [`ProviderError::NotAnAnswer`].
    pub from_service: bool,
}

impl ErrorDetail {
    /// A detail with a message alone, read from a body of the service's
    /// documented error shape.
    pub fn message(message: impl Into<String>) -> Self {
        ErrorDetail {
            message: Some(message.into()),
            from_service: true,
            ..ErrorDetail::default()
        }
    }

    /// A detail with whatever a body of the service's documented error shape
    /// held (each part optional).
    pub fn new(
        message: Option<String>,
        code: Option<String>,
        minimum_required_version: Option<String>,
    ) -> Self {
        ErrorDetail {
            message,
            code,
            minimum_required_version,
            from_service: true,
        }
    }

    /// The detail of a body that is not the service's error shape (an error
    /// page of something in front of the service).
    pub fn not_from_service() -> Self {
        ErrorDetail::default()
    }
}

/// What kind of JSON value this is, for error messages.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The wait a 429 reply asks for: `X-RateLimit-Reset` (Unix seconds) or
/// `Retry-After` (seconds), capped at an hour.
fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
    let wait = if let Some(reset) = number("x-ratelimit-reset") {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        // Some servers send the seconds left rather than an instant.
        if reset > 1_000_000_000 {
            Duration::from_secs(reset.saturating_sub(now))
        } else {
            Duration::from_secs(reset)
        }
    } else {
        Duration::from_secs(number("retry-after")?)
    };
    Some(wait.min(MAX_RATE_LIMIT_WAIT))
}

/// The HTTP client of one provider.
#[derive(Debug)]
pub struct HttpTransport {
    client: reqwest::Client,
    base: Url,
    host: String,
    timeout: Duration,
    max_reply_bytes: usize,
    /// No request leaves before this instant (set by a 429).
    not_before: Mutex<Option<Instant>>,
}

impl HttpTransport {
    /// A transport to `base_url` with `options`, or a `Config` error saying
    /// what is wrong with the URL or the certificates.
    pub fn new(base_url: &str, options: &HttpOptions) -> Result<Self, ProviderError> {
        let base = parse_base_url(base_url)?;
        check_url_policy(
            &base,
            options.allowed_hosts.as_deref(),
            options.allow_insecure_loopback,
        )?;
        let host = host_and_port(&base);
        let tls = tls::client_config(&options.extra_root_certificates, &options.spki_pins)?;
        // No client-wide timeout: `send_until` bounds each request by its
        // call's deadline, or by `options.timeout` when there is none.
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("license-gate/", env!("CARGO_PKG_VERSION")))
            // Our own rustls configuration: bundled roots, extra roots, pins;
            // never the machine's store or `SSL_CERT_FILE`.
            .tls_backend_preconfigured(tls);
        // An https client never sends a request over plain http.
        builder = builder.https_only(base.scheme() == "https");
        if is_loopback(&base) {
            // A proxy from the environment must not see loopback traffic.
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| ProviderError::Config(format!("could not set up the HTTP client: {e}")))?;
        Ok(HttpTransport {
            client,
            base,
            host,
            timeout: options.timeout,
            max_reply_bytes: options.max_reply_bytes.max(1),
            not_before: Mutex::new(None),
        })
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Sends `request` and reads the reply within the cap, in at most the
    /// options' timeout: [`HttpTransport::send_until`] with no deadline.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpReply, ProviderError> {
        self.send_until(request, None).await
    }

    /// Sends `request` and reads the reply within the cap, all of it by
    /// `deadline` (the deadline of the provider call this request is part
    /// of), or within the options' timeout when there is none.
    ///
    /// Transport faults become `Unreachable`, `Timeout` or `ReplyTooLarge`;
    /// `Timeout` names the call's whole budget (the deadline's, else the
    /// options' timeout), and comes at once, with nothing sent, when the
    /// deadline has already passed. While a server's rate limit is in force,
    /// nothing is sent and the call fails with `RateLimited` at once. Any HTTP
    /// status is returned as a reply: the provider reads its body and turns an
    /// error status into its error with [`HttpReply::error`].
    pub async fn send_until(
        &self,
        request: HttpRequest,
        deadline: Option<Deadline>,
    ) -> Result<HttpReply, ProviderError> {
        if let Some(wait) = self.rate_limit_remaining() {
            return Err(ProviderError::RateLimited {
                retry_after: Some(wait),
            });
        }
        let (budget, time_left) = match deadline {
            None => (self.timeout, self.timeout),
            Some(deadline) if deadline.has_passed() => {
                return Err(self.timed_out(deadline.budget()));
            }
            Some(deadline) => (deadline.budget(), deadline.remaining()),
        };
        let url = self.url_for(&request.path)?;
        let mut builder = self.client.request(request.method, url).timeout(time_left);
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = request.json_body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| self.map_error(e, budget))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if response
            .content_length()
            .is_some_and(|len| len > self.max_reply_bytes as u64)
        {
            return Err(ProviderError::ReplyTooLarge {
                limit: self.max_reply_bytes,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.map_error(e, budget))?
        {
            if body.len() + chunk.len() > self.max_reply_bytes {
                return Err(ProviderError::ReplyTooLarge {
                    limit: self.max_reply_bytes,
                });
            }
            body.extend_from_slice(&chunk);
        }
        let reply = HttpReply {
            status,
            headers,
            body,
        };
        if reply.status == 429 {
            let wait = rate_limit_wait(&reply.headers).unwrap_or(Duration::from_secs(60));
            *self.not_before.lock().unwrap_or_else(|e| e.into_inner()) =
                Some(Instant::now() + wait);
        }
        Ok(reply)
    }

    fn rate_limit_remaining(&self) -> Option<Duration> {
        let mut not_before = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        let until = (*not_before)?;
        let now = Instant::now();
        if now >= until {
            *not_before = None;
            return None;
        }
        Some(until - now)
    }

    fn url_for(&self, path: &str) -> Result<Url, ProviderError> {
        let base = self.base.as_str().trim_end_matches('/');
        let path = path.trim_start_matches('/');
        Url::parse(&format!("{base}/{path}")).map_err(|e| {
            ProviderError::Config(format!("could not build the request URL for `{path}`: {e}"))
        })
    }

    /// The error of a request that ran out of its call's `budget`.
    fn timed_out(&self, budget: Duration) -> ProviderError {
        ProviderError::Timeout {
            host: self.host.clone(),
            after: budget,
        }
    }

    /// The error `error` stands for, in a call whose whole time was `budget`.
    fn map_error(&self, error: reqwest::Error, budget: Duration) -> ProviderError {
        if error.is_timeout() {
            // Opening the connection has its own, shorter bound.
            let after = if error.is_connect() {
                CONNECT_TIMEOUT.min(budget)
            } else {
                budget
            };
            return self.timed_out(after);
        }
        let host = self.host.clone();
        // The chain says what happened (refused, reset, TLS); the URL is left out
        // because it may carry a license key in its path.
        let mut detail = Vec::new();
        let mut source: Option<&dyn std::error::Error> = Some(&error);
        while let Some(e) = source {
            let text = e.to_string();
            if !detail.iter().any(|d: &String| d.contains(&text)) {
                detail.push(text);
            }
            source = e.source();
        }
        let detail = detail.into_iter().skip(1).collect::<Vec<_>>().join(": ");
        let detail = if detail.is_empty() {
            "the connection failed".to_owned()
        } else {
            detail
        };
        ProviderError::Unreachable { host, detail }
    }
}

fn parse_base_url(text: &str) -> Result<Url, ProviderError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ProviderError::Config(
            "no base URL is configured: pass the service's https URL".to_owned(),
        ));
    }
    Url::parse(text).map_err(|e| {
        ProviderError::Config(format!("the base URL `{text}` is not a valid URL ({e}): use a form like `https://license.example.com`"))
    })
}

/// Whether a URL's host is on this machine (127.0.0.0/8, ::1, localhost).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Enforces the rules on service URLs: https, or http for a loopback host
/// when `allow_insecure_loopback` is set; and, when given, a host on the
/// allowed list. Nothing is sent before these checks pass.
pub fn check_url_policy(
    url: &Url,
    allowed_hosts: Option<&[String]>,
    allow_insecure_loopback: bool,
) -> Result<(), ProviderError> {
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) && allow_insecure_loopback => {}
        "http" if is_loopback(url) => {
            return Err(ProviderError::Config(format!(
                "the base URL `{url}` uses plain http: license traffic must use https; for a local emulator or a test server, opt in with `.allow_insecure_loopback()` on the provider's `HttpOptions`"
            )));
        }
        "http" => {
            return Err(ProviderError::Config(format!(
                "the base URL `{url}` uses plain http: license traffic must use https (plain http is possible only for loopback hosts such as 127.0.0.1, with `.allow_insecure_loopback()`)"
            )));
        }
        other => {
            return Err(ProviderError::Config(format!(
                "the base URL `{url}` uses the `{other}` scheme: use an https URL"
            )));
        }
    }
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    if host.is_empty() {
        return Err(ProviderError::Config(format!(
            "the base URL `{url}` has no host"
        )));
    }
    if let Some(allowed) = allowed_hosts
        && !allowed
            .iter()
            .any(|a| a.trim().trim_matches(['[', ']']).eq_ignore_ascii_case(host))
    {
        return Err(ProviderError::Config(format!(
            "the host `{host}` is not in the allowed hosts ({}): add it to the list or fix the base URL",
            allowed.join(", ")
        )));
    }
    Ok(())
}

fn host_and_port(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_404_with_a_message_is_not_found_with_that_message() {
        let reply = HttpReply {
            status: 404,
            headers: Default::default(),
            body: Vec::new(),
        };
        let error = reply.error(ErrorDetail::message("no such license"));
        assert_eq!(
            error,
            ProviderError::NotFound {
                message: "no such license".into()
            }
        );
    }

    fn policy(url: &str, allowed: Option<&[String]>) -> Result<(), ProviderError> {
        check_url_policy(&Url::parse(url).unwrap(), allowed, true)
    }

    #[test]
    fn plain_loopback_needs_the_opt_in() {
        let url = Url::parse("http://127.0.0.1:8080").unwrap();
        let err = check_url_policy(&url, None, false).unwrap_err().to_string();
        assert!(err.contains("allow_insecure_loopback"), "{err}");
        assert!(check_url_policy(&url, None, true).is_ok());
        let https = Url::parse("https://127.0.0.1:8080").unwrap();
        assert!(check_url_policy(&https, None, false).is_ok());
    }

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        assert!(policy("https://license.example.com", None).is_ok());
        assert!(policy("http://127.0.0.1:8080", None).is_ok());
        assert!(policy("http://127.8.9.10", None).is_ok());
        assert!(policy("http://[::1]:9000", None).is_ok());
        assert!(policy("http://localhost:9000", None).is_ok());
        let err = policy("http://license.example.com", None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("must use https"), "{err}");
        assert!(policy("http://10.0.0.1", None).is_err());
        assert!(policy("ftp://license.example.com", None).is_err());
    }

    #[test]
    fn allowed_hosts_restrict() {
        let allowed = vec!["license.example.com".to_owned()];
        assert!(policy("https://license.example.com/api", Some(&allowed)).is_ok());
        let err = policy("https://evil.example.net", Some(&allowed))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not in the allowed hosts"), "{err}");
    }

    /// A loopback URL with nothing listening: connecting is refused at once.
    fn refused_url() -> String {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        format!("http://{addr}")
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_is_sent_until_the_rate_limit_resets() {
        let options = HttpOptions::new().allow_insecure_loopback();
        let transport = HttpTransport::new(&refused_url(), &options).unwrap();
        *transport.not_before.lock().unwrap() = Some(Instant::now() + Duration::from_secs(30));

        let held = transport.send(HttpRequest::get("/x")).await.unwrap_err();
        assert_eq!(
            held,
            ProviderError::RateLimited {
                retry_after: Some(Duration::from_secs(30))
            }
        );

        tokio::time::advance(Duration::from_secs(29)).await;
        let still_held = transport.send(HttpRequest::get("/x")).await.unwrap_err();
        assert_eq!(still_held.retry_after(), Some(Duration::from_secs(1)));

        // After the reset the request goes out (and finds nobody listening).
        tokio::time::advance(Duration::from_secs(1)).await;
        let sent = transport.send(HttpRequest::get("/x")).await.unwrap_err();
        assert!(
            matches!(sent, ProviderError::Unreachable { .. }),
            "{sent:?}"
        );
    }

    #[test]
    fn rate_limit_headers_are_read() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("12"));
        assert_eq!(rate_limit_wait(&headers), Some(Duration::from_secs(12)));
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 30;
        headers.insert(
            "x-ratelimit-reset",
            HeaderValue::from_str(&reset.to_string()).unwrap(),
        );
        let wait = rate_limit_wait(&headers).unwrap();
        assert!(
            wait <= Duration::from_secs(30) && wait >= Duration::from_secs(28),
            "{wait:?}"
        );
    }
}
