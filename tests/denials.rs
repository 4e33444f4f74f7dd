//! A denial says and carries what the call needed, whatever the reason, so an
//! application can build an upgrade prompt from it; its message still ends
//! with the fix.

use std::collections::HashSet;

use license_gate::testing::TestLicense;
use license_gate::{
    LicenseError, LicenseStatus, Required, check_feature, check_product, error::Features, licensed,
    requires_feature,
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

// ---- equality by value ----

#[requires_feature("pro")]
fn pro_only() -> Result<u32, LicenseError> {
    Ok(1)
}

#[requires_feature("a-feature-name-longer-than-inline")]
fn long_named() -> Result<u32, LicenseError> {
    Ok(2)
}

/// The denials of one request, made three ways: by a gated call, by
/// `check_feature`, and by hand through the public API.
fn three_ways(
    feature: &'static str,
    gated: fn() -> Result<u32, LicenseError>,
) -> [LicenseError; 3] {
    let _basic = TestLicense::product("Atlas Studio")
        .features(["basic"])
        .scoped();
    let by_hand = LicenseError::MissingFeature {
        product: "Atlas Studio".into(),
        missing: Features::one(feature),
        required: Required::feature(feature.to_owned()),
        status: LicenseStatus::Licensed,
    };
    [
        gated().unwrap_err(),
        check_feature(feature).unwrap_err(),
        by_hand,
    ]
}

#[test]
fn the_same_denial_made_three_ways_is_equal() {
    for (feature, gated) in [
        ("pro", pro_only as fn() -> _),
        ("a-feature-name-longer-than-inline", long_named),
    ] {
        let [gated_call, checked, by_hand] = three_ways(feature, gated);
        assert_eq!(gated_call, checked);
        assert_eq!(gated_call, by_hand);
        assert_eq!(checked, by_hand);
        // As tests usually write it.
        assert_eq!(Err::<u32, _>(gated_call), Err(by_hand));
    }
    // A different status is a different denial.
    let revoked = LicenseError::NotLicensed {
        product: "Atlas Studio".into(),
        required: Required::feature("pro"),
        status: LicenseStatus::Revoked,
    };
    assert_ne!(three_ways("pro", pro_only)[0], revoked);
}

#[test]
fn equal_denials_hash_as_one() {
    let denials: HashSet<LicenseError> = three_ways("pro", pro_only).into_iter().collect();
    assert_eq!(denials.len(), 1);
    let both: HashSet<LicenseError> = three_ways("pro", pro_only)
        .into_iter()
        .chain(three_ways("a-feature-name-longer-than-inline", long_named))
        .collect();
    assert_eq!(both.len(), 2);
}
