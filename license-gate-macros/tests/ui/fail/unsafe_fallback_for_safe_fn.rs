use license_gate::{LicenseError, requires_feature};

#[requires_feature("pro", fallback = read_basic)]
fn read(value: u8) -> u8 {
    value
}

unsafe fn read_basic(_value: u8) -> u8 {
    0
}

fn main() {
    let _ = read(1);
    let _: Option<LicenseError> = None;
}
