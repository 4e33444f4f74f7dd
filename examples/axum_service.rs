//! A web service with licensed endpoints: handlers carry the attributes, and
//! a denial becomes an `application/problem+json` reply (RFC 9457): 403 when
//! the license is in force but its plan lacks the feature, 402 when no
//! license is in force (expired, suspended, revoked...), built by
//! `license_gate::tower::problem` (cargo feature `tower`).
//!
//! The example starts the service on 127.0.0.1 with a free port, sends it a
//! few real requests, prints the replies and exits. The license comes from
//! the testkit's ECOSIRE emulator on 127.0.0.1, so nothing leaves the machine.
//!
//! ```text
//! cargo run --example axum_service
//! ```

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider, HttpOptions};
use license_gate::{LicenseError, LicenseGate, licensed, requires_feature};
use license_gate_testkit::ecosire::{EcosireEmulator, EmulatedLicense};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PRODUCT: &str = "Atlas Reports";
const LICENSE_KEY: &str = "ATLS-R3P0-RT5S-K7Q2-M4XW";
const LICENSE_SECRET: &str = "atlas-reports-demo-secret";

/// How the service reaches the licensing service: every option of the
/// ECOSIRE client is set here and nowhere else.
fn ecosire_options(server_url: &str) -> EcosireOptions {
    // The emulator listens on plain http on loopback: allowed only because the
    // code opts in; an app talking to the real service never does.
    EcosireOptions::new(server_url)
        .license_secret(LICENSE_SECRET)
        .http(
            HttpOptions::new()
                .allow_insecure_loopback()
                .timeout(Duration::from_secs(5)),
        )
}

/// The service's error type: a license denial is one of its cases.
#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error(transparent)]
    License(#[from] LicenseError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            // The library's mapping (cargo feature `tower`): 403 when the
            // plan lacks the feature, 402 when no license is in force, with
            // what the call needed, enough for an upgrade prompt.
            ApiError::License(denied) => license_gate::tower::problem(&denied).into_response(),
        }
    }
}

/// Ungated: where the license stands, for the admin page.
async fn license_status(State(gate): State<LicenseGate>) -> Json<Value> {
    let state = gate.product_state();
    Json(
        json!({ "product": state.product, "status": gate.status().to_string(), "features": state.features }),
    )
}

/// Any valid license of the product.
#[licensed]
async fn list_reports() -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "reports": ["q1-sales", "q2-sales"] })))
}

/// The `forecast` feature.
#[requires_feature("forecast")]
async fn forecast() -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "next_quarter": 1.07 })))
}

/// The `export` feature, which this customer's plan does not include.
#[requires_feature("export")]
async fn export_reports() -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "url": "/downloads/reports.zip" })))
}

fn app(gate: LicenseGate) -> Router {
    Router::new()
        .route("/license", get(license_status))
        .route("/reports", get(list_reports))
        .route("/reports/forecast", post(forecast))
        .route("/reports/export", post(export_reports))
        .with_state(gate)
}

/// Stands in for ECOSIRE: an emulator that knows the service's license.
async fn start_license_server() -> std::io::Result<EcosireEmulator> {
    let server = EcosireEmulator::start().await?;
    server
        .handle()
        .add_license(EmulatedLicense::new(LICENSE_KEY, LICENSE_SECRET));
    Ok(server)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let license_server = start_license_server().await?;
    // A throwaway cache folder, so the example leaves nothing in yours.
    let cache = tempfile::tempdir()?;
    let provider = EcosireProvider::from_options(ecosire_options(&license_server.url()))?
        .domain("reports.example.com")
        .features(["forecast"]);
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

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let router = app(gate.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    println!("serving on http://{address}");

    let calls = [
        ("GET", "/license"),
        ("GET", "/reports"),
        ("POST", "/reports/forecast"),
        ("POST", "/reports/export"),
    ];
    for (method, path) in calls {
        show(address, method, path).await?;
    }

    // The vendor suspends the license; the service learns it at the next
    // heartbeat and every licensed route answers 402 from then on.
    println!("\nthe vendor suspends the license:");
    let mut changes = gate.subscribe();
    license_server.handle().suspend(LICENSE_KEY);
    tokio::time::timeout(
        Duration::from_secs(5),
        changes.wait_for(|snapshot| !snapshot.products[0].status.grants_access()),
    )
    .await??;
    for (method, path) in calls {
        show(address, method, path).await?;
    }

    let _ = stop.send(());
    service.await??;
    gate.shutdown().await;
    Ok(())
}

/// Sends one request and prints the reply as a client sees it. HTTP/1.1 by
/// hand keeps the example free of an HTTP client crate; any client will do.
async fn show(address: SocketAddr, method: &str, path: &str) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(address).await?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;

    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    let status = head
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("HTTP/1.1 ");
    let kind = head
        .lines()
        .find_map(|line| line.strip_prefix("content-type: "))
        .unwrap_or("");
    println!("{method:4} {path:18} -> {status} ({kind})\n       {body}");
    Ok(())
}
