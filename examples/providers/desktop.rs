//! A desktop-style program with a plain `fn main` and no async runtime of its
//! own: the gate starts with `start_blocking` (its heartbeat runs on a thread
//! of its own), menu items are enabled from `has_feature`, the event loop
//! redraws the menu when the license changes, and a gated `async fn` is
//! called from the plain `main`.
//!
//! The license comes from the testkit's ExisOne emulator on 127.0.0.1, over
//! real HTTP, so the example needs no account and no network.
//!
//! ```text
//! cargo run -p examples-providers --example desktop
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use license_gate::providers::HttpOptions;
use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
use license_gate::{LicenseError, LicenseGate, LicenseStatus, has_feature, requires_feature};
use license_gate_testkit::exisone::{EmulatedLicense, ExisOneControl, ExisOneEmulator};

const PRODUCT: &str = "Atlas Desktop";
const LICENSE_KEY: &str = "ATLD-5K8M-W2QX-N7RB";

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

/// A gated function called from the menu.
#[requires_feature("pro")]
fn export_pdf(pages: u32) -> Result<String, AppError> {
    Ok(format!("exported {pages} pages"))
}

/// A gated async function: plain `main` runs it with `block_on` (see below).
#[requires_feature("pro")]
async fn sync_to_cloud() -> Result<&'static str, AppError> {
    tokio::time::sleep(Duration::from_millis(20)).await; // the upload
    Ok("synced")
}

/// The application menu: an item with a feature is enabled while the license
/// includes it.
struct Menu {
    items: Vec<(&'static str, Option<&'static str>, bool)>,
}

impl Menu {
    fn new() -> Self {
        let items = [
            ("Open", None),
            ("Export PDF", Some("pro")),
            ("Share with team", Some("team")),
        ];
        let mut menu = Menu {
            items: items
                .map(|(label, feature)| (label, feature, false))
                .to_vec(),
        };
        menu.update();
        menu
    }

    /// Cheap enough for every frame: `has_feature` reads the live state.
    fn update(&mut self) {
        for (_, feature, enabled) in &mut self.items {
            *enabled = feature.is_none_or(has_feature);
        }
    }
}

impl fmt::Display for Menu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (label, _, enabled)) in self.items.iter().enumerate() {
            let gap = if i == 0 { "" } else { "  " };
            write!(f, "{gap}[{}] {label}", if *enabled { "x" } else { " " })?;
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (server_url, vendor) = start_license_server();

    // No runtime here: `start_blocking` gives the heartbeat a thread of its own.
    let provider = ExisOneProvider::from_options(exisone_options(&server_url))?;
    let cache = tempfile::tempdir()?; // leaves nothing in your cache folder
    let gate = LicenseGate::builder()
        .app_version(env!("CARGO_PKG_VERSION"))
        .product(PRODUCT)
        .provider(provider)
        .license_key(LICENSE_KEY)
        .cache_dir(cache.path())
        // One second so the example ends quickly; the default is 24 hours.
        .heartbeat_interval(Duration::from_secs(1))
        .start_blocking()?;
    let mut menu = Menu::new();
    println!("license: {}", gate.status());
    println!("menu:    {menu}");

    // Synchronous gated code is called as usual.
    println!("Export PDF      -> {}", outcome(export_pdf(12)));
    // An async gated function needs an executor to run on. A small runtime of
    // the application's own does; gated futures check wherever they run.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    println!(
        "Sync to cloud   -> {}",
        outcome(runtime.block_on(sync_to_cloud()))
    );

    // The event loop. Each frame asks whether the license changed since the
    // last one; `has_changed` never blocks, so the UI stays responsive.
    let mut changes = gate.subscribe();
    let mut shown = (gate.status(), gate.product_state().features);
    let started = Instant::now();
    let (mut upgraded, mut revoked) = (false, false);
    while started.elapsed() < Duration::from_secs(10) {
        if changes.has_changed()? {
            let snapshot = changes.borrow_and_update().clone();
            let state = &snapshot.products[0];
            // Every heartbeat publishes a snapshot; redraw only what the user sees.
            let now = (state.status.clone(), state.features.clone());
            if now != shown {
                menu.update();
                println!(
                    "{:>4.1} s  license changed: {}; menu: {menu}",
                    started.elapsed().as_secs_f32(),
                    state.status
                );
                shown = now;
                if !state.status.grants_access() {
                    break;
                }
            }
        }
        // The vendor's side, at set times: an upgrade, then a revocation.
        if !upgraded && started.elapsed() > Duration::from_millis(200) {
            println!("         (the customer buys the team plan)");
            vendor.set_features(LICENSE_KEY, ["pro", "team"]);
            upgraded = true;
        }
        if !revoked && shown.1.contains("team") {
            println!("         (the vendor revokes the license)");
            vendor.revoke(LICENSE_KEY);
            revoked = true;
        }
        std::thread::sleep(Duration::from_millis(50)); // one frame
    }

    let denied = matches!(gate.status(), LicenseStatus::Revoked);
    println!("Export PDF      -> {}", outcome(export_pdf(12)));
    gate.shutdown_blocking();
    if !denied {
        return Err("the revocation did not reach the application".into());
    }
    Ok(())
}

fn outcome(result: Result<impl fmt::Display, AppError>) -> String {
    match result {
        Ok(done) => format!("allowed: {done}"),
        Err(denied) => format!("denied: {denied}"),
    }
}

/// Stands in for the vendor's ExisOne server, with the license already
/// activated on this machine (as the installer would have done). The emulator
/// needs an async runtime, which this program does not have, so it runs on a
/// thread of its own until the program exits.
fn start_license_server() -> (String, ExisOneControl) {
    let (ready, started) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the emulator");
        runtime.block_on(async {
            let server = ExisOneEmulator::start()
                .await
                .expect("a free loopback port");
            let this_machine = license_gate::hardware_id();
            server.control().add_license(
                EmulatedLicense::new(LICENSE_KEY, PRODUCT)
                    .features(["pro"])
                    .activated_on(this_machine),
            );
            let _ = ready.send((server.url(), server.control()));
            std::future::pending::<()>().await;
        });
    });
    started.recv().expect("the license server starts")
}
