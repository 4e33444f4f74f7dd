use license_gate::{LicenseError, licensed, requires_feature};

#[derive(Debug)]
enum AppError {
    Io,
}

#[requires_feature("pro")]
fn export() -> Result<(), AppError> {
    Err(AppError::Io)
}

fn main() {
    let _ = export();
    let _: Option<LicenseError> = None;
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
