use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", "export", "pro")]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature(any("a", "b", "a"))]
fn render() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature(any("a"), any("b"))]
fn print() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), render(), print(), licensed_is_used());
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
