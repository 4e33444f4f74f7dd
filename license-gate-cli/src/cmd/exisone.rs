//! `license-gate exisone ...`: thin calls through the ExisOne client.

use std::time::Duration;

use license_gate::exisone::{BASE_URL_ENV, ExisOneClient, ExisOneClientOptions};
use license_gate::hardware_id;

use crate::cli::{ExisOneArgs, ExisOneCall, ExisOneConnection};
use crate::error::{CliError, CliResult};
use crate::input::{arg_or_stdin, env_var, read_file, secret};
use crate::report::{Report, masked, opt, time_value};

/// The environment variable the access token is read from.
pub const TOKEN_ENV: &str = "EXISONE_ACCESS_TOKEN";

/// Runs one ExisOne call.
pub async fn run(args: &ExisOneArgs, json: bool) -> CliResult {
    let client = client(&args.connection)?;
    let hardware_id = hardware_id::hardware_id_or(args.connection.hardware_id.as_deref());
    match &args.call {
        ExisOneCall::Validate {
            key,
            product,
            version,
        } => {
            let key = arg_or_stdin(key, "activation key")?;
            let result = client
                .validate(&key, &hardware_id, product.as_deref(), version.as_deref())
                .await
                .map_err(|e| CliError::provider(&e, Some(&key)))?;
            Report::new()
                .headline(if result.is_valid {
                    "valid: the server says the license is valid on this machine".to_owned()
                } else {
                    format!("not valid: the server says `{}`", result.status)
                })
                .field("key", "key", masked(&key))
                .field("valid", "valid", result.is_valid)
                .field("status", "status", result.status.as_str())
                .field("expires", "expires", time_value(result.expiration_date))
                .field("features", "features", result.features.clone())
                .field("hardware_id", "hardware id", hardware_id.as_str())
                .field(
                    "server_version",
                    "server version",
                    opt(result.server_version.as_deref()),
                )
                .field(
                    "minimum_required_version",
                    "minimum version",
                    opt(result.minimum_required_version.as_deref()),
                )
                .print(json);
            if result.is_valid {
                Ok(())
            } else {
                Err(CliError::not_valid(format!(
                    "the license is not valid (status `{}`): {}",
                    result.status,
                    remedy(&result.status, result.minimum_required_version.as_deref())
                )))
            }
        }
        ExisOneCall::Activate {
            key,
            email,
            product,
            version,
        } => {
            let key = arg_or_stdin(key, "activation key")?;
            let result = client
                .activate(&key, email, &hardware_id, product, version.as_deref())
                .await
                .map_err(|e| CliError::provider(&e, Some(&key)))?;
            Report::new()
                .headline("activated: this machine now holds a seat of the license")
                .field("key", "key", masked(&key))
                .field("activated", "activated", result.success)
                .field("product", "product", product.as_str())
                .field("hardware_id", "hardware id", hardware_id.as_str())
                .field(
                    "server_version",
                    "server version",
                    opt(result.server_version.as_deref()),
                )
                .field(
                    "minimum_required_version",
                    "minimum version",
                    opt(result.minimum_required_version.as_deref()),
                )
                .print(json);
            Ok(())
        }
        ExisOneCall::Deactivate { key, product } => {
            let key = arg_or_stdin(key, "activation key")?;
            client
                .deactivate(&key, &hardware_id, product)
                .await
                .map_err(|e| CliError::provider(&e, Some(&key)))?;
            Report::new()
                .headline("deactivated: this machine's seat is free again")
                .field("key", "key", masked(&key))
                .field("deactivated", "deactivated", true)
                .field("product", "product", product.as_str())
                .field("hardware_id", "hardware id", hardware_id.as_str())
                .print(json);
            Ok(())
        }
        ExisOneCall::Features { key } => {
            let key = arg_or_stdin(key, "activation key")?;
            let features = client
                .get_licensed_features(&key)
                .await
                .map_err(|e| CliError::provider(&e, Some(&key)))?;
            Report::new()
                .field("key", "key", masked(&key))
                .field("features", "features", features)
                .print(json);
            Ok(())
        }
        ExisOneCall::Seats { key } => {
            let key = arg_or_stdin(key, "activation key")?;
            let usage = client.get_seat_usage(&key).await.map_err(|e| {
                let mut error = CliError::provider(&e, Some(&key));
                if matches!(e, license_gate::ProviderError::NotFound { .. })
                    && !error.message.contains("corporate")
                {
                    error.message.push_str(
                        " (seat usage exists only for corporate licenses; other keys answer 404)",
                    );
                }
                error
            })?;
            let max: serde_json::Value = if usage.is_unlimited {
                serde_json::Value::Null
            } else {
                usage.max_seats.into()
            };
            Report::new()
                .field("key", "key", masked(&key))
                .field("current_seats", "seats in use", usage.current_seats)
                .field("max_seats", "seats allowed", max)
                .field("is_unlimited", "unlimited", usage.is_unlimited)
                .field("has_capacity", "has capacity", usage.has_capacity)
                .field("remaining", "seats free", usage.remaining())
                .print(json);
            Ok(())
        }
    }
}

/// A client for the connection flags and environment.
fn client(connection: &ExisOneConnection) -> CliResult<ExisOneClient> {
    let base_url = connection
        .base_url
        .clone()
        .filter(|u| !u.trim().is_empty())
        .or_else(|| env_var(BASE_URL_ENV))
        .ok_or_else(|| {
            CliError::usage(format!(
                "no ExisOne base URL: pass --base-url URL or set {BASE_URL_ENV}"
            ))
        })?;
    // The CLI is the operator's own tool: a loopback `--base-url` (an emulator
    // it runs) may be plain http. Apps never get this from the environment.
    let mut options = ExisOneClientOptions::new(base_url)
        .timeout(Duration::from_secs(connection.timeout.max(1)))
        .allow_insecure_loopback();
    // Without a token the Authorization header is left out, as the ExisOne
    // SDKs do; calls that need one answer 401/403.
    if let Some(token) = secret(
        connection.access_token_file.as_deref(),
        TOKEN_ENV,
        "access token",
    )? {
        options = options.access_token(token);
    }
    if let Some(path) = &connection.ca_file {
        options = options.extra_root_certificate(read_file(path, "CA certificate")?);
    }
    if let Some(id) = &connection.hardware_id {
        options = options.hardware_id_override(id.clone());
    }
    ExisOneClient::new(options).map_err(|e| CliError::provider(&e, None))
}

/// What to do about a status word that is not `licensed`.
fn remedy(status: &str, minimum: Option<&str>) -> String {
    match status.trim().to_ascii_lowercase().as_str() {
        "not_activated" => {
            "activate it on this machine first with `license-gate exisone activate`".to_owned()
        }
        "expired" => "renew the license with the vendor".to_owned(),
        "revoked" => "the vendor revoked it; contact the vendor".to_owned(),
        "suspended" => {
            "the vendor suspended it (often a payment issue); contact the vendor".to_owned()
        }
        "version_outdated" => format!(
            "update the application to version {} or later",
            minimum.unwrap_or("the server's minimum")
        ),
        _ => "check the key and product name, or contact the vendor".to_owned(),
    }
}
