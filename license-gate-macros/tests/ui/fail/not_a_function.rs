use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro")]
struct Export;

#[licensed]
impl Export {}

#[licensed]
const PAGES: u32 = 3;

fn main() {
    let _ = (Export, PAGES);
    let _: Option<LicenseError> = None;
}
