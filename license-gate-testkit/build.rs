//! Finds the shared test vectors when the tests are built, so a test that
//! needs them is reported as ignored, with the reason, when they are absent
//! (instead of passing without checking anything), and fails under `CI=true`;
//! the same for a Redis server (`redis_test!`).

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

    redis();
}

/// Whether the tests can start a Redis server of their own:
/// `$LICENSE_GATE_REDIS_SERVER`, or `redis-server` on the `PATH`. Where none is, a test declared with
/// `redis_test!` is ignored with the reason, and fails under `CI=true`.
fn redis() {
    println!(
        "cargo::rustc-check-cfg=cfg(license_gate_redis, values(\"present\", \"missing\", \"missing_in_ci\"))"
    );
    for variable in ["LICENSE_GATE_REDIS_SERVER", "PATH"] {
        println!("cargo::rerun-if-env-changed={variable}");
    }
    let binary = match std::env::var_os("LICENSE_GATE_REDIS_SERVER") {
        Some(explicit) => PathBuf::from(explicit).is_file(),
        None => std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|dir| dir.join("redis-server").is_file())
        }),
    };
    let state = if binary {
        "present"
    } else if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        "missing_in_ci"
    } else {
        "missing"
    };
    println!("cargo::rustc-cfg=license_gate_redis=\"{state}\"");
}
