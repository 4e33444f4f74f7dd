use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro")]
const fn pages() -> Result<u32, LicenseError> {
    Ok(1)
}

#[licensed]
pub const unsafe fn raw() -> Result<u32, LicenseError> {
    Ok(2)
}

fn main() {
    let _ = (pages(), unsafe { raw() });
}
