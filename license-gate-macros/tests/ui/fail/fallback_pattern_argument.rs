use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", fallback = basic)]
fn area((width, height): (u32, u32), _: u8, ref label: String) -> u32 {
    let _ = label;
    width * height
}

fn basic(_size: (u32, u32), _n: u8, _label: String) -> u32 {
    0
}

fn main() {
    let _ = area((1, 2), 0, String::new());
    let _: Option<LicenseError> = None;
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
