use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro")]
fn export(pages: u32) -> Result<u32, LicenseError> {
    let doubled = pages * ;
    Ok(doubled)
}

fn main() {
    let _ = export(1);
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
