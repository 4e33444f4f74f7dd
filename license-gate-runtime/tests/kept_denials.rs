//! A denied call site's error, built once per state and thread and copied
//! after that, is the error a fresh check builds: on the same state, across
//! more denied sites than a thread keeps, and after the state changes.
//!
//! Its own test binary: it installs the global gate.

use license_gate_runtime::__private::{CallSite, Requirement};
use license_gate_runtime::providers::mock::MockProvider;
use license_gate_runtime::{LicenseError, LicenseGate, LicenseStatus};

static ENTERPRISE: CallSite = CallSite::new(None, Requirement::All(&["pro", "enterprise"]));
static TEAM: CallSite = CallSite::new(None, Requirement::Any(&["team", "enterprise"]));
static RENDER: CallSite = CallSite::new(Some("Atlas Render"), Requirement::All(&["gpu"]));
static AUDIT: CallSite = CallSite::new(None, Requirement::All(&["audit"]));
static SSO: CallSite = CallSite::new(None, Requirement::All(&["sso"]));
static OPEN: CallSite = CallSite::new(None, Requirement::Licensed);

const DENIED: [&CallSite; 5] = [&ENTERPRISE, &TEAM, &RENDER, &AUDIT, &SSO];

/// The error of `site` as the gated path builds it (decided, then built).
fn gated_denial(site: &'static CallSite) -> LicenseError {
    site.decide().expect_err("the call is denied").error()
}

#[tokio::test]
async fn a_kept_denial_is_the_denial_a_fresh_check_builds() {
    let (provider, server) = MockProvider::licensed(["pro"]);
    let gate = LicenseGate::builder()
        .product("Atlas Studio")
        .provider(provider)
        .no_cache()
        .start()
        .await
        .expect("the gate starts");

    // Five denied sites, one more than a thread keeps, over several rounds:
    // each denial is the one `check` builds, first built or copied.
    for _ in 0..3 {
        for site in DENIED {
            assert_eq!(gated_denial(site), site.check().unwrap_err());
        }
    }
    assert!(OPEN.decide().is_ok());
    let missing = gated_denial(&ENTERPRISE);
    assert!(
        matches!(&missing, LicenseError::MissingFeature { missing, .. } if missing.iter().eq(["enterprise"])),
        "{missing:?}"
    );
    assert!(matches!(
        gated_denial(&RENDER),
        LicenseError::UnknownProduct { .. }
    ));

    // A change of state: the denials kept from the old state are not reused.
    server.set_status(LicenseStatus::Revoked);
    gate.refresh().await;
    for site in DENIED {
        let denial = gated_denial(site);
        assert_eq!(denial, site.check().unwrap_err());
        if !std::ptr::eq(site, &RENDER) {
            assert_eq!(denial.status(), Some(&LicenseStatus::Revoked), "{denial:?}");
        }
    }
    let open = gated_denial(&OPEN);
    assert!(
        matches!(
            &open,
            LicenseError::NotLicensed {
                status: LicenseStatus::Revoked,
                ..
            }
        ),
        "{open:?}"
    );

    // And back: allowed again, and the old denials are gone with the state.
    server.set_status(LicenseStatus::Licensed);
    gate.refresh().await;
    assert!(OPEN.decide().is_ok());
    assert_eq!(
        gated_denial(&ENTERPRISE).status(),
        Some(&LicenseStatus::Licensed)
    );
    gate.shutdown().await;
}
