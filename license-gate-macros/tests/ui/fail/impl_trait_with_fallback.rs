use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", fallback = no_pages)]
fn pages() -> impl Iterator<Item = u32> {
    0..3
}

fn no_pages() -> impl Iterator<Item = u32> {
    std::iter::empty()
}

#[requires_feature("pro", fallback = no_pages_result)]
fn pages_result() -> Result<impl Iterator<Item = u32>, LicenseError> {
    Ok(0..3)
}

fn no_pages_result() -> Result<impl Iterator<Item = u32>, LicenseError> {
    Ok(std::iter::empty())
}

fn main() {
    let _ = (pages(), pages_result());
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
