//! Failures of a command: one line for the user, the exit code, and the
//! facts a script reads from `--json` (`{"ok": false, "error": {...}}`).

use std::fmt;
use std::process::ExitCode;

use license_gate::{LicenseKey, ProviderError};
use serde_json::{Value, json};

use crate::report::Report;

/// Why a command did not succeed, sorted by what the user should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The license or code is not valid, or the server refused the request.
    NotValid,
    /// Wrong usage or configuration; nothing was sent.
    Usage,
    /// The server could not be reached or its reply could not be read.
    Unavailable,
}

impl Kind {
    /// The process exit code of this kind (see the `--help` text).
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(self.code())
    }

    /// The number behind [`Kind::exit_code`].
    pub fn code(self) -> u8 {
        match self {
            Kind::NotValid => 1,
            Kind::Usage => 2,
            Kind::Unavailable => 3,
        }
    }
}

/// What the server's reply carried, for `--json` (every field null when unknown).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The HTTP status of the reply.
    pub http_status: Option<u16>,
    /// The service's machine code (`version_outdated`) or the status word (`revoked`).
    pub code: Option<String>,
    /// The service's own message.
    pub server_message: Option<String>,
    /// The oldest application version the server accepts.
    pub minimum_version: Option<String>,
    /// Seats or activations in use.
    pub seats_used: Option<u32>,
    /// Seats or activations allowed.
    pub seats_limit: Option<u32>,
    /// Seconds the server asked the client to wait.
    pub retry_after_seconds: Option<u64>,
}

/// A failure: printed as `error: {message}` on stderr, and with `--json` as
/// the `error` object on stdout.
#[derive(Debug)]
pub struct CliError {
    /// What the user should do about it.
    pub kind: Kind,
    /// A stable machine name: `usage`, `not_valid`, `refused`, `not_found`, ...
    pub name: &'static str,
    /// One line saying what went wrong and what to do.
    pub message: String,
    /// What the reply carried (boxed: errors travel in every `Result`).
    pub facts: Box<Facts>,
    /// The answer that was read before the failure was decided (a validation
    /// saying "not valid"), printed with it.
    pub report: Option<Box<Report>>,
}

impl CliError {
    fn new(kind: Kind, name: &'static str, message: impl Into<String>) -> Self {
        CliError {
            kind,
            name,
            message: message.into(),
            facts: Box::default(),
            report: None,
        }
    }

    /// A negative answer (exit code 1).
    pub fn not_valid(message: impl Into<String>) -> Self {
        Self::new(Kind::NotValid, "not_valid", message)
    }

    /// A usage or configuration problem (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, "usage", message)
    }

    /// A local failure outside the user's control, such as a runtime that
    /// would not start (exit code 3).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(Kind::Unavailable, "unavailable", message)
    }

    /// Adds what the reply carried.
    pub fn with_facts(mut self, facts: Facts) -> Self {
        self.facts = Box::new(facts);
        self
    }

    /// Adds the answer read before the failure.
    pub fn with_report(mut self, report: Report) -> Self {
        self.report = Some(Box::new(report));
        self
    }

    /// A provider error, with `key` (when given) masked out of the message in
    /// case a server echoed it.
    pub fn provider(error: &ProviderError, key: Option<&str>) -> Self {
        let error = match key {
            Some(key) => error.clone().redact_key(&LicenseKey::new(key)),
            None => error.clone(),
        };
        let kind = match &error {
            ProviderError::Config(_) | ProviderError::InvalidKey(_) => Kind::Usage,
            // A refused access token is transient for a gate (grace), but a
            // command that needs it has failed for good.
            ProviderError::PermissionDenied { .. } => Kind::NotValid,
            e if e.is_transient() => Kind::Unavailable,
            _ => Kind::NotValid,
        };
        let mut facts = Facts {
            retry_after_seconds: error.retry_after().map(|d| d.as_secs()),
            ..Facts::default()
        };
        let name = match &error {
            ProviderError::Config(_) => "config",
            ProviderError::InvalidKey(_) => "invalid_key",
            ProviderError::Unreachable { .. } => "unreachable",
            ProviderError::Timeout { .. } => "timeout",
            ProviderError::ServerFault { status, .. } => {
                facts.http_status = Some(*status);
                "server_fault"
            }
            ProviderError::RateLimited { .. } => {
                facts.http_status = Some(429);
                "rate_limited"
            }
            ProviderError::Refused {
                status,
                code,
                message,
                minimum_required_version,
            } => {
                facts.http_status = Some(*status);
                facts.code = code.clone();
                facts.server_message = Some(message.clone());
                facts.minimum_version = minimum_required_version.clone();
                "refused"
            }
            ProviderError::PermissionDenied { status, message } => {
                facts.http_status = Some(*status);
                facts.server_message = Some(message.clone());
                "permission_denied"
            }
            ProviderError::NotFound { message } => {
                facts.http_status = Some(404);
                facts.server_message = Some(message.clone());
                "not_found"
            }
            ProviderError::ActivationLimitReached {
                used,
                limit,
                message,
            } => {
                facts.http_status = Some(409);
                facts.seats_used = *used;
                facts.seats_limit = *limit;
                facts.server_message = message.clone();
                "activation_limit_reached"
            }
            ProviderError::MalformedReply { status, .. } => {
                facts.http_status = Some(*status);
                "malformed_reply"
            }
            ProviderError::ReplyTooLarge { .. } => "reply_too_large",
            ProviderError::NotAnAnswer { status, .. } => {
                facts.http_status = Some(*status);
                "not_an_answer"
            }
            ProviderError::ClockOff { message, .. } => {
                facts.server_message = Some(message.clone());
                "clock_off"
            }
            _ => "provider",
        };
        let mut message = error.to_string();
        if let Some(minimum) = &facts.minimum_version
            && !message.contains(minimum.as_str())
        {
            message.push_str(&format!(
                " (the server accepts version {minimum} or later: update the application)"
            ));
        }
        if matches!(error, ProviderError::Unreachable { .. }) && message.contains("certificate") {
            message.push_str(
                " (for a private CA or an emulator started with --tls, pass its CA certificate with --ca-file)",
            );
        }
        CliError {
            kind,
            name,
            message,
            facts: Box::new(facts),
            report: None,
        }
    }

    /// The `error` object of the `--json` output.
    pub fn to_json(&self) -> Value {
        json!({
            "kind": self.name,
            "exit_code": self.kind.code(),
            "message": one_line(&self.message),
            "http_status": self.facts.http_status,
            "code": self.facts.code,
            "server_message": self.facts.server_message,
            "minimum_version": self.facts.minimum_version,
            "seats_used": self.facts.seats_used,
            "seats_limit": self.facts.seats_limit,
            "retry_after_seconds": self.facts.retry_after_seconds,
        })
    }
}

/// The text on one line, control characters replaced by spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", one_line(&self.message))
    }
}

/// The result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;
