//! Every `license-gate exisone` call against an in-process emulator: the
//! request on the wire, success, each refusal and each configuration error,
//! with the `--json` shape of each.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use common::*;
use license_gate_testkit::exisone::{
    EmulatedLicense, ExisOneControl, ExisOneEmulator, OfflineCodeMinter, OfflineCodeSpec,
    Permission, TEST_PUBLIC_KEY_PEM,
};
use serde_json::{Value, json};

const KEY: &str = "ATLS-7Q2M-K9PD-X4RW";
const CORP: &str = "CORP-7Q2M-K9PD-X4RW";
const PRODUCT: &str = "Atlas Studio";
const HW: &str = "HW-CLI-0001";

async fn emulator() -> (ExisOneEmulator, ExisOneControl) {
    let emulator = ExisOneEmulator::start().await.expect("start the emulator");
    let control = emulator.control();
    control.add_license(
        EmulatedLicense::new(KEY, PRODUCT)
            .features(["pro", "export"])
            .expires_at(SystemTime::now() + Duration::from_secs(86_400)),
    );
    control.add_license(
        EmulatedLicense::new(CORP, PRODUCT)
            .features(["pro"])
            .seats(2),
    );
    (emulator, control)
}

/// `license-gate --json exisone --hardware-id HW ARGS` against the emulator.
fn exisone(emulator: &ExisOneEmulator, args: &[&str]) -> Command {
    let mut command = cli();
    command
        .env("EXISONE_BASEURL", emulator.url())
        .env("EXISONE_ACCESS_TOKEN", ExisOneEmulator::TOKEN)
        .args(["--json", "exisone", "--hardware-id", HW, "--timeout", "5"])
        .args(args);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activate_validate_deactivate_with_every_refusal() {
    let (emulator, control) = emulator().await;

    // Not yet activated: a refusal with the status word and the remedy.
    let output = run_async(exisone(&emulator, &["validate", KEY, "--product", PRODUCT])).await;
    assert_eq!(output.status.code(), Some(1));
    let value = json_of(&output);
    let error = assert_error_shape(&value, "not_valid");
    assert_eq!(error["code"], "not_activated");
    assert_eq!(value["status"], "not_activated");
    assert!(assert_one_error_line(&output).contains("license-gate exisone activate"));

    // Activate: the documented body, then valid.
    let output = run_async(exisone(
        &emulator,
        &[
            "activate",
            KEY,
            "--email",
            "buyer@example.com",
            "--product",
            PRODUCT,
            "--app-version",
            "1.4.0",
        ],
    ))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["ok"], true);
    assert_eq!(value["activated"], true);
    assert_eq!(value["key"], "****-****-****-X4RW");
    assert_eq!(
        control.last_request().unwrap().json,
        Some(json!({
            "activationKey": KEY,
            "email": "buyer@example.com",
            "hardwareId": HW,
            "productName": PRODUCT,
            "version": "1.4.0",
        }))
    );
    let output = run_async(exisone(&emulator, &["validate", KEY, "--product", PRODUCT])).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["ok"], true);
    assert_eq!(value["features"], json!(["pro", "export"]));
    assert!(!stdout(&output).contains(KEY));

    // A minimum version: the refusal carries it, in JSON and in words.
    control.set_minimum_version(Some("2.0.0"));
    let output = run_async(exisone(
        &emulator,
        &[
            "activate",
            KEY,
            "--email",
            "b@example.com",
            "--product",
            PRODUCT,
            "--app-version",
            "1.0.0",
        ],
    ))
    .await;
    assert_eq!(output.status.code(), Some(1));
    let error = assert_error_shape(&json_of(&output), "refused");
    assert_eq!(error["http_status"], 426);
    assert_eq!(error["code"], "version_outdated");
    assert_eq!(error["minimum_version"], "2.0.0");
    let line = assert_one_error_line(&output);
    assert!(line.contains("2.0.0"), "{line}");
    let output = run_async(exisone(
        &emulator,
        &[
            "validate",
            KEY,
            "--product",
            PRODUCT,
            "--app-version",
            "1.0.0",
        ],
    ))
    .await;
    assert_eq!(output.status.code(), Some(1));
    let value = json_of(&output);
    let error = assert_error_shape(&value, "not_valid");
    assert_eq!(error["code"], "version_outdated");
    assert_eq!(error["minimum_version"], "2.0.0");
    assert!(assert_one_error_line(&output).contains("version 2.0.0 or later"));
    control.set_minimum_version(None);

    // Another machine: the seat is taken, the service's words kept.
    let mut command = exisone(
        &emulator,
        &[
            "activate",
            KEY,
            "--email",
            "b@example.com",
            "--product",
            PRODUCT,
        ],
    );
    command.args(["--hardware-id", "HW-OTHER"]);
    let output = run_async(command).await;
    assert_eq!(output.status.code(), Some(1));
    let error = assert_error_shape(&json_of(&output), "activation_limit_reached");
    assert_eq!(error["http_status"], 409);
    assert_eq!(error["server_message"], "All seats are in use (1 of 1)");
    assert!(assert_one_error_line(&output).contains("All seats are in use"));

    // ... and cannot free the seat it does not hold.
    let mut command = exisone(&emulator, &["deactivate", KEY, "--product", PRODUCT]);
    command.args(["--hardware-id", "HW-OTHER"]);
    let output = run_async(command).await;
    assert_eq!(output.status.code(), Some(1));
    let error = assert_error_shape(&json_of(&output), "refused");
    assert_eq!(error["code"], "hardware_mismatch");
    assert_eq!(control.activations(KEY), [HW]);

    // Wrong product and unknown key.
    let output = run_async(exisone(&emulator, &["validate", KEY, "--product", "Other"])).await;
    assert_eq!(output.status.code(), Some(1));
    let error = assert_error_shape(&json_of(&output), "refused");
    assert_eq!(error["http_status"], 400);
    assert_eq!(error["code"], "invalid_product");
    let output = run_async(exisone(&emulator, &["validate", "NONE-NONE-NONE-NONE"])).await;
    assert_eq!(output.status.code(), Some(1));
    let error = assert_error_shape(&json_of(&output), "not_found");
    assert_eq!(error["http_status"], 404);

    // The machine that holds the seat frees it: the documented body.
    let output = run_async(exisone(
        &emulator,
        &["deactivate", KEY, "--product", PRODUCT],
    ))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json_of(&output)["deactivated"], true);
    assert_eq!(
        control.last_request().unwrap().json,
        Some(json!({ "licenseKey": KEY, "hardwareId": HW, "productName": PRODUCT }))
    );
    assert!(control.activations(KEY).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seat_limits_carry_the_counts() {
    let (emulator, control) = emulator().await;
    control.bind(CORP, "HW-A");
    control.bind(CORP, "HW-B");
    let output = run_async(exisone(&emulator, &["seats", CORP])).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["current_seats"], 2);
    assert_eq!(value["max_seats"], 2);
    assert_eq!(value["has_capacity"], false);
    assert_eq!(value["is_unlimited"], false);
    assert_eq!(value["remaining"], 0);

    // The report says what the server says, as the SDK does: its
    // `hasCapacity`, and `remaining` clamped at 0.
    control.faults().inject_next(
        1,
        license_gate_testkit::faults::Fault::Reply(
            200,
            r#"{"currentSeats":3,"maxSeats":2,"hasCapacity":true,"isUnlimited":false}"#.into(),
        ),
    );
    let output = run_async(exisone(&emulator, &["seats", CORP])).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["current_seats"], 3);
    assert_eq!(value["has_capacity"], true);
    assert_eq!(value["remaining"], 0);

    let output = run_async(exisone(
        &emulator,
        &[
            "activate",
            CORP,
            "--email",
            "b@example.com",
            "--product",
            PRODUCT,
        ],
    ))
    .await;
    assert_eq!(output.status.code(), Some(1));
    let error = assert_error_shape(&json_of(&output), "activation_limit_reached");
    assert_eq!(error["seats_used"], 2);
    assert_eq!(error["seats_limit"], 2);
    let line = assert_one_error_line(&output);
    assert!(line.contains("(2 of 2 in use)"), "{line}");

    // A standard license has no seat usage: 404 with the reason.
    let output = run_async(exisone(&emulator, &["seats", KEY])).await;
    assert_eq!(output.status.code(), Some(1));
    let error = assert_error_shape(&json_of(&output), "not_found");
    assert_eq!(error["http_status"], 404);
    assert!(assert_one_error_line(&output).contains("corporate"));

    // Features.
    let output = run_async(exisone(&emulator, &["features", KEY])).await;
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(json_of(&output)["features"], json!(["pro", "export"]));
    let output = run_async(exisone(&emulator, &["features", "NONE-NONE-NONE-NONE"])).await;
    assert_eq!(output.status.code(), Some(1));
    assert_error_shape(&json_of(&output), "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_key_and_ticket_need_their_permissions() {
    let (emulator, control) = emulator().await;
    let output = run_async(exisone(
        &emulator,
        &[
            "generate-key",
            "--product",
            PRODUCT,
            "--email",
            "new@example.com",
            "--plan-id",
            "7",
            "--validity-days",
            "30",
        ],
    ))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["ok"], true);
    let key = value["key"]
        .as_str()
        .expect("the new key in full")
        .to_owned();
    assert_eq!(key.len(), 19, "{key}");
    assert_eq!(
        control.last_request().unwrap().json,
        Some(
            json!({ "productName": PRODUCT, "email": "new@example.com", "planId": 7, "validityDays": 30 })
        )
    );
    assert!(
        control.license(&key).is_some(),
        "the emulator knows the new key"
    );

    let output = run_async(exisone(
        &emulator,
        &[
            "generate-key",
            "--product",
            PRODUCT,
            "--email",
            "n@example.com",
            "--validity-days",
            "0",
        ],
    ))
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert_error_shape(&json_of(&output), "usage");

    // The ticket's message from stdin.
    let mut command = exisone(
        &emulator,
        &[
            "ticket",
            "--product",
            PRODUCT,
            "--email",
            "b@example.com",
            "--subject",
            "Cannot activate",
            "--message",
            "-",
        ],
    );
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().expect("spawn");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"It says all seats are in use.\n")
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json_of(&output)["sent"], true);
    assert_eq!(
        control.last_request().unwrap().json,
        Some(json!({
            "productName": PRODUCT,
            "email": "b@example.com",
            "subject": "Cannot activate",
            "message": "It says all seats are in use.",
        }))
    );

    // A token without the permissions: 403 for both.
    control.add_token("verify-only", &[Permission::Verify]);
    for args in [
        vec![
            "generate-key",
            "--product",
            PRODUCT,
            "--email",
            "n@example.com",
        ],
        vec![
            "ticket",
            "--product",
            PRODUCT,
            "--email",
            "b@example.com",
            "--subject",
            "s",
            "--message",
            "m",
        ],
    ] {
        let mut command = exisone(&emulator, &args);
        command.env("EXISONE_ACCESS_TOKEN", "verify-only");
        let output = run_async(command).await;
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let error = assert_error_shape(&json_of(&output), "permission_denied");
        assert_eq!(error["http_status"], 403);
        assert!(!stdout(&output).contains("verify-only"));
    }
    let output = run_async(exisone(
        &emulator,
        &[
            "ticket",
            "--product",
            PRODUCT,
            "--email",
            "b@example.com",
            "--subject",
            " ",
            "--message",
            "m",
        ],
    ))
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert_error_shape(&json_of(&output), "usage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smart_validation_and_deactivation() {
    let (emulator, control) = emulator().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let public_key = write_file(dir.path(), "public.pem", TEST_PUBLIC_KEY_PEM);
    let public_key = public_key.to_string_lossy().into_owned();
    let code = OfflineCodeMinter::test_key().mint(
        &OfflineCodeSpec::new(PRODUCT, HW)
            .features(["pro"])
            .expires_at(SystemTime::now() + Duration::from_secs(86_400)),
    );

    // An offline code: checked locally, the server told.
    let output = run_async(exisone(
        &emulator,
        &[
            "validate",
            "--smart",
            "--offline-code",
            &code,
            "--public-key",
            &public_key,
        ],
    ))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["ok"], true);
    assert_eq!(value["was_offline"], true);
    assert_eq!(value["features"], json!(["pro"]));
    assert_eq!(value["product_name"], PRODUCT);
    assert_eq!(
        control.last_request().unwrap().path,
        "/api/license/validate"
    );

    // Without the public key: a usage error, nothing sent.
    control.clear_requests();
    let output = run_async(exisone(
        &emulator,
        &["validate", "--smart", "--offline-code", &code],
    ))
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        assert_error_shape(&json_of(&output), "usage")["message"]
            .as_str()
            .unwrap()
            .contains("--public-key")
    );
    assert!(control.requests().is_empty());
    // --offline-code only with --smart.
    let output = run_async(exisone(&emulator, &["validate", "--offline-code", &code])).await;
    assert_eq!(output.status.code(), Some(2));

    // An online key, valid, through the server.
    control.bind(KEY, HW);
    let output = run_async(exisone(
        &emulator,
        &["validate", "--smart", KEY, "--product", PRODUCT],
    ))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json_of(&output)["was_offline"], false);

    // Smart deactivation tells the server.
    let output = run_async(exisone(
        &emulator,
        &["deactivate", "--smart", KEY, "--product", PRODUCT],
    ))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["deactivated"], true);
    assert_eq!(value["server_notified"], true);
    // From a machine that holds no seat: refused, with the code.
    let mut command = exisone(
        &emulator,
        &["deactivate", "--smart", KEY, "--product", PRODUCT],
    );
    command.args(["--hardware-id", "HW-OTHER"]);
    let output = run_async(command).await;
    assert_eq!(output.status.code(), Some(1));
    let value = json_of(&output);
    assert_eq!(value["server_notified"], false);
    assert_eq!(
        assert_error_shape(&value, "refused")["code"],
        "hardware_mismatch"
    );

    // The server down: an online key has no answer (exit 3, status offline),
    // deactivation succeeds locally and says the server was not told.
    emulator.faults().go_down();
    let output = run_async(exisone(&emulator, &["validate", "--smart", KEY])).await;
    assert_eq!(output.status.code(), Some(3));
    let value = json_of(&output);
    assert_eq!(value["status"], "offline");
    assert_eq!(assert_error_shape(&value, "unavailable")["code"], "offline");
    let output = run_async(exisone(
        &emulator,
        &["deactivate", "--smart", KEY, "--product", PRODUCT],
    ))
    .await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["deactivated"], true);
    assert_eq!(value["server_notified"], false);
    // With a public key, an online key that is no offline code is invalid.
    let output = run_async(exisone(
        &emulator,
        &["validate", "--smart", KEY, "--public-key", &public_key],
    ))
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json_of(&output)["status"], "invalid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_errors_stop_before_sending() {
    let (emulator, control) = emulator().await;
    control.clear_requests();
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = write_file(dir.path(), "empty-token", "\n");
    let cases: Vec<(Command, &str)> = vec![
        (
            {
                let mut c = exisone(&emulator, &["validate", KEY]);
                c.env_remove("EXISONE_ACCESS_TOKEN");
                c
            },
            "EXISONE_ACCESS_TOKEN to the token itself",
        ),
        (
            {
                let mut c = exisone(&emulator, &["validate", KEY]);
                c.env_remove("EXISONE_BASEURL");
                c
            },
            "EXISONE_BASEURL",
        ),
        (
            {
                let mut c = exisone(&emulator, &["validate", KEY, "--access-token-file"]);
                c.arg(&empty);
                c
            },
            "is empty",
        ),
        (
            {
                let mut c = exisone(&emulator, &["validate", KEY]);
                c.args(["--base-url", "ftp://127.0.0.1:1"]);
                c
            },
            "ftp",
        ),
        (
            exisone(
                &emulator,
                &["validate", "--access-token", "secret-value", KEY],
            ),
            "--access-token-file FILE",
        ),
    ];
    for (command, needle) in cases {
        let output = run_async(command).await;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{needle}: {}",
            stderr(&output)
        );
        let line = assert_one_error_line(&output);
        assert!(line.contains(needle), "{line}");
        assert!(!line.contains("secret-value"), "{line}");
        let value: Value = json_of(&output);
        let kind = value["error"]["kind"].as_str().unwrap().to_owned();
        assert!(kind == "usage" || kind == "config", "{value}");
        assert_error_shape(&value, &kind);
    }
    assert!(control.requests().is_empty(), "nothing was sent");
}
