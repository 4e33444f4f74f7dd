use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro")]
fn pages() -> impl Iterator<Item = u32> {
    0..3
}

fn main() {
    let _ = pages();
    let _: Option<LicenseError> = None;
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
