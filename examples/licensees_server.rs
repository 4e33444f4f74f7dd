//! A server with a seat per signed-in user: two licensees on different plans
//! of one product, each with its own license key and per-user hardware ID,
//! every request gated by the licensee it comes from (`LicenseeLayer`).
//!
//! The example starts the ExisOne emulator and the service on 127.0.0.1,
//! sends real requests as each licensee, revokes one licensee's license
//! while the service runs (only that licensee is denied from its next
//! validation on), removes the other licensee (its seat is freed on the
//! service), prints what it measured and exits.
//!
//! ```text
//! cargo run --example licensees_server
//! ```

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use license_gate::licensees::{LicenseeId, Licensees, MemoryStore};
use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider, HttpOptions};
use license_gate::tower::LicenseeLayer;
use license_gate::{LicenseError, LicenseGate, VendorSecret, licensed, requires_feature};
use license_gate_testkit::exisone::{EmulatedLicense, ExisOneControl, ExisOneEmulator};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PRODUCT: &str = "Atlas Cloud";
/// The "team" plan: reports and export, three seats.
const TEAM_KEY: &str = "TEAM-7Q2M-K9PD-X4RW";
/// The "basic" plan: reports only, three seats.
const BASIC_KEY: &str = "BASE-3H8J-W2NC-Q6TV";

#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error(transparent)]
    License(#[from] LicenseError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::License(denied) => license_gate::tower::problem(&denied).into_response(),
        }
    }
}

#[licensed]
async fn reports() -> Result<&'static str, ApiError> {
    Ok("q1-sales, q2-sales")
}

#[requires_feature("export")]
async fn export() -> Result<&'static str, ApiError> {
    Ok("/downloads/reports.zip")
}

/// The service: the licensee of a request is the user its (stand-in)
/// authentication header names.
fn app(licensees: Licensees) -> Router {
    Router::new()
        .route("/reports", get(reports))
        .route("/export", post(export))
        .layer(LicenseeLayer::new(licensees, |request: &Request<_>| {
            request
                .headers()
                .get("x-user")
                .and_then(|v| v.to_str().ok())
                .map(LicenseeId::new)
        }))
}

fn seats(control: &ExisOneControl, key: &str) -> usize {
    control.activations(key).len()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = ExisOneEmulator::start().await?;
    let control = emulator.control();
    control.add_license(
        EmulatedLicense::new(TEAM_KEY, PRODUCT)
            .features(["export"])
            .seats(3),
    );
    control.add_license(EmulatedLicense::new(BASIC_KEY, PRODUCT).seats(3));

    // No `hardware_id_override`: each licensee's requests carry its own ID.
    let provider = ExisOneProvider::from_options(
        ExisOneClientOptions::new(emulator.url())
            .access_token(ExisOneEmulator::TOKEN)
            .http(
                HttpOptions::new()
                    .allow_insecure_loopback()
                    .timeout(Duration::from_secs(5)),
            ),
    )?
    .email("it@customer.example");
    let licensees = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .vendor_secret(VendorSecret::new(
            "an example vendor secret, not a real one",
        )?)
        .activate_on_first_use(true)
        .licensees()
        .store(MemoryStore::new())
        .start()
        .await?;

    let (alice, bob) = (LicenseeId::new("alice"), LicenseeId::new("bob"));
    let started = Instant::now();
    licensees.add(alice.clone(), TEAM_KEY, "user:alice")?;
    licensees.add(bob.clone(), BASIC_KEY, "user:bob")?;
    for id in [&alice, &bob] {
        let mut changes = licensees.subscribe(id).expect("added");
        changes
            .wait_for(|s| s.products[0].status != license_gate::LicenseStatus::Pending)
            .await?;
    }
    println!(
        "two licensees activated and validated in {} ms; seats in use: team {}, basic {}",
        started.elapsed().as_millis(),
        seats(&control, TEAM_KEY),
        seats(&control, BASIC_KEY)
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(axum::serve(listener, app(licensees.clone())).into_future());
    println!("serving on http://{address}\n");

    let calls = [("GET", "/reports"), ("POST", "/export")];
    for user in ["alice", "bob"] {
        for (method, path) in calls {
            show(address, user, method, path).await?;
        }
    }
    show_anonymous(address).await?;

    println!("\nthe vendor revokes bob's (basic) license while the service runs:");
    control.revoke(BASIC_KEY);
    let revoked = Instant::now();
    // The next validation of bob (here asked for at once; on its own it
    // comes at bob's next heartbeat) sees the revocation.
    licensees.refresh(&bob).await;
    let (status, _) = request(address, "bob", "GET", "/reports").await?;
    println!(
        "bob denied {} ms after the revocation (HTTP {status})",
        revoked.elapsed().as_millis()
    );
    for user in ["alice", "bob"] {
        show(address, user, "GET", "/reports").await?;
    }

    println!("\nalice leaves the customer's team; the server removes her:");
    let before = seats(&control, TEAM_KEY);
    let removing = Instant::now();
    licensees.remove(&alice).await?;
    println!(
        "removed in {} ms; team seats in use on the service: {before} -> {}",
        removing.elapsed().as_millis(),
        seats(&control, TEAM_KEY)
    );
    show(address, "alice", "GET", "/reports").await?;

    server.abort();
    licensees.shutdown().await;
    Ok(())
}

/// One request as `user`: status and body. HTTP/1.1 by hand keeps the
/// example free of an HTTP client crate.
async fn request(
    address: SocketAddr,
    user: &str,
    method: &str,
    path: &str,
) -> std::io::Result<(String, String)> {
    let mut stream = TcpStream::connect(address).await?;
    let who = if user.is_empty() {
        String::new()
    } else {
        format!("x-user: {user}\r\n")
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{who}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await?;
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    let status = head
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("HTTP/1.1 ")
        .to_owned();
    Ok((status, body.to_owned()))
}

async fn show(address: SocketAddr, user: &str, method: &str, path: &str) -> std::io::Result<()> {
    let (status, body) = request(address, user, method, path).await?;
    println!("{user:6} {method:4} {path:9} -> {status}\n       {body}");
    Ok(())
}

async fn show_anonymous(address: SocketAddr) -> std::io::Result<()> {
    let (status, body) = request(address, "", "GET", "/reports").await?;
    println!("(none) GET  /reports  -> {status}\n       {body}");
    Ok(())
}
