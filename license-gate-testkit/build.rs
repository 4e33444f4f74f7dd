//! Finds the shared test vectors when the tests are built, so a test that
//! needs them is reported as ignored, with the reason, when they are absent
//! (instead of passing without checking anything), and fails under `CI=true`.

use std::path::PathBuf;

fn main() {
    println!(
        "cargo::rustc-check-cfg=cfg(license_gate_vectors, values(\"present\", \"missing\", \"missing_in_ci\"))"
    );
    println!("cargo::rerun-if-env-changed=LICENSE_GATE_VECTORS");
    println!("cargo::rerun-if-env-changed=CI");

    let folder = match std::env::var_os("LICENSE_GATE_VECTORS") {
        Some(explicit) => PathBuf::from(explicit),
        None => {
            let manifest =
                PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
            // `shared/vectors` beside the checkout: the workspace is the
            // manifest's parent, the checkout's folder its parent.
            match manifest.parent().and_then(|workspace| workspace.parent()) {
                Some(outside) => outside.join("shared").join("vectors"),
                None => PathBuf::from("shared/vectors"),
            }
        }
    };
    println!("cargo::rerun-if-changed={}", folder.display());

    let state = if folder.is_dir() {
        "present"
    } else if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        "missing_in_ci"
    } else {
        "missing"
    };
    println!("cargo::rustc-cfg=license_gate_vectors=\"{state}\"");
}
