//! An add-on licensed through ECOSIRE: the first validation activates the
//! license for the shop's domain, every heartbeat validates it, and a
//! revocation by the vendor reaches the add-on at the next heartbeat.
//!
//! The licensing service is the testkit's ECOSIRE emulator on 127.0.0.1,
//! spoken to over real HTTP with signed requests, so the example needs no
//! account and no network. In your add-on the license secret comes from the
//! environment (`ECOSIRE_LICENSE_SECRET`) or your settings, never from code.
//!
//! ```text
//! cargo run -p examples-providers --example ecosire_app
//! ```

use std::time::{Duration, Instant};

use license_gate::providers::HttpOptions;
use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider};
use license_gate::{LicenseError, LicenseGate, LicenseKey, requires_feature};
use license_gate_testkit::ecosire::{EcosireEmulator, EmulatedLicense};

const PRODUCT: &str = "Shop Booster";
/// The key the shop owner entered in the add-on's settings.
const LICENSE_KEY: &str = "SHOP-A1B2-C3D4-E5F6-G7H8";
/// The secret that signs this key's requests; ECOSIRE issues it with the key.
const LICENSE_SECRET: &str = "shop-booster-demo-secret";
/// The shop the license is activated for.
const SHOP_DOMAIN: &str = "shop.example.com";

/// How the add-on reaches the licensing service: every option of the ECOSIRE
/// client is set here and nowhere else.
fn ecosire_options(server_url: &str) -> EcosireOptions {
    // The emulator listens on plain http on loopback: allowed only because the
    // code opts in; an app talking to the real service never does.
    EcosireOptions::new(server_url)
        .license_secret(LICENSE_SECRET)
        .platform("odoo", "18.0")
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

#[requires_feature("pro")]
async fn sync_catalogue(products: u32) -> Result<String, AppError> {
    Ok(format!("synced {products} products"))
}

/// Stands in for ECOSIRE: an emulator that knows one license with three
/// activation slots.
async fn start_license_server() -> std::io::Result<EcosireEmulator> {
    let server = EcosireEmulator::start().await?;
    server
        .handle()
        .add_license(EmulatedLicense::new(LICENSE_KEY, LICENSE_SECRET).activation_limit(3));
    Ok(server)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = start_license_server().await?;
    let vendor = server.handle();
    // A throwaway cache folder, so the example leaves nothing in yours.
    let cache = tempfile::tempdir()?;

    // ECOSIRE licenses carry no feature list: the add-on says what an active
    // license grants.
    let provider = EcosireProvider::from_options(ecosire_options(&server.url()))?
        .domain(SHOP_DOMAIN)
        .features(["pro", "export"]);
    let gate = LicenseGate::builder()
        .app_version(env!("CARGO_PKG_VERSION"))
        .product(PRODUCT)
        .provider(provider)
        .license_key(LICENSE_KEY)
        .cache_dir(cache.path())
        // One second so the example ends quickly; ECOSIRE asks for weekly.
        .heartbeat_interval(Duration::from_secs(1))
        .start()
        .await?;

    let state = gate.product_state();
    println!(
        "key {}: {}, features {:?}",
        LicenseKey::new(LICENSE_KEY),
        gate.status(),
        state.features
    );
    if let Some(seats) = state.seats {
        println!(
            "activated for {:?}: {} of {} slots used",
            vendor.bindings(LICENSE_KEY),
            seats.used,
            seats
                .limit
                .map_or("unlimited".to_owned(), |l| l.to_string())
        );
    }
    match sync_catalogue(120).await {
        Ok(done) => println!("  allowed  sync_catalogue: {done}"),
        Err(denied) => println!("  denied   sync_catalogue: {denied}"),
    }

    // The heartbeat validates in the background; the server sees it.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let calls: Vec<String> = vendor
        .requests()
        .into_iter()
        .map(|request| request.path.trim_start_matches("/api/licenses/").to_owned())
        .collect();
    println!("calls the server received so far: {}", calls.join(", "));

    // The vendor revokes the license. The add-on makes no extra call: the next
    // heartbeat brings the answer.
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
        "vendor revoked the license; the heartbeat saw it after {:.1} s: {seen}",
        revoked_at.elapsed().as_secs_f32()
    );
    match sync_catalogue(120).await {
        Ok(done) => println!("  allowed  sync_catalogue: {done}"),
        Err(denied) => println!("  denied   sync_catalogue: {denied}"),
    }

    gate.shutdown().await;
    Ok(())
}
