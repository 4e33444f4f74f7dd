//! `license-gate emulate exisone|ecosire`: a loopback emulator with demo
//! licenses, for trying an application or this tool by hand.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use license_gate::hardware_id;
use license_gate_testkit::TestCertificate;
use license_gate_testkit::ecosire::{
    EcosireEmulator, EmulatedLicense as EcosireLicense, EmulatedStatus,
};
use license_gate_testkit::exisone::{
    EmulatedLicense as ExisOneLicense, ExisOneEmulator, OfflineCodeSpec,
};
use serde_json::json;
use tempfile::TempDir;

use crate::cli::EmulateArgs;
use crate::error::{CliError, CliResult};
use crate::report::print_out;

/// The product of the ExisOne demo licenses.
pub const EXISONE_PRODUCT: &str = "Demo Product";
/// The ExisOne demo key, active and activated on this machine.
pub const EXISONE_DEMO_KEY: &str = "DEMO-AAAA-BBBB-0001";
/// The ExisOne corporate demo key: five seats, none used.
pub const EXISONE_CORPORATE_KEY: &str = "CORP-AAAA-BBBB-0002";
/// The ExisOne demo key that has expired.
pub const EXISONE_EXPIRED_KEY: &str = "EXPD-AAAA-BBBB-0003";
/// The ECOSIRE demo key, active with three activation slots.
pub const ECOSIRE_DEMO_KEY: &str = "DEMO-A1B2-C3D4-E5F6-0001";
/// The ECOSIRE demo key that has expired.
pub const ECOSIRE_EXPIRED_KEY: &str = "EXPD-A1B2-C3D4-E5F6-0002";
/// The ECOSIRE demo key that is suspended.
pub const ECOSIRE_SUSPENDED_KEY: &str = "SUSP-A1B2-C3D4-E5F6-0003";
/// The license secret of the ECOSIRE demo keys (public, test-only).
pub const ECOSIRE_SECRET: &str = "demo-license-secret";

const YEAR: Duration = Duration::from_secs(365 * 86_400);
const WARNING: &str =
    "test-only: its keys, token, secret and signing key are public; never use them in production";

/// Now, to the second (demo expiry dates read better without nanoseconds).
fn now() -> SystemTime {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    UNIX_EPOCH + Duration::from_secs(since.as_secs())
}

/// Files the emulator writes for the user, removed when it stops.
struct Files {
    dir: TempDir,
    ca: Option<PathBuf>,
}

impl Files {
    fn new(certificate: Option<&TestCertificate>) -> CliResult<Self> {
        let dir = tempfile::Builder::new()
            .prefix("license-gate-emulator-")
            .tempdir()
            .map_err(|e| CliError::usage(format!("could not create a temporary folder: {e}")))?;
        let mut files = Files { dir, ca: None };
        if let Some(certificate) = certificate {
            files.ca = Some(files.write("ca.pem", certificate.ca_pem())?);
        }
        Ok(files)
    }

    fn write(&self, name: &str, text: &str) -> CliResult<PathBuf> {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text)
            .map_err(|e| CliError::usage(format!("could not write `{}`: {e}", path.display())))?;
        Ok(path)
    }
}

fn listen_error(port: u16, error: std::io::Error) -> CliError {
    CliError::usage(format!(
        "could not listen on 127.0.0.1:{port}: {error}; pick another --port (0 picks a free one)"
    ))
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// Runs the ExisOne emulator until Ctrl-C.
pub async fn exisone(args: &EmulateArgs, json: bool) -> CliResult {
    let certificate = args.tls.then(TestCertificate::localhost);
    let emulator = ExisOneEmulator::start_on_port(args.port, certificate.as_ref())
        .await
        .map_err(|e| listen_error(args.port, e))?;
    let control = emulator.control();
    let machine = hardware_id::hardware_id();
    let now = now();
    control.add_license(
        ExisOneLicense::new(EXISONE_DEMO_KEY, EXISONE_PRODUCT)
            .features(["pro", "export"])
            .expires_at(now + YEAR)
            .email("demo@example.com")
            .activated_on(machine.as_str()),
    );
    control.add_license(
        ExisOneLicense::new(EXISONE_CORPORATE_KEY, EXISONE_PRODUCT)
            .features(["pro"])
            .expires_at(now + YEAR)
            .seats(5),
    );
    control.add_license(
        ExisOneLicense::new(EXISONE_EXPIRED_KEY, EXISONE_PRODUCT)
            .features(["pro"])
            .expires_at(now - Duration::from_secs(86_400))
            .activated_on(machine.as_str()),
    );
    let files = Files::new(certificate.as_ref())?;
    let public_key = files.write("offline-public-key.pem", &control.offline_public_key_pem())?;
    let offline_code = control.mint_offline_code(
        &OfflineCodeSpec::new(EXISONE_PRODUCT, machine.as_str())
            .features(["pro", "export"])
            .expires_at(now + YEAR),
    );
    let url = emulator.url();
    let token = ExisOneEmulator::TOKEN;
    let ca_flag = files
        .ca
        .as_deref()
        .map(|p| format!(" --ca-file {}", shown(p)))
        .unwrap_or_default();

    if json {
        print_out(
            &json!({
                "service": "exisone",
                "base_url": url,
                "access_token": token,
                "product": EXISONE_PRODUCT,
                "keys": {
                    "demo": EXISONE_DEMO_KEY,
                    "corporate": EXISONE_CORPORATE_KEY,
                    "expired": EXISONE_EXPIRED_KEY,
                },
                "offline_public_key_file": shown(&public_key),
                "offline_code": offline_code,
                "ca_file": files.ca.as_deref().map(shown),
            })
            .to_string(),
        );
    } else {
        let mut lines = vec![
            format!("ExisOne emulator running ({WARNING})"),
            format!("  base URL:            {url}"),
            format!("  access token:        {token}"),
            format!("  product:             {EXISONE_PRODUCT}"),
            format!(
                "  demo key:            {EXISONE_DEMO_KEY}  (features pro, export; activated on this machine)"
            ),
            format!("  corporate key:       {EXISONE_CORPORATE_KEY}  (5 seats, none used)"),
            format!("  expired key:         {EXISONE_EXPIRED_KEY}"),
            format!("  offline public key:  {}", shown(&public_key)),
            format!("  offline code for this machine:\n    {offline_code}"),
        ];
        if let Some(ca) = &files.ca {
            lines.push(format!("  CA certificate:      {}", shown(ca)));
        }
        lines.push(String::new());
        lines.push("Try it from another terminal:".to_owned());
        lines.push(format!("  export EXISONE_BASEURL={url}"));
        lines.push(format!("  export EXISONE_ACCESS_TOKEN={token}"));
        lines.push(format!(
            "  license-gate exisone{ca_flag} validate {EXISONE_DEMO_KEY} --product \"{EXISONE_PRODUCT}\""
        ));
        lines.push(format!(
            "  license-gate exisone{ca_flag} activate {EXISONE_CORPORATE_KEY} --email you@example.com --product \"{EXISONE_PRODUCT}\""
        ));
        lines.push(format!(
            "  license-gate exisone{ca_flag} seats {EXISONE_CORPORATE_KEY}"
        ));
        lines.push(format!(
            "  license-gate offline verify --public-key {} <offline code>",
            shown(&public_key)
        ));
        lines.push("Press Ctrl-C to stop.".to_owned());
        print_out(&lines.join("\n"));
    }
    stopped().await;
    drop(emulator);
    drop(files);
    Ok(())
}

/// Runs the ECOSIRE emulator until Ctrl-C.
pub async fn ecosire(args: &EmulateArgs, json: bool) -> CliResult {
    let certificate = args.tls.then(TestCertificate::localhost);
    let emulator = EcosireEmulator::start_on_port(args.port, certificate.as_ref())
        .await
        .map_err(|e| listen_error(args.port, e))?;
    let handle = emulator.handle();
    let now = now();
    handle.add_license(
        EcosireLicense::new(ECOSIRE_DEMO_KEY, ECOSIRE_SECRET)
            .activation_limit(3)
            .expires_at(now + YEAR),
    );
    handle.add_license(
        EcosireLicense::new(ECOSIRE_EXPIRED_KEY, ECOSIRE_SECRET)
            .activation_limit(3)
            .expires_at(now - Duration::from_secs(86_400)),
    );
    handle.add_license(
        EcosireLicense::new(ECOSIRE_SUSPENDED_KEY, ECOSIRE_SECRET)
            .activation_limit(3)
            .status(EmulatedStatus::Suspended),
    );
    let files = Files::new(certificate.as_ref())?;
    let url = emulator.url();
    let ca_flag = files
        .ca
        .as_deref()
        .map(|p| format!(" --ca-file {}", shown(p)))
        .unwrap_or_default();

    if json {
        print_out(
            &json!({
                "service": "ecosire",
                "base_url": url,
                "license_secret": ECOSIRE_SECRET,
                "keys": {
                    "demo": ECOSIRE_DEMO_KEY,
                    "expired": ECOSIRE_EXPIRED_KEY,
                    "suspended": ECOSIRE_SUSPENDED_KEY,
                },
                "ca_file": files.ca.as_deref().map(shown),
            })
            .to_string(),
        );
    } else {
        let mut lines = vec![
            format!("ECOSIRE emulator running ({WARNING})"),
            format!("  base URL:        {url}"),
            format!("  license secret:  {ECOSIRE_SECRET}"),
            format!("  demo key:        {ECOSIRE_DEMO_KEY}  (active, 3 activation slots)"),
            format!("  expired key:     {ECOSIRE_EXPIRED_KEY}"),
            format!("  suspended key:   {ECOSIRE_SUSPENDED_KEY}"),
        ];
        if let Some(ca) = &files.ca {
            lines.push(format!("  CA certificate:  {}", shown(ca)));
        }
        lines.push(String::new());
        lines.push("Try it from another terminal:".to_owned());
        lines.push(format!("  export ECOSIRE_LICENSE_SECRET={ECOSIRE_SECRET}"));
        for call in ["validate", "activate", "deactivate"] {
            lines.push(format!(
                "  license-gate ecosire --base-url {url}{ca_flag} {call} {ECOSIRE_DEMO_KEY} --domain shop.example.com"
            ));
        }
        lines.push("Press Ctrl-C to stop.".to_owned());
        print_out(&lines.join("\n"));
    }
    stopped().await;
    drop(emulator);
    drop(files);
    Ok(())
}

/// Waits for Ctrl-C (or, on Unix, SIGTERM).
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
