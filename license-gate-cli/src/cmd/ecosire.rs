//! `license-gate ecosire validate|activate|deactivate`: thin calls through
//! the ECOSIRE client.

use license_gate::LicenseKey;
use license_gate::providers::ecosire::{EcosireClient, EcosireOptions, SECRET_ENV, check_key};

use crate::cli::{EcosireArgs, EcosireCall, EcosireConnection};
use crate::error::{CliError, CliResult, Facts};
use crate::input::{arg_or_stdin, http_options, secret};
use crate::report::{Report, masked, opt, time_value};

/// Runs one ECOSIRE call.
pub async fn run(args: &EcosireArgs) -> CliResult<Report> {
    let target = match &args.call {
        EcosireCall::Validate(target)
        | EcosireCall::Activate(target)
        | EcosireCall::Deactivate(target) => target,
    };
    let key_text = arg_or_stdin(&target.key, "license key")?;
    // The format is checked before anything else, so a typo is reported
    // without a secret or a request.
    let key = check_key(&LicenseKey::new(key_text.as_str()))
        .map_err(|e| CliError::provider(&e, Some(&key_text)))?;
    let domain = target.domain.trim();
    if domain.is_empty() {
        return Err(CliError::usage(
            "the domain is empty: pass the shop or site domain with --domain",
        ));
    }
    let client = client(&args.connection)?;
    let fail = |e: license_gate::ProviderError| CliError::provider(&e, Some(key.expose()));
    let shown_key = masked(key.expose());
    match &args.call {
        EcosireCall::Validate(_) => {
            let reply = client.validate(&key, domain).await.map_err(fail)?;
            let license = reply.license.clone().unwrap_or_default();
            let status = reply.status().map(|s| s.as_str().to_owned());
            let report = Report::new()
                .headline(if reply.valid {
                    format!("valid: the server says the license is valid for {domain}")
                } else {
                    format!(
                        "not valid: {}",
                        reply
                            .message
                            .as_deref()
                            .unwrap_or("the server says the license is not valid")
                    )
                })
                .field("key", "key", shown_key)
                .field("domain", "domain", domain)
                .field("valid", "valid", reply.valid)
                .field("status", "status", opt(status.as_deref()))
                .field("expires", "expires", time_value(license.expires_at))
                .field(
                    "activations_count",
                    "activations",
                    license.activations_count,
                )
                .field(
                    "activations_limit",
                    "activation limit",
                    license.activations_limit,
                )
                .field("platform", "platform", opt(license.platform.as_deref()))
                .field(
                    "platform_version",
                    "platform version",
                    opt(license.platform_version.as_deref()),
                )
                .field("message", "message", opt(reply.message.as_deref()));
            if reply.valid {
                Ok(report)
            } else {
                Err(CliError::not_valid(format!(
                    "the license is not valid for {domain}{}: {}",
                    status
                        .as_deref()
                        .map(|s| format!(" (status `{s}`)"))
                        .unwrap_or_default(),
                    reply
                        .message
                        .as_deref()
                        .unwrap_or("check the key and the domain, or contact the vendor")
                ))
                .with_facts(Facts {
                    code: status,
                    server_message: reply.message.clone(),
                    seats_used: license.activations_count,
                    seats_limit: license.activations_limit,
                    ..Facts::default()
                })
                .with_report(report))
            }
        }
        EcosireCall::Activate(_) => {
            let reply = match client.activate(&key, domain).await {
                Ok(reply) => reply,
                Err(error) => return Err(with_counts(&client, &key, domain, error).await),
            };
            let report = Report::new()
                .headline(if reply.activated {
                    format!("activated: {domain} holds an activation slot of the license")
                } else {
                    format!("not activated: {}", reply.message.as_deref().unwrap_or("-"))
                })
                .field("key", "key", shown_key)
                .field("domain", "domain", domain)
                .field("activated", "activated", reply.activated)
                .field("activations_count", "activations", reply.activations_count)
                .field(
                    "activations_limit",
                    "activation limit",
                    reply.activations_limit,
                )
                .field("message", "message", opt(reply.message.as_deref()));
            if reply.activated {
                Ok(report)
            } else {
                Err(CliError::not_valid(format!(
                    "the server did not activate {domain}: {}",
                    reply.message.as_deref().unwrap_or("no reason given")
                ))
                .with_facts(Facts {
                    server_message: reply.message.clone(),
                    seats_used: reply.activations_count,
                    seats_limit: reply.activations_limit,
                    ..Facts::default()
                })
                .with_report(report))
            }
        }
        EcosireCall::Deactivate(_) => {
            let reply = client.deactivate(&key, domain).await.map_err(fail)?;
            let report = Report::new()
                .headline(if reply.deactivated {
                    format!("deactivated: the activation slot of {domain} is free again")
                } else {
                    format!(
                        "not deactivated: {}",
                        reply.message.as_deref().unwrap_or("-")
                    )
                })
                .field("key", "key", shown_key)
                .field("domain", "domain", domain)
                .field("deactivated", "deactivated", reply.deactivated)
                .field("activations_count", "activations", reply.activations_count)
                .field("message", "message", opt(reply.message.as_deref()));
            if reply.deactivated {
                Ok(report)
            } else {
                Err(CliError::not_valid(format!(
                    "the server did not deactivate {domain}: {}",
                    reply.message.as_deref().unwrap_or("no reason given")
                ))
                .with_facts(Facts {
                    server_message: reply.message.clone(),
                    seats_used: reply.activations_count,
                    ..Facts::default()
                })
                .with_report(report))
            }
        }
    }
}

/// A seat-limit error completed with the counts ("2 of 2"), which the 409
/// reply does not carry: a validation says them.
async fn with_counts(
    client: &EcosireClient,
    key: &LicenseKey,
    domain: &str,
    error: license_gate::ProviderError,
) -> CliError {
    if let license_gate::ProviderError::ActivationLimitReached {
        used: None,
        limit: None,
        message,
    } = &error
        && let Ok(reply) = client.validate(key, domain).await
        && let Some(license) = reply.license
    {
        let completed = license_gate::ProviderError::ActivationLimitReached {
            used: license.activations_count,
            limit: license.activations_limit,
            message: message.clone(),
        };
        return CliError::provider(&completed, Some(key.expose()));
    }
    CliError::provider(&error, Some(key.expose()))
}

/// The client options for the connection flags and environment: the one
/// place the CLI configures ECOSIRE (the calls and `watch` both use it).
pub fn options(connection: &EcosireConnection) -> CliResult<EcosireOptions> {
    let secret = secret(connection.secret_file.as_deref(), SECRET_ENV, "license secret")?
        .ok_or_else(|| {
            CliError::usage(format!(
                "no ECOSIRE license secret: set {SECRET_ENV} to the secret itself, or put it in a file and pass --secret-file FILE (the secret is in the ECOSIRE dashboard)"
            ))
        })?;
    let http = http_options(connection.timeout, connection.ca_file.as_deref())?;
    let mut options = EcosireOptions::new(connection.base_url.trim())
        .license_secret(secret)
        .http(http);
    match (
        &connection.platform,
        &connection.platform_version,
        &connection.odoo_version,
    ) {
        (Some(name), Some(version), _) => options = options.platform(name, version),
        (_, _, Some(version)) => options = options.odoo_version(version),
        _ => {}
    }
    Ok(options)
}

/// A client for the connection flags and environment.
fn client(connection: &EcosireConnection) -> CliResult<EcosireClient> {
    EcosireClient::new(options(connection)?).map_err(|e| CliError::provider(&e, None))
}
