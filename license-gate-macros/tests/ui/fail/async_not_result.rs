use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro")]
async fn upload(bytes: &[u8]) -> usize {
    bytes.len()
}

fn main() {
    let _ = upload(b"");
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
