use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", fallback = "basic")]
fn export() -> u32 {
    1
}

#[requires_feature("pro", fallback = |x| x)]
fn render(x: u32) -> u32 {
    x
}

fn basic() -> u32 {
    0
}

fn main() {
    let _ = (export(), render(1), basic());
    let _: Option<LicenseError> = None;
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
