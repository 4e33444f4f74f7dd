use license_gate::{LicenseError, requires_feature};

const PAGES: u32 = 3;

#[requires_feature(pro)]
fn export() -> Result<(), LicenseError> {
    Ok(())
}

#[requires_feature(PAGES)]
fn render() -> Result<(), LicenseError> {
    Ok(())
}

fn main() {
    let _ = (export(), render());
}
