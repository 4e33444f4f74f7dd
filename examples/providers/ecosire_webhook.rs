//! A self-hosted server licensed through ECOSIRE that hears of a revocation
//! within a second: ECOSIRE's `license.revoked` webhook makes the gate
//! validate at once instead of at the next (weekly) heartbeat.
//!
//! The webhook is a nudge, never authority: its body only makes the gate ask
//! the server, so a forged or replayed delivery costs one validation at most.
//! The licensing service is the testkit's ECOSIRE emulator on 127.0.0.1, and
//! the example itself plays ECOSIRE delivering the webhook, so it needs no
//! account and no network.
//!
//! ```text
//! cargo run -p examples-providers --example ecosire_webhook
//! ```

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use license_gate::providers::HttpOptions;
use license_gate::providers::ecosire::webhook::EcosireWebhook;
use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider};
use license_gate::{LicenseError, LicenseGate, requires_feature};
use license_gate_testkit::ecosire::{EcosireEmulator, EmulatedLicense};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LICENSE_KEY: &str = "SHOP-A1B2-C3D4-E5F6-G7H8";
const LICENSE_SECRET: &str = "shop-booster-demo-secret";

#[requires_feature("reports")]
async fn monthly_report() -> Result<String, LicenseError> {
    Ok("revenue up 12%".to_owned())
}

async fn reports() -> (StatusCode, String) {
    match monthly_report().await {
        Ok(report) => (StatusCode::OK, report),
        Err(denied) => (StatusCode::PAYMENT_REQUIRED, denied.to_string()),
    }
}

/// One plain HTTP/1.1 request to the server on loopback; the status code.
async fn request(address: &str, method: &str, path: &str, body: &str) -> std::io::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-ecosire-event: license.revoked\r\nx-ecosire-delivery: dlv_demo\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;
    Ok(reply
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ecosire = EcosireEmulator::start().await?;
    ecosire
        .handle()
        .add_license(EmulatedLicense::new(LICENSE_KEY, LICENSE_SECRET));

    // The emulator listens on plain http on loopback: allowed only because the
    // code opts in; a server talking to the real service never does.
    let options = EcosireOptions::new(ecosire.url())
        .license_secret(LICENSE_SECRET)
        .http(HttpOptions::new().allow_insecure_loopback());
    let gate = LicenseGate::builder()
        .app_version(env!("CARGO_PKG_VERSION"))
        .product("Shop Reports")
        .provider(
            EcosireProvider::from_options(options)?
                .domain("reports.shop.example")
                .features(["reports"]),
        )
        .license_key(LICENSE_KEY)
        .no_cache()
        // Weekly, as the ECOSIRE guide asks: the webhook brings news sooner.
        .heartbeat_interval(Duration::from_secs(7 * 24 * 3600))
        .start()
        .await?;

    let app = Router::new()
        .route("/reports", get(reports))
        .route_service("/hooks/ecosire", EcosireWebhook::new(gate.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });

    println!(
        "GET /reports -> {}",
        request(&address, "GET", "/reports", "").await?
    );

    // The vendor revokes the license; ECOSIRE delivers `license.revoked`.
    let revoked = Instant::now();
    ecosire.handle().revoke(LICENSE_KEY);
    let delivery = format!(
        r#"{{"id":"evt_demo","event":"license.revoked","createdAt":"2026-12-06T10:00:00Z","data":{{"key":"{LICENSE_KEY}"}}}}"#
    );
    let answered = request(&address, "POST", "/hooks/ecosire", &delivery).await?;
    println!("POST /hooks/ecosire (license.revoked) -> {answered}");

    let mut changes = gate.subscribe();
    tokio::time::timeout(
        Duration::from_secs(5),
        changes.wait_for(|snapshot| !snapshot.products[0].status.grants_access()),
    )
    .await??;
    println!(
        "the gate saw the revocation {} ms after it ({})",
        revoked.elapsed().as_millis(),
        gate.status()
    );
    println!(
        "GET /reports -> {}",
        request(&address, "GET", "/reports", "").await?
    );

    gate.shutdown().await;
    Ok(())
}
