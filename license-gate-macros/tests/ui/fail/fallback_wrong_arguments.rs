use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro", fallback = thumbnail_sd)]
fn thumbnail(width: u32, height: u32) -> String {
    format!("{width}x{height}")
}

fn thumbnail_sd(width: u32) -> String {
    format!("{width}")
}

struct Doc;

impl Doc {
    #[requires_feature("pro", fallback = Self::basic)]
    fn title(&self, id: u32) -> String {
        id.to_string()
    }

    fn basic(&self, id: &str) -> String {
        id.to_owned()
    }
}

fn main() {
    let _ = (thumbnail(1, 2), Doc.title(1));
    let _: Option<LicenseError> = None;
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
