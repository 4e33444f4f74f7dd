use license_gate::{LicenseError, licensed, requires_feature};

use async_trait::async_trait;

#[async_trait]
trait Backend {
    async fn fetch(&self) -> String;
}

struct Memory;

#[async_trait]
impl Backend for Memory {
    #[requires_feature("pro")]
    async fn fetch(&self) -> String {
        String::new()
    }
}

fn main() {
    let _ = Memory.fetch();
    let _: Option<LicenseError> = None;
    let _ = licensed_is_used;
}

#[licensed]
fn licensed_is_used() -> Result<(), LicenseError> {
    Ok(())
}
