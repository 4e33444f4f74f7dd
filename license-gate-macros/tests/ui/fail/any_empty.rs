use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature(any())]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature(any)]
fn render() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), render(), licensed_is_used());
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
