//! Trait-impl methods, default methods and native `async fn` in traits.

use license_gate::testing::TestLicense;
use license_gate::{LicenseError, requires_feature};

trait Exporter {
    fn export(&self, name: &str) -> Result<String, LicenseError>;
    fn name(&self) -> &'static str;

    #[requires_feature("pro")]
    fn default_method(&self) -> Result<u8, LicenseError> {
        Ok(1)
    }
}

struct Pdf;

impl Exporter for Pdf {
    #[requires_feature("pdf")]
    fn export(&self, name: &str) -> Result<String, LicenseError> {
        Ok(format!("{name}.pdf"))
    }

    #[requires_feature("pdf", fallback = generic_name)]
    fn name(&self) -> &'static str {
        "pdf"
    }
}

fn generic_name(_: &Pdf) -> &'static str {
    "document"
}

trait Native {
    async fn native(&self) -> Result<u8, LicenseError>;
}

impl Native for Pdf {
    #[requires_feature("pdf")]
    async fn native(&self) -> Result<u8, LicenseError> {
        Ok(2)
    }
}

#[test]
fn main() {
    let _license = TestLicense::product("Atlas").features(["pdf"]).scoped();
    assert_eq!(Pdf.export("a").unwrap(), "a.pdf");
    assert_eq!(Pdf.name(), "pdf");
    assert!(Pdf.default_method().is_err());
    drop(Pdf.native());
}
