//! `license-gate watch exisone|ecosire`: a real gate against a service,
//! printing every change of the license state as one JSON line until Ctrl-C,
//! SIGTERM or the end of piped stdin.

use std::time::{Duration, SystemTime};

use license_gate::providers::ecosire::{EcosireProvider, check_key};
use license_gate::providers::exisone::ExisOneProvider;
use license_gate::{
    LicenseGate, LicenseKey, LicenseStatus, ProductState, RetryPolicy, provider::Provider,
};
use serde_json::{Value, json};

use crate::cli::{WatchEcosireArgs, WatchExisOneArgs, WatchGate};
use crate::error::{CliError, CliResult, Facts};
use crate::report::{print_out, time_value};

/// Watches an ExisOne license.
pub async fn exisone(args: &WatchExisOneArgs) -> CliResult {
    let key = args.key.trim();
    if key.is_empty() {
        return Err(CliError::usage(
            "the activation key is empty: pass it as KEY",
        ));
    }
    let product = args.product.trim();
    if product.is_empty() {
        return Err(CliError::usage(
            "the product name is empty: pass it as the application configures it, with --product",
        ));
    }
    if args.gate.activate && args.email.trim().is_empty() {
        return Err(CliError::usage(
            "activation sends the licensee's email address: pass --email with --activate",
        ));
    }
    let options = super::exisone::options(&args.connection, None)?;
    let mut provider =
        ExisOneProvider::from_options(options).map_err(|e| CliError::provider(&e, None))?;
    provider = provider.email(args.email.trim());
    if let Some(version) = &args.version {
        provider = provider.app_version(version.trim());
    }
    watch(
        product,
        provider,
        key,
        &args.gate,
        args.connection.hardware_id.as_deref(),
    )
    .await
}

/// Watches an ECOSIRE license.
pub async fn ecosire(args: &WatchEcosireArgs) -> CliResult {
    let key = check_key(&LicenseKey::new(args.key.trim()))
        .map_err(|e| CliError::provider(&e, Some(args.key.trim())))?;
    let domain = args.domain.trim();
    if domain.is_empty() {
        return Err(CliError::usage(
            "the domain is empty: pass the shop or site domain with --domain",
        ));
    }
    let options = super::ecosire::options(&args.connection)?;
    let provider = EcosireProvider::from_options(options)
        .map_err(|e| CliError::provider(&e, None))?
        .domain(domain)
        .features(args.features.iter().map(|f| f.trim().to_owned()))
        .activate_on_first_validation(args.gate.activate);
    watch(
        args.product.trim(),
        provider,
        key.expose(),
        &args.gate,
        None,
    )
    .await
}

/// Runs the gate and prints its changes until told to stop.
async fn watch(
    product: &str,
    provider: impl Provider,
    key: &str,
    settings: &WatchGate,
    hardware_id: Option<&str>,
) -> CliResult {
    let mut signals = super::Signals::listen();
    if settings.interval == 0 {
        return Err(CliError::usage(
            "--interval 0 would validate without pause: give 1 second or more",
        ));
    }
    let interval = Duration::from_secs(settings.interval);
    let mut builder = LicenseGate::builder()
        .product(product)
        .provider(provider)
        .license_key(key)
        .heartbeat_interval(interval)
        .grace_period(Duration::from_secs(settings.grace))
        // Retries while the server is away come no later than the next beat.
        .retry_policy(RetryPolicy::new(
            interval.min(Duration::from_secs(30)),
            interval.max(Duration::from_secs(1)),
        ))
        .startup_timeout(Duration::from_secs(10))
        // A watcher must not leave files behind or grant from a cache.
        .no_cache()
        .install_global(false);
    if let Some(id) = hardware_id {
        builder = builder.hardware_id(id);
    }
    let gate = builder.start().await.map_err(|e| match e {
        license_gate::GateError::Provider(e) => CliError::provider(&e, Some(key)),
        other => CliError::usage(other.to_string()),
    })?;
    if settings.activate
        && let Err(error) = gate.activate().await
    {
        let error = match error {
            license_gate::GateError::Provider(e) => CliError::provider(&e, Some(key)),
            other => CliError::not_valid(other.to_string()),
        };
        gate.shutdown().await;
        return Err(error);
    }
    let mut changes = gate.subscribe();
    let mut last: Option<Value> = None;
    let stop = stopped(&mut signals);
    tokio::pin!(stop);
    loop {
        let state = gate.product_state();
        let line = line_of(&state, key);
        // The `at` field differs on every line; compare the rest.
        let mut compared = line.clone();
        compared["at"] = Value::Null;
        if last.as_ref() != Some(&compared) {
            print_out(&line.to_string());
            last = Some(compared);
        }
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            () = &mut stop => break,
        }
    }
    let state = gate.product_state();
    gate.shutdown().await;
    finish(&state.status)
}

/// The exit of a watch: as `validate` would have ended with the last status.
fn finish(status: &LicenseStatus) -> CliResult {
    match status {
        s if s.grants_access() => Ok(()),
        LicenseStatus::Pending { reason } => Err(CliError::unavailable(format!(
            "the license server never answered while watching ({reason}): check the base URL and the network"
        ))),
        other => Err(CliError::not_valid(format!(
            "the license is not valid when the watch ended: {other}"
        ))
        .with_facts(Facts {
            code: Some(other.name().to_owned()),
            minimum_version: match other {
                LicenseStatus::VersionOutdated { minimum } => Some(minimum.to_string()),
                _ => None,
            },
            ..Facts::default()
        })),
    }
}

/// One JSON line of a state: `at`, `product`, `status`, `features`, `until`
/// (when the status ends by itself: the grace deadline, or a license's
/// expiry; null otherwise) and
/// `reason` (why access is denied, null when granted).
fn line_of(state: &ProductState, key: &str) -> Value {
    let status = &state.status;
    // Only a granting status ends by itself: grace at its deadline, a
    // license at its expiry.
    let until = match status {
        LicenseStatus::Grace { until } => Some(*until),
        LicenseStatus::Licensed => state.expires_at,
        _ => None,
    };
    let reason = match status {
        LicenseStatus::Licensed | LicenseStatus::Grace { .. } => None,
        LicenseStatus::Invalid { reason }
        | LicenseStatus::Unlicensed { reason }
        | LicenseStatus::Pending { reason } => Some(reason.to_string()),
        other => Some(other.to_string()),
    }
    // The key never reaches the output, even when a server echoed it.
    .map(|r| {
        license_gate::ProviderError::Config(r)
            .redact_key(&LicenseKey::new(key))
            .to_string()
    });
    json!({
        "at": license_gate_testkit::instant::format_instant(SystemTime::now()),
        "product": state.product,
        "status": status.name(),
        "features": state.features.iter().collect::<Vec<_>>(),
        "until": time_value(until),
        "reason": reason,
        "minimum_version": match status {
            LicenseStatus::VersionOutdated { minimum } => Value::from(&**minimum),
            _ => Value::Null,
        },
    })
}

/// Ends on Ctrl-C, SIGTERM, or the end of stdin when stdin is a pipe (so a
/// parent process stops the watch by closing it; a terminal or /dev/null
/// does not end it).
async fn stopped(signals: &mut super::Signals) {
    let eof = async {
        if !stdin_is_pipe() {
            return std::future::pending::<()>().await;
        }
        let (send, receive) = tokio::sync::oneshot::channel::<()>();
        // A plain thread: a blocking read must not hold the runtime at exit.
        std::thread::spawn(move || {
            let mut sink = [0u8; 4096];
            let mut stdin = std::io::stdin();
            while matches!(std::io::Read::read(&mut stdin, &mut sink), Ok(n) if n > 0) {}
            let _ = send.send(());
        });
        let _ = receive.await;
    };
    tokio::select! {
        () = signals.recv() => {}
        () = eof => {}
    }
}

#[cfg(unix)]
fn stdin_is_pipe() -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata("/dev/stdin")
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn stdin_is_pipe() -> bool {
    false
}
