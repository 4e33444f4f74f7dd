use license_gate::{LicenseError, requires_feature};

type Count = u32;

#[requires_feature("pro")]
fn count() -> Count {
    1
}

#[requires_feature("pro")]
fn maybe() -> Option<u32> {
    None
}

fn main() {
    let _ = (count(), maybe());
    let _: Option<LicenseError> = None;
}
