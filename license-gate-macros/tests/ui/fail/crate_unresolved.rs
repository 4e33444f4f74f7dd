use license_gate::{LicenseError, licensed};

#[licensed(crate = "no_such_crate")]
fn open() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = open();
}
