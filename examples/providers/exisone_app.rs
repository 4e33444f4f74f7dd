//! An application licensed through ExisOne: on the first run it activates the
//! buyer's key with their email address, then the heartbeat validates it, and
//! a revocation by the vendor reaches the application at the next heartbeat.
//!
//! The licensing service is the testkit's ExisOne emulator on 127.0.0.1,
//! spoken to over real HTTP, so the example needs no account and no network.
//! In your application the server URL and the access token are your ExisOne
//! server's, and the license key and email come from the activation dialog.
//!
//! ```text
//! cargo run -p examples-providers --example exisone_app
//! ```

use std::time::{Duration, Instant};

use license_gate::providers::HttpOptions;
use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
use license_gate::{LicenseError, LicenseGate, LicenseKey, requires_feature};
use license_gate_testkit::exisone::{EmulatedLicense, ExisOneEmulator};

const PRODUCT: &str = "Atlas Studio";
/// The key the buyer received after the purchase.
const LICENSE_KEY: &str = "ATLS-7Q2M-K9PD-X4RW";
/// Asked once, in the activation dialog: ExisOne records who activated.
const BUYER_EMAIL: &str = "buyer@example.com";

/// How the application reaches the licensing service: every option of the
/// ExisOne client is set here and nowhere else.
fn exisone_options(server_url: &str) -> ExisOneClientOptions {
    // The emulator listens on plain http on loopback: allowed only because the
    // code opts in; an app talking to the real service never does.
    ExisOneClientOptions::new(server_url)
        .access_token(ExisOneEmulator::TOKEN)
        .http(
            HttpOptions::new()
                .allow_insecure_loopback()
                .timeout(Duration::from_secs(5)),
        )
}

#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error(transparent)]
    License(#[from] LicenseError),
}

#[requires_feature("export")]
fn export_project(name: &str) -> Result<String, AppError> {
    Ok(format!("exported {name}.atlas"))
}

/// Stands in for the vendor's server: an emulator that knows one license,
/// not yet activated on any machine.
async fn start_license_server() -> std::io::Result<ExisOneEmulator> {
    let server = ExisOneEmulator::start().await?;
    server
        .control()
        .add_license(EmulatedLicense::new(LICENSE_KEY, PRODUCT).features(["pro", "export"]));
    Ok(server)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = start_license_server().await?;
    let vendor = server.control();
    // A throwaway cache folder, so the example leaves nothing in yours.
    let cache = tempfile::tempdir()?;

    let provider =
        ExisOneProvider::from_options(exisone_options(&server.url()))?.email(BUYER_EMAIL);
    let gate = LicenseGate::builder()
        .app_version(env!("CARGO_PKG_VERSION"))
        .product(PRODUCT)
        .provider(provider)
        .license_key(LICENSE_KEY)
        .cache_dir(cache.path())
        // One second so the example ends quickly; the default is 24 hours.
        .heartbeat_interval(Duration::from_secs(1))
        .start()
        .await?;
    println!(
        "key {} on a fresh machine: {}",
        LicenseKey::new(LICENSE_KEY),
        gate.status()
    );

    // First run: ExisOne knows the key but not this machine, and says
    // `not_activated`. Activation binds the key to this machine's hardware ID
    // and sends the email given to the provider.
    // (Built with `.activate_on_first_use(true)`, the gate does this itself.)
    if !gate.status().grants_access() {
        gate.activate().await?;
        println!("activated for {BUYER_EMAIL}: {}", gate.status());
    }
    println!("features: {:?}", gate.product_state().features);
    match export_project("harbour") {
        Ok(done) => println!("  allowed  export_project: {done}"),
        Err(denied) => println!("  denied   export_project: {denied}"),
    }

    // The heartbeat validates in the background; the server sees it.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let validations = vendor
        .requests()
        .iter()
        .filter(|request| request.path == "/api/license/validate")
        .count();
    println!("validations the server received so far: {validations}");

    // The vendor revokes the key (a refund, a chargeback). No call from the
    // application is needed: the next heartbeat brings the answer.
    let mut changes = gate.subscribe();
    let revoked_at = Instant::now();
    vendor.revoke(LICENSE_KEY);
    let seen = tokio::time::timeout(
        Duration::from_secs(5),
        changes.wait_for(|snapshot| !snapshot.products[0].status.grants_access()),
    )
    .await??
    .products[0]
        .status
        .clone();
    println!(
        "vendor revoked the key; the heartbeat saw it after {:.1} s: {seen}",
        revoked_at.elapsed().as_secs_f32()
    );
    match export_project("harbour") {
        Ok(done) => println!("  allowed  export_project: {done}"),
        Err(denied) => println!("  denied   export_project: {denied}"),
    }

    gate.shutdown().await;
    Ok(())
}
