//! What the ECOSIRE client and gate tests share: the emulator holding `KEY`
//! signed with `SECRET`, a client of it, and a clock stuck at one instant.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use license_gate::provider::Clock;
use license_gate::providers::HttpOptions;
use license_gate::providers::ecosire::{EcosireClient, EcosireOptions};
use license_gate_testkit::ecosire::{EcosireEmulator, EmulatedLicense};

pub const KEY: &str = super::ECOSIRE_KEY;
pub const SECRET: &str = "test-secret";

/// A clock stuck at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl FixedClock {
    pub fn at_unix(seconds: u64) -> Self {
        FixedClock(UNIX_EPOCH + Duration::from_secs(seconds))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// This machine's clock, `.0` seconds ahead (behind when negative): a user
/// whose clock is off.
#[derive(Debug, Clone, Copy)]
pub struct OffClock(pub i64);

impl Clock for OffClock {
    fn now(&self) -> SystemTime {
        let now = SystemTime::now();
        let by = Duration::from_secs(self.0.unsigned_abs());
        if self.0 >= 0 { now + by } else { now - by }
    }
}

/// An emulator holding `KEY` (signed with `SECRET`).
pub async fn emulator_with(license: EmulatedLicense) -> EcosireEmulator {
    let emulator = EcosireEmulator::start().await.expect("start the emulator");
    emulator.handle().add_license(license);
    emulator
}

pub async fn emulator() -> EcosireEmulator {
    emulator_with(EmulatedLicense::new(KEY, SECRET)).await
}

/// Options for the emulator with a short timeout.
pub fn options(emulator: &EcosireEmulator) -> EcosireOptions {
    EcosireOptions::new(emulator.url())
        .license_secret(SECRET)
        .http(
            HttpOptions::new()
                .timeout(Duration::from_secs(5))
                .allow_insecure_loopback(),
        )
}

pub fn client(emulator: &EcosireEmulator) -> EcosireClient {
    EcosireClient::new(options(emulator)).expect("a valid client configuration")
}
