//! `#[async_trait]` methods, `Send` and `?Send`.

use async_trait::async_trait;
use license_gate::testing::TestLicense;
use license_gate::{LicenseError, licensed, requires_feature};

#[async_trait]
trait Backend {
    async fn fetch(&self, key: &str) -> Result<String, LicenseError>;
    async fn store(&mut self, key: String) -> bool;
    async fn tuple(&self, pair: (u8, u8)) -> Result<u8, LicenseError>;
    async fn unit(&self) -> std::io::Result<()>;
}

struct Memory;

impl Memory {
    async fn store_basic(&mut self, _key: String) -> bool {
        false
    }
}

#[async_trait]
impl Backend for Memory {
    #[requires_feature("pro")]
    async fn fetch(&self, key: &str) -> Result<String, LicenseError> {
        Ok(key.to_owned())
    }

    #[requires_feature("pro", fallback = Self::store_basic)]
    async fn store(&mut self, key: String) -> bool {
        !key.is_empty()
    }

    #[requires_feature("pro")]
    async fn tuple(&self, (a, b): (u8, u8)) -> Result<u8, LicenseError> {
        Ok(a + b)
    }

    #[licensed]
    async fn unit(&self) -> std::io::Result<()> {
        Ok(())
    }
}

#[async_trait(?Send)]
trait Local {
    async fn local(&self) -> Result<u8, LicenseError>;
}

#[async_trait(?Send)]
impl Local for Memory {
    #[requires_feature("pro")]
    async fn local(&self) -> Result<u8, LicenseError> {
        Ok(1)
    }
}

#[tokio::test]
async fn main() {
    let license = || TestLicense::product("Atlas").features(["pro"]);
    let mut memory = Memory;
    assert_eq!(license().scope(memory.fetch("k")).await, Ok("k".to_owned()));
    assert!(license().scope(memory.store("k".to_owned())).await);
    assert!(
        !TestLicense::unlicensed()
            .scope(memory.store("k".to_owned()))
            .await
    );
    assert_eq!(license().scope(memory.tuple((1, 2))).await, Ok(3));
    assert!(license().scope(memory.unit()).await.is_ok());
    assert_eq!(license().scope(memory.local()).await, Ok(1));
    assert!(
        TestLicense::unlicensed()
            .scope(memory.local())
            .await
            .is_err()
    );
}
