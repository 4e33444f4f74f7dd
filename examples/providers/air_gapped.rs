//! A machine that never reaches the licensing server: the license is an
//! ExisOne offline activation code, signed by the vendor for this machine's
//! hardware ID and checked against the vendor's RSA public key.
//!
//! The flow: the application shows its hardware ID; the vendor's portal signs
//! a code for it (here the testkit's minter with its test key plays the
//! portal); the user pastes the code; the application verifies it and runs
//! its gate from it, with no server.
//!
//! ```text
//! cargo run -p examples-providers --example air_gapped
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use license_gate::providers::HttpOptions;
use license_gate::providers::exisone::{ExisOneClient, ExisOneClientOptions, ExisOneProvider};
use license_gate::{LicenseError, LicenseGate, LicenseKey, requires_feature};
use license_gate_testkit::exisone::{OfflineCodeMinter, OfflineCodeSpec, TEST_PUBLIC_KEY_PEM};
use license_gate_testkit::instant::format_instant;

const PRODUCT: &str = "Atlas Studio";

/// The vendor's public key, built into the application. A real application
/// embeds its own (`include_str!("vendor_public_key.pem")`): the testkit's
/// key is published, so codes it signs prove nothing.
const VENDOR_PUBLIC_KEY: &str = TEST_PUBLIC_KEY_PEM;

/// How the application reaches the licensing service: every option of the
/// ExisOne client is set here and nowhere else.
fn exisone_options() -> ExisOneClientOptions {
    // The configured server is out of reach on this machine; a loopback port
    // where nothing listens plays it. Plain http to loopback is allowed only
    // because the code opts in; an app talking to the real service never does.
    ExisOneClientOptions::new(license_gate_testkit::refused_url())
        .offline_public_key(VENDOR_PUBLIC_KEY)
        .http(
            HttpOptions::new()
                .allow_insecure_loopback()
                .timeout(Duration::from_secs(2)),
        )
}

#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error(transparent)]
    License(#[from] LicenseError),
}

#[requires_feature("render")]
fn render_scene(frames: u32) -> Result<String, AppError> {
    Ok(format!("rendered {frames} frames"))
}

#[requires_feature("team")]
fn share_scene() -> Result<String, AppError> {
    Ok("shared".to_owned())
}

/// The vendor's portal: signs a code for the hardware ID the user sent.
fn vendor_portal_issues_code(hardware_id: &str) -> String {
    // A year from today, to the second (codes carry whole seconds).
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let expiry = UNIX_EPOCH + Duration::from_secs(now.as_secs() + 365 * 24 * 3600);
    OfflineCodeMinter::test_key().mint(
        &OfflineCodeSpec::new(PRODUCT, hardware_id)
            .features(["pro", "render"])
            .expires_at(expiry),
    )
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = ExisOneClient::new(exisone_options())?;

    // 1. The application shows the user this machine's hardware ID.
    let hardware_id = client.generate_hardware_id();
    println!("hardware ID to send to the vendor: {hardware_id}");

    // 2. The vendor signs a code for it; the user pastes it into the app.
    let code = vendor_portal_issues_code(&hardware_id);
    println!("offline code received: {}", LicenseKey::new(code.as_str()));

    // 3. The application verifies the code locally: signature, machine, expiry.
    let check = client.validate_offline(&code, &hardware_id);
    println!(
        "verified: valid {}, product {:?}, features {:?}, expires {}",
        check.is_valid,
        check.product_name.as_deref().unwrap_or("?"),
        check.features,
        check
            .expiration_date
            .map_or("never".to_owned(), format_instant),
    );
    // Codes that must not pass: one for another machine, one altered by hand.
    let elsewhere = vendor_portal_issues_code("ANOTHER-MACHINE");
    let altered = alter_one_character(&code);
    for (what, other) in [
        ("another machine's code", elsewhere),
        ("an altered code", altered),
    ] {
        let refused = client.validate_offline(&other, &hardware_id);
        let reason = refused.error_message.unwrap_or_default();
        println!("{what}: valid {}, {reason}", refused.is_valid);
    }

    // 4. The gate runs from the code; no request is needed.
    let cache = tempfile::tempdir()?; // leaves nothing in your cache folder
    let gate = LicenseGate::builder()
        .app_version(env!("CARGO_PKG_VERSION"))
        .product(PRODUCT)
        .provider(ExisOneProvider::new(client))
        .license_key(code)
        .cache_dir(cache.path())
        .start()
        .await?;
    let state = gate.product_state();
    println!(
        "gate: {} from {:?}, features {:?}",
        gate.status(),
        state.source,
        state.features
    );
    for (call, outcome) in [
        ("render_scene(240)", render_scene(240)),
        ("share_scene()", share_scene()),
    ] {
        match outcome {
            Ok(done) => println!("  allowed  {call}: {done}"),
            Err(denied) => println!("  denied   {call}: {denied}"),
        }
    }
    gate.shutdown().await;
    Ok(())
}

/// What a user editing the code to unlock more gets: one character changed.
fn alter_one_character(code: &str) -> String {
    let middle = code.len() / 2;
    let mut altered = code.to_owned();
    let replacement = if code[middle..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    altered.replace_range(middle..middle + 1, replacement);
    altered
}
