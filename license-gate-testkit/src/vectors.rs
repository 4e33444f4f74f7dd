//! Finding the shared test vectors (`shared/vectors` beside the checkout).

use std::path::PathBuf;

/// The folder of shared test vectors, if present: `$LICENSE_GATE_VECTORS`, or
/// `shared/vectors` next to the workspace folder.
///
/// Tests that need vectors print why they skip when this is `None`:
///
/// ```
/// let Some(dir) = license_gate_testkit::vectors::dir() else {
///     eprintln!("skipped: shared test vectors not found (set LICENSE_GATE_VECTORS)");
///     return;
/// };
/// assert!(dir.is_dir());
/// ```
pub fn dir() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("LICENSE_GATE_VECTORS") {
        let path = PathBuf::from(explicit);
        return path.is_dir().then_some(path);
    }
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()?
        .to_path_buf();
    let path = workspace.parent()?.join("shared").join("vectors");
    path.is_dir().then_some(path)
}

/// Reads `relative` below the vectors folder, or `None` (with a message on
/// stderr saying the test is skipped) when the folder is absent.
pub fn read(relative: &str) -> Option<String> {
    let Some(dir) = dir() else {
        eprintln!(
            "skipped: shared test vectors not found (looked for shared/vectors beside the checkout; set LICENSE_GATE_VECTORS)"
        );
        return None;
    };
    match std::fs::read_to_string(dir.join(relative)) {
        Ok(text) => Some(text),
        Err(error) => panic!("the vectors folder exists but `{relative}` cannot be read: {error}"),
    }
}
