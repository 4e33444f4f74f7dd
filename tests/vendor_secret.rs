//! The vendor secret as a new user meets it: a debug build without the
//! variable gets the development secret (said once at start, and by
//! `LicenseGate::vendor_secret_warning`), whose caches a build with a real
//! secret does not accept; a gate without any secret says so too; and a new
//! crate outside this workspace that uses `embed_secret!` checks in a debug
//! build without the variable and fails to compile in a release build,
//! naming the variable and `license-gate secret new`.

use license_gate_tests::support;

use std::path::Path;
use std::process::{Command, Output};

use license_gate::providers::mock::MockProvider;
use license_gate::{LicenseGate, LicenseGateBuilder, LicenseStatus, Source, VendorSecretWarning};
use support::LogBuffer;

/// A variable no build of these tests sets (see `.cargo/config.toml`).
const UNSET: &str = "LICENSE_GATE_TESTS_UNSET_SECRET";

const HW: &str = "HW-VENDOR-SECRET-0001";

fn builder(provider: MockProvider, dir: &Path) -> LicenseGateBuilder {
    LicenseGate::builder()
        .product("Atlas Studio")
        .provider(provider)
        .license_key("AAAA-BBBB-CCCC-DDDD")
        .install_global(false)
        .cache_dir(dir)
        .hardware_id(HW)
}

/// This test binary is a debug build (tests are), and `UNSET` is not set, so
/// `embed_secret!` gives it the development secret.
#[cfg(debug_assertions)]
#[tokio::test]
async fn a_debug_build_without_the_variable_runs_on_the_development_secret() {
    assert!(
        std::env::var_os(UNSET).is_none(),
        "{UNSET} must not be set for this test"
    );
    let development = license_gate::embed_secret!("LICENSE_GATE_TESTS_UNSET_SECRET")
        .expect("the development secret");
    assert!(development.is_development());
    assert_eq!(
        format!("{development:?}"),
        format!("VendorSecret(development: `{UNSET}` was not set)")
    );
    let dir = tempfile::tempdir().unwrap();
    let logs = LogBuffer::default();
    let _capture = logs.capture();

    let (provider, _) = MockProvider::licensed(["pro"]);
    let gate = builder(provider, dir.path())
        .vendor_secret(development.clone())
        .start()
        .await
        .unwrap();
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    let warning = gate.vendor_secret_warning();
    assert_eq!(
        warning,
        Some(VendorSecretWarning::Development { variable: UNSET })
    );
    let text = warning.unwrap().to_string();
    assert!(
        text.contains(UNSET) && text.contains("license-gate secret new"),
        "{text}"
    );
    let logged = logs.text();
    assert_eq!(
        logged.matches("development vendor secret").count(),
        1,
        "said once at start: {logged}"
    );
    let line = logged
        .lines()
        .find(|l| l.contains("development vendor secret"))
        .unwrap();
    assert!(
        line.contains("WARN") && line.contains(UNSET) && line.contains("license-gate secret new"),
        "{line}"
    );
    gate.shutdown().await;

    // A debug build works as a release build does: with the server down,
    // its own cache starts the gate.
    let (provider, offline) = MockProvider::licensed(["pro"]);
    offline.go_offline();
    let gate = builder(provider, dir.path())
        .vendor_secret(development)
        .start()
        .await
        .unwrap();
    let state = gate.product_state();
    assert!(state.status.grants_access(), "{:?}", state.status);
    assert_eq!(state.source, Source::Cache);
    gate.shutdown().await;

    // A build with a real secret does not accept that cache: it waits for
    // the server.
    let (provider, offline) = MockProvider::licensed(["pro"]);
    offline.go_offline();
    let gate = builder(provider, dir.path())
        .vendor_secret(support::vendor_secret())
        .start()
        .await
        .unwrap();
    assert!(
        !gate.status().grants_access(),
        "a real secret's build trusted the development cache: {:?}",
        gate.status()
    );
    assert_eq!(gate.vendor_secret_warning(), None);
    gate.shutdown().await;
}

#[tokio::test]
async fn a_gate_without_a_vendor_secret_says_so_without_a_subscriber() {
    let dir = tempfile::tempdir().unwrap();
    let (provider, _) = MockProvider::licensed(["pro"]);
    let gate = builder(provider, dir.path()).start().await.unwrap();
    let warning = gate.vendor_secret_warning();
    assert_eq!(warning, Some(VendorSecretWarning::Missing));
    let text = warning.unwrap().to_string();
    assert!(
        text.starts_with("no vendor secret: the cache never grants on its own")
            && text.contains("license-gate secret new"),
        "{text}"
    );
    gate.shutdown().await;

    // Without a cache, the secret keys nothing: no warning.
    let (provider, _) = MockProvider::licensed(["pro"]);
    let gate = LicenseGate::builder()
        .product("Atlas Studio")
        .provider(provider)
        .install_global(false)
        .no_cache()
        .start()
        .await
        .unwrap();
    assert_eq!(gate.vendor_secret_warning(), None);
    gate.shutdown().await;
}

// ------------------------------------------------- a new crate of a new user

/// The variable the new crate's `embed_secret!` names.
const APP_VAR: &str = "NEW_APP_LICENSE_SECRET";

/// The new crate's program, as the README has a user write it.
const APP_MAIN: &str = r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = license_gate::embed_secret!("NEW_APP_LICENSE_SECRET")?;
    let builder = license_gate::LicenseGate::builder()
        .product("New App")
        .vendor_secret(secret);
    let _ = builder;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tests_get_the_development_secret() {
        let secret = license_gate::embed_secret!("NEW_APP_LICENSE_SECRET").unwrap();
        assert!(secret.is_development());
    }
}
"#;

/// Writes the new crate: the facade by path, with only the macros (the
/// providers change nothing here and would make the first run build a TLS
/// stack).
fn write_app(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let facade = root.join("license-gate");
    let manifest = format!(
        r#"[package]
name = "new-app"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
license-gate = {{ path = {facade:?}, default-features = false, features = ["macros"] }}

[workspace]
"#
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The workspace's lock file: the same versions, all already fetched.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/main.rs"), APP_MAIN).unwrap();
}

/// The target folder this test runs from (`target/debug/deps/..` -> `target`).
fn target_dir() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// `cargo check ARGS` in the new crate, with `secret` as its variable
/// (`None`: not set).
fn check(app: &Path, args: &[&str], secret: Option<&str>) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "check",
            "--offline",
            "--all-targets",
            "--message-format=short",
        ])
        .args(args)
        .current_dir(app)
        // One target folder for both profiles, kept between runs, so only
        // the first run checks the dependencies.
        .env("CARGO_TARGET_DIR", target_dir().join("new-app"))
        .env_remove(APP_VAR);
    if let Some(secret) = secret {
        command.env(APP_VAR, secret);
    }
    let started = std::time::Instant::now();
    let output = command.output().expect("cargo runs");
    eprintln!(
        "cargo check {args:?} ({}): {:.1?}",
        if secret.is_some() {
            "variable set"
        } else {
            "variable unset"
        },
        started.elapsed()
    );
    output
}

/// The issue's "done when", at `cargo check` level (the profile decides
/// through `cfg(debug_assertions)`, which `check` evaluates as `build`
/// does): without the variable a debug build (and its tests) compiles, a
/// release build does not, and says which variable and which command.
#[test]
fn a_new_crate_builds_in_debug_without_the_variable_and_not_in_release() {
    let app = tempfile::tempdir().unwrap();
    write_app(app.path());
    let stderr = |output: &Output| String::from_utf8_lossy(&output.stderr).into_owned();

    let debug = check(app.path(), &[], None);
    assert!(
        debug.status.success(),
        "a debug build without {APP_VAR} failed:\n{}",
        stderr(&debug)
    );

    let release = check(app.path(), &["--release"], None);
    assert!(
        !release.status.success(),
        "a release build without {APP_VAR} compiled"
    );
    let text = stderr(&release);
    let error = text
        .lines()
        .find(|line| line.contains("error:") && line.contains(APP_VAR))
        .unwrap_or_else(|| panic!("no error names {APP_VAR}:\n{text}"));
    assert!(
        error.starts_with("src/main.rs:2:"),
        "points at the call: {error}"
    );
    assert!(error.contains("license-gate secret new"), "{error}");
    assert!(error.contains(".cargo/config.toml"), "{error}");

    // Setting the variable is seen at once: cargo knows the crate reads it,
    // even when it was not set.
    let release = check(
        app.path(),
        &["--release"],
        Some("a real secret of the new app"),
    );
    assert!(release.status.success(), "{}", stderr(&release));
    let short = check(app.path(), &[], Some("too short"));
    assert!(!short.status.success(), "a short secret compiled");
    assert!(
        stderr(&short).contains("too short (9 bytes)"),
        "{}",
        stderr(&short)
    );
}
