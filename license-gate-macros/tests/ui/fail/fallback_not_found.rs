use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", fallback = thumbnail_sdd)]
fn thumbnail(width: u32) -> String {
    width.to_string()
}

fn thumbnail_sd(width: u32) -> String {
    width.to_string()
}

fn main() {
    let _ = (thumbnail(1), thumbnail_sd(1));
    let _: Option<LicenseError> = None;
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
