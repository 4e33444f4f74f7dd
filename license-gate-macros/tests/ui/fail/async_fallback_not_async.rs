use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", fallback = upload_later)]
async fn upload(bytes: Vec<u8>) -> usize {
    bytes.len()
}

fn upload_later(_bytes: Vec<u8>) -> usize {
    0
}

fn main() {
    let _ = upload(Vec::new());
    let _: Option<LicenseError> = None;
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
