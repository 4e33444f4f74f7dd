//! `license-gate emulate` as a vendor uses it: shaped by flags and a seed
//! file, served to an unchanged application, and changed while it runs by
//! commands typed on its stdin.

mod common;

use std::time::{Duration, Instant};

use common::*;
use license_gate::providers::HttpOptions;
use license_gate::providers::exisone::{ExisOneClient, ExisOneClientOptions, ExisOneProvider};
use license_gate::{LicenseGate, LicenseStatus};

const KEY: &str = "ATLS-7Q2M-K9PD-X4RW";

/// Waits (bounded) until `gate` reports a status `test` accepts.
async fn wait_for_status(gate: &LicenseGate, test: impl Fn(&LicenseStatus) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut changes = gate.subscribe();
    while !test(&gate.status()) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "the gate did not reach the status; it is {}",
            gate.status()
        );
        let _ = tokio::time::timeout(left, changes.changed()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_app_follows_a_revoke_typed_into_the_emulator() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut emulator = Interactive::start(
        &[
            "emulate",
            "exisone",
            "--product",
            "Atlas Studio",
            "--license",
            &format!("{KEY}:pro,export:30d"),
        ],
        tmp.path(),
        "Press Ctrl-C",
    );
    let url = value_of(&emulator.seen, "base URL:");
    let token = value_of(&emulator.seen, "access token:");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(
        emulator
            .seen
            .iter()
            .any(|l| l.contains(KEY) && l.contains("features pro, export")),
        "{:?}",
        emulator.seen
    );

    // The application's own code: an ExisOne provider for "Atlas Studio".
    let provider = ExisOneProvider::from_options(
        ExisOneClientOptions::new(url.as_str())
            .access_token(token.as_str())
            .http(HttpOptions::new().allow_insecure_loopback()),
    )
    .expect("a provider")
    .email("buyer@example.com");
    let gate = LicenseGate::builder()
        .product("Atlas Studio")
        .provider(provider)
        .license_key(KEY)
        .heartbeat_interval(Duration::from_secs(1))
        .jitter(0.0)
        .no_cache()
        .install_global(false)
        .start()
        .await
        .expect("the gate starts");
    gate.activate()
        .await
        .expect("the first activation binds the key");
    wait_for_status(&gate, |s| *s == LicenseStatus::Licensed).await;
    assert!(gate.has_feature("pro"));

    emulator.type_line(&format!("revoke {KEY}"));
    let reply = emulator.wait_for(
        |l| l.starts_with("ok: ") || l.starts_with("error: "),
        Duration::from_secs(30),
    );
    assert!(reply.starts_with(&format!("ok: {KEY} revoked")), "{reply}");
    wait_for_status(&gate, |s| *s == LicenseStatus::Revoked).await;
    assert!(!gate.has_feature("pro"));

    emulator.type_line(&format!("restore {KEY}"));
    emulator.wait_for(
        |l| l.starts_with(&format!("ok: {KEY} restored")),
        Duration::from_secs(30),
    );
    wait_for_status(&gate, |s| *s == LicenseStatus::Licensed).await;

    // Down: the gate keeps the license through its grace period.
    emulator.type_line("down");
    emulator.wait_for(|l| l.starts_with("ok: down"), Duration::from_secs(30));
    wait_for_status(&gate, |s| matches!(s, LicenseStatus::Grace { .. })).await;
    emulator.type_line("up");
    emulator.wait_for(|l| l.starts_with("ok: up"), Duration::from_secs(30));
    wait_for_status(&gate, |s| *s == LicenseStatus::Licensed).await;

    emulator.type_line(&format!("expire {KEY}"));
    emulator.wait_for(
        |l| l.starts_with(&format!("ok: {KEY} expired")),
        Duration::from_secs(30),
    );
    wait_for_status(&gate, |s| *s == LicenseStatus::Expired).await;

    // Mistakes get a line saying what to type, and the emulator keeps going.
    emulator.type_line("revoke NOPE-NOPE-NOPE-NOPE");
    let line = emulator.wait_for(|l| l.starts_with("error: "), Duration::from_secs(30));
    assert!(line.contains(&format!("the licenses are: {KEY}")), "{line}");
    emulator.type_line("slow fast");
    let line = emulator.wait_for(|l| l.starts_with("error: "), Duration::from_secs(30));
    assert!(line.contains("slow 2000"), "{line}");
    emulator.type_line("frobnicate");
    let line = emulator.wait_for(|l| l.starts_with("error: "), Duration::from_secs(30));
    assert!(line.contains("type `help`"), "{line}");
    emulator.type_line("help");
    emulator.wait_for(|l| l.contains("restore KEY"), Duration::from_secs(30));
    emulator.type_line("list");
    let line = emulator.wait_for(|l| l.starts_with("ok: "), Duration::from_secs(30));
    assert!(
        line.contains(&format!("{KEY}: expired; activated on 1 machine(s)")),
        "{line}"
    );

    gate.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exisone_emulator_keys_bind_to_the_first_machine_and_check_the_minimum_version() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut emulator = Interactive::start(
        &[
            "--json",
            "emulate",
            "exisone",
            "--product",
            "Atlas Studio",
            "--license",
            &format!("{KEY}:pro:never:2"),
            "--min-version",
            "2.0.0",
            "--control-port",
            "0",
        ],
        tmp.path(),
        "{",
    );
    let info = info_of(emulator.seen.last().expect("the info line"));
    assert_eq!(info["ok"], true);
    assert_eq!(info["product"], "Atlas Studio");
    assert_eq!(info["min_version"], "2.0.0");
    assert_eq!(info["licenses"][0]["key"], KEY);
    assert_eq!(info["licenses"][0]["seats"], 2);
    assert!(
        info.get("keys").is_none(),
        "no demo keys when licenses are given"
    );
    let url = info["base_url"].as_str().unwrap().to_owned();
    let token = info["access_token"].as_str().unwrap().to_owned();
    let client = |hw: &str| {
        ExisOneClient::new(
            ExisOneClientOptions::new(url.as_str())
                .access_token(token.as_str())
                .hardware_id_override(hw)
                .http(HttpOptions::new().allow_insecure_loopback()),
        )
        .unwrap()
    };

    // An old application is told the minimum version.
    let err = client("HW-A")
        .activate(KEY, "a@example.com", "HW-A", "Atlas Studio", Some("1.0.0"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, license_gate::ProviderError::Refused { status: 426, minimum_required_version: Some(m), .. } if m == "2.0.0"),
        "{err:?}"
    );
    // Two machines take the two seats; a third is refused; the first machine's
    // seat cannot be freed by another.
    for hw in ["HW-A", "HW-B"] {
        client(hw)
            .activate(KEY, "a@example.com", hw, "Atlas Studio", Some("2.1.0"))
            .await
            .unwrap();
    }
    let err = client("HW-C")
        .activate(KEY, "a@example.com", "HW-C", "Atlas Studio", Some("2.1.0"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("All seats are in use (2 of 2)"),
        "{err}"
    );
    let err = client("HW-C")
        .deactivate(KEY, "HW-C", "Atlas Studio")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("not activated on this hardware"),
        "{err}"
    );

    // Commands answer in JSON too.
    emulator.type_line(&format!("suspend {KEY}"));
    let line = emulator.wait_for(|l| l.contains("\"command\""), Duration::from_secs(30));
    let reply: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(reply["ok"], true);
    assert_eq!(reply["command"], "suspend");
    assert_eq!(reply["key"], KEY);
    let answer = client("HW-A")
        .validate(KEY, "HW-A", Some("Atlas Studio"), Some("2.1.0"))
        .await
        .unwrap();
    assert_eq!(answer.status, "suspended");
    emulator.type_line("restore");
    let line = emulator.wait_for(|l| l.contains("\"command\""), Duration::from_secs(30));
    let reply: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(reply["ok"], false);
    assert_eq!(reply["error"]["kind"], "usage");

    // The same commands over the loopback control endpoint, with its token.
    let control_url = info["control_url"]
        .as_str()
        .expect("a control URL")
        .to_owned();
    let control_token = info["control_token"]
        .as_str()
        .expect("a control token")
        .to_owned();
    assert!(
        control_url.starts_with("http://127.0.0.1:"),
        "{control_url}"
    );
    assert_eq!(control_token.len(), 32);
    let (status, body) = post(
        &control_url,
        Some(&control_token),
        &format!("restore {KEY}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ok"], true);
    assert_eq!(body["command"], "restore");
    let answer = client("HW-A")
        .validate(KEY, "HW-A", Some("Atlas Studio"), Some("2.1.0"))
        .await
        .unwrap();
    assert_eq!(answer.status, "licensed");
    let (status, body) = post(&control_url, Some("wrong-token"), "down").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["kind"], "unauthorized");
    let (status, _) = post(&control_url, None, "down").await;
    assert_eq!(status, 401);
    let (status, body) = post(&control_url, Some(&control_token), "revoke NOPE").await;
    assert_eq!(status, 400);
    assert_eq!(body["ok"], false);
    // The refused calls changed nothing: the service still answers.
    client("HW-A")
        .validate(KEY, "HW-A", Some("Atlas Studio"), Some("2.1.0"))
        .await
        .expect("the service is up");
}

/// `POST` a command line to the control endpoint over a plain loopback
/// connection; the status and the JSON reply.
async fn post(url: &str, token: Option<&str>, line: &str) -> (u16, serde_json::Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.trim_start_matches("http://");
    let (addr, path) = rest.split_once('/').expect("a path");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{line}",
        line.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let raw = String::from_utf8_lossy(&raw);
    let status: u16 = raw
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let (_, body) = raw.split_once("\r\n\r\n").expect("a body");
    (
        status,
        serde_json::from_str(body.trim()).expect("a JSON body"),
    )
}

#[test]
fn ecosire_emulator_reads_a_seed_file_and_takes_commands() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let seed = write_file(
        tmp.path(),
        "seed.json",
        r#"{"product": "Atlas Shop", "licenses": [
            {"key": "SHOP-A1B2-C3D4-E5F6-G7H8", "expires": "2099-12-31", "seats": 2, "activations": ["old.example"]},
            {"key": "SHOP-Z9Y8-X7W6-V5U4-T3S2", "status": "revoked"}
        ]}"#,
    );
    let seed_arg = seed.to_string_lossy().into_owned();
    let mut emulator = Interactive::start(
        &["emulate", "ecosire", "--seed", &seed_arg],
        tmp.path(),
        "Press Ctrl-C",
    );
    let url = value_of(&emulator.seen, "base URL:");
    let secret = value_of(&emulator.seen, "license secret:");
    assert!(emulator.seen.iter().any(|l| l.contains("Atlas Shop")));
    let call = |verb: &str, key: &str, domain: &str| {
        run(cli().env("ECOSIRE_LICENSE_SECRET", &secret).args([
            "--json",
            "ecosire",
            "--base-url",
            &url,
            verb,
            key,
            "--domain",
            domain,
        ]))
    };
    let output = call("activate", "SHOP-A1B2-C3D4-E5F6-G7H8", "new.example");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["ok"], true);
    assert_eq!(value["activations_count"], 2);

    // The seeded revoked license, then a suspend typed in.
    let output = call("validate", "SHOP-Z9Y8-X7W6-V5U4-T3S2", "x.example");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json_of(&output)["status"], "revoked");
    emulator.type_line("suspend SHOP-A1B2-C3D4-E5F6-G7H8");
    emulator.wait_for(
        |l| l.starts_with("ok: SHOP-A1B2-C3D4-E5F6-G7H8 suspended"),
        Duration::from_secs(30),
    );
    let output = call("validate", "SHOP-A1B2-C3D4-E5F6-G7H8", "new.example");
    assert_eq!(output.status.code(), Some(1));
    let value = json_of(&output);
    let error = assert_error_shape(&value, "not_valid");
    assert_eq!(error["code"], "suspended");
    assert_eq!(error["server_message"], "License suspended");
    emulator.type_line("restore SHOP-A1B2-C3D4-E5F6-G7H8");
    emulator.wait_for(
        |l| l.starts_with("ok: SHOP-A1B2-C3D4-E5F6-G7H8 restored"),
        Duration::from_secs(30),
    );
    let output = call("validate", "SHOP-A1B2-C3D4-E5F6-G7H8", "new.example");
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));

    // Slow and down reach the client as a timeout and as unreachable.
    emulator.type_line("slow 3000");
    emulator.wait_for(
        |l| l.starts_with("ok: every request waits 3000 ms"),
        Duration::from_secs(30),
    );
    let output = run(cli()
        .env("ECOSIRE_LICENSE_SECRET", &secret)
        .args(["--json", "ecosire", "--timeout", "1", "--base-url", &url])
        .args([
            "validate",
            "SHOP-A1B2-C3D4-E5F6-G7H8",
            "--domain",
            "new.example",
        ]));
    assert_eq!(output.status.code(), Some(3));
    assert_error_shape(&json_of(&output), "timeout");
    emulator.type_line("slow 0");
    emulator.wait_for(|l| l.starts_with("ok: no delay"), Duration::from_secs(30));
    emulator.type_line("down");
    emulator.wait_for(|l| l.starts_with("ok: down"), Duration::from_secs(30));
    let output = call("validate", "SHOP-A1B2-C3D4-E5F6-G7H8", "new.example");
    assert_eq!(output.status.code(), Some(3));
    assert_error_shape(&json_of(&output), "unreachable");
}

#[test]
fn bad_emulator_flags_and_seed_files_exit_2_with_the_fix() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--license".into(), "K:pro:someday".into()],
            "the form is KEY[:FEATURES[:EXPIRY[:SEATS]]]",
        ),
        (
            vec!["--license".into(), "K:pro:never:0".into()],
            "1 or more",
        ),
        (
            vec![
                "--license".into(),
                "K".into(),
                "--license".into(),
                "k".into(),
            ],
            "given twice",
        ),
        (
            vec![
                "--seed".into(),
                write_file(tmp.path(), "bad.json", "{not json")
                    .to_string_lossy()
                    .into(),
            ],
            "it is not JSON",
        ),
        (
            vec![
                "--seed".into(),
                write_file(
                    tmp.path(),
                    "unknown.json",
                    r#"[{"key": "K", "colour": "red"}]"#,
                )
                .to_string_lossy()
                .into(),
            ],
            "unknown field `colour`",
        ),
        (
            vec![
                "--seed".into(),
                write_file(
                    tmp.path(),
                    "status.json",
                    r#"[{"key": "K", "status": "paused"}]"#,
                )
                .to_string_lossy()
                .into(),
            ],
            "status `paused` is unknown",
        ),
        (
            vec![
                "--seed".into(),
                tmp.path().join("missing.json").to_string_lossy().into(),
            ],
            "missing.json",
        ),
    ];
    for (args, needle) in cases {
        let output = run(cli().args(["--json", "emulate", "exisone"]).args(&args));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        let line = assert_one_error_line(&output);
        assert!(line.contains(needle), "{args:?}: {line}");
        assert_error_shape(&json_of(&output), "usage");
    }
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_emulator_cleanly_and_removes_its_files() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut emulator = Interactive::start(&["emulate", "exisone"], tmp.path(), "Press Ctrl-C");
    let public_key = value_of(&emulator.seen, "offline public key:");
    assert!(std::path::Path::new(&public_key).exists());
    let pid = emulator.child.0.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = emulator.child.0.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the emulator did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    assert!(
        !std::path::Path::new(&public_key).exists(),
        "the emulator's temporary files are removed"
    );
}
