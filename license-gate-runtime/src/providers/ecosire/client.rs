//! The signed ECOSIRE client: one method per endpoint.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderName, HeaderValue};

use super::key::check_key;
use super::signing::SIGNATURE_HEADER;
use super::signing::SignedPayload;
use super::wire::{
    self, ActivateReply, DeactivateReply, ValidateReply, parse_activate, parse_deactivate,
    parse_validate,
};
use super::{DEFAULT_BASE_URL, SECRET_ENV};
use crate::error::ProviderError;
use crate::provider::Deadline;
use crate::secret::{LicenseKey, Secret};
use crate::time::{Clock, SystemClock};
use crate::transport::{HttpOptions, HttpReply, HttpRequest, HttpTransport};
use serde_json::{Map, Value};

/// The platform fields some integrations send; when set they are part of the
/// signed payload.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Platform {
    /// `platform` and `platform_version`, such as `odoo` and `18.0`.
    Named {
        /// The platform name.
        name: String,
        /// The platform version.
        version: String,
    },
    /// `odoo_version` alone, as older Odoo integrations send it.
    OdooVersion(String),
}

impl Platform {
    fn fields(&self) -> Vec<(&'static str, String)> {
        match self {
            Platform::Named { name, version } => vec![
                ("platform", name.clone()),
                ("platform_version", version.clone()),
            ],
            Platform::OdooVersion(version) => vec![("odoo_version", version.clone())],
        }
    }
}

/// Settings of an [`EcosireClient`]: the service's base URL, the license
/// secret, the platform fields, and the connection settings shared by every
/// provider ([`HttpOptions`]).
///
/// ```
/// use std::time::Duration;
/// use license_gate::providers::HttpOptions;
/// use license_gate::providers::ecosire::{EcosireOptions, DEFAULT_BASE_URL};
///
/// let options = EcosireOptions::new(DEFAULT_BASE_URL)
///     .license_secret("s3cr3t")
///     .http(HttpOptions::new().timeout(Duration::from_secs(10)))
///     .platform("odoo", "18.0");
/// assert_eq!(options.base_url, "https://api.ecosire.com/api");
/// assert!(!format!("{options:?}").contains("s3cr3t"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EcosireOptions {
    /// The service's base URL (default [`DEFAULT_BASE_URL`](super::DEFAULT_BASE_URL));
    /// https, or plain http for a loopback host with
    /// [`HttpOptions::allow_insecure_loopback`].
    pub base_url: String,
    /// The license secret that signs requests; when `None`, the client reads
    /// the `ECOSIRE_LICENSE_SECRET` environment variable.
    pub license_secret: Option<Secret>,
    /// Connection settings: timeout, trusted roots, pins, allowed hosts,
    /// plain http to loopback, reply cap.
    pub http: HttpOptions,
    /// Platform fields sent (and signed) with every request.
    pub platform: Option<Platform>,
    /// The clock that stamps requests (`timestamp`, Unix seconds), corrected
    /// by the offset the client learns from the server's `Date` (see
    /// [`EcosireClient`]).
    pub clock: Arc<dyn Clock>,
}

impl Default for EcosireOptions {
    /// The public service, the secret from the environment.
    fn default() -> Self {
        EcosireOptions {
            base_url: DEFAULT_BASE_URL.to_owned(),
            license_secret: None,
            http: HttpOptions::default(),
            platform: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl EcosireOptions {
    /// Options for `base_url` (the public service is
    /// [`DEFAULT_BASE_URL`](super::DEFAULT_BASE_URL), which
    /// [`EcosireOptions::default`] uses), everything else default.
    pub fn new(base_url: impl Into<String>) -> Self {
        EcosireOptions::default().base_url(base_url)
    }

    /// Sets the base URL (a private deployment or an emulator).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the connection settings.
    pub fn http(mut self, http: HttpOptions) -> Self {
        self.http = http;
        self
    }

    /// The license secret that signs requests.
    pub fn license_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.license_secret = Some(secret.into());
        self
    }

    /// Sends `platform` and `platform_version` with every request.
    pub fn platform(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.platform = Some(Platform::Named {
            name: name.into(),
            version: version.into(),
        });
        self
    }

    /// Sends `odoo_version` with every request.
    pub fn odoo_version(mut self, version: impl Into<String>) -> Self {
        self.platform = Some(Platform::OdooVersion(version.into()));
        self
    }

    /// The clock that stamps requests.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}

/// A client of the ECOSIRE license endpoints.
///
/// Every request is a JSON body of strings (`key`, `domain`, `timestamp` and
/// the platform fields when configured), signed with the license secret in the
/// `X-Ecosire-Signature` header. The key is checked (and normalised to upper
/// case) locally first: a malformed key is [`ProviderError::InvalidKey`] and
/// nothing is sent.
///
/// Errors use the shared vocabulary and the transport's status table
/// ([`HttpReply::error_for_status`](crate::transport::HttpReply::error_for_status)): 401/403 are
/// [`ProviderError::PermissionDenied`] (401 is a bad signature: the secret
/// does not match), 404 [`ProviderError::NotFound`], 409 or "Activation limit
/// reached" [`ProviderError::ActivationLimitReached`], "License expired",
/// "License suspended" and "License revoked" are [`ProviderError::Refused`]
/// with the codes `license_expired`, `license_suspended` and
/// `license_revoked` (which the gate reads as those statuses); 429 is
/// [`ProviderError::RateLimited`] (and no request leaves until the
/// `X-RateLimit-Reset` instant), 408 and 5xx [`ProviderError::ServerFault`].
/// An error reply that is not the service's error body (an HTML page of a
/// CDN or firewall, JSON of another shape, a 404 that does not say "License
/// not found") is [`ProviderError::NotAnAnswer`], which is transient. Every
/// error has the license key masked, in any spelling.
///
/// Time stamps follow the server's clock: every reply read as the service's
/// (an answer or its error body) tells the client, through its `Date`, how
/// far the local clock is off, and the next request is stamped with the
/// corrected time. A refusal of the time stamp ("Request timestamp is too
/// far from the server time") is retried once at once with the time from
/// that reply's `Date`; refused again, or without a `Date`, it is
/// [`ProviderError::ClockOff`] saying by how much the clock is off
/// (transient: a gate keeps the license through its grace period).
///
/// ```no_run
/// use license_gate::LicenseKey;
/// use license_gate::providers::ecosire::{EcosireClient, EcosireOptions};
///
/// # async fn demo() -> Result<(), license_gate::ProviderError> {
/// let client = EcosireClient::new(EcosireOptions::default().license_secret("s3cr3t"))?;
/// let key = LicenseKey::new("SHOP-A1B2-C3D4-E5F6-G7H8");
/// let reply = client.validate(&key, "mystore.example.com").await?;
/// if reply.valid {
///     client.activate(&key, "mystore.example.com").await?;
/// }
/// # Ok(())
/// # }
/// # let _ = demo;
/// ```
#[derive(Debug)]
pub struct EcosireClient {
    transport: HttpTransport,
    secret: Secret,
    platform: Option<Platform>,
    clock: Arc<dyn Clock>,
    /// Seconds to add to the clock to get the server's time, learned from
    /// the `Date` of the service's replies.
    server_offset: AtomicI64,
}

impl EcosireClient {
    /// A client for `options`, or a `Config` error saying what is missing or
    /// wrong (no secret, a plain-http URL that is not loopback, a bad certificate).
    pub fn new(options: EcosireOptions) -> Result<Self, ProviderError> {
        let secret = resolve_secret(options.license_secret, |name| std::env::var(name).ok())?;
        Ok(EcosireClient {
            transport: HttpTransport::new(&options.base_url, &options.http)?,
            secret,
            platform: options.platform,
            clock: options.clock,
            server_offset: AtomicI64::new(0),
        })
    }

    /// How far the local clock is behind the server's (negative: ahead), as
    /// learned from the `Date` of the last reply read as the service's; zero
    /// before the first.
    pub fn server_offset_secs(&self) -> i64 {
        self.server_offset.load(Ordering::Relaxed)
    }

    /// The time requests are stamped with: the clock corrected by the
    /// offset learned from the server.
    fn server_now(&self) -> SystemTime {
        let offset = self.server_offset_secs();
        let magnitude = Duration::from_secs(offset.unsigned_abs());
        let now = self.clock.now();
        if offset >= 0 {
            now.checked_add(magnitude).unwrap_or(now)
        } else {
            now.checked_sub(magnitude).unwrap_or(now)
        }
    }

    /// Learns the offset from a reply of the service's dated `server_time`;
    /// returns how far the local clock is ahead of the server's.
    fn learn_offset(&self, server_time: SystemTime) -> i64 {
        let local = self.clock.now();
        let behind = match server_time.duration_since(local) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        self.server_offset.store(behind, Ordering::Relaxed);
        -behind
    }

    /// Sends a signed request and reads the reply with `parse`; learns the
    /// server's time from every reply that is the service's own; retries a
    /// refused time stamp once with the server's time. Errors have the key
    /// masked.
    async fn exchange<T>(
        &self,
        path: &str,
        key: &LicenseKey,
        domain: &str,
        deadline: Option<Deadline>,
        parse: fn(&Map<String, Value>) -> Result<T, String>,
        on_empty_success: Option<fn() -> T>,
    ) -> Result<(T, HttpReply), ProviderError> {
        let mut retried = false;
        loop {
            let reply = self
                .send(path, key, domain, deadline)
                .await
                .map_err(|e| e.redact_key(key))?;
            // A 2xx reply with no body at all (such as 204) where the call
            // allows one (deactivation released the slot).
            if let Some(empty) = on_empty_success
                && reply.is_success()
                && reply.body.iter().all(u8::is_ascii_whitespace)
            {
                return Ok((empty(), reply));
            }
            let outcome = wire::interpret(&reply, parse);
            let server_time = reply.server_time();
            match outcome {
                Ok(value) => {
                    if let Some(at) = server_time {
                        self.learn_offset(at);
                    }
                    return Ok((value, reply));
                }
                Err(ProviderError::ClockOff { message, .. }) => {
                    let ahead = server_time.map(|at| self.learn_offset(at));
                    if !retried && ahead.is_some() {
                        retried = true;
                        tracing::warn!(
                            provider = "ecosire",
                            clock_ahead_secs = ahead,
                            "the license server refused the request's time stamp: this machine's clock is off; retrying with the server's time"
                        );
                        continue;
                    }
                    return Err(ProviderError::ClockOff {
                        offset_secs: ahead,
                        message,
                    }
                    .redact_key(key));
                }
                Err(error) => {
                    // Only the service's own replies set the clock: not a
                    // page of whatever stands in front of it.
                    let from_service = error.is_credentials_fault() || !error.is_transient();
                    if from_service && let Some(at) = server_time {
                        self.learn_offset(at);
                    }
                    return Err(error.redact_key(key));
                }
            }
        }
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.transport.base_url().as_str()
    }

    /// `POST /licenses/validate`: where the license stands for `domain`.
    ///
    /// A reply whose license object names another key than the one sent
    /// (compared in upper case, as the key format allows) is a refusal with
    /// the code [`CODE_KEY_MISMATCH`](super::wire::CODE_KEY_MISMATCH): an answer
    /// about another license says nothing about this one.
    pub async fn validate(
        &self,
        key: &LicenseKey,
        domain: &str,
    ) -> Result<ValidateReply, ProviderError> {
        self.validate_until(key, domain, None).await
    }

    /// [`EcosireClient::validate`], bounded by `deadline` when there is one.
    pub(crate) async fn validate_until(
        &self,
        key: &LicenseKey,
        domain: &str,
        deadline: Option<Deadline>,
    ) -> Result<ValidateReply, ProviderError> {
        let sent = check_key(key).map_err(|e| e.redact_key(key))?;
        let (mut validated, reply) = self
            .exchange(
                "/licenses/validate",
                key,
                domain,
                deadline,
                parse_validate,
                None,
            )
            .await?;
        let echoed = validated.license.as_ref().and_then(|l| l.key.as_ref());
        if let Some(echoed) = echoed
            && !echoed.expose().trim().eq_ignore_ascii_case(sent.expose())
        {
            return Err(ProviderError::Refused {
                status: reply.status,
                code: Some(super::wire::CODE_KEY_MISMATCH.to_owned()),
                message: "the license server answered about another license key than the one sent; check the base URL and the key".to_owned(),
                minimum_required_version: None,
            });
        }
        validated.server_time = reply.server_time();
        validated.message = validated.message.map(|m| mask_key(m, key));
        Ok(validated)
    }

    /// `POST /licenses/activate`: binds `domain` (or an installation
    /// fingerprint) to the license, taking one activation slot.
    pub async fn activate(
        &self,
        key: &LicenseKey,
        domain: &str,
    ) -> Result<ActivateReply, ProviderError> {
        self.activate_until(key, domain, None).await
    }

    /// [`EcosireClient::activate`], bounded by `deadline` when there is one.
    pub(crate) async fn activate_until(
        &self,
        key: &LicenseKey,
        domain: &str,
        deadline: Option<Deadline>,
    ) -> Result<ActivateReply, ProviderError> {
        let (mut activated, _) = self
            .exchange(
                "/licenses/activate",
                key,
                domain,
                deadline,
                parse_activate,
                None,
            )
            .await?;
        activated.message = activated.message.map(|m| mask_key(m, key));
        Ok(activated)
    }

    /// `POST /licenses/deactivate`: releases the activation of `domain`.
    pub async fn deactivate(
        &self,
        key: &LicenseKey,
        domain: &str,
    ) -> Result<DeactivateReply, ProviderError> {
        self.deactivate_until(key, domain, None).await
    }

    /// [`EcosireClient::deactivate`], bounded by `deadline` when there is one.
    pub(crate) async fn deactivate_until(
        &self,
        key: &LicenseKey,
        domain: &str,
        deadline: Option<Deadline>,
    ) -> Result<DeactivateReply, ProviderError> {
        let (mut deactivated, _) = self
            .exchange(
                "/licenses/deactivate",
                key,
                domain,
                deadline,
                parse_deactivate,
                Some(|| DeactivateReply {
                    deactivated: true,
                    activations_count: None,
                    message: None,
                }),
            )
            .await?;
        deactivated.message = deactivated.message.map(|m| mask_key(m, key));
        Ok(deactivated)
    }

    /// The payload this client would sign for `key` and `domain` now.
    ///
    /// The key is checked and normalised first, the timestamp read from the
    /// clock corrected by the offset learned from the server's `Date`
    /// ([`EcosireClient::server_offset_secs`]).
    pub fn payload(&self, key: &LicenseKey, domain: &str) -> Result<SignedPayload, ProviderError> {
        let key = check_key(key)?;
        let domain = domain.trim();
        if domain.is_empty() {
            return Err(ProviderError::Config(
                "no domain is given: pass the shop or site domain, or an installation fingerprint"
                    .to_owned(),
            ));
        }
        let timestamp = self
            .server_now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut fields = vec![
            ("key", key.expose().to_owned()),
            ("domain", domain.to_owned()),
            ("timestamp", timestamp.to_string()),
        ];
        if let Some(platform) = &self.platform {
            fields.extend(platform.fields());
        }
        Ok(SignedPayload::new(fields))
    }

    async fn send(
        &self,
        path: &str,
        key: &LicenseKey,
        domain: &str,
        deadline: Option<Deadline>,
    ) -> Result<crate::transport::HttpReply, ProviderError> {
        let payload = self.payload(key, domain)?;
        let mut signature = HeaderValue::from_str(&payload.signature(&self.secret))
            .expect("hex is a valid header value");
        signature.set_sensitive(true);
        let request = HttpRequest::post_json(path, payload.body())
            .header(HeaderName::from_static(SIGNATURE_HEADER), signature);
        self.transport.send_until(request, deadline).await
    }
}

/// `message` with `key` masked in any spelling: server messages reach
/// statuses, logs and `Debug` output.
fn mask_key(message: String, key: &LicenseKey) -> String {
    crate::error::redact_text(message, key.expose(), &key.masked())
}

/// The secret given, else the one in `ECOSIRE_LICENSE_SECRET` (read through
/// `env`), else a `Config` error saying how to provide one.
fn resolve_secret(
    given: Option<Secret>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Secret, ProviderError> {
    let secret = given.or_else(|| env(SECRET_ENV).map(Secret::new));
    match secret {
        Some(secret) if !secret.is_blank() => Ok(secret),
        Some(_) => Err(ProviderError::Config(format!(
            "the ECOSIRE license secret is blank: pass the secret from your ECOSIRE dashboard with `.license_secret(..)` or in {SECRET_ENV}"
        ))),
        None => Err(ProviderError::Config(format!(
            "no ECOSIRE license secret is configured: pass it with `.license_secret(..)` or set {SECRET_ENV}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[derive(Debug)]
    struct FixedClock(SystemTime);

    impl Clock for FixedClock {
        fn now(&self) -> SystemTime {
            self.0
        }
    }

    #[test]
    fn the_secret_comes_from_the_option_then_the_environment() {
        let from_option = resolve_secret(Some("a".into()), |_| Some("b".into())).unwrap();
        assert_eq!(from_option.expose(), "a");
        let from_env =
            resolve_secret(None, |name| (name == SECRET_ENV).then(|| "b".into())).unwrap();
        assert_eq!(from_env.expose(), "b");
        let missing = resolve_secret(None, |_| None).unwrap_err().to_string();
        assert!(missing.contains("ECOSIRE_LICENSE_SECRET"), "{missing}");
        let blank = resolve_secret(None, |_| Some("  ".into()))
            .unwrap_err()
            .to_string();
        assert!(blank.contains("blank"), "{blank}");
    }

    #[test]
    fn payload_holds_the_documented_fields() {
        let client = EcosireClient::new(
            EcosireOptions::default()
                .license_secret("test-secret")
                .platform("odoo", "18.0")
                .clock(FixedClock(UNIX_EPOCH + Duration::from_secs(1_800_000_000))),
        )
        .unwrap();
        let payload = client
            .payload(&LicenseKey::new("shop-a1b2-c3d4-e5f6-g7h8"), "a.example")
            .unwrap();
        assert_eq!(
            payload.message(),
            "domain=a.example&key=SHOP-A1B2-C3D4-E5F6-G7H8&platform=odoo&platform_version=18.0&timestamp=1800000000"
        );
        assert_eq!(
            payload.signature(&Secret::new("test-secret")),
            "bfa095b97971797b29aae5c445a3aa7abc1d22a82f5cd9218dd1266fad32362b"
        );
        let err = client
            .payload(&LicenseKey::new("SHOP-A1B2-C3D4-E5F6-G7H8"), " ")
            .unwrap_err();
        assert!(matches!(err, ProviderError::Config(_)));
    }

    #[test]
    fn debug_hides_the_secret() {
        let client =
            EcosireClient::new(EcosireOptions::default().license_secret("hunter2-secret")).unwrap();
        assert!(!format!("{client:?}").contains("hunter2"));
    }

    #[test]
    fn allowed_hosts_pin_the_service() {
        let pinned = EcosireOptions::default()
            .license_secret("s")
            .http(HttpOptions::new().allowed_hosts(["api.ecosire.com"]));
        assert!(EcosireClient::new(pinned.clone()).is_ok());
        let err = EcosireClient::new(pinned.base_url("https://license.example.net/api"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not in the allowed hosts"), "{err}");
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        let err = EcosireClient::new(
            EcosireOptions::default()
                .license_secret("s")
                .base_url("http://api.ecosire.com/api"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("must use https"), "{err}");
        let loopback = EcosireOptions::default()
            .license_secret("s")
            .base_url("http://127.0.0.1:9/api");
        let err = EcosireClient::new(loopback.clone()).unwrap_err();
        assert!(err.to_string().contains("allow_insecure_loopback"), "{err}");
        let opted_in = loopback.http(HttpOptions::new().allow_insecure_loopback());
        assert!(EcosireClient::new(opted_in).is_ok());
    }
}
