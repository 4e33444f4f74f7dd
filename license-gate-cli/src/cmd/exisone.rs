//! `license-gate exisone ...`: thin calls through the ExisOne client, each
//! sending the request the protocol page gives.

use license_gate::ProviderError;
use license_gate::providers::exisone::{BASE_URL_ENV, ExisOneClient, ExisOneClientOptions};
use license_gate_runtime::hardware_id;

use crate::cli::{ExisOneArgs, ExisOneCall, ExisOneConnection, ExisOneValidateArgs};
use crate::error::{CliError, CliResult, Facts};
use crate::input::{arg_or_stdin, env_var, http_options, read_file, secret};
use crate::report::{Report, masked, opt, time_value};

/// The environment variable the access token is read from.
pub const TOKEN_ENV: &str = "EXISONE_ACCESS_TOKEN";

/// Runs one ExisOne call.
pub async fn run(args: &ExisOneArgs) -> CliResult<Report> {
    let client = client(&args.connection, None)?;
    let hardware_id = hardware_id::hardware_id_or(args.connection.hardware_id.as_deref());
    match &args.call {
        ExisOneCall::Validate(validate) if validate.smart => {
            smart_validate(&args.connection, validate, &hardware_id).await
        }
        ExisOneCall::Validate(ExisOneValidateArgs {
            key,
            product,
            version,
            ..
        }) => {
            let key = arg_or_stdin(key.as_deref().unwrap_or("-"), "activation key")?;
            let result = client
                .validate(&key, &hardware_id, product.as_deref(), version.as_deref())
                .await
                .map_err(|e| CliError::provider(&e, Some(&key)))?;
            let report = Report::new()
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
                );
            if result.is_valid {
                return Ok(report);
            }
            Err(CliError::not_valid(format!(
                "the license is not valid (status `{}`): {}",
                result.status,
                remedy(&result.status, result.minimum_required_version.as_deref())
            ))
            .with_facts(Facts {
                code: Some(result.status.clone()),
                minimum_version: result.minimum_required_version.clone(),
                ..Facts::default()
            })
            .with_report(report))
        }
        ExisOneCall::Activate {
            key,
            email,
            product,
            version,
        } => {
            let key = arg_or_stdin(key, "activation key")?;
            let result = match client
                .activate(&key, email, &hardware_id, product, version.as_deref())
                .await
            {
                Ok(result) => result,
                Err(error) => return Err(with_seat_counts(&client, &key, error).await),
            };
            Ok(Report::new()
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
                ))
        }
        ExisOneCall::Deactivate {
            key,
            product,
            smart,
        } => {
            let key = arg_or_stdin(key, "activation key")?;
            if *smart {
                let result = client.deactivate_smart(&key, &hardware_id, product).await;
                let report = Report::new()
                    .headline(match (result.success, result.server_notified) {
                        (true, true) => "deactivated: this machine's seat is free again",
                        (true, false) => {
                            "deactivated on this machine; the server could not be told (run it again when online to free the seat)"
                        }
                        _ => "not deactivated: the server refused",
                    })
                    .field("key", "key", masked(&key))
                    .field("deactivated", "deactivated", result.success)
                    .field("server_notified", "server told", result.server_notified)
                    .field("product", "product", product.as_str())
                    .field("hardware_id", "hardware id", hardware_id.as_str())
                    .field(
                        "message",
                        "message",
                        opt(result
                            .error_message
                            .as_deref()
                            .map(|m| mask_in(m, &key))
                            .as_deref()),
                    );
                if result.success {
                    return Ok(report);
                }
                // Ask again without the smart wrapper to learn the refusal's facts.
                let error = match client.deactivate(&key, &hardware_id, product).await {
                    Err(error) => CliError::provider(&error, Some(&key)),
                    Ok(()) => CliError::not_valid("the server refused the deactivation"),
                };
                return Err(error.with_report(report));
            }
            client
                .deactivate(&key, &hardware_id, product)
                .await
                .map_err(|e| CliError::provider(&e, Some(&key)))?;
            Ok(Report::new()
                .headline("deactivated: this machine's seat is free again")
                .field("key", "key", masked(&key))
                .field("deactivated", "deactivated", true)
                .field("server_notified", "server told", true)
                .field("product", "product", product.as_str())
                .field("hardware_id", "hardware id", hardware_id.as_str()))
        }
        ExisOneCall::Features { key } => {
            let key = arg_or_stdin(key, "activation key")?;
            let features = client
                .get_licensed_features(&key)
                .await
                .map_err(|e| CliError::provider(&e, Some(&key)))?;
            Ok(Report::new()
                .field("key", "key", masked(&key))
                .field("features", "features", features))
        }
        ExisOneCall::Seats { key } => {
            let key = arg_or_stdin(key, "activation key")?;
            let usage = client.get_seat_usage(&key).await.map_err(|e| {
                let mut error = CliError::provider(&e, Some(&key));
                if matches!(e, ProviderError::NotFound { .. })
                    && !error.message.contains("corporate")
                {
                    error.message.push_str(
                        " (seat usage exists only for corporate licenses; other keys answer 404)",
                    );
                }
                error
            })?;
            let max: serde_json::Value = usage.max_seats.into();
            Ok(Report::new()
                .field("key", "key", masked(&key))
                .field("current_seats", "seats in use", usage.current_seats)
                .field("max_seats", "seats allowed", max)
                .field("is_unlimited", "unlimited", usage.is_unlimited)
                .field("has_capacity", "has capacity", usage.has_capacity)
                .field("remaining", "seats free", usage.remaining()))
        }
        ExisOneCall::GenerateKey {
            product,
            email,
            plan_id,
            validity_days,
        } => {
            if let Some(days) = validity_days
                && *days < 1
            {
                return Err(CliError::usage(format!(
                    "--validity-days {days} is not a number of days: give 1 or more, or leave it out for the plan's default"
                )));
            }
            let key = client
                .generate_activation_key(product, email, *plan_id, *validity_days)
                .await
                .map_err(|e| CliError::provider(&e, None))?;
            // The new key is the point of this call: it is printed in full.
            Ok(Report::new()
                .headline(format!(
                    "generated: a new activation key for {product} (send it to {email})"
                ))
                .field("key", "key", key.expose())
                .field("product", "product", product.as_str())
                .field("email", "email", email.as_str())
                .field("plan_id", "plan id", *plan_id)
                .field("validity_days", "valid for days", *validity_days))
        }
        ExisOneCall::Ticket {
            product,
            email,
            subject,
            message,
        } => {
            let message = arg_or_stdin(message, "ticket message")?;
            if subject.trim().is_empty() {
                return Err(CliError::usage(
                    "the subject is empty: say in a few words what the ticket is about with --subject",
                ));
            }
            client
                .send_support_ticket(product, email, subject, &message)
                .await
                .map_err(|e| CliError::provider(&e, None))?;
            Ok(Report::new()
                .headline("sent: the vendor received the support ticket")
                .field("sent", "sent", true)
                .field("product", "product", product.as_str())
                .field("email", "email", email.as_str())
                .field("subject", "subject", subject.as_str()))
        }
    }
}

/// `validate --smart`: an offline code locally (the server is told when it
/// is valid), an online key on the server with the offline fallback.
async fn smart_validate(
    connection: &ExisOneConnection,
    args: &ExisOneValidateArgs,
    hardware_id: &str,
) -> CliResult<Report> {
    let public_key = match &args.public_key {
        Some(path) => {
            let pem = read_file(path, "public key")?;
            // Checked here so a wrong file is a usage error, not an "invalid code".
            license_gate::providers::exisone::OfflinePublicKey::from_pem(&pem).map_err(|e| {
                CliError::usage(format!(
                    "the public key file `{}` cannot be used: {e}",
                    path.display()
                ))
            })?;
            Some(pem)
        }
        None => None,
    };
    let key = match (&args.offline_code, &args.key) {
        (Some(code), _) => arg_or_stdin(code, "offline code")?,
        (None, Some(key)) => arg_or_stdin(key, "activation key")?,
        (None, None) => {
            return Err(CliError::usage(
                "no key: pass the activation key, or --offline-code CODE",
            ));
        }
    };
    let is_offline = license_gate::providers::exisone::is_offline_code(&key);
    if is_offline && public_key.is_none() {
        return Err(CliError::usage(
            "an offline code is checked with the vendor's public key: pass --public-key FILE",
        ));
    }
    let client = client(connection, public_key)?;
    let result = client
        .validate_smart(&key, hardware_id, args.product.as_deref())
        .await
        .map_err(|e| CliError::provider(&e, Some(&key)))?;
    let shown_key = if is_offline {
        format!("offline code ({} characters)", key.len())
    } else {
        masked(&key)
    };
    let report = Report::new()
        .headline(if result.validation.is_valid {
            if result.was_offline {
                "valid: checked locally (offline)".to_owned()
            } else {
                "valid: the server says the license is valid on this machine".to_owned()
            }
        } else {
            format!(
                "not valid ({}): {}",
                result.validation.status,
                result
                    .error_message
                    .as_deref()
                    .unwrap_or("the license is not valid")
            )
        })
        .field("key", "key", shown_key)
        .field("valid", "valid", result.validation.is_valid)
        .field("status", "status", result.validation.status.as_str())
        .field("was_offline", "checked offline", result.was_offline)
        .field(
            "expires",
            "expires",
            time_value(result.validation.expiration_date),
        )
        .field("features", "features", result.validation.features.clone())
        .field(
            "product_name",
            "product",
            opt(result.product_name.as_deref()),
        )
        .field("hardware_id", "hardware id", hardware_id)
        .field(
            "minimum_required_version",
            "minimum version",
            opt(result.validation.minimum_required_version.as_deref()),
        )
        .field("message", "message", opt(result.error_message.as_deref()));
    if result.validation.is_valid {
        return Ok(report);
    }
    let facts = Facts {
        code: Some(result.validation.status.clone()),
        minimum_version: result.validation.minimum_required_version.clone(),
        ..Facts::default()
    };
    let error = if result.validation.status == "offline" {
        // Not reachable and nothing to check offline: the server's fault.
        CliError::unavailable(
            result
                .error_message
                .clone()
                .unwrap_or_else(|| "the license server could not be reached".to_owned()),
        )
    } else {
        CliError::not_valid(format!(
            "the license is not valid (status `{}`): {}",
            result.validation.status,
            result.error_message.clone().unwrap_or_else(|| remedy(
                &result.validation.status,
                result.validation.minimum_required_version.as_deref()
            ))
        ))
    };
    Err(error.with_facts(facts).with_report(report))
}

/// A seat-limit error completed with the seat counts, which the 409 reply
/// does not carry: a corporate license's usage says them.
async fn with_seat_counts(client: &ExisOneClient, key: &str, error: ProviderError) -> CliError {
    let mut cli_error = CliError::provider(&error, Some(key));
    if let ProviderError::ActivationLimitReached {
        used: None,
        limit: None,
        message,
    } = &error
        && let Ok(usage) = client.get_seat_usage(key).await
    {
        let usage = license_gate::SeatUsage::from(usage);
        let completed = ProviderError::ActivationLimitReached {
            used: Some(usage.used),
            limit: usage.limit,
            message: message.clone(),
        };
        cli_error = CliError::provider(&completed, Some(key));
    }
    cli_error
}

/// `text` with `key` masked.
fn mask_in(text: &str, key: &str) -> String {
    ProviderError::Config(text.to_owned())
        .redact_key(&license_gate::LicenseKey::new(key))
        .to_string()
}

/// The client options for the connection flags and environment: the one
/// place the CLI configures ExisOne (the calls and `watch` both use it).
pub fn options(
    connection: &ExisOneConnection,
    public_key: Option<String>,
) -> CliResult<ExisOneClientOptions> {
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
    // Every call is refused without a token, so none is sent without one.
    let token = secret(
        connection.access_token_file.as_deref(),
        TOKEN_ENV,
        "access token",
    )?
    .ok_or_else(|| {
        CliError::usage(format!(
            "no ExisOne access token: set {TOKEN_ENV} to the token itself, or put it in a file and pass --access-token-file FILE (the token is in the ExisOne dashboard)"
        ))
    })?;
    let http = http_options(connection.timeout, connection.ca_file.as_deref())?;
    let mut options = ExisOneClientOptions::new(base_url)
        .http(http)
        .access_token(token);
    if let Some(id) = &connection.hardware_id {
        options = options.hardware_id_override(id.clone());
    }
    if let Some(pem) = public_key {
        options = options.offline_public_key(pem);
    }
    Ok(options)
}

/// A client for the connection flags and environment.
fn client(connection: &ExisOneConnection, public_key: Option<String>) -> CliResult<ExisOneClient> {
    ExisOneClient::new(options(connection, public_key)?).map_err(|e| CliError::provider(&e, None))
}

/// What to do about a status word that is not `licensed`.
pub fn remedy(status: &str, minimum: Option<&str>) -> String {
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
