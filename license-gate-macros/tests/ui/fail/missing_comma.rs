use license_gate::{LicenseError, requires_feature};

#[requires_feature("pro" "export")]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = export();
}
