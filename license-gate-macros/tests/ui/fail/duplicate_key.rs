use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", product = "Atlas", product = "Atlas Render")]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

#[licensed(crate = "license_gate", crate = "license_gate")]
fn open() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), open());
}
