use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("")]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature("pro", "   ")]
fn render() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature("pro", " export")]
fn print() -> Result<(), LicenseError> {
    Ok(())
}

#[licensed(product = "")]
fn open() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), render(), print(), open());
}
