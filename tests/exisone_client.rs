//! Every ExisOne client call against the emulator: the exact request sent and
//! the parsed result, including error replies.

use license_gate_tests::support;
use support::key_letters;

use std::time::{Duration, SystemTime};

use license_gate::providers::HttpOptions;
use license_gate::providers::exisone::{
    ActivationResult, ExisOneClient, ExisOneClientOptions, ExisOneSeatUsage,
};
use license_gate::{ProviderError, SeatUsage};
use license_gate_testkit::exisone::{
    EmulatedLicense, ExisOneEmulator, OfflineCodeSpec, Permission, RecordedRequest,
    TEST_PUBLIC_KEY_PEM,
};
use license_gate_testkit::{Fault, refused_url};
use serde_json::json;
use support::exisone::{EMAIL, HW, KEY, PRODUCT, client, emulator, options};

const AUTH: &str = "ExisOneApi exisone-test-token";

fn assert_post(request: &RecordedRequest, path: &str, body: serde_json::Value) {
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, path);
    assert_eq!(request.header("authorization"), Some(AUTH));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.json.as_ref(), Some(&body), "body of {path}");
}

#[tokio::test]
async fn activate_sends_the_documented_body_and_reads_the_reply() {
    let (emulator, control) = emulator().await;
    let result = client(&emulator.url())
        .activate(KEY, EMAIL, HW, PRODUCT, Some("1.4.0"))
        .await
        .unwrap();
    assert_post(
        &control.last_request().unwrap(),
        "/api/license/activate",
        json!({
            "activationKey": KEY,
            "email": EMAIL,
            "hardwareId": HW,
            "productName": PRODUCT,
            "version": "1.4.0",
        }),
    );
    assert!(result.success);
    assert_eq!(result.server_version.as_deref(), Some("1.0.0"));
    assert_eq!(result.minimum_required_version, None);
    assert!(
        result
            .license_data
            .as_deref()
            .unwrap()
            .contains("license activated")
    );
    assert_eq!(control.activations(KEY), vec![HW.to_owned()]);
    // The raw reply is kept, but `Debug` shows only its length.
    let debug = format!("{result:?}");
    assert!(!debug.contains("license activated"), "{debug}");
    assert!(debug.contains("bytes>"), "{debug}");
}

#[tokio::test]
async fn activate_leaves_out_a_missing_version_and_a_missing_token() {
    let (emulator, control) = emulator().await;
    let mut options = options(&emulator.url());
    options.access_token = None;
    let client = ExisOneClient::new(options).unwrap();
    client
        .activate(KEY, EMAIL, HW, PRODUCT, None)
        .await
        .unwrap();
    let request = control.last_request().unwrap();
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        request.json,
        Some(json!({
            "activationKey": KEY,
            "email": EMAIL,
            "hardwareId": HW,
            "productName": PRODUCT,
        }))
    );
}

#[tokio::test]
async fn activate_refusals_are_typed() {
    let (emulator, control) = emulator().await;
    let client = client(&emulator.url());

    control.set_minimum_version(Some("2.0.0"));
    let err = client
        .activate(KEY, EMAIL, HW, PRODUCT, Some("1.4.0"))
        .await
        .unwrap_err();
    match &err {
        ProviderError::Refused {
            status,
            code,
            minimum_required_version,
            message,
        } => {
            assert_eq!(*status, 426);
            assert_eq!(code.as_deref(), Some("version_outdated"));
            assert_eq!(minimum_required_version.as_deref(), Some("2.0.0"));
            assert!(message.contains("2.0.0"), "{message}");
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    assert!(!err.is_transient());
    let sdk = ActivationResult::from_error(&err);
    assert!(!sdk.success);
    assert_eq!(sdk.error_code.as_deref(), Some("version_outdated"));
    control.set_minimum_version(None);

    let err = client
        .activate("NONE-NONE-NONE-NONE", EMAIL, HW, PRODUCT, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { .. }), "{err:?}");

    let err = client
        .activate(KEY, EMAIL, HW, "Other Product", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProviderError::Refused { status: 400, code: Some(c), .. } if c == "invalid_product"),
        "{err:?}"
    );

    client
        .activate(KEY, EMAIL, HW, PRODUCT, None)
        .await
        .unwrap();
    let err = client
        .activate(KEY, EMAIL, "ANOTHER-MACHINE", PRODUCT, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProviderError::ActivationLimitReached { .. }),
        "{err:?}"
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn validate_sends_the_documented_body_and_reads_the_reply() {
    let (emulator, control) = emulator().await;
    let expiry = SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800); // 2100-01-01
    control.set_expiry(KEY, Some(expiry));
    control.bind(KEY, HW);
    let result = client(&emulator.url())
        .validate(KEY, HW, Some(PRODUCT), Some("1.4.0"))
        .await
        .unwrap();
    assert_post(
        &control.last_request().unwrap(),
        "/api/license/validate",
        json!({
            "activationKey": KEY,
            "hardwareId": HW,
            "productName": PRODUCT,
            "version": "1.4.0",
        }),
    );
    assert!(result.is_valid);
    assert_eq!(result.status, "licensed");
    assert_eq!(result.features, vec!["pro", "export"]);
    assert_eq!(result.expiration_date, Some(expiry));
    assert_eq!(result.server_version.as_deref(), Some("1.0.0"));
    assert_eq!(result.minimum_required_version, None);
}

#[tokio::test]
async fn validate_leaves_out_optional_fields_and_reports_statuses() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    let client = client(&emulator.url());
    client.validate(KEY, HW, None, None).await.unwrap();
    assert_eq!(
        control.last_request().unwrap().json,
        Some(json!({ "activationKey": KEY, "hardwareId": HW }))
    );

    control.revoke(KEY);
    let revoked = client.validate(KEY, HW, None, None).await.unwrap();
    assert!(!revoked.is_valid);
    assert_eq!(revoked.status, "revoked");

    control.reinstate(KEY);
    control.set_minimum_version(Some("2.0.0"));
    let outdated = client
        .validate(KEY, HW, Some(PRODUCT), Some("1.9.9"))
        .await
        .unwrap();
    assert!(!outdated.is_valid);
    assert_eq!(outdated.status, "version_outdated");
    assert_eq!(outdated.minimum_required_version.as_deref(), Some("2.0.0"));
}

#[tokio::test]
async fn validate_without_the_verify_permission_is_permission_denied() {
    let (emulator, control) = emulator().await;
    control.add_token("no-verify", &[Permission::Generate]);
    let mut options = options(&emulator.url());
    options.access_token = Some("no-verify".into());
    let client = ExisOneClient::new(options).unwrap();
    let err = client.validate(KEY, HW, None, None).await.unwrap_err();
    match &err {
        ProviderError::PermissionDenied { status, message } => {
            assert_eq!(*status, 403);
            assert!(message.contains("verify"), "{message}");
        }
        other => panic!("expected PermissionDenied, got {other:?}"),
    }
    // The vendor's token, not the user's license: transient, and the
    // message names what to fix.
    assert!(err.is_transient() && err.is_credentials_fault());
    assert!(err.to_string().contains("access token"), "{err}");
    assert!(!err.to_string().contains("no-verify"));
}

#[tokio::test]
async fn deactivate_names_the_key_license_key() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    client(&emulator.url())
        .deactivate(KEY, HW, PRODUCT)
        .await
        .unwrap();
    assert_post(
        &control.last_request().unwrap(),
        "/api/license/deactivate",
        json!({ "licenseKey": KEY, "hardwareId": HW, "productName": PRODUCT }),
    );
    assert!(control.activations(KEY).is_empty());

    let err = client(&emulator.url())
        .deactivate("NONE-NONE-NONE-NONE", HW, PRODUCT)
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn generate_activation_key_returns_the_plain_text_key() {
    let (emulator, control) = emulator().await;
    let client = client(&emulator.url());
    let key = client
        .generate_activation_key(PRODUCT, EMAIL, Some(7), Some(30))
        .await
        .unwrap();
    assert_post(
        &control.last_request().unwrap(),
        "/api/activationkey/generate",
        json!({ "productName": PRODUCT, "email": EMAIL, "planId": 7, "validityDays": 30 }),
    );
    assert_eq!(key.expose().len(), 19, "{key}");
    let license = control.license(key.expose()).expect("the key exists");
    assert_eq!(license.product, PRODUCT);
    assert!(license.expires_at.is_some());
    assert!(!format!("{key:?}").contains(&key.expose()[..9]));

    client
        .generate_activation_key(PRODUCT, EMAIL, None, None)
        .await
        .unwrap();
    assert_eq!(
        control.last_request().unwrap().json,
        Some(json!({ "productName": PRODUCT, "email": EMAIL }))
    );

    control.add_token("verify-only", &[Permission::Verify]);
    let mut options = options(&emulator.url());
    options.access_token = Some("verify-only".into());
    let err = ExisOneClient::new(options)
        .unwrap()
        .generate_activation_key(PRODUCT, EMAIL, None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProviderError::PermissionDenied { status: 403, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn support_tickets_need_the_email_permission() {
    let (emulator, control) = emulator().await;
    client(&emulator.url())
        .send_support_ticket(PRODUCT, EMAIL, "Crash", "It crashes on start")
        .await
        .unwrap();
    assert_post(
        &control.last_request().unwrap(),
        "/api/support/ticket",
        json!({
            "productName": PRODUCT,
            "email": EMAIL,
            "subject": "Crash",
            "message": "It crashes on start",
        }),
    );
    control.add_token("verify-only", &[Permission::Verify]);
    let mut options = options(&emulator.url());
    options.access_token = Some("verify-only".into());
    let err = ExisOneClient::new(options)
        .unwrap()
        .send_support_ticket(PRODUCT, EMAIL, "s", "m")
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProviderError::PermissionDenied { status: 403, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn seat_usage_of_corporate_licenses() {
    let (emulator, control) = emulator().await;
    let corporate = "CORP/1 A";
    control.add_license(
        EmulatedLicense::new(corporate, PRODUCT)
            .seats(3)
            .activated_on("M1")
            .activated_on("M2"),
    );
    let client = client(&emulator.url());
    let usage = client.get_seat_usage(corporate).await.unwrap();
    let request = control.last_request().unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/api/license/CORP%2F1%20A/usage");
    assert_eq!(request.header("authorization"), Some(AUTH));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(usage, ExisOneSeatUsage::new(2, Some(3), true, false));
    assert_eq!(usage.remaining(), Some(1));
    assert_eq!(SeatUsage::from(usage), SeatUsage::new(2, Some(3)));

    control.add_license(EmulatedLicense::new("CORP-UNLIMITED", PRODUCT).unlimited_seats());
    let unlimited = client.get_seat_usage("CORP-UNLIMITED").await.unwrap();
    assert_eq!(unlimited.max_seats, None);
    assert!(unlimited.is_unlimited);
    assert!(unlimited.has_capacity);
    assert_eq!(unlimited.remaining(), None);
    assert_eq!(SeatUsage::from(unlimited).limit, None);

    // The SDK's meaning where a reply is odd: `hasCapacity` is the server's
    // word, not computed; `remaining` is clamped at 0 and `None` whenever the
    // license is unlimited; null counts read as 0.
    let odd = [
        (
            r#"{"currentSeats":5,"maxSeats":3,"hasCapacity":true,"isUnlimited":false}"#,
            ExisOneSeatUsage::new(5, Some(3), true, false),
            Some(0),
        ),
        (
            r#"{"currentSeats":null,"maxSeats":4,"isUnlimited":true}"#,
            ExisOneSeatUsage::new(0, Some(4), false, true),
            None,
        ),
        (
            r#"{"currentSeats":1,"maxSeats":4,"hasCapacity":false}"#,
            ExisOneSeatUsage::new(1, Some(4), false, false),
            Some(3),
        ),
    ];
    for (body, expected, remaining) in odd {
        control
            .faults()
            .inject_next(1, Fault::Reply(200, body.to_owned()));
        let usage = client.get_seat_usage(corporate).await.unwrap();
        assert_eq!(usage, expected, "{body}");
        assert_eq!(usage.remaining(), remaining, "{body}");
    }

    let err = client.get_seat_usage(KEY).await.unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { .. }), "{err:?}");
    let err = client.get_seat_usage("  ").await.unwrap_err();
    assert!(matches!(err, ProviderError::InvalidKey(_)), "{err:?}");
}

#[tokio::test]
async fn licensed_features_come_from_the_csv_endpoint() {
    let (emulator, control) = emulator().await;
    let features = client(&emulator.url())
        .get_licensed_features(KEY)
        .await
        .unwrap();
    assert_post(
        &control.last_request().unwrap(),
        "/api/license/features/csv",
        json!({ "activationKey": KEY }),
    );
    assert_eq!(features, vec!["pro", "export"]);
    let err = client(&emulator.url())
        .get_licensed_features("NONE-NONE-NONE-NONE")
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::NotFound { .. }), "{err:?}");
    control.set_features(KEY, Vec::<String>::new());
    assert!(
        client(&emulator.url())
            .get_licensed_features(KEY)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn validate_smart_with_an_offline_code_checks_locally_then_tells_the_server() {
    let (emulator, control) = emulator().await;
    let code = control.mint_offline_code(&OfflineCodeSpec::new(PRODUCT, HW).features(["pro"]));
    let client =
        ExisOneClient::new(options(&emulator.url()).offline_public_key(TEST_PUBLIC_KEY_PEM))
            .unwrap();

    let offline = client.validate_offline(&code, HW);
    assert!(offline.is_valid, "{:?}", offline.error_message);
    assert_eq!(offline.features, vec!["pro"]);
    assert_eq!(offline.product_name.as_deref(), Some(PRODUCT));
    assert!(
        control.requests().is_empty(),
        "offline validation sends nothing"
    );

    let smart = client
        .validate_smart(&code, HW, Some(PRODUCT))
        .await
        .unwrap();
    assert!(smart.validation.is_valid && smart.was_offline);
    assert_eq!(smart.validation.status, "licensed");
    let told = control.last_request().unwrap();
    assert_post(
        &told,
        "/api/license/validate",
        json!({ "activationKey": code, "hardwareId": HW }),
    );

    emulator.faults().go_down();
    let smart = client
        .validate_smart(&code, HW, Some(PRODUCT))
        .await
        .unwrap();
    assert!(
        smart.validation.is_valid,
        "server errors are ignored for offline codes"
    );
}

#[tokio::test]
async fn validate_smart_with_an_online_key_falls_back_when_unreachable() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    let online = client(&emulator.url());
    let smart = online.validate_smart(KEY, HW, Some(PRODUCT)).await.unwrap();
    assert!(smart.validation.is_valid && !smart.was_offline);
    assert_eq!(smart.validation.features, vec!["pro", "export"]);
    assert_eq!(
        control.last_request().unwrap().json,
        Some(json!({ "activationKey": KEY, "hardwareId": HW, "productName": PRODUCT }))
    );

    let down = client(&refused_url());
    let smart = down.validate_smart(KEY, HW, Some(PRODUCT)).await.unwrap();
    assert!(!smart.validation.is_valid && smart.was_offline);
    assert_eq!(smart.validation.status, "offline");

    let with_key =
        ExisOneClient::new(options(&refused_url()).offline_public_key(TEST_PUBLIC_KEY_PEM))
            .unwrap();
    let smart = with_key
        .validate_smart(KEY, HW, Some(PRODUCT))
        .await
        .unwrap();
    assert!(!smart.validation.is_valid && smart.was_offline);
    assert_eq!(smart.validation.status, "invalid");

    let err = online.validate_smart("  ", HW, None).await.unwrap_err();
    assert!(matches!(err, ProviderError::InvalidKey(_)), "{err:?}");
}

#[tokio::test]
async fn validate_smart_returns_refusals_as_an_invalid_result_with_the_reason() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    let client =
        ExisOneClient::new(options(&emulator.url()).offline_public_key(TEST_PUBLIC_KEY_PEM))
            .unwrap();

    // 404: an unknown key.
    let smart = client
        .validate_smart("NONE-NONE-NONE-NONE", HW, Some(PRODUCT))
        .await
        .expect("a refusal is a result, as in the SDK");
    assert!(!smart.validation.is_valid && !smart.was_offline);
    assert_eq!(smart.validation.status, "invalid");
    assert_eq!(smart.product_name.as_deref(), Some(PRODUCT));
    let reason = smart.error_message.expect("the reason");
    assert!(reason.to_string().contains("not found"), "{reason}");
    assert!(
        !reason.to_string().contains("NONE-NONE-NONE-NONE"),
        "the key is masked: {reason}"
    );

    // 403: a token without the `verify` permission.
    control.add_token("token-without-verify", &[]);
    let no_verify =
        ExisOneClient::new(options(&emulator.url()).access_token("token-without-verify")).unwrap();
    let smart = no_verify
        .validate_smart(KEY, HW, Some(PRODUCT))
        .await
        .unwrap();
    assert!(!smart.validation.is_valid && !smart.was_offline);
    assert!(
        smart.error_message.as_deref().unwrap().contains("HTTP 403"),
        "{:?}",
        smart.error_message
    );

    // 400 and 426 from the server, whatever the key.
    emulator.faults().fail_next(1, 400);
    let smart = client.validate_smart(KEY, HW, Some("")).await.unwrap();
    assert!(!smart.validation.is_valid && !smart.was_offline);
    assert_eq!(smart.validation.status, "invalid");
    assert!(smart.error_message.unwrap().contains("HTTP 400"));
    emulator.faults().fail_next(1, 426);
    let smart = client.validate_smart(KEY, HW, Some(PRODUCT)).await.unwrap();
    assert!(!smart.validation.is_valid);
    assert_eq!(smart.validation.status, "version_outdated");

    // A refusal is never read as an unreachable server: the configured
    // public key does not turn it into an offline check.
    let smart = client.validate_smart(KEY, HW, Some(PRODUCT)).await.unwrap();
    assert!(smart.validation.is_valid && !smart.was_offline);
}

#[tokio::test]
async fn deactivate_smart_says_whether_the_server_was_told() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    let told = client(&emulator.url())
        .deactivate_smart(KEY, HW, PRODUCT)
        .await;
    assert!(told.success && told.server_notified);
    assert_eq!(
        control.last_request().unwrap().json,
        Some(json!({ "licenseKey": KEY, "hardwareId": HW, "productName": PRODUCT }))
    );

    let offline = client(&refused_url())
        .deactivate_smart(KEY, HW, PRODUCT)
        .await;
    assert!(offline.success && !offline.server_notified);
    assert!(offline.error_message.is_some());

    let refused = client(&emulator.url())
        .deactivate_smart("NONE-NONE-NONE-NONE", HW, PRODUCT)
        .await;
    assert!(!refused.success && !refused.server_notified);
}

#[tokio::test]
async fn deactivate_smart_with_an_offline_code() {
    let (emulator, control) = emulator().await;
    let code = control.mint_offline_code(&OfflineCodeSpec::new(PRODUCT, HW).features(["pro"]));
    let with_key = |url: &str| {
        ExisOneClient::new(options(url).offline_public_key(TEST_PUBLIC_KEY_PEM)).unwrap()
    };

    // A server that knows the code releases it: told, with the whole code
    // as `licenseKey`.
    control.add_license(EmulatedLicense::new(code.clone(), PRODUCT).activated_on(HW));
    let told = with_key(&emulator.url())
        .deactivate_smart(&code, HW, PRODUCT)
        .await;
    assert!(told.success && told.server_notified, "{told:?}");
    assert_eq!(
        control.last_request().unwrap().json,
        Some(json!({ "licenseKey": code, "hardwareId": HW, "productName": PRODUCT }))
    );
    assert!(control.activations(&code).is_empty());

    // A server that does not know it (404): deactivated here all the same,
    // not told, the refusal said with the code masked.
    control.remove_license(&code);
    let unknown = with_key(&emulator.url())
        .deactivate_smart(&code, HW, PRODUCT)
        .await;
    assert!(unknown.success && !unknown.server_notified, "{unknown:?}");
    let message = unknown.error_message.expect("the refusal");
    assert!(message.contains("not found"), "{message}");
    assert!(!message.contains(&code), "the code is masked: {message}");

    // An unreachable server: deactivated here, not told.
    emulator.faults().go_down();
    let down = with_key(&emulator.url())
        .deactivate_smart(&code, HW, PRODUCT)
        .await;
    assert!(down.success && !down.server_notified, "{down:?}");
    assert!(!down.error_message.unwrap().contains(&code));
    let unreachable = with_key(&refused_url())
        .deactivate_smart(&code, HW, PRODUCT)
        .await;
    assert!(unreachable.success && !unreachable.server_notified);
}

#[tokio::test]
async fn transport_faults_are_transient_errors() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    let faults = emulator.faults();
    let client = client(&emulator.url());

    faults.fail_next(1, 503);
    let err = client.validate(KEY, HW, None, None).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::ServerFault { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());

    faults.inject_next(1, Fault::MalformedJson);
    let err = client.validate(KEY, HW, None, None).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::MalformedReply { status: 200, .. }),
        "{err:?}"
    );
    assert!(err.is_transient());

    faults.drop_next(1);
    let err = client.validate(KEY, HW, None, None).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");

    let err = super_short_client(&emulator.url(), &faults).await;
    assert!(matches!(err, ProviderError::Timeout { .. }), "{err:?}");

    let err = crate::client(&refused_url())
        .validate(KEY, HW, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Unreachable { .. }), "{err:?}");

    faults.fail_next(1, 429);
    let err = client.validate(KEY, HW, None, None).await.unwrap_err();
    assert!(matches!(err, ProviderError::RateLimited { .. }), "{err:?}");
    assert!(err.is_transient());
}

async fn super_short_client(
    url: &str,
    faults: &license_gate_testkit::FaultControl,
) -> ProviderError {
    faults.set_delay(Duration::from_secs(3));
    let mut short = options(url);
    short.http = short.http.clone().timeout(Duration::from_millis(300));
    let client = ExisOneClient::new(short).unwrap();
    let err = client.validate(KEY, HW, None, None).await.unwrap_err();
    faults.set_delay(Duration::ZERO);
    err
}

#[tokio::test]
async fn version_base_url_and_hardware_id() {
    assert_eq!(ExisOneClient::VERSION, env!("CARGO_PKG_VERSION"));
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    let client = client(&refused_url());
    // As the SDK's `client.get_version()`.
    assert_eq!(client.get_version(), env!("CARGO_PKG_VERSION"));
    assert_eq!(client.generate_hardware_id(), HW);
    let client = client.with_base_url(emulator.url()).unwrap();
    assert!(client.validate(KEY, HW, None, None).await.unwrap().is_valid);
    let err = client
        .with_base_url("http://license.example.com")
        .unwrap_err();
    assert!(matches!(err, ProviderError::Config(_)), "{err:?}");

    let default = ExisOneClient::new(
        ExisOneClientOptions::new(emulator.url())
            .http(HttpOptions::new().allow_insecure_loopback()),
    )
    .unwrap();
    assert_eq!(default.generate_hardware_id(), license_gate::hardware_id());
    let blank = ExisOneClient::new(
        ExisOneClientOptions::new(emulator.url())
            .hardware_id_override("  ")
            .http(HttpOptions::new().allow_insecure_loopback()),
    )
    .unwrap();
    assert_eq!(blank.generate_hardware_id(), license_gate::hardware_id());

    // The SDK's hardware ID on request; a non-blank override still wins.
    let sdk = ExisOneClient::new(
        ExisOneClientOptions::new(emulator.url())
            .exisone_sdk_hardware_id()
            .http(HttpOptions::new().allow_insecure_loopback()),
    )
    .unwrap();
    assert_eq!(
        sdk.generate_hardware_id(),
        license_gate::exisone_sdk_hardware_id()
    );
    let overridden = ExisOneClient::new(
        ExisOneClientOptions::new(emulator.url())
            .exisone_sdk_hardware_id()
            .hardware_id_override("my-vm-42")
            .http(HttpOptions::new().allow_insecure_loopback()),
    )
    .unwrap();
    assert_eq!(overridden.generate_hardware_id(), "my-vm-42");
}

#[tokio::test]
async fn allowed_hosts_and_bad_settings_are_config_errors() {
    let err = ExisOneClient::new(
        ExisOneClientOptions::new("https://evil.example.net")
            .http(HttpOptions::new().allowed_hosts(["license.example.com"])),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("not in the allowed hosts"),
        "{err}"
    );
    let err = ExisOneClient::new(
        ExisOneClientOptions::new("https://license.example.com").offline_public_key("garbage"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("PEM"), "{err}");
    let err = ExisOneClient::new(
        ExisOneClientOptions::new("https://license.example.com").access_token("bad\ntoken"),
    )
    .unwrap_err();
    assert!(!err.to_string().contains("bad\ntoken"));
}

#[tokio::test]
async fn tls_works_with_the_test_certificate_as_extra_root() {
    let certificate = license_gate_testkit::TestCertificate::localhost();
    let emulator = ExisOneEmulator::start_tls(&certificate).await.unwrap();
    let control = emulator.control();
    control.add_license(
        EmulatedLicense::new(KEY, PRODUCT)
            .features(["pro"])
            .activated_on(HW),
    );
    assert!(emulator.url().starts_with("https://localhost:"));

    let mut trusted = options(&emulator.url());
    trusted.http = trusted
        .http
        .extra_root_certificate(certificate.ca_pem().as_bytes().to_vec());
    let trusting = ExisOneClient::new(trusted).unwrap();
    let result = trusting
        .validate(KEY, HW, Some(PRODUCT), None)
        .await
        .unwrap();
    assert!(result.is_valid);
    assert_eq!(result.features, vec!["pro"]);
    assert_eq!(
        control.last_request().unwrap().header("authorization"),
        Some(AUTH)
    );

    let untrusting = client(&emulator.url());
    let err = untrusting
        .validate(KEY, HW, Some(PRODUCT), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProviderError::Unreachable { .. }),
        "an unknown CA must fail: {err:?}"
    );
}

// ---- keys in errors ----------------------------------------------------------

/// Privacy (issue: `ExisOneClient` errors quoted the license key as the
/// server sent it). Whatever an error reply quotes the key in (as sent,
/// without dashes, with spaces, percent-encoded, in lower case; in a refusal,
/// an HTML page, an unreadable reply), no error of any call with a key shows
/// it, in `Display` or `Debug`.
#[tokio::test]
async fn errors_never_quote_the_key_in_any_spelling() {
    let (emulator, _control) = emulator().await;
    let client = client(&emulator.url());
    let bare: String = KEY.chars().filter(|c| *c != '-').collect();
    let spellings = [
        KEY.to_owned(),
        bare.clone(),
        bare.to_ascii_lowercase(),
        KEY.replace('-', " "),
        KEY.replace('-', "%2D"),
        KEY.to_ascii_lowercase(),
    ];
    for echoed in &spellings {
        let mut replies = vec![
            Fault::Reply(
                404,
                format!(r#"{{"error": "not_found", "message": "no license {echoed}"}}"#),
            ),
            Fault::Reply(
                400,
                format!(r#"{{"error": "invalid_key", "message": "key {echoed} is malformed"}}"#),
            ),
            Fault::Reply(
                403,
                format!(r#"{{"error": "forbidden", "message": "{echoed}: no verify"}}"#),
            ),
            Fault::Reply(
                409,
                format!(r#"{{"error": "seat_limit", "message": "{echoed} is full"}}"#),
            ),
            Fault::Page(403, format!("<html>blocked: {echoed}</html>")),
            Fault::Reply(503, format!("down for {echoed}")),
        ];
        // Replies that only fail the calls that read a 2xx body.
        let unreadable = Fault::Reply(
            200,
            format!(r#"{{"isValid": "{echoed}", "currentSeats": "{echoed}", "features": 7}}"#),
        );
        replies.push(unreadable.clone());
        for reply in replies {
            for call in 0..5 {
                if reply == unreadable && matches!(call, 1 | 2) {
                    continue; // activate and deactivate accept any 2xx
                }
                emulator.faults().inject_next(1, reply.clone());
                let outcome = match call {
                    0 => client
                        .validate(KEY, HW, Some(PRODUCT), None)
                        .await
                        .map(|_| ()),
                    1 => client
                        .activate(KEY, EMAIL, HW, PRODUCT, None)
                        .await
                        .map(|_| ()),
                    2 => client.deactivate(KEY, HW, PRODUCT).await,
                    3 => client.get_seat_usage(KEY).await.map(|_| ()),
                    _ => client.get_licensed_features(KEY).await.map(|_| ()),
                };
                let err = outcome.expect_err("the injected reply is an error");
                let text = format!("{err} {err:?}");
                assert!(
                    !key_letters(&text).contains(&key_letters(KEY)),
                    "call {call}, {reply:?}: the error quotes the key: {text}"
                );
            }
        }
    }
    // A validation whose status word quotes the key.
    emulator.faults().inject_next(
        1,
        Fault::Reply(
            200,
            format!(r#"{{"isValid": false, "status": "invalid {bare}"}}"#),
        ),
    );
    let result = client.validate(KEY, HW, Some(PRODUCT), None).await.unwrap();
    assert!(
        !key_letters(&result.status).contains(&key_letters(KEY)),
        "{}",
        result.status
    );
}
