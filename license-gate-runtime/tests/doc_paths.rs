//! Doc examples name the facade (`license_gate::...`), as users write them:
//! an example naming `license_gate_runtime` fails when pasted into an
//! application, which depends on `license-gate` only. The doc tests still run
//! from this crate through its dev-dependency on the facade.

use std::fs;
use std::path::Path;

#[test]
fn doc_comments_use_the_facade_paths() {
    let mut offenders = Vec::new();
    visit(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut offenders,
    );
    assert!(
        offenders.is_empty(),
        "doc comments naming `license_gate_runtime::` (rewrite them with `scripts/facade-doc-paths`):\n{}",
        offenders.join("\n")
    );
}

fn visit(dir: &Path, offenders: &mut Vec<String>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .expect("the source folder is readable")
        .map(|entry| entry.expect("a readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            visit(&path, offenders);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = fs::read_to_string(&path).expect("a readable source file");
            for (number, line) in text.lines().enumerate() {
                let doc = line.trim_start();
                if (doc.starts_with("///") || doc.starts_with("//!"))
                    && doc.contains("license_gate_runtime::")
                {
                    offenders.push(format!("{}:{}: {}", path.display(), number + 1, doc));
                }
            }
        }
    }
}
