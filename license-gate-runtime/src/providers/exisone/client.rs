//! The ExisOne client: one async method per wire call of the ExisOne SDK
//! (the smart calls and offline checks are in `smart.rs`).

use std::fmt;
use std::time::SystemTime;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde::Serialize;
use serde_json::Value;

use super::offline::OfflinePublicKey;
use super::wire::{
    ActivateBody, ActivationResult, DeactivateBody, ExisOneSeatUsage, FeaturesBody, FeaturesReply,
    GenerateBody, SeatUsageReply, TicketBody, ValidateBody, ValidationResult, VersionsReply,
    error_for, read_validation,
};
use crate::error::ProviderError;
use crate::provider::Deadline;
use crate::secret::{LicenseKey, Secret};
use crate::transport::{HttpOptions, HttpReply, HttpRequest, HttpTransport};

/// The environment variable that supplies the base URL when the options give none.
pub const BASE_URL_ENV: &str = "EXISONE_BASEURL";

/// Settings of an [`ExisOneClient`]: the service's base URL and credentials,
/// and the connection settings shared by every provider ([`HttpOptions`]).
///
/// `Debug` never shows the access token.
///
/// ```
/// use std::time::Duration;
/// use license_gate::providers::HttpOptions;
/// use license_gate::providers::exisone::ExisOneClientOptions;
///
/// let options = ExisOneClientOptions::new("https://license.example.com")
///     .access_token("token-from-the-dashboard")
///     .http(HttpOptions::new().timeout(Duration::from_secs(10)));
/// assert!(!format!("{options:?}").contains("token-from-the-dashboard"));
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ExisOneClientOptions {
    /// The service's base URL (https; plain http only for loopback with
    /// [`HttpOptions::allow_insecure_loopback`]). `None` (the default) reads
    /// `EXISONE_BASEURL`, which is accepted only for a server the code names
    /// (see [`ExisOneClientOptions::from_env`]).
    pub base_url: Option<String>,
    /// The API access token, sent as `Authorization: ExisOneApi <token>`.
    pub access_token: Option<Secret>,
    /// The vendor's RSA public key (PEM) for offline codes.
    pub offline_public_key: Option<String>,
    /// Replaces this machine's hardware ID verbatim when not blank (for
    /// containers and shared hosts where the fingerprint is not per user); in
    /// a gate it wins over the gate's machine identity (the builder's
    /// `.hardware_id(..)`), which the provider sends otherwise.
    pub hardware_id_override: Option<String>,
    /// Uses the hardware ID the official ExisOne SDKs compute
    /// ([`crate::exisone_sdk_hardware_id`]) instead of license-gate's own:
    /// `generate_hardware_id()` returns it and, in a gate, the provider sends
    /// it instead of the gate's machine identity. A non-blank
    /// `hardware_id_override` still wins. Default `false`.
    pub exisone_sdk_hardware_id: bool,
    /// Connection settings: timeout, trusted roots, pins, allowed hosts,
    /// plain http to loopback, reply cap.
    pub http: HttpOptions,
}

impl fmt::Debug for ExisOneClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExisOneClientOptions")
            .field("base_url", &self.base_url)
            .field("access_token", &self.access_token)
            .field("offline_public_key", &self.offline_public_key.is_some())
            .field("hardware_id_override", &self.hardware_id_override)
            .field("exisone_sdk_hardware_id", &self.exisone_sdk_hardware_id)
            .field("http", &self.http)
            .finish()
    }
}

impl ExisOneClientOptions {
    /// Options for `base_url`, everything else default.
    pub fn new(base_url: impl Into<String>) -> Self {
        ExisOneClientOptions::default().base_url(base_url)
    }

    /// Options whose base URL comes from `EXISONE_BASEURL`, for development
    /// and tools.
    ///
    /// The environment belongs to the application's user, who can point it
    /// at a server of their own (any domain with a publicly trusted
    /// certificate serves "valid, every feature"). So the environment only
    /// picks among servers the code names: [`ExisOneClient::new`] accepts
    /// the variable's URL only when its host is in
    /// [`HttpOptions::allowed_hosts`] or the code pins the server's key with
    /// [`HttpOptions::spki_pin`], and refuses it otherwise with a
    /// [`ProviderError::Config`] saying so. It must also be https (plain
    /// http to loopback needs [`HttpOptions::allow_insecure_loopback`], and
    /// the loopback host in the allowed hosts). An application names its
    /// server with [`ExisOneClientOptions::new`].
    ///
    /// ```
    /// use license_gate::providers::HttpOptions;
    /// use license_gate::providers::exisone::ExisOneClientOptions;
    ///
    /// // A development build that lets EXISONE_BASEURL choose between two of
    /// // the vendor's own servers, and no other.
    /// let options = ExisOneClientOptions::from_env()
    ///     .http(HttpOptions::new().allowed_hosts(["license.example.com", "staging.example.com"]));
    /// # let _ = options;
    /// ```
    pub fn from_env() -> Self {
        ExisOneClientOptions::default()
    }

    /// Sets the base URL.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Sets the access token.
    pub fn access_token(mut self, token: impl Into<Secret>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// Sets the public key (PEM) that offline codes are checked against.
    pub fn offline_public_key(mut self, pem: impl Into<String>) -> Self {
        self.offline_public_key = Some(pem.into());
        self
    }

    /// Replaces the hardware ID (used verbatim when not blank).
    pub fn hardware_id_override(mut self, id: impl Into<String>) -> Self {
        self.hardware_id_override = Some(id.into());
        self
    }

    /// Uses the ExisOne SDK's hardware ID (see
    /// [`ExisOneClientOptions::exisone_sdk_hardware_id`](#structfield.exisone_sdk_hardware_id)):
    /// for applications moving from an SDK, whose customers' activations and
    /// offline codes are bound to it. A kernel or C library update, or a new
    /// host name, changes that ID.
    pub fn exisone_sdk_hardware_id(mut self) -> Self {
        self.exisone_sdk_hardware_id = true;
        self
    }

    /// Sets the connection settings.
    pub fn http(mut self, http: HttpOptions) -> Self {
        self.http = http;
        self
    }

    /// The base URL: the options', else `EXISONE_BASEURL` when the code
    /// names the server it may point at (allowed hosts or pins).
    fn resolved_base_url(&self) -> Result<String, ProviderError> {
        match &self.base_url {
            Some(url) if !url.trim().is_empty() => Ok(url.trim().to_owned()),
            _ => match std::env::var(BASE_URL_ENV) {
                Ok(url) if !url.trim().is_empty() => {
                    let url = url.trim().to_owned();
                    check_env_url(&url, &self.http)?;
                    Ok(url)
                }
                _ => Err(ProviderError::Config(format!(
                    "no ExisOne base URL is configured: pass the service's URL with `ExisOneClientOptions::new(..)` (or, for development, set {BASE_URL_ENV} and name the hosts it may point at with `HttpOptions::allowed_hosts`)"
                ))),
            },
        }
    }
}

/// Accepts a base URL from `EXISONE_BASEURL` only when the code names the
/// server: its host in the allowed hosts, or the server's key pinned.
fn check_env_url(url: &str, http: &HttpOptions) -> Result<(), ProviderError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        ProviderError::Config(format!(
            "{BASE_URL_ENV} holds `{url}`, which is not a valid URL ({e}): use a form like `https://license.example.com`"
        ))
    })?;
    // https first (plain http only to loopback, opted in by the code).
    crate::transport::check_url_policy(&parsed, None, http.allow_insecure_loopback)?;
    if !http.spki_pins.is_empty() {
        return Ok(());
    }
    let host = parsed
        .host_str()
        .map(|h| h.trim_matches(['[', ']']).to_owned())
        .unwrap_or_default();
    let named = http.allowed_hosts.as_ref().is_some_and(|hosts| {
        !host.is_empty()
            && hosts.iter().any(|a| {
                a.trim()
                    .trim_matches(['[', ']'])
                    .eq_ignore_ascii_case(&host)
            })
    });
    if named {
        return Ok(());
    }
    Err(ProviderError::Config(format!(
        "the ExisOne base URL `{url}` comes from {BASE_URL_ENV}, which the application's user can set, and the code names no such server: pass the service's URL in code with `ExisOneClientOptions::new(..)`, or accept {BASE_URL_ENV} only for your own servers by listing them with `HttpOptions::allowed_hosts` (or pinning their key with `HttpOptions::spki_pin`)"
    )))
}

/// A client of the ExisOne licensing service, with the calls of the ExisOne
/// SDK as async methods.
///
/// Every call goes through the shared [`HttpTransport`] (https except
/// loopback, no redirects, capped replies) and every failure is a typed
/// [`ProviderError`]: the server's explicit refusals (`Refused` with its
/// error code, `NotFound` for 404, `ActivationLimitReached` for 409), a
/// refusal of the access token (`PermissionDenied` for 401/403: a fault of
/// the configuration, which a gate treats as transient and logs at error
/// level) apart from faults of reaching it
/// (`Unreachable`, `Timeout`, `ServerFault`, `RateLimited`, `MalformedReply`)
/// and error replies that are not the service's (`NotAnAnswer`: an HTML page
/// of a CDN or firewall, JSON of another shape). Every error of a call made
/// with a license key has that key masked, in any spelling (any case, with
/// or without dashes or spaces, percent-encoded), and so has the status word
/// of a validation.
///
/// ```no_run
/// use license_gate::providers::exisone::{ExisOneClient, ExisOneClientOptions};
///
/// # async fn run() -> Result<(), license_gate::ProviderError> {
/// let client = ExisOneClient::new(
///     ExisOneClientOptions::new("https://license.example.com").access_token("api-token"),
/// )?;
/// let hardware_id = client.generate_hardware_id();
/// client
///     .activate("ABCD-EFGH-JKMN-PQRS", "buyer@example.com", &hardware_id, "Atlas Studio", Some("1.4.0"))
///     .await?;
/// let answer = client
///     .validate("ABCD-EFGH-JKMN-PQRS", &hardware_id, Some("Atlas Studio"), Some("1.4.0"))
///     .await?;
/// println!("valid: {}, features: {:?}", answer.is_valid, answer.features);
/// # Ok(())
/// # }
/// # let _ = run;
/// ```
pub struct ExisOneClient {
    options: ExisOneClientOptions,
    transport: HttpTransport,
    authorization: Option<HeaderValue>,
    pub(super) offline_key: Option<OfflinePublicKey>,
}

impl fmt::Debug for ExisOneClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExisOneClient")
            .field("base_url", &self.transport.base_url().as_str())
            .field("access_token", &self.options.access_token)
            .field("offline_key", &self.offline_key.is_some())
            .field("timeout", &self.options.http.timeout)
            .finish_non_exhaustive()
    }
}

impl ExisOneClient {
    /// A client for `options`, or a `Config` error saying what is wrong (no
    /// base URL, plain http to a remote host, a host not allowed, a bad
    /// certificate, token or public key). Nothing is sent.
    pub fn new(options: ExisOneClientOptions) -> Result<Self, ProviderError> {
        let base_url = options.resolved_base_url()?;
        let transport = Self::transport_for(&options, &base_url)?;
        let authorization = match &options.access_token {
            Some(token) if !token.is_blank() => {
                let mut value =
                    HeaderValue::from_str(&format!("ExisOneApi {}", token.expose().trim()))
                        .map_err(|_| {
                            ProviderError::Config(
                        "the access token contains characters that cannot be sent in an HTTP header: copy it again from the ExisOne dashboard".to_owned(),
                    )
                        })?;
                value.set_sensitive(true);
                Some(value)
            }
            _ => None,
        };
        let offline_key = match &options.offline_public_key {
            Some(pem) if !pem.trim().is_empty() => Some(OfflinePublicKey::from_pem(pem)?),
            _ => None,
        };
        Ok(ExisOneClient {
            options: ExisOneClientOptions {
                base_url: Some(base_url),
                ..options
            },
            transport,
            authorization,
            offline_key,
        })
    }

    fn transport_for(
        options: &ExisOneClientOptions,
        base_url: &str,
    ) -> Result<HttpTransport, ProviderError> {
        HttpTransport::new(base_url, &options.http)
    }

    /// The version of this client library, without a client at hand.
    pub const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    /// The version of this client library ([`ExisOneClient::VERSION`]),
    /// called on a client as the SDK's `client.get_version()`.
    pub fn get_version(&self) -> &'static str {
        Self::VERSION
    }

    /// The same client talking to another base URL (checked like the first).
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Result<Self, ProviderError> {
        let base_url = base_url.into();
        self.transport = Self::transport_for(&self.options, &base_url)?;
        self.options.base_url = Some(base_url);
        Ok(self)
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        self.transport.base_url().as_str()
    }

    /// This machine's hardware ID, or the configured override when not blank
    /// (the ExisOne SDK's ID when the options ask for it).
    pub fn generate_hardware_id(&self) -> String {
        crate::hardware_id::hardware_id_or(self.hardware_id_override())
    }

    /// The ID this client sends instead of the gate's machine identity: the
    /// configured override when not blank, else the ExisOne SDK's ID when the
    /// options ask for it.
    pub(crate) fn hardware_id_override(&self) -> Option<&str> {
        self.options
            .hardware_id_override
            .as_deref()
            .filter(|id| !id.trim().is_empty())
            .or_else(|| {
                self.options
                    .exisone_sdk_hardware_id
                    .then(crate::sdk_hardware_id::cached)
            })
    }

    /// Whether a public key for offline codes is configured.
    pub fn has_offline_key(&self) -> bool {
        self.offline_key.is_some()
    }

    /// Activates `activation_key` on the machine `hardware_id`
    /// (`POST /api/license/activate`).
    ///
    /// A refusal comes back as an error: `Refused` with the server's `error`
    /// code (`version_outdated` carries `minimum_required_version`),
    /// `ActivationLimitReached` when every seat is taken, `NotFound` for an
    /// unknown key.
    pub async fn activate(
        &self,
        activation_key: &str,
        email: &str,
        hardware_id: &str,
        product_name: &str,
        version: Option<&str>,
    ) -> Result<ActivationResult, ProviderError> {
        self.activate_until(
            activation_key,
            email,
            hardware_id,
            product_name,
            version,
            None,
        )
        .await
    }

    /// [`ExisOneClient::activate`], bounded by `deadline` when there is one.
    pub(crate) async fn activate_until(
        &self,
        activation_key: &str,
        email: &str,
        hardware_id: &str,
        product_name: &str,
        version: Option<&str>,
        deadline: Option<Deadline>,
    ) -> Result<ActivationResult, ProviderError> {
        let body = ActivateBody {
            activation_key: key_text(activation_key)?,
            email,
            hardware_id,
            product_name,
            version: version.filter(|v| !v.is_empty()),
        };
        let reply = self
            .post("/api/license/activate", &body, deadline)
            .await
            .map_err(|e| masked(e, activation_key))?;
        let versions: VersionsReply = serde_json::from_slice(&reply.body).unwrap_or_default();
        Ok(ActivationResult {
            success: true,
            error_code: None,
            error_message: None,
            server_version: versions.server_version,
            minimum_required_version: versions.minimum_required_version,
            license_data: Some(String::from_utf8_lossy(&reply.body).into_owned()),
        })
    }

    /// Validates `activation_key` online (`POST /api/license/validate`).
    ///
    /// A 2xx answer is returned whatever it says (read `is_valid` and
    /// `status`); 403 means the token lacks the `verify` permission.
    pub async fn validate(
        &self,
        activation_key: &str,
        hardware_id: &str,
        product_name: Option<&str>,
        version: Option<&str>,
    ) -> Result<ValidationResult, ProviderError> {
        self.validate_until(activation_key, hardware_id, product_name, version, None)
            .await
    }

    /// [`ExisOneClient::validate`], bounded by `deadline` when there is one.
    pub(crate) async fn validate_until(
        &self,
        activation_key: &str,
        hardware_id: &str,
        product_name: Option<&str>,
        version: Option<&str>,
        deadline: Option<Deadline>,
    ) -> Result<ValidationResult, ProviderError> {
        let body = ValidateBody {
            activation_key: key_text(activation_key)?,
            hardware_id,
            product_name: product_name.filter(|p| !p.is_empty()),
            version: version.filter(|v| !v.is_empty()),
        };
        let reply = self
            .post("/api/license/validate", &body, deadline)
            .await
            .map_err(|e| masked(e, activation_key))?;
        let mut result = read_validation(&reply).map_err(|e| masked(e, activation_key))?;
        result.server_time = reply.server_time();
        // A status word that quotes the key reaches statuses and logs.
        let key = LicenseKey::new(activation_key);
        result.status = crate::error::redact_text(result.status, key.expose(), &key.masked());
        Ok(result)
    }

    /// [`ExisOneClient::validate_until`], with the server's `Date` whatever
    /// the reply's status (`None` when no reply came, or it had no date): the
    /// reply is authentic (verified TLS, or loopback the code opted into), so
    /// its clock counts even when the server refuses the key.
    pub(crate) async fn validate_timed(
        &self,
        activation_key: &str,
        hardware_id: &str,
        deadline: Option<Deadline>,
    ) -> (Option<SystemTime>, Result<ValidationResult, ProviderError>) {
        let body = match key_text(activation_key) {
            Ok(key) => ValidateBody {
                activation_key: key,
                hardware_id,
                product_name: None,
                version: None,
            },
            Err(error) => return (None, Err(error)),
        };
        let reply = match self
            .post_any("/api/license/validate", &body, deadline)
            .await
        {
            Ok(reply) => reply,
            Err(error) => return (None, Err(error)),
        };
        let server_time = reply.server_time();
        if !reply.is_success() {
            return (server_time, Err(error_for(&reply)));
        }
        let result = read_validation(&reply).map(|mut result| {
            result.server_time = server_time;
            result
        });
        (server_time, result)
    }

    /// Releases the activation of `activation_key` on `hardware_id`
    /// (`POST /api/license/deactivate`, which names the key `licenseKey`).
    pub async fn deactivate(
        &self,
        activation_key: &str,
        hardware_id: &str,
        product_name: &str,
    ) -> Result<(), ProviderError> {
        self.deactivate_until(activation_key, hardware_id, product_name, None)
            .await
    }

    /// [`ExisOneClient::deactivate`], bounded by `deadline` when there is one.
    pub(crate) async fn deactivate_until(
        &self,
        activation_key: &str,
        hardware_id: &str,
        product_name: &str,
        deadline: Option<Deadline>,
    ) -> Result<(), ProviderError> {
        let body = DeactivateBody {
            license_key: key_text(activation_key)?,
            hardware_id,
            product_name,
        };
        self.post("/api/license/deactivate", &body, deadline)
            .await
            .map_err(|e| masked(e, activation_key))?;
        Ok(())
    }

    /// Creates an activation key (`POST /api/activationkey/generate`; the
    /// token needs the `generate` permission).
    pub async fn generate_activation_key(
        &self,
        product_name: &str,
        email: &str,
        plan_id: Option<i64>,
        validity_days: Option<i64>,
    ) -> Result<LicenseKey, ProviderError> {
        let body = GenerateBody {
            product_name,
            email,
            plan_id,
            validity_days,
        };
        let reply = self
            .post("/api/activationkey/generate", &body, None)
            .await?;
        let text = String::from_utf8_lossy(&reply.body);
        // The key comes as plain text; accept a JSON string too.
        let key = match serde_json::from_str::<Value>(&text) {
            Ok(Value::String(key)) => key,
            _ => text.trim().to_owned(),
        };
        if key.is_empty() {
            return Err(reply.malformed("the reply holds no activation key"));
        }
        Ok(LicenseKey::new(key))
    }

    /// Sends a support ticket (`POST /api/support/ticket`; the token needs
    /// the `email` permission).
    pub async fn send_support_ticket(
        &self,
        product_name: &str,
        email: &str,
        subject: &str,
        message: &str,
    ) -> Result<(), ProviderError> {
        let body = TicketBody {
            product_name,
            email,
            subject,
            message,
        };
        self.post("/api/support/ticket", &body, None).await?;
        Ok(())
    }

    /// Seat usage of a corporate license
    /// (`GET /api/license/{key}/usage`; `NotFound` for other licenses), with
    /// the SDK's fields: seats in use, seats allowed (`None` when unlimited),
    /// whether one more fits (the server's `hasCapacity`), whether it is
    /// unlimited, and [`remaining`](ExisOneSeatUsage::remaining). The gate's
    /// [`SeatUsage`](crate::SeatUsage) is `usage.into()`.
    pub async fn get_seat_usage(
        &self,
        activation_key: &str,
    ) -> Result<ExisOneSeatUsage, ProviderError> {
        let key = key_text(activation_key)?;
        let mut request = HttpRequest::get(format!("/api/license/{}/usage", percent_encode(key)))
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(auth) = &self.authorization {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let reply = self
            .send(request, None)
            .await
            .map_err(|e| masked(e, activation_key))?;
        Ok(reply
            .json::<SeatUsageReply>()
            .map_err(|e| masked(e, activation_key))?
            .into_sdk())
    }

    /// The licensed features (`POST /api/license/features/csv`, whose reply
    /// holds them as `"a,b,c"`), split, trimmed and without empty names.
    pub async fn get_licensed_features(
        &self,
        activation_key: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let body = FeaturesBody {
            activation_key: key_text(activation_key)?,
        };
        let reply = self
            .post("/api/license/features/csv", &body, None)
            .await
            .map_err(|e| masked(e, activation_key))?;
        let data: FeaturesReply = reply.json().map_err(|e| masked(e, activation_key))?;
        Ok(data
            .features
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect())
    }

    async fn post<B: Serialize>(
        &self,
        path: &str,
        body: &B,
        deadline: Option<Deadline>,
    ) -> Result<HttpReply, ProviderError> {
        let reply = self.post_any(path, body, deadline).await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(error_for(&reply))
        }
    }

    /// Posts `body` as JSON (bounded by `deadline` when there is one) and
    /// returns the reply whatever its status.
    async fn post_any<B: Serialize>(
        &self,
        path: &str,
        body: &B,
        deadline: Option<Deadline>,
    ) -> Result<HttpReply, ProviderError> {
        let json = serde_json::to_vec(body).map_err(|e| {
            ProviderError::Config(format!("could not encode the request to {path}: {e}"))
        })?;
        let mut request = HttpRequest::post_json(path, json);
        if let Some(auth) = &self.authorization {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        self.transport.send_until(request, deadline).await
    }

    /// Sends (bounded by `deadline` when there is one), and turns every non-2xx
    /// reply into its error.
    async fn send(
        &self,
        request: HttpRequest,
        deadline: Option<Deadline>,
    ) -> Result<HttpReply, ProviderError> {
        let reply = self.transport.send_until(request, deadline).await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(error_for(&reply))
        }
    }
}

/// `error` with `key` masked wherever its texts quote it, in any spelling
/// the gate masks (any case, with or without dashes or spaces,
/// percent-encoded): servers quote keys in error bodies.
fn masked(error: ProviderError, key: &str) -> ProviderError {
    let key = key.trim();
    if key.is_empty() {
        return error;
    }
    error.redact_key(&LicenseKey::new(key))
}

/// The key's text, or `InvalidKey` when it is blank.
fn key_text(key: &str) -> Result<&str, ProviderError> {
    let key = key.trim();
    if key.is_empty() {
        Err(ProviderError::InvalidKey(
            "it is empty: pass the activation key the customer received".to_owned(),
        ))
    } else {
        Ok(key)
    }
}

/// Percent-encodes everything but unreserved characters, for a key in a path.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn keys_are_percent_encoded() {
        assert_eq!(percent_encode("AB-12 c/d"), "AB-12%20c%2Fd");
    }

    #[test]
    fn debug_hides_the_token() {
        let client = ExisOneClient::new(
            ExisOneClientOptions::new("http://127.0.0.1:9")
                .http(HttpOptions::new().allow_insecure_loopback())
                .access_token("hunter2-token"),
        )
        .unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused() {
        let err = ExisOneClient::new(ExisOneClientOptions::new("http://license.example.com"))
            .unwrap_err();
        assert!(err.to_string().contains("https"), "{err}");
    }
}
