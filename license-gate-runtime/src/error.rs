//! The error vocabulary: what gated code sees ([`LicenseError`]), what providers
//! report ([`ProviderError`], one vocabulary for every provider), and what can go
//! wrong starting a gate ([`GateError`]).

use std::time::Duration;

use crate::state::LicenseStatus;

/// Why a gated call was denied.
///
/// Every message is a sentence a user can act on. Functions gated by
/// `#[requires_feature]` or `#[licensed]` that return `Result<T, E>` return
/// `Err(E::from(license_error))` when access is denied, so implement
/// `From<LicenseError>` for your error type (with thiserror: `#[from]`).
///
/// ```
/// use license_gate::{LicenseError, LicenseStatus};
/// let err = LicenseError::NotLicensed {
///     product: "Atlas Studio".into(),
///     status: LicenseStatus::Revoked,
/// };
/// assert_eq!(
///     err.to_string(),
///     "Atlas Studio is not licensed (license revoked): contact the vendor for a new license"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LicenseError {
    /// The license is in force but does not include the feature.
    #[error(
        "the license for {product} does not include `{feature}`: upgrade to a plan that includes it"
    )]
    MissingFeature {
        /// The product whose license was checked.
        product: String,
        /// The feature that is missing (for `any(..)`, the list of alternatives).
        feature: String,
        /// The license status (one that grants access).
        status: LicenseStatus,
    },
    /// The product's license does not grant access (expired, revoked, pending...).
    #[error("{product} is not licensed ({status}): {}", status.remedy())]
    NotLicensed {
        /// The product whose license was checked.
        product: String,
        /// Where the license stands.
        status: LicenseStatus,
    },
    /// The code asks for a product the application did not configure.
    #[error(
        "no license is configured for product `{product}`: add it with `LicenseGate::builder().product(\"{product}\")` or fix the `product = \"..\"` argument"
    )]
    UnknownProduct {
        /// The product name that was asked for.
        product: String,
    },
    /// No gate is running and no test override is in scope.
    #[error(
        "no license gate is running: start one with `LicenseGate::builder()...start()`, or use `TestLicense` in tests"
    )]
    NoGate,
}

impl LicenseError {
    /// The license status behind the denial, where there is one.
    pub fn status(&self) -> Option<&LicenseStatus> {
        match self {
            LicenseError::MissingFeature { status, .. }
            | LicenseError::NotLicensed { status, .. } => Some(status),
            _ => None,
        }
    }
}

impl From<LicenseError> for std::io::Error {
    fn from(error: LicenseError) -> Self {
        std::io::Error::new(std::io::ErrorKind::PermissionDenied, error)
    }
}

/// What a provider reports when a call did not produce a license answer.
///
/// One vocabulary for every provider and the shared HTTP transport.
/// [`ProviderError::is_transient`] splits it in two: faults of reaching the
/// server (the gate keeps the last confirmed state through the grace period)
/// and explicit refusals (the gate denies at once).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The configuration is wrong; nothing was sent.
    #[error("{0}")]
    Config(String),
    /// The license key is malformed; nothing was sent.
    #[error("the license key is malformed: {0}")]
    InvalidKey(String),
    /// No connection could be made.
    #[error("could not reach the license server at {host}: {detail}; check the network connection")]
    Unreachable {
        /// Host and port.
        host: String,
        /// What failed.
        detail: String,
    },
    /// The server did not answer in time.
    #[error("the license server at {host} did not answer within {}s; check the network connection", after.as_secs_f32())]
    Timeout {
        /// Host and port.
        host: String,
        /// The time allowed.
        after: Duration,
    },
    /// The server failed (HTTP 5xx).
    #[error("the license server failed with HTTP {status}; try again later ({excerpt})")]
    ServerFault {
        /// The HTTP status code.
        status: u16,
        /// The start of the reply body.
        excerpt: String,
    },
    /// The server is rate limiting this client (HTTP 429).
    #[error("the license server is rate limiting this client; try again {}", match retry_after { Some(d) => format!("in {}s", d.as_secs()), None => "later".to_owned() })]
    RateLimited {
        /// How long to wait before the next request, when the server said.
        retry_after: Option<Duration>,
    },
    /// The server refused the request with an explicit answer.
    #[error("the license server refused the request (HTTP {status}{}): {message}", code.as_deref().map(|c| format!(", {c}")).unwrap_or_default())]
    Refused {
        /// The HTTP status code.
        status: u16,
        /// The server's machine-readable error code, such as `version_outdated`.
        code: Option<String>,
        /// The server's message.
        message: String,
        /// The oldest client version the server accepts, when it says.
        minimum_required_version: Option<String>,
    },
    /// The credentials lack the permission for this call (HTTP 401/403).
    #[error(
        "the license server denied permission (HTTP {status}): {message}; check the access token or secret and its permissions"
    )]
    PermissionDenied {
        /// The HTTP status code.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// The license or resource does not exist (HTTP 404).
    #[error("not found on the license server: {message}; check the license key")]
    NotFound {
        /// The server's message.
        message: String,
    },
    /// Every activation slot of the license is taken.
    #[error("activation limit reached{}: deactivate the license on another installation first", match (used, limit) { (Some(u), Some(l)) => format!(" ({u} of {l} in use)"), _ => String::new() })]
    ActivationLimitReached {
        /// Activations in use, when known.
        used: Option<u32>,
        /// Activations allowed, when known.
        limit: Option<u32>,
    },
    /// The reply could not be understood.
    #[error(
        "the license server's reply could not be read (HTTP {status}): {reason}; it starts with {excerpt:?}"
    )]
    MalformedReply {
        /// The HTTP status code.
        status: u16,
        /// What was wrong with it.
        reason: String,
        /// The start of the reply body.
        excerpt: String,
    },
    /// The reply was larger than the configured cap.
    #[error("the license server's reply exceeds {limit} bytes and was not read")]
    ReplyTooLarge {
        /// The cap in bytes.
        limit: usize,
    },
}

impl ProviderError {
    /// Whether this is a fault of reaching the server (connect error, timeout,
    /// 5xx, 429, a broken or oversized reply) rather than an explicit answer.
    ///
    /// The gate keeps the last confirmed state through the grace period on a
    /// transient error and denies at once on any other.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ProviderError::Unreachable { .. }
                | ProviderError::Timeout { .. }
                | ProviderError::ServerFault { .. }
                | ProviderError::RateLimited { .. }
                | ProviderError::MalformedReply { .. }
                | ProviderError::ReplyTooLarge { .. }
        )
    }

    /// The same error with `key` masked wherever its texts quote it (ASCII
    /// case ignored): servers may echo the license key in a message or a
    /// reply excerpt, and errors reach logs, statuses and users' screens.
    ///
    /// ```
    /// use license_gate::{LicenseKey, ProviderError};
    /// let key = LicenseKey::new("SHOP-A1B2-C3D4-E5F6-G7H8");
    /// let error = ProviderError::NotFound { message: "no license shop-a1b2-c3d4-e5f6-g7h8".into() };
    /// assert_eq!(
    ///     error.redact_key(&key).to_string(),
    ///     "not found on the license server: no license ****-****-****-****-G7H8; check the license key"
    /// );
    /// ```
    pub fn redact_key(self, key: &crate::secret::LicenseKey) -> Self {
        self.redact(key.expose(), &key.masked())
    }

    /// The same error with every occurrence of `secret` in its texts (ASCII
    /// case ignored) replaced by `mask`.
    pub(crate) fn redact(self, secret: &str, mask: &str) -> Self {
        let r = |text: String| redact_text(text, secret, mask);
        match self {
            ProviderError::Config(text) => ProviderError::Config(r(text)),
            ProviderError::InvalidKey(text) => ProviderError::InvalidKey(r(text)),
            ProviderError::Unreachable { host, detail } => ProviderError::Unreachable {
                host,
                detail: r(detail),
            },
            ProviderError::ServerFault { status, excerpt } => ProviderError::ServerFault {
                status,
                excerpt: r(excerpt),
            },
            ProviderError::Refused {
                status,
                code,
                message,
                minimum_required_version,
            } => ProviderError::Refused {
                status,
                code,
                message: r(message),
                minimum_required_version,
            },
            ProviderError::PermissionDenied { status, message } => {
                ProviderError::PermissionDenied {
                    status,
                    message: r(message),
                }
            }
            ProviderError::NotFound { message } => ProviderError::NotFound {
                message: r(message),
            },
            ProviderError::MalformedReply {
                status,
                reason,
                excerpt,
            } => ProviderError::MalformedReply {
                status,
                reason: r(reason),
                excerpt: r(excerpt),
            },
            error @ (ProviderError::Timeout { .. }
            | ProviderError::RateLimited { .. }
            | ProviderError::ActivationLimitReached { .. }
            | ProviderError::ReplyTooLarge { .. }) => error,
        }
    }

    /// How long the server asked the client to wait, for rate limiting.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

/// `text` with every occurrence of `secret` (ASCII case ignored) replaced by `mask`.
pub(crate) fn redact_text(text: String, secret: &str, mask: &str) -> String {
    if secret.is_empty() || text.len() < secret.len() {
        return text;
    }
    // ASCII lowercasing keeps every byte where it is, so the indices found
    // in the lowered text are valid in the original.
    let lowered = text.to_ascii_lowercase();
    let needle = secret.to_ascii_lowercase();
    if !lowered.contains(&needle) {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (at, _) in lowered.match_indices(&needle) {
        out.push_str(&text[rest..at]);
        out.push_str(mask);
        rest = at + needle.len();
    }
    out.push_str(&text[rest..]);
    out
}

/// Why a gate could not start or an operation on it failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// The builder was given no product.
    #[error("no product is configured: call `.product(\"Name\")` on the builder")]
    NoProduct,
    /// A product has no provider.
    #[error(
        "product `{product}` has no provider: call `.provider(..)` after `.product(\"{product}\")`"
    )]
    MissingProvider {
        /// The product.
        product: String,
    },
    /// The same product was configured twice.
    #[error("product `{product}` is configured twice: give each product one `.product(..)` call")]
    DuplicateProduct {
        /// The product.
        product: String,
    },
    /// A setting is out of range.
    #[error("{0}")]
    Config(String),
    /// Another gate is already installed as the global gate.
    #[error(
        "a global license gate is already running: shut it down first, or start this one with `.install_global(false)`"
    )]
    AlreadyInstalled,
    /// The gate has been shut down.
    #[error("the license gate has been shut down")]
    ShutDown,
    /// A provider call failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_masks_every_occurrence_in_any_case() {
        let error = ProviderError::MalformedReply {
            status: 200,
            reason: "bad `features`".to_owned(),
            excerpt: r#"{"key":"ABCD-EFGH","again":"abcd-efgh","é":1}"#.to_owned(),
        }
        .redact("ABCD-EFGH", "****-EFGH");
        assert_eq!(
            error.to_string(),
            r#"the license server's reply could not be read (HTTP 200): bad `features`; it starts with "{\"key\":\"****-EFGH\",\"again\":\"****-EFGH\",\"é\":1}""#
        );
        assert_eq!(
            redact_text("no key here".into(), "ABCD", "*"),
            "no key here"
        );
        assert_eq!(redact_text("ab".into(), "", "*"), "ab");
    }
}
