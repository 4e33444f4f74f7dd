//! The `license-gate` binary, run as a process: outputs, exit codes, and calls
//! against emulators on loopback.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use common::*;

use license_gate::providers::HttpOptions;
use license_gate::providers::exisone::{ExisOneClient, ExisOneClientOptions};
use license_gate_testkit::ecosire::{EcosireEmulator, EmulatedLicense as EcosireLicense};
use license_gate_testkit::exisone::{
    EmulatedLicense, ExisOneEmulator, OfflineCodeMinter, OfflineCodeSpec, TEST_PUBLIC_KEY_PEM,
};
use serde_json::Value;

#[test]
fn hardware_id_is_stable_across_runs() {
    let first = run(cli().arg("hardware-id"));
    let second = run(cli().arg("hardware-id"));
    assert!(first.status.success(), "{}", stderr(&first));
    let id = stdout(&first).trim().to_owned();
    assert_eq!(id.len(), 64, "{id}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
    assert_eq!(stdout(&second).trim(), id);
    assert_eq!(id, license_gate::hardware_id());

    let json = run(cli().args(["--json", "hardware-id"]));
    let value: Value = serde_json::from_slice(&json.stdout).expect("JSON output");
    assert_eq!(value["hardware_id"], id.as_str());
}

/// The official ExisOne SDK's `generate_hardware_id()` on this machine, run
/// by Python from the published package (`exisone-client` 0.10.0) that the
/// environment variable `EXISONE_SDK_DIR` points at (installed there with
/// `python3 -m pip install --no-deps --target DIR exisone-client==0.10.0`,
/// as `.ci/run` does: a test reaches no registry itself). Only `hardware.py`
/// is loaded, so the package's HTTP dependencies are not needed. `Err` says
/// why it cannot be had.
fn official_sdk_hardware_id() -> Result<String, String> {
    let Some(dir) = std::env::var_os("EXISONE_SDK_DIR") else {
        return Err("EXISONE_SDK_DIR is not set: install the SDK with `python3 -m pip install --no-deps --target DIR exisone-client==0.10.0` and set EXISONE_SDK_DIR=DIR".to_owned());
    };
    let hardware = std::path::PathBuf::from(dir)
        .join("exisone")
        .join("hardware.py");
    if !hardware.is_file() {
        return Err(format!(
            "{} is missing: EXISONE_SDK_DIR must be the folder pip installed exisone-client 0.10.0 into",
            hardware.display()
        ));
    }
    let script = "import importlib.util, sys\n\
        spec = importlib.util.spec_from_file_location('exisone_hardware', sys.argv[1])\n\
        module = importlib.util.module_from_spec(spec)\n\
        spec.loader.exec_module(module)\n\
        print(module.generate_hardware_id())\n";
    let output = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&hardware)
        .output()
        .map_err(|e| format!("python3 could not be run ({e})"))?;
    if !output.status.success() {
        return Err(format!(
            "the SDK failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[test]
fn hardware_id_exisone_sdk_is_what_the_official_sdk_computes() {
    let ours = license_gate::exisone_sdk_hardware_id();
    let printed = run(cli().args(["hardware-id", "--exisone-sdk"]));
    assert!(printed.status.success(), "{}", stderr(&printed));
    assert_eq!(stdout(&printed).trim(), ours);
    let json = run(cli().args(["--json", "hardware-id", "--exisone-sdk"]));
    let value: Value = serde_json::from_slice(&json.stdout).expect("JSON output");
    assert_eq!(value["hardware_id"], ours.as_str());

    let sdk = match official_sdk_hardware_id() {
        Ok(id) => id,
        Err(reason) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped the comparison with the official ExisOne SDK: {reason}");
            return;
        }
        Err(reason) => panic!("CI must compare with the official ExisOne SDK: {reason}"),
    };
    assert_eq!(sdk.len(), 64, "{sdk}");
    assert_eq!(
        ours, sdk,
        "license-gate differs from the ExisOne SDK's generate_hardware_id()"
    );
}

#[test]
fn hardware_id_components_show_no_machine_identifiers() {
    let output = run(cli().args(["hardware-id", "--components"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with(&license_gate::hardware_id()));
    assert!(text.contains("platform"), "{text}");
    for path in ["/etc/machine-id", "/sys/class/dmi/id/product_uuid"] {
        if let Ok(secret) = std::fs::read_to_string(path) {
            let secret = secret.trim();
            if !secret.is_empty() {
                assert!(!text.contains(secret), "{path} is printed");
            }
        }
    }
    let json = run(cli().args(["hardware-id", "--components", "--json"]));
    let value: Value = serde_json::from_slice(&json.stdout).expect("JSON output");
    assert_eq!(value["ok"], true);
    let components = value["components"].as_array().expect("a list");
    assert!(!components.is_empty());
    // Each component is labelled distinctly (two machine IDs say which file).
    let kinds: Vec<&str> = components
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    let unique: std::collections::BTreeSet<&&str> = kinds.iter().collect();
    assert_eq!(unique.len(), kinds.len(), "{kinds:?}");
}

license_gate_testkit::vectors_test! {
fn offline_verify_agrees_with_the_shared_vectors() {
    let cases = license_gate_testkit::vectors::require("exisone-offline/cases.json");
    let dir = license_gate_testkit::vectors::dir().expect("the vectors were found when the tests were built");
    let public_key = dir.join("exisone-offline").join("public_key.pem");
    let cases: Value = serde_json::from_str(&cases).expect("cases.json is JSON");
    let cases = cases["cases"].as_array().expect("a list of cases");
    assert!(!cases.is_empty());
    for case in cases {
        let name = case["case"].as_str().unwrap_or("?");
        let expect = case["expect"].as_str().expect("expect");
        let output = run(cli()
            .args(["--json", "offline", "verify", "--public-key"])
            .arg(&public_key)
            .args(["--hardware-id", case["hardware_id"].as_str().expect("hwid")])
            .arg(case["code"].as_str().expect("code")));
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{name}: stdout is not JSON ({e}): {}", stdout(&output)));
        assert_eq!(report["outcome"], expect, "{name}: {report}");
        if expect == "valid" {
            assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
            assert!(output.stderr.is_empty(), "{name}: {}", stderr(&output));
            assert_eq!(report["ok"], true, "{name}");
        } else {
            assert_eq!(output.status.code(), Some(1), "{name}");
            assert_one_error_line(&output);
            assert!(report["reason"].is_string(), "{name}: {report}");
            let error = assert_error_shape(&report, "not_valid");
            assert_eq!(error["code"], expect, "{name}");
            assert_eq!(error["message"], report["reason"], "{name}");
        }
        if let Some(product) = case.get("product_name") {
            assert_eq!(&report["product_name"], product, "{name}");
        }
        if let Some(features) = case.get("features") {
            assert_eq!(&report["features"], features, "{name}");
        }
    }
}
}

#[test]
fn a_minted_code_verifies_from_an_argument_and_from_stdin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let public_key = write_file(dir.path(), "public.pem", TEST_PUBLIC_KEY_PEM);
    let code = OfflineCodeMinter::test_key().mint(
        &OfflineCodeSpec::new("Atlas Studio", "TEST-MACHINE-1")
            .features(["pro", "export"])
            .expires_at(SystemTime::now() + Duration::from_secs(86_400)),
    );

    let output = run(cli()
        .args(["offline", "verify", "--hardware-id", "test-machine-1"])
        .arg("--public-key")
        .arg(&public_key)
        .arg(&code));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("valid:"), "{text}");
    assert!(text.contains("Atlas Studio"), "{text}");
    assert!(text.contains("pro, export"), "{text}");

    let mut child = cli()
        .args(["offline", "verify", "--hardware-id", "TEST-MACHINE-1"])
        .arg("--public-key")
        .arg(&public_key)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{code}\n").as_bytes())
        .expect("write the code");
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // Without --hardware-id, this machine's ID is the one checked.
    let here = OfflineCodeMinter::test_key().mint(&OfflineCodeSpec::new(
        "Atlas Studio",
        license_gate::hardware_id(),
    ));
    let output = run(cli()
        .args(["offline", "verify", "--public-key"])
        .arg(&public_key)
        .arg(&here));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // The same code on another machine is a mismatch.
    let output = run(cli()
        .args(["offline", "verify", "--hardware-id", "OTHER"])
        .arg("--public-key")
        .arg(&public_key)
        .arg(&code));
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.starts_with("hardware mismatch\n"), "{text}");
    let line = assert_one_error_line(&output);
    assert!(line.contains("another machine"), "{line}");
    // The reason is said once: on stderr, not again on stdout.
    assert!(!text.contains("another machine"), "{text}");

    // `decode` shows the content, labelled unverified (in JSON too).
    let output = run(cli().args(["--json", "offline", "decode"]).arg(&code));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["ok"], true);
    assert_eq!(value["verified"], false);
    assert_eq!(value["payload"]["productName"], "Atlas Studio");
    let output = run(cli().args(["offline", "decode"]).arg(&code));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("UNVERIFIED"), "{text}");
    assert!(text.contains("\"productName\": \"Atlas Studio\""), "{text}");
}

#[test]
fn a_garbage_code_fails_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let public_key = write_file(dir.path(), "public.pem", TEST_PUBLIC_KEY_PEM);
    let output = run(cli()
        .args(["offline", "verify", "--hardware-id", "X", "--public-key"])
        .arg(&public_key)
        .arg("this is not a code!"));
    assert_eq!(output.status.code(), Some(1));
    let line = assert_one_error_line(&output);
    assert!(line.contains("not an offline code"), "{line}");
    assert!(
        stdout(&output).starts_with("invalid\n"),
        "{}",
        stdout(&output)
    );

    // A short word is "not an offline code", not a framing riddle.
    let output = run(cli()
        .args(["offline", "verify", "--hardware-id", "X", "--public-key"])
        .arg(&public_key)
        .arg("NOTACODE"));
    assert_eq!(output.status.code(), Some(1));
    let line = assert_one_error_line(&output);
    assert!(
        line.contains("not an offline code: it has 8 characters"),
        "{line}"
    );
    assert!(!line.contains("announces"), "{line}");
    let output = run(cli()
        .args([
            "--json",
            "offline",
            "verify",
            "--hardware-id",
            "X",
            "--public-key",
        ])
        .arg(&public_key)
        .arg("NOTACODE"));
    let value = json_of(&output);
    let error = assert_error_shape(&value, "not_valid");
    assert_eq!(error["code"], "invalid");
    assert_eq!(value["outcome"], "invalid");
    assert!(
        value["reason"]
            .as_str()
            .unwrap()
            .starts_with("not an offline code")
    );

    let output = run(cli().args(["offline", "decode", "UUUU"]));
    assert_eq!(output.status.code(), Some(1));
    assert!(assert_one_error_line(&output).contains("not an offline code"));
    let output = run(cli().args(["offline", "decode"]).arg("U".repeat(60)));
    assert_eq!(output.status.code(), Some(1));
    assert!(assert_one_error_line(&output).contains("`U` at position 1"));

    // A missing or wrong public key file is a usage error.
    let output = run(cli()
        .args(["offline", "verify", "--public-key"])
        .arg(dir.path().join("missing.pem"))
        .arg("CODE"));
    assert_eq!(output.status.code(), Some(2));
    assert!(assert_one_error_line(&output).contains("missing.pem"));
    let not_a_key = write_file(dir.path(), "not-a-key.pem", "hello");
    let output = run(cli()
        .args(["offline", "verify", "--public-key"])
        .arg(&not_a_key)
        .arg("CODE"));
    assert_eq!(output.status.code(), Some(2));
    assert!(assert_one_error_line(&output).contains("BEGIN PUBLIC KEY"));
    let output = run(cli()
        .args(["--json", "offline", "verify", "--public-key"])
        .arg(&not_a_key)
        .arg("CODE"));
    assert_eq!(output.status.code(), Some(2));
    assert_error_shape(&json_of(&output), "usage");
    let output = run(cli().args(["--json", "offline", "decode", "UUUU"]));
    assert_eq!(output.status.code(), Some(1));
    assert_error_shape(&json_of(&output), "not_valid");
}

#[test]
fn usage_errors_exit_2_and_secrets_are_not_flags() {
    let output = run(cli().args(["exisone", "validate", "AAAA-BBBB-CCCC-DDDD"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(assert_one_error_line(&output).contains("EXISONE_BASEURL"));

    let output = run(cli().args(["exisone", "--access-token", "t", "validate", "K"]));
    assert_eq!(output.status.code(), Some(2));
    let line = assert_one_error_line(&output);
    assert!(line.contains("--access-token-file FILE"), "{line}");
    assert!(!line.contains("-- --access-token"), "{line}");
    let output = run(cli().args(["ecosire", "--secret", "s", "validate", "K", "--domain", "d"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(assert_one_error_line(&output).contains("--secret-file FILE"));

    // Typos get a suggestion.
    let output = run(cli().arg("hardwareid"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("hardware-id"),
        "{}",
        stderr(&output)
    );
    let output = run(cli().args(["--json", "hardwareid"]));
    assert_eq!(output.status.code(), Some(2));
    let error = assert_error_shape(&json_of(&output), "usage");
    assert!(
        error["message"].as_str().unwrap().contains("hardwareid"),
        "{error}"
    );

    // The help says what each secret flag and variable holds.
    let help = run(cli().args(["exisone", "--help"]));
    let text = stdout(&help);
    assert!(
        text.contains("Read the API access token from FILE"),
        "{text}"
    );
    assert!(text.contains("holds the token itself"), "{text}");
    assert!(!text.contains("--access-token <"), "{text}");

    let output = run(cli().args([
        "ecosire",
        "--base-url",
        "http://127.0.0.1:9/api",
        "validate",
        "SHOP-A1B2",
        "--domain",
        "x",
    ]));
    assert_eq!(output.status.code(), Some(2));
    assert!(assert_one_error_line(&output).contains("malformed"));

    let output = run(cli().args([
        "ecosire",
        "--base-url",
        "http://127.0.0.1:9/api",
        "validate",
        "SHOP-A1B2-C3D4-E5F6-G7H8",
        "--domain",
        "x",
    ]));
    assert_eq!(output.status.code(), Some(2));
    assert!(assert_one_error_line(&output).contains("ECOSIRE_LICENSE_SECRET"));
    for (key, kind) in [
        ("SHOP-A1B2", "invalid_key"),
        ("SHOP-A1B2-C3D4-E5F6-G7H8", "usage"),
    ] {
        let output = run(cli().args([
            "--json",
            "ecosire",
            "--base-url",
            "http://127.0.0.1:9/api",
            "validate",
            key,
            "--domain",
            "x",
        ]));
        assert_eq!(output.status.code(), Some(2), "{key}");
        assert_error_shape(&json_of(&output), kind);
    }

    let help = run(cli().arg("--help"));
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("Exit codes:"));
}

/// With `--json`, a usage error's message keeps all that clap says: the
/// missing argument's name, the suggestion, the invalid value and the usage.
#[test]
fn json_usage_errors_keep_clap_s_detail() {
    let message = |args: &[&str]| {
        let output = run(cli().arg("--json").args(args));
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let error = assert_error_shape(&json_of(&output), "usage");
        let message = error["message"].as_str().unwrap().to_owned();
        assert!(message.ends_with("; see --help"), "{message}");
        assert!(!message.contains('\n'), "{message}");
        message
    };
    assert_eq!(
        message(&["exisone", "validate"]),
        "the following required arguments were not provided: <KEY>; usage: license-gate exisone validate <KEY>; see --help"
    );
    let missing = message(&["offline", "mint", "--product", "P"]);
    for name in [
        "--private-key <FILE>",
        "--hardware-id <ID>",
        "--expires <DATE>",
    ] {
        assert!(missing.contains(name), "{missing}");
    }
    let unknown = message(&["exisone", "validat"]);
    assert!(
        unknown.contains("unrecognized subcommand 'validat'")
            && unknown.contains("tip: a similar subcommand exists: 'validate'"),
        "{unknown}"
    );
    let invalid = message(&["exisone", "--timeout", "abc", "validate", "K"]);
    assert!(
        invalid.contains("invalid value 'abc' for '--timeout <SECONDS>'")
            && invalid.contains("invalid digit"),
        "{invalid}"
    );
    let unexpected = message(&["hardware-id", "--bogus"]);
    assert!(
        unexpected.starts_with("unexpected argument '--bogus' found;"),
        "{unexpected}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exisone_validate_against_an_emulator() {
    let emulator = ExisOneEmulator::start().await.expect("start the emulator");
    let control = emulator.control();
    control.add_license(
        EmulatedLicense::new("AAAA-BBBB-CCCC-DDDD", "Atlas Studio")
            .features(["pro", "export"])
            .activated_on("HW-1"),
    );
    control.add_license(
        EmulatedLicense::new("EEEE-FFFF-GGGG-HHHH", "Atlas Studio").activated_on("HW-1"),
    );
    control.revoke("EEEE-FFFF-GGGG-HHHH");

    let mut command = cli();
    command
        .env("EXISONE_BASEURL", emulator.url())
        .env("EXISONE_ACCESS_TOKEN", ExisOneEmulator::TOKEN)
        .args(["--json", "exisone", "validate", "AAAA-BBBB-CCCC-DDDD"])
        .args(["--hardware-id", "HW-1", "--product", "Atlas Studio"]);
    let output = run_async(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        !text.contains("AAAA-BBBB-CCCC-DDDD"),
        "the key is not masked: {text}"
    );
    assert!(!text.contains(ExisOneEmulator::TOKEN), "{text}");
    let report: Value = serde_json::from_str(&text).expect("JSON output");
    assert_eq!(report["valid"], true);
    assert_eq!(report["status"], "licensed");
    assert_eq!(report["key"], "****-****-****-DDDD");
    assert_eq!(report["features"], serde_json::json!(["pro", "export"]));
    let sent = control.last_request().expect("a request");
    assert_eq!(sent.path, "/api/license/validate");

    // The token from a file; a revoked license exits 1 with the status.
    let dir = tempfile::tempdir().expect("temp dir");
    let token_file = write_file(
        dir.path(),
        "token",
        &format!("{}\n", ExisOneEmulator::TOKEN),
    );
    let mut command = cli();
    command
        .args([
            "exisone",
            "--base-url",
            &emulator.url(),
            "--access-token-file",
        ])
        .arg(&token_file)
        .args(["validate", "EEEE-FFFF-GGGG-HHHH", "--hardware-id", "HW-1"]);
    let output = run_async(command).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("revoked"), "{}", stdout(&output));
    assert!(assert_one_error_line(&output).contains("status `revoked`"));

    // An unknown key is the server's refusal: exit 1.
    let mut command = cli();
    command
        .env("EXISONE_BASEURL", emulator.url())
        .env("EXISONE_ACCESS_TOKEN", ExisOneEmulator::TOKEN)
        .args([
            "exisone",
            "validate",
            "ZZZZ-ZZZZ-ZZZZ-ZZZZ",
            "--hardware-id",
            "HW-1",
        ]);
    let output = run_async(command).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(assert_one_error_line(&output).contains("not found"));

    // A service that is down: exit 3.
    emulator.faults().go_down();
    let mut command = cli();
    command
        .env("EXISONE_BASEURL", emulator.url())
        .env("EXISONE_ACCESS_TOKEN", ExisOneEmulator::TOKEN)
        .args([
            "exisone",
            "--timeout",
            "5",
            "validate",
            "AAAA-BBBB-CCCC-DDDD",
        ]);
    let output = run_async(command).await;
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_one_error_line(&output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecosire_validate_against_an_emulator() {
    const SECRET: &str = "cli-test-secret";
    let emulator = EcosireEmulator::start().await.expect("start the emulator");
    emulator
        .handle()
        .add_license(EcosireLicense::new("SHOP-A1B2-C3D4-E5F6-G7H8", SECRET).activation_limit(2));
    emulator
        .handle()
        .add_license(EcosireLicense::new("SHOP-Z9Y8-X7W6-V5U4-T3S2", SECRET));
    emulator.handle().suspend("SHOP-Z9Y8-X7W6-V5U4-T3S2");

    let mut command = cli();
    command
        .env("ECOSIRE_LICENSE_SECRET", SECRET)
        .args(["ecosire", "--base-url", &emulator.url(), "validate"])
        .args(["shop-a1b2-c3d4-e5f6-g7h8", "--domain", "shop.example.com"]);
    let output = run_async(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("valid:"), "{text}");
    assert!(text.contains("****-****-****-****-G7H8"), "{text}");
    assert!(text.contains("active"), "{text}");
    assert!(!text.contains("SHOP-A1B2-C3D4-E5F6-G7H8"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    let sent = emulator.handle().last_request().expect("a request");
    assert_eq!(sent.field("key"), Some("SHOP-A1B2-C3D4-E5F6-G7H8"));
    assert_eq!(sent.field("domain"), Some("shop.example.com"));

    // The secret from a file; a suspended license exits 1.
    let dir = tempfile::tempdir().expect("temp dir");
    let secret_file = write_file(dir.path(), "secret", SECRET);
    let mut command = cli();
    command
        .args([
            "--json",
            "ecosire",
            "--base-url",
            &emulator.url(),
            "--secret-file",
        ])
        .arg(&secret_file)
        .args([
            "validate",
            "SHOP-Z9Y8-X7W6-V5U4-T3S2",
            "--domain",
            "x.example",
        ]);
    let output = run_async(command).await;
    assert_eq!(output.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    assert_eq!(report["valid"], false);
    assert_eq!(report["status"], "suspended");
    assert!(assert_one_error_line(&output).contains("suspended"));

    // A wrong secret is refused (401), and the secret is not printed.
    let mut command = cli();
    command
        .env("ECOSIRE_LICENSE_SECRET", "not-the-secret")
        .args(["ecosire", "--base-url", &emulator.url(), "validate"])
        .args(["SHOP-A1B2-C3D4-E5F6-G7H8", "--domain", "shop.example.com"]);
    let output = run_async(command).await;
    assert_eq!(output.status.code(), Some(1));
    let line = assert_one_error_line(&output);
    assert!(line.contains("401"), "{line}");
    assert!(!line.contains("not-the-secret"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulate_exisone_serves_the_client_until_killed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (mut emulator, lines) = start_emulator(
        &["emulate", "exisone", "--port", "0"],
        tmp.path(),
        "Press Ctrl-C",
    );
    let url = value_of(&lines, "base URL:");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let key = value_of(&lines, "demo key:");
    let token = value_of(&lines, "access token:");
    let public_key = value_of(&lines, "offline public key:");
    assert!(
        Path::new(&public_key).starts_with(tmp.path()),
        "{public_key}"
    );

    let client = ExisOneClient::new(
        ExisOneClientOptions::new(url.as_str())
            .access_token(token)
            .http(HttpOptions::new().allow_insecure_loopback()),
    )
    .expect("a client");
    // The key is bound to nothing until this machine activates it.
    client
        .activate(
            &key,
            "you@example.com",
            &license_gate::hardware_id(),
            "Demo Product",
            None,
        )
        .await
        .expect("the first activation binds the key");
    let answer = client
        .validate(
            &key,
            &license_gate::hardware_id(),
            Some("Demo Product"),
            None,
        )
        .await
        .expect("the emulator answers");
    assert!(answer.is_valid, "{answer:?}");
    assert_eq!(answer.features, ["pro", "export"]);

    // The printed offline code verifies against the printed public key.
    let code_at = lines
        .iter()
        .position(|l| l.contains("offline code for this machine"))
        .expect("an offline code line");
    let mut command = cli();
    command
        .args(["offline", "verify", "--public-key", &public_key])
        .arg(lines[code_at + 1].trim());
    let output = run_async(command).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    emulator.0.kill().expect("kill the emulator");
    let status = emulator.0.wait().expect("wait");
    assert!(!status.success());
}

#[test]
fn emulate_ecosire_over_tls_works_with_the_printed_ca_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let (_emulator, lines) =
        start_emulator(&["--json", "emulate", "ecosire", "--tls"], tmp.path(), "{");
    let info: Value = serde_json::from_str(lines.last().expect("a line")).expect("JSON");
    let url = info["base_url"].as_str().expect("base_url");
    assert!(url.starts_with("https://localhost:"), "{url}");
    let ca = info["ca_file"].as_str().expect("ca_file");
    let key = info["keys"]["demo"].as_str().expect("a demo key");
    let secret = info["license_secret"].as_str().expect("a secret");

    let output = run(cli()
        .env("ECOSIRE_LICENSE_SECRET", secret)
        .args(["ecosire", "--base-url", url, "--ca-file", ca])
        .args(["activate", key, "--domain", "shop.example.com"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("activated:"));

    // Without the CA the certificate is not trusted, and the error says what to pass.
    let output = run(cli()
        .env("ECOSIRE_LICENSE_SECRET", secret)
        .args(["ecosire", "--base-url", url])
        .args(["validate", key, "--domain", "shop.example.com"]));
    assert_eq!(output.status.code(), Some(3));
    assert!(assert_one_error_line(&output).contains("--ca-file"));
}
