//! What the ExisOne client and gate tests share: the emulator holding the
//! standard test license, and a client of it as one fixed machine.

use std::time::Duration;

use license_gate::providers::HttpOptions;
use license_gate::providers::exisone::{ExisOneClient, ExisOneClientOptions};
use license_gate_testkit::exisone::{EmulatedLicense, ExisOneControl, ExisOneEmulator};

pub const KEY: &str = super::EXISONE_KEY;
pub const PRODUCT: &str = super::PRODUCT;
pub const HW: &str = "HW-TEST-0001";
pub const EMAIL: &str = "buyer@example.com";

/// Options for a client of `url`: the emulator's token, a fixed hardware ID
/// and a short timeout.
pub fn options(url: &str) -> ExisOneClientOptions {
    ExisOneClientOptions::new(url)
        .access_token(ExisOneEmulator::TOKEN)
        .hardware_id_override(HW)
        .http(
            HttpOptions::new()
                .timeout(Duration::from_secs(5))
                .allow_insecure_loopback(),
        )
}

pub fn client(url: &str) -> ExisOneClient {
    ExisOneClient::new(options(url)).expect("valid client options")
}

/// An emulator holding the standard test license (features pro and export).
pub async fn emulator() -> (ExisOneEmulator, ExisOneControl) {
    let emulator = ExisOneEmulator::start().await.expect("emulator starts");
    let control = emulator.control();
    control.add_license(EmulatedLicense::new(KEY, PRODUCT).features(["pro", "export"]));
    (emulator, control)
}
