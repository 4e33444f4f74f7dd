//! A loopback emulator of the ExisOne licensing service.
//!
//! It serves every endpoint of the ExisOne wire protocol on `127.0.0.1`
//! (plain or TLS), keeps license records with features, expiry, seats and
//! hardware bindings, checks the access token's permissions (`verify`,
//! `generate`, `email`), logs every request so a test can assert exactly what
//! a client sent, and mints offline codes with a test-only key.
//!
//! ```
//! use license_gate_testkit::exisone::{EmulatedLicense, ExisOneEmulator};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let emulator = ExisOneEmulator::start().await.unwrap();
//! let control = emulator.control();
//! control.add_license(EmulatedLicense::new("AAAA-BBBB-CCCC-DDDD", "Atlas Studio").features(["pro"]));
//! control.set_minimum_version(Some("2.0.0"));
//! control.faults().fail_next(1, 503);
//! assert!(emulator.url().starts_with("http://127.0.0.1:"));
//! # }
//! ```

#[cfg(feature = "server")]
mod control;
mod offline;
#[cfg(feature = "server")]
mod routes;

#[cfg(feature = "server")]
use std::sync::Arc;

#[cfg(feature = "server")]
pub use crate::log::RecordedRequest;
#[cfg(feature = "server")]
pub use control::{EmulatedLicense, ExisOneControl, LicenseState, Permission};
pub use offline::{
    MintKeyError, OfflineCodeMinter, OfflineCodeSpec, TEST_PRIVATE_KEY_PEM, TEST_PUBLIC_KEY_PEM,
};

#[cfg(feature = "server")]
use crate::faults::FaultControl;
#[cfg(feature = "server")]
use crate::log::RequestLog;
#[cfg(feature = "server")]
use crate::server::RunningServer;
#[cfg(feature = "server")]
use crate::tls::TestCertificate;
#[cfg(feature = "server")]
use control::Shared;

/// A running ExisOne emulator; it stops when dropped.
#[cfg(feature = "server")]
#[derive(Debug)]
pub struct ExisOneEmulator {
    server: RunningServer,
    control: ExisOneControl,
}

#[cfg(feature = "server")]
impl ExisOneEmulator {
    /// The access token the emulator accepts from the start, with every
    /// permission. Add others with [`ExisOneControl::add_token`].
    pub const TOKEN: &'static str = "exisone-test-token";

    /// Starts the emulator on a free loopback port (plain http).
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on_port(0, None).await
    }

    /// Starts the emulator with TLS, presenting `certificate`; trust its
    /// [`TestCertificate::ca_pem`] in the client.
    pub async fn start_tls(certificate: &TestCertificate) -> std::io::Result<Self> {
        Self::start_on_port(0, Some(certificate)).await
    }

    /// Starts the emulator on loopback port `port` (0 picks a free one), with
    /// TLS when `tls` is given.
    pub async fn start_on_port(port: u16, tls: Option<&TestCertificate>) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::new(Self::TOKEN));
        let faults = shared.faults.clone();
        let router = routes::router(shared.clone())
            .layer(axum::middleware::from_fn_with_state(
                faults.clone(),
                FaultControl::middleware,
            ))
            .layer(axum::middleware::from_fn_with_state(
                shared.log.clone(),
                RequestLog::record,
            ));
        let server = RunningServer::start_on_port(port, router, faults, tls).await?;
        Ok(ExisOneEmulator {
            server,
            control: ExisOneControl { shared },
        })
    }

    /// The base URL: `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The control handle (cheap to clone).
    pub fn control(&self) -> ExisOneControl {
        self.control.clone()
    }

    /// The fault side of the control handle.
    pub fn faults(&self) -> FaultControl {
        self.control.faults()
    }
}
