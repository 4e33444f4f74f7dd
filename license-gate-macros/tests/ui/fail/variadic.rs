use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro")]
unsafe extern "C" fn sum(count: i32, _args: ...) -> Result<i32, LicenseError> {
    Ok(count)
}

fn main() {
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
