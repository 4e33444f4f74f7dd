use license_gate::{licensed, requires_feature};

#[requires_feature("pro")]
fn pages() -> u32 {
    1
}

#[licensed]
fn names() -> Option<Vec<String>> {
    None
}

fn main() {
    let _ = (pages(), names());
}
