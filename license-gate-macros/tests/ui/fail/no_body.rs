use license_gate::{LicenseError, licensed, requires_feature};

trait Exporter {
    #[requires_feature("pro")]
    fn export(&self) -> Result<(), LicenseError>;
}

fn main() {
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
