#![deny(dead_code)]

use license_gate::{LicenseError, requires_feature};

#[requires_feature("pro")]
fn never_called() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {}
