use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature()]
fn render() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature(product = "Atlas")]
fn print() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), render(), print());
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
