use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", product)]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

#[licensed(product =)]
fn open() -> Result<(), LicenseError> {
    Ok(())
}

#[licensed(fallback, product = "Atlas")]
fn close() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), open(), close());
}
