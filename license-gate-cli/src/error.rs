//! Failures of a command: one line for the user and the exit code.

use std::fmt;
use std::process::ExitCode;

use license_gate::{LicenseKey, ProviderError};

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
        ExitCode::from(match self {
            Kind::NotValid => 1,
            Kind::Usage => 2,
            Kind::Unavailable => 3,
        })
    }
}

/// A failure: printed as `error: {message}` on stderr.
#[derive(Clone, Debug)]
pub struct CliError {
    /// What the user should do about it.
    pub kind: Kind,
    /// One line saying what went wrong and what to do.
    pub message: String,
}

impl CliError {
    /// A negative answer (exit code 1).
    pub fn not_valid(message: impl Into<String>) -> Self {
        CliError {
            kind: Kind::NotValid,
            message: message.into(),
        }
    }

    /// A usage or configuration problem (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            kind: Kind::Usage,
            message: message.into(),
        }
    }

    /// A provider error, with `key` (when given) masked out of the message in
    /// case a server echoed it.
    pub fn provider(error: &ProviderError, key: Option<&str>) -> Self {
        let kind = match error {
            ProviderError::Config(_) | ProviderError::InvalidKey(_) => Kind::Usage,
            e if e.is_transient() => Kind::Unavailable,
            _ => Kind::NotValid,
        };
        let mut message = match key {
            Some(key) => error.clone().redact_key(&LicenseKey::new(key)).to_string(),
            None => error.to_string(),
        };
        if matches!(error, ProviderError::Unreachable { .. }) && message.contains("certificate") {
            message.push_str(
                " (for a private CA or an emulator started with --tls, pass its CA certificate with --ca-file)",
            );
        }
        CliError { kind, message }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the message holds.
        let line: String = self
            .message
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        write!(f, "error: {line}")
    }
}

/// The result of a command.
pub type CliResult<T = ()> = Result<T, CliError>;
