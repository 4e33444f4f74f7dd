//! The quickstart: gated functions, a running gate, and a live revocation.
//!
//! Needs no server, no key and no network: the license comes from the mock
//! provider, which plays the licensing service.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use license_gate::providers::mock::MockProvider;
use license_gate::{LicenseError, LicenseGate, licensed, requires_feature};

/// The application's error type: `From<LicenseError>` is all the gate needs.
#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error(transparent)]
    License(#[from] LicenseError),
}

/// A premium function: runs only when the license includes `pro`.
#[requires_feature("pro")]
fn export_pdf(pages: u32) -> Result<String, AppError> {
    Ok(format!("exported {pages} pages to PDF"))
}

/// Needs the `team` feature, which this license does not include.
#[requires_feature("team")]
fn share_with_team(people: u32) -> Result<String, AppError> {
    Ok(format!("shared with {people} people"))
}

/// Needs only a valid license for the product; async works the same way.
#[licensed(product = "Atlas Studio")]
async fn sync_to_cloud() -> Result<&'static str, AppError> {
    Ok("synced to the cloud")
}

fn show(what: &str, outcome: Result<impl std::fmt::Display, AppError>) {
    match outcome {
        Ok(done) => println!("  allowed  {what}: {done}"),
        Err(denied) => println!("  denied   {what}: {denied}"),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The mock plays the licensing service; `control` changes its answers.
    let (provider, control) = MockProvider::licensed(["pro", "export"]);
    let gate = LicenseGate::builder()
        .app_version(env!("CARGO_PKG_VERSION"))
        .product("Atlas Studio")
        .provider(provider)
        .license_key("DEMO-A1B2-C3D4-E5F6")
        .no_cache()
        .start()
        .await?;

    // Every change of the license state reaches subscribers (UI, logs...).
    let mut changes = gate.subscribe();
    let watcher = tokio::spawn(async move {
        while changes.changed().await.is_ok() {
            let status = changes.borrow_and_update().products[0].status.clone();
            println!("  (license changed: {status})");
        }
    });

    println!(
        "license: {}, features {:?}",
        gate.status(),
        gate.product_state().features
    );
    show("export_pdf(3)", export_pdf(3));
    show("share_with_team(5)", share_with_team(5));
    show("sync_to_cloud()", sync_to_cloud().await);
    println!(
        "menu item \"Export\" enabled: {}",
        license_gate::has_feature("export")
    );

    println!("\nthe vendor revokes the license; the next heartbeat sees it:");
    control.revoke();
    gate.refresh().await;
    tokio::task::yield_now().await;
    show("export_pdf(3)", export_pdf(3));
    show("sync_to_cloud()", sync_to_cloud().await);

    println!("\nthe license is restored:");
    control.restore();
    gate.refresh().await;
    tokio::task::yield_now().await;
    show("export_pdf(3)", export_pdf(3));

    println!("\nthe program ends: a gate that stops checking denies, and says why:");
    gate.shutdown().await;
    tokio::task::yield_now().await;
    watcher.abort();
    Ok(())
}
