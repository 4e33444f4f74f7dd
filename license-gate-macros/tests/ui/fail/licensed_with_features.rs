use license_gate::{LicenseError, licensed};

#[licensed("pro")]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

#[licensed(product = "Atlas", features = "pro")]
fn open() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), open());
}
