//! `license-gate secret new`, run as a process: a fresh secret each run,
//! long enough for `embed_secret!`, and lines a user can paste as printed
//! (the `[env]` block is pasted into a new crate's `.cargo/config.toml` and
//! cargo builds with it).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

const VAR: &str = "ATLAS_LICENSE_SECRET";

fn new_secret(args: &[&str]) -> Value {
    let output = run(cli().args(["--json", "secret", "new"]).args(args));
    assert!(output.status.success(), "{}", stderr(&output));
    let value = json_of(&output);
    assert_eq!(value["ok"], true, "{value}");
    value
}

#[test]
fn every_run_prints_a_fresh_secret_long_enough_for_embed_secret() {
    let first = new_secret(&[]);
    let second = new_secret(&[]);
    let secret = first["secret"].as_str().unwrap();
    assert_ne!(secret, second["secret"].as_str().unwrap(), "a fresh secret");
    assert_eq!(first["bytes"], 32);
    assert_eq!(secret.len(), 64, "32 bytes, hex-encoded: {secret}");
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()), "{secret}");
    // The default variable.
    assert_eq!(first["variable"], "LICENSE_GATE_VENDOR_SECRET");
    assert_eq!(
        first["cargo_config"],
        format!("[env]\nLICENSE_GATE_VENDOR_SECRET = \"{secret}\"")
    );

    // The text form holds the same kinds of lines, with a secret of its own.
    let output = run(cli().args(["secret", "new", "--var", VAR]));
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{VAR} = \"")))
        .unwrap_or_else(|| panic!("no [env] line: {text}"));
    let printed = line
        .trim_start_matches(&format!("{VAR} = \""))
        .trim_end_matches('"');
    assert_eq!(printed.len(), 64, "{line}");
    assert_ne!(printed, secret);
    for expected in [
        "[env]",
        "/.cargo/config.toml",
        &format!("  {VAR}: ${{{{ secrets.{VAR} }}}}"),
        &format!("license_gate::embed_secret!(\"{VAR}\")?"),
        &format!("gh secret set {VAR}"),
    ] {
        assert!(
            text.lines().any(|l| l.contains(expected)),
            "missing {expected:?}:\n{text}"
        );
    }
    assert!(stderr(&output).is_empty(), "{}", stderr(&output));
}

/// The printed `[env]` block, pasted into `.cargo/config.toml` of a new
/// crate, gives its build the variable with the printed value (the crate has
/// no dependency, so this is a one-second build).
#[test]
fn the_printed_cargo_config_works_as_pasted() {
    let value = new_secret(&["--var", VAR]);
    let secret = value["secret"].as_str().unwrap();
    let config = value["cargo_config"].as_str().unwrap();
    let app = tempfile::tempdir().unwrap();
    write_crate(app.path(), config, value["gitignore"].as_str().unwrap());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["run", "--offline", "--quiet"])
        .current_dir(app.path())
        .env("CARGO_TARGET_DIR", app.path().join("target"))
        // The process environment would win over `[env]`.
        .env_remove(VAR)
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), secret);

    // The GitHub Actions block reads the repository secret of that name.
    assert_eq!(
        value["github_actions"],
        format!("env:\n  {VAR}: ${{{{ secrets.{VAR} }}}}")
    );
    assert_eq!(
        value["embed"].as_str().unwrap().lines().next().unwrap(),
        format!("let secret = license_gate::embed_secret!(\"{VAR}\")?;")
    );
}

/// A crate that prints the variable its build saw, with the pasted config
/// and `.gitignore`.
fn write_crate(dir: &Path, config: &str, gitignore: &str) {
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"pasted\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        format!("fn main() {{\n    println!(\"{{}}\", env!(\"{VAR}\"));\n}}\n"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join(".cargo")).unwrap();
    std::fs::write(dir.join(".cargo/config.toml"), format!("{config}\n")).unwrap();
    std::fs::write(dir.join(".gitignore"), format!("{gitignore}\n/target\n")).unwrap();
}

#[test]
fn a_variable_name_that_is_not_one_is_a_usage_error() {
    let output = run(cli().args(["secret", "new", "--var", "MY SECRET"]));
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("only letters, digits and `_`"), "{text}");
    let output = run(cli().args(["--json", "secret", "new", "--var", "1ST"]));
    assert_eq!(output.status.code(), Some(2));
    let error = assert_error_shape(&json_of(&output), "usage");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("'1ST'") && message.contains("--var"),
        "{message}"
    );
}
