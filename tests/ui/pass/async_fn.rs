//! `async fn`, free and methods, with and without a fallback.

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, licensed, requires_feature};

#[requires_feature("pro")]
async fn upload(name: &str) -> Result<String, LicenseError> {
    Ok(name.to_owned())
}

#[requires_feature("pro", fallback = upload_later)]
async fn upload_now(name: String) -> bool {
    !name.is_empty()
}

async fn upload_later(_name: String) -> bool {
    false
}

#[licensed]
pub async fn open() -> std::io::Result<()> {
    Ok(())
}

struct Client;

impl Client {
    #[requires_feature("pro")]
    async fn send(&mut self, bytes: &[u8]) -> Result<usize, LicenseError> {
        Ok(bytes.len())
    }

    #[requires_feature("pro", fallback = Self::send_slowly)]
    async fn send_fast(&self, bytes: Vec<u8>) -> usize {
        bytes.len()
    }

    async fn send_slowly(&self, _bytes: Vec<u8>) -> usize {
        0
    }
}

#[tokio::test]
async fn main() {
    let license = || TestLicense::product("Atlas").features(["pro"]);
    assert_eq!(license().scope(upload("a")).await, Ok("a".to_owned()));
    assert!(license().scope(upload_now("a".to_owned())).await);
    assert!(
        !TestLicense::unlicensed()
            .scope(upload_now("a".to_owned()))
            .await
    );
    assert!(license().scope(open()).await.is_ok());
    let mut client = Client;
    assert_eq!(license().scope(client.send(b"ab")).await, Ok(2));
    assert_eq!(license().scope(client.send_fast(vec![1])).await, 1);
}
