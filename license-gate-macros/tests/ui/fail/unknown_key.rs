use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", feature = "export")]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

#[licensed(products = "Atlas")]
fn open() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), open());
}
