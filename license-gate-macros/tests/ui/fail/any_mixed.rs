use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", any("gpu", "cloud"))]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), licensed_is_used());
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
