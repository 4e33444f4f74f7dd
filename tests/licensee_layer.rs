//! The licensee layer over real HTTP: an axum service on loopback whose
//! requests name their licensee in a header (as an authentication layer in
//! front would), licensees on two plans against the ExisOne emulator, and
//! denials answered as `application/problem+json`: 403 for a feature the
//! plan lacks, 402 for a license not in force (revoked, or a licensee not
//! added), 403 `no-licensee` for a request that names none, and ungated
//! routes answering whoever asks.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use license_gate::licensees::{LicenseeId, Licensees};
use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider, HttpOptions};
use license_gate::tower::LicenseeLayer;
use license_gate::{LicenseError, LicenseGate, LicenseStatus, licensed, requires_feature};
use license_gate_testkit::exisone::{EmulatedLicense, ExisOneEmulator};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PRODUCT: &str = "Atlas Server";
const TEAM_KEY: &str = "TEAM-7Q2M-K9PD-X4RW";
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
    Ok("reports")
}

#[requires_feature("export")]
async fn export() -> Result<&'static str, ApiError> {
    Ok("exported")
}

fn app(licensees: Licensees) -> Router {
    Router::new()
        .route("/reports", get(reports))
        .route("/export", post(export))
        .route("/health", get(|| async { "ok" }))
        .layer(LicenseeLayer::new(licensees, |request: &Request<_>| {
            request
                .headers()
                .get("x-licensee")
                .and_then(|v| v.to_str().ok())
                .map(LicenseeId::new)
        }))
}

/// One request by hand (HTTP/1.1): status, content type and body.
async fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    licensee: Option<&str>,
) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let who = licensee.map_or(String::new(), |id| format!("x-licensee: {id}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{who}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let kind = head
        .lines()
        .find_map(|line| line.strip_prefix("content-type: "))
        .unwrap_or("")
        .to_owned();
    (status, kind, body.to_owned())
}

fn problem_type(body: &str) -> String {
    let document: Value = serde_json::from_str(body).expect("a JSON problem document");
    document["type"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_layer_gates_each_request_by_its_licensee() {
    let emulator = ExisOneEmulator::start().await.unwrap();
    let control = emulator.control();
    control.add_license(
        EmulatedLicense::new(TEAM_KEY, PRODUCT)
            .features(["export"])
            .seats(5),
    );
    control.add_license(EmulatedLicense::new(BASIC_KEY, PRODUCT).seats(5));
    let provider = ExisOneProvider::from_options(
        ExisOneClientOptions::new(emulator.url())
            .access_token(ExisOneEmulator::TOKEN)
            .http(
                HttpOptions::new()
                    .timeout(Duration::from_secs(5))
                    .allow_insecure_loopback(),
            ),
    )
    .unwrap()
    .email("it@customer.example");
    let licensees = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .activate_on_first_use(true)
        .install_global(false)
        .licensees()
        .start()
        .await
        .unwrap();
    let (alice, bob) = (LicenseeId::new("alice"), LicenseeId::new("bob"));
    licensees
        .add(alice.clone(), TEAM_KEY, "user:alice")
        .unwrap();
    licensees.add(bob.clone(), BASIC_KEY, "user:bob").unwrap();
    for id in [&alice, &bob] {
        let snapshot = licensees.refresh(id).await.unwrap();
        assert_eq!(snapshot.products[0].status, LicenseStatus::Licensed);
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, app(licensees.clone())).into_future());

    // Each licensee by its own plan.
    assert_eq!(
        send(address, "POST", "/export", Some("alice")).await,
        (200, "text/plain; charset=utf-8".into(), "exported".into())
    );
    let (status, kind, body) = send(address, "POST", "/export", Some("bob")).await;
    assert_eq!((status, kind.as_str()), (403, "application/problem+json"));
    assert_eq!(problem_type(&body), "/problems/feature-not-licensed");
    let document: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(document["required_features"], serde_json::json!(["export"]));
    assert_eq!(document["license_status"], "licensed");
    assert_eq!(send(address, "GET", "/reports", Some("bob")).await.0, 200);

    // No licensee: 403 saying so; ungated routes still answer.
    let (status, kind, body) = send(address, "GET", "/reports", None).await;
    assert_eq!((status, kind.as_str()), (403, "application/problem+json"));
    assert_eq!(problem_type(&body), "/problems/no-licensee");
    assert!(body.contains("no licensee in scope"), "{body}");
    assert_eq!(send(address, "GET", "/health", None).await.0, 200);

    // A licensee that is not added: not licensed, never someone else's.
    let (status, _, body) = send(address, "GET", "/reports", Some("mallory")).await;
    assert_eq!(status, 402);
    assert_eq!(problem_type(&body), "/problems/not-licensed");
    assert!(body.contains("`mallory` is not added"), "{body}");

    // Bob's license is revoked while the service runs: only bob is denied.
    control.revoke(BASIC_KEY);
    licensees.refresh(&bob).await.unwrap();
    let (status, _, body) = send(address, "GET", "/reports", Some("bob")).await;
    assert_eq!(status, 402);
    let document: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(document["license_status"], "revoked");
    assert_eq!(send(address, "GET", "/reports", Some("alice")).await.0, 200);
    assert_eq!(send(address, "POST", "/export", Some("alice")).await.0, 200);

    server.abort();
    licensees.shutdown().await;
}
