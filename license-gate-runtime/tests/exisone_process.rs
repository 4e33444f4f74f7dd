//! Hardware ID stability across processes, and the base URL from the
//! environment (each in a child process of this test binary, so the
//! environment of other tests is never touched).
#![cfg(feature = "exisone")]

use std::process::Command;

use license_gate_runtime::providers::HttpOptions;
use license_gate_runtime::providers::exisone::{ExisOneClient, ExisOneClientOptions};

const CHILD: &str = "LICENSE_GATE_TEST_CHILD";

/// Runs one test of this binary in a child process and returns its stdout.
fn run_child(test: &str, extra_env: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut command = Command::new(exe);
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1");
    for (name, value) in extra_env {
        command.env(name, value);
    }
    let output = command.output().expect("the child runs");
    assert!(
        output.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn marked(stdout: &str, marker: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.split_once(marker).map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no `{marker}` line in the child's output: {stdout}"))
        .trim()
        .to_owned()
}

#[test]
fn child_prints_hardware_id() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let client = ExisOneClient::new(
        ExisOneClientOptions::new("http://127.0.0.1:9")
            .http(HttpOptions::new().allow_insecure_loopback()),
    )
    .unwrap();
    println!("HARDWARE_ID={}", client.generate_hardware_id());
}

#[test]
fn the_hardware_id_is_the_same_in_every_process() {
    let first = marked(&run_child("child_prints_hardware_id", &[]), "HARDWARE_ID=");
    let second = marked(&run_child("child_prints_hardware_id", &[]), "HARDWARE_ID=");
    assert_eq!(first, second);
    assert_eq!(first, license_gate_runtime::hardware_id::hardware_id());
    assert_eq!(first.len(), 64);
    assert!(
        first
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
}

#[test]
fn child_prints_base_url() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let options = ExisOneClientOptions::from_env()
        .http(HttpOptions::new().allowed_hosts(["license.example.com"]));
    match ExisOneClient::new(options) {
        Ok(client) => println!("BASE_URL={}", client.base_url()),
        Err(error) => println!("BASE_URL_ERROR={error}"),
    }
}

#[test]
fn the_base_url_comes_from_the_environment_when_none_is_given() {
    let out = run_child(
        "child_prints_base_url",
        &[("EXISONE_BASEURL", "https://license.example.com")],
    );
    assert_eq!(marked(&out, "BASE_URL="), "https://license.example.com/");
    // A host the code does not name is refused.
    let out = run_child(
        "child_prints_base_url",
        &[("EXISONE_BASEURL", "https://elsewhere.example.net")],
    );
    assert!(marked(&out, "BASE_URL_ERROR=").contains("allowed_hosts"));
    let out = run_child("child_prints_base_url", &[("EXISONE_BASEURL", "")]);
    assert!(marked(&out, "BASE_URL_ERROR=").contains("EXISONE_BASEURL"));
}
