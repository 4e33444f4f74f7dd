use license_gate::{LicenseError, requires_feature};

#[requires_feature(pro)]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature(any(pro))]
fn render() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature(42)]
fn print() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), render(), print());
}
