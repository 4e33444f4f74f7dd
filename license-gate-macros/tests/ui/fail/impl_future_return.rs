use std::future::Future;

use license_gate::{LicenseError, requires_feature};

#[requires_feature("pro")]
fn upload(bytes: Vec<u8>) -> impl Future<Output = Result<usize, LicenseError>> + Send {
    async move { Ok(bytes.len()) }
}

fn main() {
    drop(upload(Vec::new()));
}
