//! A loopback emulator of the ECOSIRE license service.
//!
//! It serves `POST /api/licenses/validate`, `/api/licenses/activate` and
//! `/api/licenses/deactivate` as the public service documents them: JSON
//! bodies of strings signed in `X-Ecosire-Signature` (a bad signature is 401
//! `Invalid signature`, a timestamp more than the tolerance away from now is
//! 400 `Request timestamp is too far from the server time`; the tolerance is
//! 5 minutes either way unless set with
//! [`EcosireHandle::set_timestamp_tolerance`]: ECOSIRE publishes none, so this
//! is the emulator's choice, a common window for signed time stamps), per-key status, expiry and activation limit, domain bindings, rate
//! limits with `X-RateLimit-Limit`, `-Remaining` and `-Reset` headers on every
//! reply (429 past the limit), and plain or wrapped (`{"data", "error"}`)
//! replies. Every request is logged as it arrived, so tests can assert the
//! exact body and signature.
//!
//! ```
//! use license_gate_testkit::ecosire::{EcosireEmulator, EmulatedLicense, RateLimits};
//! use std::time::Duration;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let emulator = EcosireEmulator::start().await.expect("bind a loopback port");
//! let handle = emulator.handle();
//! handle.add_license(EmulatedLicense::new("SHOP-A1B2-C3D4-E5F6-G7H8", "test-secret").activation_limit(2));
//! handle.set_rate_limits(RateLimits::all(5, Duration::from_secs(60)));
//! handle.set_wrapped_replies(true);
//! handle.faults().fail_next(1, 503);
//! // Point the client at `emulator.url()` (it ends in `/api`, like the public base URL).
//! assert!(emulator.url().ends_with("/api"));
//! handle.suspend("SHOP-A1B2-C3D4-E5F6-G7H8");
//! # }
//! ```
//!
//! Behaviour the public documentation leaves open, as the emulator does it:
//! an unknown key is 404 before the signature is checked (the secret belongs
//! to the key); activating a domain that is already bound succeeds with 200
//! and takes no slot, a new one answers 201; activating a license that is not
//! active is 403 with `License expired` / `suspended` / `revoked`; validating
//! does not require the domain to be activated; deactivating a domain that is
//! not bound answers `{"deactivated": false, ..., "message": "No activation
//! for this domain"}`; a missing field is 400 with a list of messages.

mod control;
mod routes;
mod signature;

use std::io;
use std::net::SocketAddr;

pub use crate::log::RecordedRequest;
pub use control::{EcosireHandle, EmulatedLicense, EmulatedStatus, RateLimits};

use crate::server::RunningServer;
use crate::tls::TestCertificate;

/// A running ECOSIRE emulator on loopback; it stops when dropped.
#[derive(Debug)]
pub struct EcosireEmulator {
    server: RunningServer,
    handle: EcosireHandle,
}

impl EcosireEmulator {
    /// Starts an emulator over plain HTTP on a free loopback port of the
    /// current tokio runtime.
    pub async fn start() -> io::Result<Self> {
        Self::start_on_port(0, None).await
    }

    /// Starts an emulator over HTTPS presenting `certificate`; trust
    /// [`TestCertificate::ca_pem`] in the client.
    pub async fn start_tls(certificate: &TestCertificate) -> io::Result<Self> {
        Self::start_on_port(0, Some(certificate)).await
    }

    /// Starts an emulator on loopback port `port` (0 picks a free one), over
    /// HTTPS when `tls` is given.
    pub async fn start_on_port(port: u16, tls: Option<&TestCertificate>) -> io::Result<Self> {
        let handle = EcosireHandle::default();
        let server = RunningServer::start_on_port(
            port,
            routes::router(handle.clone()),
            handle.faults.clone(),
            tls,
        )
        .await?;
        Ok(EcosireEmulator { server, handle })
    }

    /// The base URL to give the client: `http://127.0.0.1:PORT/api` (or
    /// `https://localhost:PORT/api` with TLS).
    pub fn url(&self) -> String {
        format!("{}{}", self.server.url(), routes::BASE_PATH)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The control handle.
    pub fn handle(&self) -> &EcosireHandle {
        &self.handle
    }
}

/// The signature the service expects for a request body: lowercase hex
/// HMAC-SHA256 under `secret` of the body's fields sorted by key, `k=v`
/// joined with `&`. For tests that craft requests by hand.
///
/// ```
/// let body = serde_json::json!({"key": "ECO-AB12-CD34-EF56", "domain": "https://erp.example.com", "timestamp": "1762883061"});
/// let signature = license_gate_testkit::ecosire::expected_signature("test-secret", body.as_object().unwrap());
/// assert_eq!(signature, "db60500f1cb76f2cd7ee78f3f3cd805001ba50cecc58042ac5aadd27ad91986b");
/// ```
pub fn expected_signature(
    secret: &str,
    body: &serde_json::Map<String, serde_json::Value>,
) -> String {
    let message = signature::message(body).unwrap_or_default();
    signature::sign(secret, &message)
}
