//! Reading arguments, files, secrets and the environment.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use license_gate::providers::HttpOptions;

use crate::error::{CliError, CliResult};

/// The value of a positional argument, or stdin when it is `-`.
pub fn arg_or_stdin(value: &str, what: &str) -> CliResult<String> {
    let text = if value == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::usage(format!("could not read the {what} from stdin: {e}")))?;
        text
    } else {
        value.to_owned()
    };
    let text = text.trim().to_owned();
    if text.is_empty() {
        return Err(CliError::usage(format!(
            "the {what} is empty: pass it as an argument, or `-` and pipe it to stdin"
        )));
    }
    Ok(text)
}

/// The text of a file, with an error naming the file and what it was for.
pub fn read_file(path: &Path, what: &str) -> CliResult<String> {
    std::fs::read_to_string(path).map_err(|e| {
        CliError::usage(format!(
            "could not read the {what} from `{}`: {e}",
            path.display()
        ))
    })
}

/// A secret from a file or, without a file, from the environment variable
/// `env`; `None` when neither gives one. The secret is never put in an error.
pub fn secret(file: Option<&Path>, env: &str, what: &str) -> CliResult<Option<String>> {
    if let Some(path) = file {
        let text = read_file(path, what)?;
        let text = text.trim();
        if text.is_empty() {
            return Err(CliError::usage(format!(
                "the {what} file `{}` is empty: put the {what} in it",
                path.display()
            )));
        }
        return Ok(Some(text.to_owned()));
    }
    match std::env::var(env) {
        Ok(value) if !value.trim().is_empty() => Ok(Some(value.trim().to_owned())),
        _ => Ok(None),
    }
}

/// An environment variable that is set and not blank.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The connection settings of either service's calls: `--timeout` seconds
/// (at least one) and an extra trusted root from `--ca-file`.
///
/// The CLI is the operator's own tool, so a loopback `--base-url` (an
/// emulator it runs) may be plain http. Apps never get this from the
/// environment.
pub fn http_options(timeout_seconds: u64, ca_file: Option<&Path>) -> CliResult<HttpOptions> {
    let http = HttpOptions::new()
        .timeout(Duration::from_secs(timeout_seconds.max(1)))
        .allow_insecure_loopback();
    Ok(match ca_file {
        Some(path) => http.extra_root_certificate(read_file(path, "CA certificate")?),
        None => http,
    })
}
