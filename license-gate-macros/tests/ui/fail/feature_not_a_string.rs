use license_gate::{LicenseError, requires_feature};

#[requires_feature(42)]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature(any('p', "pro"))]
fn render() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), render());
}
