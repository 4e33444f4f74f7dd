//! `Result` under other paths and aliases, error types from `io::Error` to `Box<dyn Error>`.

use std::error::Error;
use std::io;

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

#[requires_feature("pro")]
fn io_result() -> io::Result<u8> {
    Ok(1)
}

#[requires_feature("pro")]
fn std_result() -> ::std::result::Result<u8, LicenseError> {
    Ok(2)
}

#[requires_feature("pro")]
fn boxed_error() -> Result<u8, Box<dyn Error + Send + Sync>> {
    Ok(3)
}

mod app {
    #[derive(Debug)]
    pub struct Error;

    impl From<license_gate::LicenseError> for Error {
        fn from(_: license_gate::LicenseError) -> Self {
            Error
        }
    }

    pub type Result<T> = std::result::Result<T, Error>;
}

#[requires_feature("pro")]
fn alias_named_result() -> app::Result<u8> {
    Ok(4)
}

#[requires_feature("pro")]
fn nested() -> Result<Result<u8, String>, LicenseError> {
    Ok(Err("inner".to_owned()))
}

#[test]
fn main() {
    let _license = TestLicense::unlicensed().scoped();
    assert_eq!(
        io_result().unwrap_err().kind(),
        io::ErrorKind::PermissionDenied
    );
    assert!(std_result().is_err());
    assert!(
        boxed_error()
            .unwrap_err()
            .downcast_ref::<LicenseError>()
            .is_some()
    );
    assert!(alias_named_result().is_err());
    assert!(nested().is_err());
}
