//! The error vocabulary: what gated code sees ([`LicenseError`]), what providers
//! report ([`ProviderError`], one vocabulary for every provider), and what can go
//! wrong starting a gate ([`GateError`]).

use std::fmt;
use std::time::Duration;

use crate::state::LicenseStatus;

/// Why a gated call was denied, and what the call needed.
///
/// Every message is a sentence a user can act on and ends with the fix.
/// Functions gated by `#[requires_feature]` or `#[licensed]` that return
/// `Result<T, E>` return `Err(E::from(license_error))` when access is denied,
/// so implement `From<LicenseError>` for your error type (with thiserror:
/// `#[from]`).
///
/// Whatever the reason, a denial carries the request: [`LicenseError::required`]
/// (the features, all of them or any one), [`LicenseError::product`] and
/// [`LicenseError::status`], enough to build an upgrade prompt. Building one
/// allocates nothing: names are `&'static` or copied inline when short, and
/// reasons are shared.
///
/// ```
/// use license_gate::{LicenseError, LicenseStatus, Required};
/// let err = LicenseError::NotLicensed {
///     product: "Atlas Studio".into(),
///     required: Required::all_of(&["pro", "export"]),
///     status: LicenseStatus::Revoked,
/// };
/// assert_eq!(
///     err.to_string(),
///     "Atlas Studio is not licensed (license revoked) for `pro` and `export`: contact the vendor for a new license"
/// );
/// assert_eq!(err.required_features().collect::<Vec<_>>(), ["pro", "export"]);
/// assert_eq!(err.product(), Some("Atlas Studio"));
/// ```
///
/// Two denials are equal, and hash the same, when they say the same thing:
/// product, features, requirement and status compare by value, whether the
/// error came from a gated call, from [`check_feature`](crate::check_feature)
/// or was built by hand.
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum LicenseError {
    /// The license is in force but does not include what the call needs.
    #[error(
        "the license for {product} does not include {}: upgrade to a plan that includes {}",
        required.describe_missing(missing),
        if required.is_any_of() { "one of them" } else { "it" }
    )]
    MissingFeature {
        /// The product whose license was checked.
        product: Name,
        /// The first feature the license lacks (for `any(..)`, every alternative).
        missing: Features,
        /// What the call needed.
        required: Required,
        /// The license status (one that grants access).
        status: LicenseStatus,
    },
    /// The product's license does not grant access (expired, revoked, pending...).
    #[error("{}", describe_not_licensed(product, required, status))]
    NotLicensed {
        /// The product whose license was checked.
        product: Name,
        /// What the call needed.
        required: Required,
        /// Where the license stands.
        status: LicenseStatus,
    },
    /// The code asks for a product the application did not configure.
    #[error(
        "no license is configured for product `{product}`: add it with `LicenseGate::builder().product(\"{product}\")` or fix the `product = \"..\"` argument"
    )]
    UnknownProduct {
        /// The product name that was asked for.
        product: Name,
        /// What the call needed.
        required: Required,
    },
    /// No gate is running and no test override is in scope.
    #[error(
        "no license gate is running: start one with `LicenseGate::builder()...start()`, or use `TestLicense` in tests"
    )]
    NoGate {
        /// The product the call named, if it named one.
        product: Option<Name>,
        /// What the call needed.
        required: Required,
    },
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

    /// What the denied call needed: its features (all or any one of them), or
    /// only a license.
    pub fn required(&self) -> &Required {
        match self {
            LicenseError::MissingFeature { required, .. }
            | LicenseError::NotLicensed { required, .. }
            | LicenseError::UnknownProduct { required, .. }
            | LicenseError::NoGate { required, .. } => required,
        }
    }

    /// The features the denied call needed (empty for `#[licensed]` and
    /// `check_product`); see [`Required::is_any_of`] for whether one suffices.
    ///
    /// ```
    /// use license_gate::{check_feature, testing::TestLicense};
    /// let _license = TestLicense::unlicensed().scoped();
    /// let err = check_feature("export").unwrap_err();
    /// assert_eq!(err.required_features().collect::<Vec<_>>(), ["export"]);
    /// ```
    pub fn required_features(&self) -> FeatureIter<'_> {
        self.required().features().iter()
    }

    /// The product the denial is about: the product checked, or the one the
    /// call named. `None` only when no gate runs and the call named none.
    pub fn product(&self) -> Option<&str> {
        match self {
            LicenseError::MissingFeature { product, .. }
            | LicenseError::NotLicensed { product, .. }
            | LicenseError::UnknownProduct { product, .. } => Some(product),
            LicenseError::NoGate { product, .. } => product.as_deref(),
        }
    }
}

/// `Atlas is not licensed (license revoked) for `pro`: contact the vendor...`,
/// or, when the status's reason already says what to do,
/// `Atlas is not licensed for `pro`: license check pending: <reason and fix>`:
/// one remedy, never two.
fn describe_not_licensed<'a>(
    product: &'a Name,
    required: &'a Required,
    status: &'a LicenseStatus,
) -> impl fmt::Display + 'a {
    Describe(move |f: &mut fmt::Formatter<'_>| match status.remedy() {
        Some(remedy) => write!(
            f,
            "{product} is not licensed ({status}){}: {remedy}",
            required.describe_for()
        ),
        None => write!(
            f,
            "{product} is not licensed{}: {status}",
            required.describe_for()
        ),
    })
}

impl From<LicenseError> for std::io::Error {
    fn from(error: LicenseError) -> Self {
        std::io::Error::new(std::io::ErrorKind::PermissionDenied, error)
    }
}

/// A product or feature name in a [`LicenseError`].
///
/// A denial must not allocate, so a name is a `&'static str` (the names in
/// gated code), a short name copied inline, or a shared `Arc<str>`. It reads
/// as a `&str` (`Deref`) and compares with one.
pub struct Name(NameRepr);

/// Names up to this many bytes are copied inline; the size keeps a `Name` at
/// 24 bytes, as large as a `&str` with its tag, and a `LicenseError` small
/// enough to return by value.
pub(crate) const INLINE_NAME: usize = 22;
const INLINE: usize = INLINE_NAME;

enum NameRepr {
    Plain(Plain),
    Shared(std::sync::Arc<str>),
}

/// The names that are plain bytes: copied as one value, so a clone is a few
/// wide moves (a field-by-field copy stalls the loads that read it back).
#[derive(Clone, Copy)]
enum Plain {
    Static(&'static str),
    Inline { len: u8, bytes: [u8; INLINE] },
}

impl Clone for Name {
    fn clone(&self) -> Name {
        match &self.0 {
            NameRepr::Plain(plain) => Name(NameRepr::Plain(*plain)),
            NameRepr::Shared(name) => Name(NameRepr::Shared(name.clone())),
        }
    }
}

impl Name {
    /// A name from a string literal (no copy).
    pub const fn from_static(name: &'static str) -> Name {
        Name(NameRepr::Plain(Plain::Static(name)))
    }

    /// A name copied from `name`: inline when it is short (no allocation),
    /// else into a shared `Arc<str>`.
    pub fn new(name: &str) -> Name {
        match Name::inline(name) {
            Some(inline) => inline,
            None => Name(NameRepr::Shared(name.into())),
        }
    }

    /// A name that shares `name`, or copies it inline when it is short (a
    /// copy touches no counter another thread also writes).
    pub fn shared(name: &std::sync::Arc<str>) -> Name {
        match Name::inline(name) {
            Some(inline) => inline,
            None => Name(NameRepr::Shared(name.clone())),
        }
    }

    fn inline(name: &str) -> Option<Name> {
        let len = name.len();
        if len > INLINE {
            return None;
        }
        let mut bytes = [0; INLINE];
        bytes[..len].copy_from_slice(name.as_bytes());
        Some(Name(NameRepr::Plain(Plain::Inline {
            len: len as u8,
            bytes,
        })))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            NameRepr::Plain(Plain::Static(name)) => name,
            // Always a whole `str` copied in, so this never fails; an empty
            // name would be the fallback.
            NameRepr::Plain(Plain::Inline { len, bytes }) => bytes
                .get(..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            NameRepr::Shared(name) => name,
        }
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Name {
    fn from(name: &str) -> Name {
        Name::new(name)
    }
}

impl From<String> for Name {
    fn from(name: String) -> Name {
        Name::new(&name)
    }
}

/// A list of feature names in a [`LicenseError`]: the list a gated call site
/// names (`&'static`, no copy), or the one name a check was given.
///
/// Two lists are equal, and hash the same, when they hold the same names in
/// the same order, however each was built:
///
/// ```
/// use license_gate::error::Features;
/// assert_eq!(Features::from_static(&["pro"]), Features::one("pro"));
/// assert_ne!(Features::from_static(&["pro", "export"]), Features::from_static(&["export", "pro"]));
/// ```
#[derive(Clone)]
pub struct Features(FeaturesRepr);

#[derive(Clone)]
enum FeaturesRepr {
    Static(&'static [&'static str]),
    One(Name),
}

impl Features {
    /// No features.
    pub const fn none() -> Features {
        Features(FeaturesRepr::Static(&[]))
    }

    /// A list from gated code (no copy).
    pub const fn from_static(names: &'static [&'static str]) -> Features {
        Features(FeaturesRepr::Static(names))
    }

    /// One feature.
    pub fn one(name: impl Into<Name>) -> Features {
        Features(FeaturesRepr::One(name.into()))
    }

    /// The names, in the order the call gave them.
    pub fn iter(&self) -> FeatureIter<'_> {
        FeatureIter {
            features: self,
            at: 0,
        }
    }

    /// How many names.
    pub fn len(&self) -> usize {
        match &self.0 {
            FeaturesRepr::Static(names) => names.len(),
            FeaturesRepr::One(_) => 1,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, at: usize) -> Option<&str> {
        match &self.0 {
            FeaturesRepr::Static(names) => names.get(at).copied(),
            FeaturesRepr::One(name) => (at == 0).then_some(name.as_str()),
        }
    }

    /// The list joined as `` `a`, `b` `` with `last` before the final name.
    fn join(&self, f: &mut fmt::Formatter<'_>, last: &str) -> fmt::Result {
        let len = self.len();
        for (at, name) in self.iter().enumerate() {
            if at > 0 {
                f.write_str(if at + 1 == len { last } else { ", " })?;
            }
            write!(f, "`{name}`")?;
        }
        Ok(())
    }
}

impl PartialEq for Features {
    fn eq(&self, other: &Features) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Features {}

/// As a slice of names hashes: the length, then each name.
impl std::hash::Hash for Features {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_usize(self.len());
        for name in self {
            name.hash(state);
        }
    }
}

impl fmt::Debug for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Features {
    type Item = &'a str;
    type IntoIter = FeatureIter<'a>;
    fn into_iter(self) -> FeatureIter<'a> {
        self.iter()
    }
}

/// The names of a [`Features`] list (prints as the names it has left).
#[derive(Clone)]
pub struct FeatureIter<'a> {
    features: &'a Features,
    at: usize,
}

impl<'a> Iterator for FeatureIter<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let name = self.features.get(self.at)?;
        self.at += 1;
        Some(name)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.features.len().saturating_sub(self.at);
        (left, Some(left))
    }
}

impl ExactSizeIterator for FeatureIter<'_> {}

impl fmt::Debug for FeatureIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// What a denied call needed: features (all of them, or any one), or only a
/// license for its product.
///
/// Equality and hashing are by value: the same names, and whether any one of
/// them suffices (one feature needed as `any_of` is the same as `all_of`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Required {
    features: Features,
    /// Whether any one of two or more features suffices (never set for fewer,
    /// so that the derived equality is by value).
    any_of: bool,
}

impl Required {
    /// Only a license (`#[licensed]`, `check_product`).
    pub const fn license() -> Required {
        Required {
            features: Features::none(),
            any_of: false,
        }
    }

    /// Every one of `features` (`#[requires_feature("a", "b")]`).
    pub const fn all_of(features: &'static [&'static str]) -> Required {
        Required {
            features: Features::from_static(features),
            any_of: false,
        }
    }

    /// Any one of `features` (`#[requires_feature(any("a", "b"))]`).
    pub const fn any_of(features: &'static [&'static str]) -> Required {
        Required {
            features: Features::from_static(features),
            any_of: features.len() > 1,
        }
    }

    /// One feature (`check_feature`).
    pub fn feature(feature: impl Into<Name>) -> Required {
        Required {
            features: Features::one(feature),
            any_of: false,
        }
    }

    /// The features needed (empty when only a license is).
    pub fn features(&self) -> &Features {
        &self.features
    }

    /// Whether any one of [`Required::features`] suffices.
    pub fn is_any_of(&self) -> bool {
        self.any_of
    }

    /// `` `a` `` / `` any of `a`, `b` `` for the message of a missing feature.
    fn describe_missing<'a>(&'a self, missing: &'a Features) -> impl fmt::Display + 'a {
        Describe(move |f: &mut fmt::Formatter<'_>| {
            if self.is_any_of() {
                f.write_str("any of ")?;
                self.features.join(f, ", ")
            } else {
                missing.join(f, " and ")
            }
        })
    }

    /// ` for `a` and `b`` (or nothing when only a license is needed).
    fn describe_for(&self) -> impl fmt::Display + '_ {
        Describe(move |f: &mut fmt::Formatter<'_>| {
            if self.features.is_empty() {
                return Ok(());
            }
            f.write_str(" for ")?;
            if self.is_any_of() {
                f.write_str("any of ")?;
                self.features.join(f, ", ")
            } else {
                self.features.join(f, " and ")
            }
        })
    }
}

struct Describe<F>(F);

impl<F: Fn(&mut fmt::Formatter<'_>) -> fmt::Result> fmt::Display for Describe<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0)(f)
    }
}

/// What a provider reports when a call did not produce a license answer.
///
/// One vocabulary for every provider and the shared HTTP transport.
/// [`ProviderError::is_transient`] splits it in two: faults of reaching the
/// server (the gate keeps the last confirmed state through the grace period)
/// and explicit refusals (the gate denies at once).
#[derive(Clone, Debug, PartialEq, Eq, Hash, thiserror::Error)]
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
    /// The service refused the application's own credentials, in its
    /// documented shape (ExisOne: HTTP 401/403, the access token is wrong or
    /// lacks the permission for the call; ECOSIRE: HTTP 401 "Invalid
    /// signature", the license secret does not match).
    ///
    /// A configuration fault of the application's vendor, not an answer about
    /// the license: it is transient (the gate keeps the last confirmed state
    /// through the grace period) and the gate logs it at error level.
    #[error(
        "the license server refused this application's credentials (HTTP {status}): {message}; the application's vendor must fix the configured access token (ExisOne) or license secret (ECOSIRE) and its permissions"
    )]
    PermissionDenied {
        /// The HTTP status code.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// An error reply that is not the service's answer about the license: a
    /// page of a proxy, CDN or firewall in front of it (an HTML 403 or 404), a
    /// JSON body of another shape, or a refusal in the service's shape that
    /// names no license state. Transient: it says nothing about the license.
    #[error(
        "the license server's reply (HTTP {status}) is not an answer about the license: {reason}; it starts with {excerpt:?}; if this lasts, check the base URL and what stands in front of the service (a proxy, CDN or firewall)"
    )]
    NotAnAnswer {
        /// The HTTP status code.
        status: u16,
        /// Why the reply is not an answer.
        reason: String,
        /// The start of the reply body.
        excerpt: String,
    },
    /// The service refused the request's time stamp as too far from its own
    /// clock (ECOSIRE signs a `timestamp`): this machine's clock is off.
    /// Transient, so the license is kept through the grace period.
    #[error("the license server refused the request's time stamp ({message}): {}; set this machine's date and time right", match offset_secs { Some(s) if *s > 0 => format!("this machine's clock is {s} s ahead of the server's"), Some(s) if *s < 0 => format!("this machine's clock is {} s behind the server's", s.unsigned_abs()), Some(_) => "this machine's clock agreed with the server's when it answered".to_owned(), None => "the server did not say its time".to_owned() })]
    ClockOff {
        /// How far this machine's clock is ahead of the server's (negative:
        /// behind), in seconds, from the `Date` of the refusing reply; `None`
        /// when it had none.
        offset_secs: Option<i64>,
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
    #[error("activation limit reached{}{}: deactivate the license on another installation first", match (used, limit) { (Some(u), Some(l)) => format!(" ({u} of {l} in use)"), _ => String::new() }, message.as_deref().map(|m| format!(", the server says {m:?}")).unwrap_or_default())]
    ActivationLimitReached {
        /// Activations in use, when known.
        used: Option<u32>,
        /// Activations allowed, when known.
        limit: Option<u32>,
        /// The service's own message, when it sent one (such as "All seats
        /// are in use").
        message: Option<String>,
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
    /// Whether this is no answer about the license: a fault of reaching the
    /// server (connect error, timeout, 5xx, 429, a broken or oversized
    /// reply), an error reply that is not the service's answer about the
    /// license ([`ProviderError::NotAnAnswer`]: a CDN's or firewall's page), a
    /// refusal of the application's credentials
    /// ([`ProviderError::PermissionDenied`]), or a clock off
    /// ([`ProviderError::ClockOff`]).
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
                | ProviderError::PermissionDenied { .. }
                | ProviderError::NotAnAnswer { .. }
                | ProviderError::ClockOff { .. }
        )
    }

    /// Whether the message ends with what to do about it (a status that
    /// carries the error adds no remedy of its own then).
    pub(crate) fn gives_fix(&self) -> bool {
        !matches!(
            self,
            ProviderError::InvalidKey(_)
                | ProviderError::Refused { .. }
                | ProviderError::MalformedReply { .. }
                | ProviderError::ReplyTooLarge { .. }
        )
    }

    /// Whether the service refused the application's own credentials (the
    /// ExisOne access token, the ECOSIRE license secret): a fault the
    /// application's vendor must fix, which the gate logs at error level.
    pub fn is_credentials_fault(&self) -> bool {
        matches!(self, ProviderError::PermissionDenied { .. })
    }

    /// The same error with `key` masked wherever its texts quote it, in any
    /// case, with or without dashes or spaces, or percent-encoded: servers
    /// may echo the license key in a message or a reply excerpt, and errors
    /// reach logs, statuses and users' screens.
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

    /// The same error with every occurrence of `secret` in its texts (in any
    /// spelling, see `redact_text`) replaced by `mask`.
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
            ProviderError::NotAnAnswer {
                status,
                reason,
                excerpt,
            } => ProviderError::NotAnAnswer {
                status,
                reason: r(reason),
                excerpt: r(excerpt),
            },
            ProviderError::ClockOff {
                offset_secs,
                message,
            } => ProviderError::ClockOff {
                offset_secs,
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
            ProviderError::ActivationLimitReached {
                used,
                limit,
                message,
            } => ProviderError::ActivationLimitReached {
                used,
                limit,
                message: message.map(r),
            },
            error @ (ProviderError::Timeout { .. }
            | ProviderError::RateLimited { .. }
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

/// `text` with every occurrence of `secret` replaced by `mask`, however the
/// occurrence is written.
///
/// Servers and proxies echo keys in many spellings, so matching works on the
/// key's letters and digits alone: case is ignored, and dashes, spaces,
/// underscores, dots, slashes and `+` between them are skipped, as are
/// percent-encoded bytes (`%2D`, `%41`). `SHOP-A1B2-C3D4`, `shopa1b2c3d4`,
/// `SHOP A1B2 C3D4` and `SHOP%2DA1B2%2DC3D4` are all masked. Any other
/// character between two letters of the key breaks a match.
pub(crate) fn redact_text(text: String, secret: &str, mask: &str) -> String {
    let needle: Vec<u8> = secret
        .bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_uppercase())
        .collect();
    if needle.is_empty() {
        return text;
    }
    let units = key_units(&text);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i + needle.len() <= units.len() {
        let window = &units[i..i + needle.len()];
        let joined = window.windows(2).all(|pair| pair[0].run == pair[1].run);
        if joined && window.iter().zip(&needle).all(|(u, n)| u.byte == *n) {
            let (start, end) = (window[0].start, window[needle.len() - 1].end);
            out.push_str(&text[copied..start]);
            out.push_str(mask);
            copied = end;
            i += needle.len();
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// One letter or digit of a text as key matching sees it.
struct KeyUnit {
    /// The character, upper case.
    byte: u8,
    /// Where it starts and ends in the text (a percent escape spans 3 bytes).
    start: usize,
    end: usize,
    /// Letters with only separators between them share a run number.
    run: usize,
}

/// The letters and digits of `text`, decoded from percent escapes, with the
/// separators between them dropped and every other character starting a new run.
fn key_units(text: &str) -> Vec<KeyUnit> {
    let bytes = text.as_bytes();
    let is_separator = |b: u8| matches!(b, b'-' | b' ' | b'_' | b'.' | b'/' | b'+' | b'\t');
    let mut units = Vec::new();
    let mut run = 0;
    let mut at = 0;
    while at < bytes.len() {
        let (byte, width) = match bytes[at] {
            b'%' if at + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[at + 1..at + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(decoded) => (decoded, 3),
                    None => (b'%', 1),
                }
            }
            other => (other, 1),
        };
        if byte.is_ascii_alphanumeric() {
            units.push(KeyUnit {
                byte: byte.to_ascii_uppercase(),
                start: at,
                end: at + width,
                run,
            });
        } else if !is_separator(byte) {
            run += 1;
        }
        at += width;
    }
    units
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
    /// `.provider(..)` or `.license_key(..)` was called before any
    /// `.product(..)` (`product` is `None`), or a second time for `product`.
    #[error("{}", describe_misplaced(*setting, product.as_deref()))]
    ProductSetting {
        /// The call.
        setting: ProductSetting,
        /// The product it was given twice for; `None`: before any product.
        product: Option<String>,
    },
    /// The same product was configured twice.
    #[error("product `{product}` is configured twice: give each product one `.product(..)` call")]
    DuplicateProduct {
        /// The product.
        product: String,
    },
    /// A setting of the builder is out of range; the message says which
    /// and what range it takes.
    #[error("{message}")]
    #[non_exhaustive]
    InvalidSetting {
        /// The setting.
        setting: Setting,
        /// What is wrong with it and the range it takes.
        message: String,
    },
    /// A product was named that the gate does not configure.
    #[error(
        "product `{product}` is not configured on this gate: name one given to `.product(..)` on the builder"
    )]
    UnknownProduct {
        /// The product name asked for.
        product: String,
    },
    /// The vendor secret is too short to key anything.
    #[error("the vendor secret has {bytes} bytes: use at least 16 (32 random bytes are best)")]
    VendorSecretTooShort {
        /// How many bytes it has.
        bytes: usize,
    },
    /// `start_blocking` was called on a thread that runs an async runtime,
    /// which it would block.
    #[error(
        "`start_blocking` would block the async runtime it was called on: use `.start().await` there"
    )]
    BlockingInAsyncContext,
    /// The gate could not start its own runtime or thread (for a program
    /// without one): the operating system refused.
    #[error("could not start the license gate's {what}: {detail}")]
    #[non_exhaustive]
    OwnRuntime {
        /// `runtime` or `thread`.
        what: &'static str,
        /// The operating system's error.
        detail: String,
    },
    /// Another gate is already installed as the global gate.
    #[error(
        "a global license gate is already running: shut it down first, or start this one with `.install_global(false)`"
    )]
    AlreadyInstalled,
    /// The gate has been shut down (a call through a clone of its handle).
    #[error("the license gate has been shut down: start a new gate to talk to the license server")]
    ShutDown,
    /// A provider call failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// A gate with licensees was built or used in a way it cannot serve;
    /// `kind` says which, the message says how to fix it.
    #[error("{message}")]
    #[non_exhaustive]
    Licensees {
        /// What was wrong.
        kind: LicenseesMisuse,
        /// What was wrong and what to do, naming the licensee (never its key).
        message: String,
    },
    /// The licensee store could not be read or written; the message says
    /// which store and what to do.
    #[error("{0}")]
    Store(String),
}

impl GateError {
    pub(crate) fn licensees(kind: LicenseesMisuse, message: impl Into<String>) -> GateError {
        GateError::Licensees {
            kind,
            message: message.into(),
        }
    }
}

/// What [`GateError::Licensees`] found wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LicenseesMisuse {
    /// The builder configured more than one product (or none).
    NotOneProduct,
    /// The builder was given a license key; each licensee brings its own.
    KeyOnBuilder,
    /// `.start()` was called outside a tokio runtime.
    NoRuntime,
    /// A licensee was added with a blank machine identity.
    BlankMachine,
    /// The licensee is already added.
    AlreadyAdded,
    /// The licensee is not added.
    NotAdded,
}

/// A per-product builder call named by [`GateError::ProductSetting`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProductSetting {
    /// `.provider(..)` or `.shared_provider(..)`.
    Provider,
    /// `.license_key(..)`.
    LicenseKey,
}

fn describe_misplaced(setting: ProductSetting, product: Option<&str>) -> String {
    let call = match setting {
        ProductSetting::Provider => "`.provider(..)`",
        ProductSetting::LicenseKey => "`.license_key(..)`",
    };
    match product {
        None => format!(
            "{call} was called before any `.product(..)`: name the product first, `.product(\"Name\")`, then give its provider and license key"
        ),
        Some(product) => format!(
            "{call} was called twice for product `{product}`: give each product one, or start another product with `.product(..)` before it"
        ),
    }
}

/// A builder setting named by [`GateError::InvalidSetting`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// `.heartbeat_interval(..)`.
    HeartbeatInterval,
    /// `.grace_period(..)`.
    GracePeriod,
    /// `.startup_timeout(..)`.
    StartupTimeout,
    /// `.request_timeout(..)`.
    RequestTimeout,
    /// `.retry_policy(..)`'s longest delay.
    RetryDelay,
    /// `.jitter(..)`.
    Jitter,
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Setting::HeartbeatInterval => "heartbeat interval",
            Setting::GracePeriod => "grace period",
            Setting::StartupTimeout => "start-up timeout",
            Setting::RequestTimeout => "request timeout",
            Setting::RetryDelay => "retry delay",
            Setting::Jitter => "jitter",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denial_is_small_enough_to_return_by_value() {
        // Gated code returns it on every denied call: no allocation, and a
        // size that stays within a few cache lines' worth of copying.
        assert!(std::mem::size_of::<LicenseError>() <= 120);
        assert_eq!(std::mem::size_of::<Name>(), 24);
        let long = "a-feature-name-longer-than-inline";
        assert_eq!(Name::new(long), long);
        assert_eq!(Name::new("pro"), "pro");
        assert_eq!(Name::new("").as_str(), "");
    }

    fn hash_of(value: &impl std::hash::Hash) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        BuildHasherDefault::<DefaultHasher>::default().hash_one(value)
    }

    /// Every way to hold one feature name: a static list, a name from a
    /// literal, a short name copied inline, a long one shared through an `Arc`.
    fn one_feature_every_way(name: &'static str) -> Vec<Features> {
        let shared: std::sync::Arc<str> = name.into();
        vec![
            Features::from_static(Box::leak(Box::new([name]))),
            Features::one(Name::from_static(name)),
            Features::one(name),
            Features::one(name.to_owned()),
            Features::one(Name::shared(&shared)),
        ]
    }

    #[test]
    fn features_compare_and_hash_by_value_whatever_the_representation() {
        let long = "a-feature-name-longer-than-inline";
        assert!(long.len() > INLINE_NAME);
        for name in ["pro", "", long] {
            let every_way = one_feature_every_way(name);
            for a in &every_way {
                for b in &every_way {
                    assert_eq!(a, b, "{name}");
                    assert_eq!(hash_of(a), hash_of(b), "{name}");
                }
            }
        }
        // Different names, lengths and orders differ.
        let pro = Features::one("pro");
        assert_ne!(pro, Features::one("export"));
        assert_ne!(pro, Features::one(long));
        assert_ne!(pro, Features::none());
        assert_ne!(pro, Features::from_static(&["pro", "export"]));
        assert_ne!(
            Features::from_static(&["pro", "export"]),
            Features::from_static(&["export", "pro"])
        );
        assert_eq!(Features::none(), Features::from_static(&[]));
        assert_eq!(
            hash_of(&Features::none()),
            hash_of(&Features::from_static(&[]))
        );
    }

    #[test]
    fn requirements_and_denials_compare_by_value() {
        // One feature needed: all of one, any of one and a checked name are
        // the same requirement.
        let ways = [
            Required::all_of(&["pro"]),
            Required::any_of(&["pro"]),
            Required::feature("pro"),
            Required::feature(Name::shared(&"pro".into())),
        ];
        for a in &ways {
            for b in &ways {
                assert_eq!(a, b);
                assert_eq!(hash_of(a), hash_of(b));
            }
        }
        assert_ne!(Required::all_of(&["a", "b"]), Required::any_of(&["a", "b"]));
        assert_eq!(Required::any_of(&[]), Required::license());

        let denial =
            |product: Name, missing: Features, required: Required| LicenseError::MissingFeature {
                product,
                missing,
                required,
                status: LicenseStatus::Licensed,
            };
        let gated = denial(
            Name::from_static("Atlas"),
            Features::from_static(&["pro"]),
            Required::all_of(&["pro"]),
        );
        let checked = denial(
            Name::shared(&"Atlas".into()),
            Features::one("pro"),
            Required::feature("pro"),
        );
        assert_eq!(gated, checked);
        assert_eq!(hash_of(&gated), hash_of(&checked));
        let other_status = LicenseError::NotLicensed {
            product: "Atlas".into(),
            required: Required::all_of(&["pro"]),
            status: LicenseStatus::Revoked,
        };
        assert_ne!(gated, other_status);
    }

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

    #[test]
    fn redaction_matches_every_spelling_of_the_key() {
        let key = "SHOP-A1B2-C3D4-E5F6-G7H8";
        let mask = "****-****-****-****-G7H8";
        for echoed in [
            "SHOP-A1B2-C3D4-E5F6-G7H8",
            "shop-a1b2-c3d4-e5f6-g7h8",
            "SHOPA1B2C3D4E5F6G7H8",
            "shopa1b2c3d4e5f6g7h8",
            "SHOP A1B2 C3D4 E5F6 G7H8",
            "SHOP%2DA1B2%2DC3D4%2DE5F6%2DG7H8",
            "shop%2da1b2%2dc3d4%2de5f6%2dg7h8",
            "%53%48%4F%50-A1B2-C3D4-E5F6-G7H8",
            "SHOP_A1B2_C3D4_E5F6_G7H8",
            "SHOP+A1B2+C3D4+E5F6+G7H8",
        ] {
            let text = format!("license {echoed} was not found; key={echoed}&x=1");
            let redacted = redact_text(text.clone(), key, mask);
            assert_eq!(
                redacted,
                format!("license {mask} was not found; key={mask}&x=1"),
                "{echoed}"
            );
        }
        // Another character between two parts breaks the match.
        let apart = "SHOP:A1B2:C3D4:E5F6:G7H8".to_owned();
        assert_eq!(redact_text(apart.clone(), key, mask), apart);
        // Text around a match survives, multi-byte characters included.
        assert_eq!(
            redact_text("é«SHOPA1B2C3D4E5F6G7H8»ü".into(), key, mask),
            format!("é«{mask}»ü")
        );
        // A stray percent sign is not an escape.
        assert_eq!(redact_text("100%".into(), key, mask), "100%");
        assert_eq!(redact_text("%4".into(), key, mask), "%4");
    }
}
