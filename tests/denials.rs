//! A denial says and carries what the call needed, whatever the reason, so an
//! application can build an upgrade prompt from it; its message still ends
//! with the fix.

use license_gate::testing::TestLicense;
use license_gate::{
    LicenseError, LicenseStatus, check_feature, check_product, licensed, requires_feature,
};

#[derive(Debug)]
struct AppError(LicenseError);

impl From<LicenseError> for AppError {
    fn from(error: LicenseError) -> Self {
        AppError(error)
    }
}

#[requires_feature("pro", "export")]
fn export() -> Result<(), AppError> {
    Ok(())
}

#[requires_feature(any("team", "enterprise"))]
fn share() -> Result<(), AppError> {
    Ok(())
}

#[requires_feature("gpu", product = "Atlas Render")]
fn render() -> Result<(), AppError> {
    Ok(())
}

#[licensed]
fn open() -> Result<(), AppError> {
    Ok(())
}

fn features(error: &LicenseError) -> Vec<&str> {
    error.required_features().collect()
}

#[test]
fn without_any_license_the_denial_names_the_features() {
    let _none = TestLicense::unlicensed().scoped();
    let denial = export().unwrap_err().0;
    assert_eq!(features(&denial), ["pro", "export"]);
    assert!(!denial.required().is_any_of());
    assert_eq!(denial.product(), Some("this application"));
    assert!(matches!(
        denial.status(),
        Some(LicenseStatus::Unlicensed { .. })
    ));
    assert_eq!(
        denial.to_string(),
        "this application is not licensed (unlicensed: no license is present) for `pro` and `export`: \
         activate a license, or connect to the internet so it can be confirmed"
    );
}

#[test]
fn a_revoked_license_names_the_product_and_features() {
    let _revoked = TestLicense::product("Atlas Studio")
        .features(["pro", "export"])
        .status(LicenseStatus::Revoked)
        .scoped();
    let denial = export().unwrap_err().0;
    assert_eq!(features(&denial), ["pro", "export"]);
    assert_eq!(denial.product(), Some("Atlas Studio"));
    assert_eq!(denial.status(), Some(&LicenseStatus::Revoked));
    assert!(
        denial
            .to_string()
            .ends_with("contact the vendor for a new license")
    );
}

#[test]
fn a_missing_feature_names_the_one_missing_and_the_whole_request() {
    let _basic = TestLicense::product("Atlas Studio")
        .features(["pro"])
        .scoped();
    let denial = export().unwrap_err().0;
    assert_eq!(features(&denial), ["pro", "export"]);
    match &denial {
        LicenseError::MissingFeature { missing, .. } => {
            assert_eq!(missing.iter().collect::<Vec<_>>(), ["export"]);
        }
        other => panic!("expected a missing feature, got {other:?}"),
    }
    assert_eq!(
        denial.to_string(),
        "the license for Atlas Studio does not include `export`: upgrade to a plan that includes it"
    );
}

#[test]
fn any_of_says_that_one_suffices() {
    let _basic = TestLicense::product("Atlas Studio")
        .features(["pro"])
        .scoped();
    let denial = share().unwrap_err().0;
    assert_eq!(features(&denial), ["team", "enterprise"]);
    assert!(denial.required().is_any_of());
    assert_eq!(
        denial.to_string(),
        "the license for Atlas Studio does not include any of `team`, `enterprise`: \
         upgrade to a plan that includes one of them"
    );
}

#[test]
fn a_product_the_app_does_not_know_is_named() {
    let _studio = TestLicense::product("Atlas Studio").scoped();
    let denial = render().unwrap_err().0;
    assert_eq!(denial.product(), Some("Atlas Render"));
    assert_eq!(features(&denial), ["gpu"]);
    let denial = check_product("Atlas Mobile").unwrap_err();
    assert_eq!(denial.product(), Some("Atlas Mobile"));
    assert!(denial.required_features().next().is_none());
}

#[test]
fn without_a_gate_the_request_is_still_carried() {
    // No scope on this thread and no gate in this binary.
    let denial = render().unwrap_err().0;
    assert!(matches!(denial, LicenseError::NoGate { .. }));
    assert_eq!(denial.product(), Some("Atlas Render"));
    assert_eq!(features(&denial), ["gpu"]);
    let denial = open().unwrap_err().0;
    assert_eq!(denial.product(), None);
    assert_eq!(features(&denial), Vec::<&str>::new());
}

#[test]
fn check_feature_carries_a_name_given_at_run_time() {
    let _expired = TestLicense::product("Atlas Studio")
        .status(LicenseStatus::Expired)
        .scoped();
    let wanted = format!("{}-{}", "plugin", "x".repeat(40));
    let denial = check_feature(&wanted).unwrap_err();
    assert_eq!(features(&denial), [wanted.as_str()]);
    assert_eq!(
        denial.to_string(),
        format!("Atlas Studio is not licensed (license expired) for `{wanted}`: renew the license")
    );
}
