#![deny(warnings)]

use license_gate::{LicenseError, requires_feature};

#[requires_feature("pro")]
fn export(pages: u32) -> Result<u32, LicenseError> {
    let unused = pages * 2;
    Ok(pages)
}

fn main() {
    let _ = export(1);
}
