//! The facade's public face, item by item: a change to what `license_gate`
//! exports (an item added, moved or removed) shows as a diff of this file.
//!
//! The root holds what applications use; `provider` what provider authors
//! use; `error` the parts of the error types; `providers` the services;
//! `testing` the test helpers. Each item has one path. Compiled with the
//! default features plus `testing` and `webhooks`; `docs` (the guide) and the
//! hidden `__private` modules are not API and not listed.

#![allow(unused_imports)]

// The root: what applications use.
use license_gate::{
    CacheLocation, ClockFloor, CurrentScope, GateError, LicenseError, LicenseGate,
    LicenseGateBuilder, LicenseKey, LicenseSnapshot, LicenseStatus, ProductState, ProviderError,
    Reason, Required, RetryPolicy, ScopeGuard, Scoped, SeatUsage, Secret, Source, VendorSecret,
    VendorSecretWarning, check_feature, check_product, exisone_sdk_hardware_id, hardware_id,
    has_feature, snapshot, subscribe,
};
// The attribute macros (cargo feature `macros`).
use license_gate::{declared_features, embed_secret, licensed, requires_feature};
// The prelude.
use license_gate::prelude::*;

// For provider authors, and the clock tests set.
use license_gate::provider::{
    Clock, Deadline, LicenseAnswer, LicenseRequest, Provider, SystemClock, trusted_now,
};

// The parts of the error types.
use license_gate::error::{FeatureIter, Features, LicenseesMisuse, Name, ProductSetting, Setting};

// The services.
use license_gate::providers::HttpOptions;
use license_gate::providers::ecosire::webhook::{
    DELIVERY_HEADER, EVENT_HEADER, EcosireWebhook, WEBHOOK_SIGNATURE_HEADER, WebhookOutcome,
};
use license_gate::providers::ecosire::{
    ActivateReply, DEFAULT_BASE_URL, DEFAULT_HEARTBEAT_INTERVAL, DeactivateReply, EcosireClient,
    EcosireLicense, EcosireOptions, EcosireProvider, EcosireStatus, Platform, SECRET_ENV,
    ValidateReply, check_key,
};
use license_gate::providers::exisone::{
    ActivationResult, BASE_URL_ENV, DeactivationResult, ExisOneClient, ExisOneClientOptions,
    ExisOneProvider, ExisOneSeatUsage, NOTIFY_TIMEOUT, OFFLINE_CODE_MIN_LENGTH, OfflineCodeError,
    OfflineOutcome, OfflinePayload, OfflinePublicKey, OfflineValidationResult,
    SmartValidationResult, ValidationResult, is_offline_code, read_offline_code,
    validate_offline_code,
};
use license_gate::providers::mock::{MockCalls, MockHandle, MockProvider};

// Test helpers (cargo feature `testing`).
use license_gate::testing::{TestClock, TestLicense};

/// The printable shapes the issue asked for: a denial's required features
/// print, and a status's reason is typed.
#[test]
fn the_face_compiles_and_its_shapes_print() {
    let _license = TestLicense::unlicensed().scoped();
    let denial = check_feature("export").unwrap_err();
    assert_eq!(format!("{:?}", denial.required_features()), r#"["export"]"#);
    assert!(matches!(
        denial.status().and_then(LicenseStatus::reason),
        Some(Reason::NoLicense)
    ));
}
