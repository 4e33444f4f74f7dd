//! `license-gate watch` (a real gate printing state changes as JSON lines),
//! `license-gate offline mint`, and the ECOSIRE refusals with their counts.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use license_gate_testkit::ecosire::{EcosireEmulator, EmulatedLicense as EcosireLicense};
use license_gate_testkit::exisone::{
    EmulatedLicense, ExisOneEmulator, TEST_PRIVATE_KEY_PEM, TEST_PUBLIC_KEY_PEM,
};
use serde_json::{Value, json};

const KEY: &str = "ATLS-7Q2M-K9PD-X4RW";
const PRODUCT: &str = "Atlas Studio";
const SHOP_KEY: &str = "SHOP-A1B2-C3D4-E5F6-G7H8";
const SECRET: &str = "cli-test-secret";

/// A running `watch` whose stdout lines arrive on a channel.
struct Watcher {
    child: Running,
    lines: mpsc::Receiver<String>,
    seen: Vec<Value>,
}

impl Watcher {
    fn start(mut command: std::process::Command) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn watch");
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Watcher {
            child: Running(child),
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (bounded) for a line with this status.
    fn wait_for_status(&mut self, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no `{status}` line; saw {:?}", self.seen));
            let value: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            for field in ["at", "product", "status", "features", "until", "reason"] {
                assert!(value.get(field).is_some(), "`{field}` missing: {line}");
            }
            self.seen.push(value.clone());
            if value["status"] == status {
                return value;
            }
        }
    }

    /// Closes stdin and waits (bounded) for the exit code; returns it, the
    /// stderr text and the stdout lines not read yet.
    fn stop(self) -> (Option<i32>, String, Vec<String>) {
        self.stop_with(false)
    }

    /// Stops with SIGTERM (`true`) or by closing stdin, and waits (bounded).
    fn stop_with(mut self, sigterm: bool) -> (Option<i32>, String, Vec<String>) {
        if sigterm {
            let pid = self.child.0.id().to_string();
            let sent = std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("run kill");
            assert!(sent.success());
        } else {
            drop(self.child.0.stdin.take());
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.0.try_wait().expect("try_wait") {
                let mut err = String::new();
                if let Some(mut stderr) = self.child.0.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut stderr, &mut err);
                }
                // The reader thread ends with stdout; collect what it still holds.
                let rest: Vec<String> = self.lines.iter().collect();
                return (status.code(), err, rest);
            }
            assert!(Instant::now() < deadline, "watch did not end");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_exisone_prints_each_change_and_ends_on_stdin_eof() {
    let emulator = ExisOneEmulator::start().await.expect("start the emulator");
    let control = emulator.control();
    control.add_license(
        EmulatedLicense::new(KEY, PRODUCT)
            .features(["pro"])
            .activated_on("HW-W"),
    );
    let mut command = cli();
    command
        .env("EXISONE_BASEURL", emulator.url())
        .env("EXISONE_ACCESS_TOKEN", ExisOneEmulator::TOKEN)
        .args(["--json", "watch", "exisone", KEY, "--product", PRODUCT])
        .args([
            "--hardware-id",
            "HW-W",
            "--interval",
            "1",
            "--grace",
            "3600",
        ]);
    let mut watcher = Watcher::start(command);
    let first = watcher.wait_for_status("licensed");
    assert_eq!(first["product"], PRODUCT);
    assert_eq!(first["features"], json!(["pro"]));
    assert_eq!(first["reason"], Value::Null);

    // Down: grace, with its deadline in `until`.
    emulator.faults().go_down();
    let grace = tokio::task::block_in_place(|| watcher.wait_for_status("grace"));
    assert!(grace["until"].is_string(), "{grace}");
    emulator.faults().come_up();
    tokio::task::block_in_place(|| watcher.wait_for_status("licensed"));
    control.revoke(KEY);
    let revoked = tokio::task::block_in_place(|| watcher.wait_for_status("revoked"));
    assert_eq!(revoked["features"], json!([]));
    assert!(
        revoked["reason"].as_str().unwrap().contains("revoked"),
        "{revoked}"
    );
    // Only changes are printed: one line per state.
    let statuses: Vec<&str> = watcher
        .seen
        .iter()
        .map(|v| v["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["licensed", "grace", "licensed", "revoked"]);
    assert!(!watcher.seen.iter().any(|v| v.to_string().contains(KEY)));

    // Ended with a revoked license: exit 1, as `validate` would.
    let (code, err, rest) = tokio::task::block_in_place(|| watcher.stop());
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("revoked"), "{err}");
    // With --json the last word is one more line: the outcome object.
    let last: Value = serde_json::from_str(rest.last().expect("a final line")).unwrap();
    let error = assert_error_shape(&last, "not_valid");
    assert_eq!(error["code"], "revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_ecosire_activates_and_follows_a_suspension() {
    let emulator = EcosireEmulator::start().await.expect("start the emulator");
    emulator
        .handle()
        .add_license(EcosireLicense::new(SHOP_KEY, SECRET).activation_limit(2));
    let mut command = cli();
    command
        .env("ECOSIRE_LICENSE_SECRET", SECRET)
        .args(["watch", "ecosire", SHOP_KEY, "--domain", "shop.example.com"])
        .args([
            "--base-url",
            &emulator.url(),
            "--interval",
            "1",
            "--activate",
        ])
        .args(["--product", "Atlas Shop", "--features", "pro,export"]);
    let mut watcher = Watcher::start(command);
    let first = tokio::task::block_in_place(|| watcher.wait_for_status("licensed"));
    assert_eq!(first["product"], "Atlas Shop");
    assert_eq!(first["features"], json!(["export", "pro"]));
    assert_eq!(emulator.handle().bindings(SHOP_KEY), ["shop.example.com"]);
    emulator.handle().suspend(SHOP_KEY);
    tokio::task::block_in_place(|| watcher.wait_for_status("suspended"));
    emulator.handle().restore(SHOP_KEY);
    tokio::task::block_in_place(|| watcher.wait_for_status("licensed"));
    // SIGTERM ends it cleanly too, with the code of the last status.
    let (code, err, rest) = tokio::task::block_in_place(|| watcher.stop_with(cfg!(unix)));
    assert_eq!(code, Some(0), "{err}");
    assert!(rest.is_empty(), "{rest:?}");
}

#[test]
fn watch_configuration_errors_exit_2() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "watch",
                "exisone",
                KEY,
                "--product",
                PRODUCT,
                "--base-url",
                "http://127.0.0.1:9",
            ],
            "EXISONE_ACCESS_TOKEN",
        ),
        (
            vec![
                "watch",
                "ecosire",
                "SHOP-A1B2",
                "--domain",
                "x",
                "--base-url",
                "http://127.0.0.1:9/api",
            ],
            "malformed",
        ),
        (
            vec![
                "watch",
                "ecosire",
                SHOP_KEY,
                "--domain",
                "x",
                "--base-url",
                "http://127.0.0.1:9/api",
            ],
            "ECOSIRE_LICENSE_SECRET",
        ),
    ];
    for (args, needle) in cases {
        let output = run(cli().arg("--json").args(&args));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(assert_one_error_line(&output).contains(needle), "{args:?}");
        assert_error_shape(
            &json_of(&output),
            json_of(&output)["error"]["kind"].as_str().unwrap(),
        );
    }
    let output = run(cli()
        .env("EXISONE_ACCESS_TOKEN", "t")
        .args(["--json", "watch", "exisone", KEY, "--product", PRODUCT])
        .args(["--base-url", "http://127.0.0.1:9", "--interval", "0"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(assert_one_error_line(&output).contains("--interval 0"));
    let output = run(cli()
        .env("EXISONE_ACCESS_TOKEN", "t")
        .args(["--json", "watch", "exisone", KEY, "--product", PRODUCT])
        .args(["--base-url", "http://127.0.0.1:9", "--activate"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(assert_one_error_line(&output).contains("pass --email with --activate"));
    assert_error_shape(&json_of(&output), "usage");
}

#[test]
fn offline_mint_is_the_inverse_of_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let private_key = write_file(dir.path(), "private.pem", TEST_PRIVATE_KEY_PEM);
    let public_key = write_file(dir.path(), "public.pem", TEST_PUBLIC_KEY_PEM);
    let output = run(cli()
        .args(["--json", "offline", "mint", "--private-key"])
        .arg(&private_key)
        .args(["--hardware-id", "TEST-MACHINE-7", "--product", PRODUCT])
        .args(["--features", "pro,export", "--expires", "2099-06-30"])
        .args(["--email", "buyer@example.com", "--app-version", "2.1.0"]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let minted = json_of(&output);
    assert_eq!(minted["ok"], true);
    assert_eq!(minted["expires"], "2099-06-30T23:59:59Z");
    assert_eq!(minted["payload"]["hardwareId"], "TEST-MACHINE-7");
    let code = minted["code"].as_str().expect("the code").to_owned();

    let output = run(cli()
        .args([
            "--json",
            "offline",
            "verify",
            "--hardware-id",
            "test-machine-7",
            "--public-key",
        ])
        .arg(&public_key)
        .arg(&code));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let verified = json_of(&output);
    assert_eq!(verified["ok"], true);
    assert_eq!(verified["outcome"], "valid");
    assert_eq!(verified["product_name"], PRODUCT);
    assert_eq!(verified["features"], json!(["pro", "export"]));
    assert_eq!(verified["email"], "buyer@example.com");
    assert_eq!(verified["version"], "2.1.0");

    // An expiry in the past mints an expired code, and says so.
    let output = run(cli()
        .args(["offline", "mint", "--private-key"])
        .arg(&private_key)
        .args([
            "--hardware-id",
            "H",
            "--product",
            PRODUCT,
            "--expires",
            "-1d",
        ]));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("ALREADY EXPIRED"),
        "{}",
        stdout(&output)
    );

    // The public key given as the private key, a bad expiry, a missing file.
    let cases: Vec<(std::path::PathBuf, &str, &str)> = vec![
        (public_key.clone(), "2099-01-01", "holds a public key"),
        (
            private_key.clone(),
            "someday",
            "the expiry `someday` cannot be read",
        ),
        (dir.path().join("missing.pem"), "2099-01-01", "missing.pem"),
        (
            write_file(dir.path(), "junk.pem", "hello"),
            "2099-01-01",
            "BEGIN PRIVATE KEY",
        ),
    ];
    for (key, expires, needle) in cases {
        let output = run(cli()
            .args(["--json", "offline", "mint", "--private-key"])
            .arg(&key)
            .args([
                "--hardware-id",
                "H",
                "--product",
                PRODUCT,
                "--expires",
                expires,
            ]));
        assert_eq!(output.status.code(), Some(2), "{needle}");
        let line = assert_one_error_line(&output);
        assert!(line.contains(needle), "{line}");
        assert_error_shape(&json_of(&output), "usage");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecosire_refusals_keep_the_counts_and_messages() {
    let emulator = EcosireEmulator::start().await.expect("start the emulator");
    let handle = emulator.handle();
    handle.add_license(EcosireLicense::new(SHOP_KEY, SECRET).activation_limit(2));
    handle.bind(SHOP_KEY, "a.example");
    handle.bind(SHOP_KEY, "b.example");
    let call = |verb: &str, domain: &str| {
        let mut command = cli();
        command
            .env("ECOSIRE_LICENSE_SECRET", SECRET)
            .args([
                "--json",
                "ecosire",
                "--base-url",
                &emulator.url(),
                verb,
                SHOP_KEY,
            ])
            .args(["--domain", domain]);
        command
    };
    let output = run_async(call("activate", "c.example")).await;
    assert_eq!(output.status.code(), Some(1));
    let error = assert_error_shape(&json_of(&output), "activation_limit_reached");
    assert_eq!(error["seats_used"], 2);
    assert_eq!(error["seats_limit"], 2);
    assert_eq!(error["server_message"], "Activation limit reached");
    let line = assert_one_error_line(&output);
    assert!(line.contains("(2 of 2 in use)"), "{line}");

    // Deactivating a domain that holds no slot: the service's own words.
    let output = run_async(call("deactivate", "c.example")).await;
    assert_eq!(output.status.code(), Some(1));
    let value = json_of(&output);
    assert_eq!(value["deactivated"], false);
    let error = assert_error_shape(&value, "not_valid");
    assert_eq!(error["server_message"], "No activation for this domain");

    // Rate limited: 429 with the wait.
    handle.set_rate_limits(license_gate_testkit::ecosire::RateLimits::all(
        0,
        Duration::from_secs(60),
    ));
    let output = run_async(call("validate", "a.example")).await;
    assert_eq!(output.status.code(), Some(3));
    let error = assert_error_shape(&json_of(&output), "rate_limited");
    assert_eq!(error["http_status"], 429);
    assert!(error["retry_after_seconds"].as_u64().is_some(), "{error}");
}
