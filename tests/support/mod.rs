//! Shared by the end-to-end tests: an emulator of either service holding one
//! license, the real provider pointed at it, and a gate builder with short
//! timeouts that keeps nothing on disk unless a test says otherwise. The
//! submodules hold what the client-level tests of one service share: its
//! emulator with the standard test license and a client of it; `scan` is
//! the attacker's static scanner for embedded vendor secrets.

pub mod ecosire;
pub mod exisone;
pub mod scan;

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use license_gate::providers::HttpOptions;
use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider};
use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
use license_gate::{LicenseGate, LicenseGateBuilder, provider::Provider};
use license_gate_testkit::FaultControl;
use license_gate_testkit::ecosire::{EcosireEmulator, EcosireHandle};
use license_gate_testkit::exisone::{EmulatedLicense, ExisOneControl, ExisOneEmulator};

/// The product every test gate is for.
pub const PRODUCT: &str = "Atlas Studio";
/// The features the test license grants.
pub const FEATURES: [&str; 2] = ["pro", "export"];

/// The ExisOne activation key.
pub const EXISONE_KEY: &str = "ATLS-7Q2M-K9PD-X4RW";
/// The machine the ExisOne license is bound to.
pub const EXISONE_HW: &str = "HW-E2E-0001";
/// The application version the ExisOne provider reports.
pub const APP_VERSION: &str = "1.5.0";

/// The ECOSIRE license key.
pub const ECOSIRE_KEY: &str = "SHOP-A1B2-C3D4-E5F6-G7H8";
/// The ECOSIRE license secret (distinctive, so a leak into logs is findable).
pub const ECOSIRE_SECRET: &str = "ecosire-secret-5c1f9a7e";
/// The domain the ECOSIRE license is activated for.
pub const ECOSIRE_DOMAIN: &str = "atlas.example";

/// A provider call may take this long before it counts as a timeout.
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// One of the two services.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    ExisOne,
    Ecosire,
}

impl Service {
    pub const ALL: [Service; 2] = [Service::ExisOne, Service::Ecosire];

    pub fn key(self) -> &'static str {
        match self {
            Service::ExisOne => EXISONE_KEY,
            Service::Ecosire => ECOSIRE_KEY,
        }
    }

    /// The credential the client sends besides the key: the ExisOne access
    /// token or the ECOSIRE signing secret.
    pub fn credential(self) -> &'static str {
        match self {
            Service::ExisOne => ExisOneEmulator::TOKEN,
            Service::Ecosire => ECOSIRE_SECRET,
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::ExisOne => "ExisOne",
            Service::Ecosire => "ECOSIRE",
        })
    }
}

enum Server {
    ExisOne(ExisOneEmulator),
    Ecosire(EcosireEmulator),
}

/// A running emulator of `service` holding the test license.
pub struct Emulated {
    pub service: Service,
    server: Server,
}

impl Emulated {
    /// Starts the emulator. The ExisOne license is already bound to
    /// [`EXISONE_HW`] unless `activated` is false; an ECOSIRE license is
    /// activated by the provider's first validation either way.
    pub async fn start_with(service: Service, activated: bool) -> Self {
        let server = match service {
            Service::ExisOne => {
                let emulator = ExisOneEmulator::start()
                    .await
                    .expect("the ExisOne emulator starts on loopback");
                let control = emulator.control();
                control.add_license(EmulatedLicense::new(EXISONE_KEY, PRODUCT).features(FEATURES));
                if activated {
                    control.bind(EXISONE_KEY, EXISONE_HW);
                }
                Server::ExisOne(emulator)
            }
            Service::Ecosire => {
                let emulator = EcosireEmulator::start()
                    .await
                    .expect("the ECOSIRE emulator starts on loopback");
                emulator.handle().add_license(
                    license_gate_testkit::ecosire::EmulatedLicense::new(
                        ECOSIRE_KEY,
                        ECOSIRE_SECRET,
                    )
                    .activation_limit(3),
                );
                Server::Ecosire(emulator)
            }
        };
        Emulated { service, server }
    }

    pub async fn start(service: Service) -> Self {
        Self::start_with(service, true).await
    }

    pub fn url(&self) -> String {
        match &self.server {
            Server::ExisOne(e) => e.url(),
            Server::Ecosire(e) => e.url(),
        }
    }

    pub fn faults(&self) -> FaultControl {
        match &self.server {
            Server::ExisOne(e) => e.faults(),
            Server::Ecosire(e) => e.handle().faults().clone(),
        }
    }

    /// Requests that reached the service (faulted ones included).
    pub fn requests(&self) -> u64 {
        self.faults().requests()
    }

    pub fn exisone(&self) -> ExisOneControl {
        match &self.server {
            Server::ExisOne(e) => e.control(),
            Server::Ecosire(_) => panic!("this test row is for ExisOne but runs against ECOSIRE"),
        }
    }

    pub fn ecosire(&self) -> EcosireHandle {
        match &self.server {
            Server::Ecosire(e) => e.handle().clone(),
            Server::ExisOne(_) => panic!("this test row is for ECOSIRE but runs against ExisOne"),
        }
    }

    /// Revokes the license on the server.
    pub fn revoke(&self) {
        match self.service {
            Service::ExisOne => self.exisone().revoke(EXISONE_KEY),
            Service::Ecosire => self.ecosire().revoke(ECOSIRE_KEY),
        }
    }

    /// The real provider of this service, pointed at `url`.
    pub fn provider_for(&self, url: &str) -> Arc<dyn Provider> {
        provider(self.service, url)
    }

    /// The real provider of this service, pointed at the emulator.
    pub fn provider(&self) -> Arc<dyn Provider> {
        self.provider_for(&self.url())
    }

    /// A gate builder for this service's license with `provider`.
    pub fn builder_with(&self, provider: Arc<dyn Provider>) -> LicenseGateBuilder {
        LicenseGate::builder()
            .product(PRODUCT)
            .shared_provider(provider)
            .license_key(self.service.key())
            .install_global(false)
            .no_cache()
            .vendor_secret(vendor_secret())
            .request_timeout(TIMEOUT)
            .startup_timeout(Duration::from_secs(5))
            .jitter(0.0)
    }

    /// A gate builder with the real provider pointed at the emulator.
    pub fn builder(&self) -> LicenseGateBuilder {
        self.builder_with(self.provider())
    }
}

/// The vendor secret of the tests' "application".
pub fn vendor_secret() -> license_gate::VendorSecret {
    license_gate::VendorSecret::new("the vendor secret of the license-gate tests")
        .expect("long enough")
}

/// The real provider of `service`, pointed at `url`, with the client's own
/// timeout as short as the gate's.
pub fn provider(service: Service, url: &str) -> Arc<dyn Provider> {
    match service {
        Service::ExisOne => Arc::new(
            ExisOneProvider::from_options(
                ExisOneClientOptions::new(url)
                    .access_token(ExisOneEmulator::TOKEN)
                    .hardware_id_override(EXISONE_HW)
                    .http(
                        HttpOptions::new()
                            .timeout(TIMEOUT)
                            .allow_insecure_loopback(),
                    ),
            )
            .expect("valid ExisOne options")
            .email("buyer@example.com")
            .app_version(APP_VERSION),
        ),
        Service::Ecosire => Arc::new(
            EcosireProvider::from_options(
                EcosireOptions::new(url)
                    .license_secret(ECOSIRE_SECRET)
                    .http(
                        HttpOptions::new()
                            .timeout(TIMEOUT)
                            .allow_insecure_loopback(),
                    ),
            )
            .expect("valid ECOSIRE options")
            .domain(ECOSIRE_DOMAIN)
            .features(FEATURES),
        ),
    }
}

/// A `tracing` writer into a shared buffer, for tests that read the logs.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }

    /// Forgets what was logged so far.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Collects every event of this thread (and of the tasks a current-thread
    /// runtime polls on it) until the guard drops.
    #[must_use = "the capture ends when the guard drops"]
    pub fn capture(&self) -> impl Sized + use<> {
        use tracing_subscriber::util::SubscriberInitExt;
        tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
            .with_ansi(false)
            .finish()
            .set_default()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// `text` reduced to the letters and digits a key matcher would see:
/// percent escapes decoded, everything else dropped, upper case. A key found
/// in this form was leaked in some spelling.
pub fn key_letters(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut at = 0;
    while at < bytes.len() {
        let mut byte = bytes[at];
        if byte == b'%'
            && at + 2 < bytes.len()
            && let Some(decoded) = std::str::from_utf8(&bytes[at + 1..at + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            byte = decoded;
            at += 2;
        }
        if byte.is_ascii_alphanumeric() {
            out.push(char::from(byte.to_ascii_uppercase()));
        }
        at += 1;
    }
    out
}

/// Runs the test `child_test` of this test binary in a process of its own
/// with `env` set, waits (up to `ready_within`) for it to print `ready`, lets
/// it work for `work_for`, then kills it (SIGKILL on Unix) and checks that it
/// was killed rather than ending by itself. What the crash tests share: the
/// child writes records, and the parent checks what a kill mid-write left.
///
/// # Panics
///
/// When the child cannot start, never prints `ready`, or ends by itself.
pub fn run_child_then_kill(
    child_test: &str,
    env: (&str, &std::ffi::OsStr),
    ready: &'static str,
    ready_within: std::time::Duration,
    work_for: std::time::Duration,
    round: u64,
) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let exe = std::env::current_exe().expect("the test binary's path");
    let mut child = Command::new(exe)
        .args([child_test, "--exact", "--nocapture", "--test-threads=1"])
        .env(env.0, env.1)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the child starts");
    let stdout = child.stdout.take().expect("the child's stdout");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            match line {
                Ok(line) if line.contains(ready) => {
                    let _ = ready_tx.send(());
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    if ready_rx.recv_timeout(ready_within).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("round {round}: the child `{child_test}` never started writing");
    }
    std::thread::sleep(work_for);
    child.kill().expect("kill the child");
    let status = child.wait().expect("reap the child");
    assert!(
        !status.success(),
        "round {round}: the child ended by itself instead of being killed"
    );
}
