//! `license-gate hardware-id`.

use license_gate::hardware_id;
use serde_json::{Value, json};

use crate::cli::HardwareIdArgs;
use crate::error::CliResult;
use crate::report::print_out;

/// How many hex digits of a component's fingerprint are shown.
const FINGERPRINT_DIGITS: usize = 12;

/// One component of the ID as shown: what it is, and its value when that is
/// not identifying, else only a fingerprint.
struct Shown {
    kind: &'static str,
    value: Option<String>,
    fingerprint: String,
}

/// Prints the hardware ID, and with `--components` what it is made of.
pub fn run(args: &HardwareIdArgs, json: bool) -> CliResult {
    let id = hardware_id::hardware_id();
    if !args.components {
        if json {
            print_out(&json!({ "hardware_id": id }).to_string());
        } else {
            print_out(&id);
        }
        return Ok(());
    }
    let shown = describe(&hardware_id::components());
    if json {
        let list: Vec<Value> = shown
            .iter()
            .map(|c| json!({ "kind": c.kind, "value": c.value, "fingerprint": c.fingerprint }))
            .collect();
        print_out(
            &serde_json::to_string_pretty(&json!({ "hardware_id": id, "components": list }))
                .unwrap_or_default(),
        );
        return Ok(());
    }
    print_out(&id);
    print_out(&format!(
        "\ncomponents, in order (fingerprint = first {FINGERPRINT_DIGITS} hex digits of a salted SHA-256 of the component;\ncompare two outputs to see which one changed):"
    ));
    for (index, c) in shown.iter().enumerate() {
        let value = c
            .value
            .as_deref()
            .map(|v| format!("  ({v})"))
            .unwrap_or_default();
        print_out(&format!(
            "  {:>2}. {:<18} {}{value}",
            index + 1,
            c.kind,
            c.fingerprint
        ));
    }
    Ok(())
}

/// Names the components. The last ones are, in order, the architecture word,
/// the CPU count, the host name (when known) and the platform; the ones
/// before are the machine's identifiers, the CPU description and the network
/// addresses, shown only as fingerprints.
fn describe(components: &[String]) -> Vec<Shown> {
    let platform = std::env::consts::OS;
    // Find the architecture word from the end: it sits before the CPU count.
    let arch_at = components
        .iter()
        .enumerate()
        .rev()
        .find(|(i, c)| {
            (c.as_str() == "x64" || c.as_str() == "x86")
                && components
                    .get(i + 1)
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(|(i, _)| i)
        .unwrap_or(components.len());
    components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (kind, value) = if i == arch_at {
                ("architecture", Some(c.clone()))
            } else if i == arch_at + 1 {
                ("cpu count", Some(c.clone()))
            } else if i + 1 == components.len() && c == platform {
                ("platform", Some(c.clone()))
            } else if i > arch_at + 1 {
                ("host name", Some(c.clone()))
            } else if c.contains('\n') || c.contains(": ") {
                ("cpu info", None)
            } else if looks_like_macs(c) {
                ("network addresses", None)
            } else {
                ("machine id", None)
            };
            Shown {
                kind,
                value,
                fingerprint: hardware_id::from_components(std::slice::from_ref(c))
                    [..FINGERPRINT_DIGITS]
                    .to_owned(),
            }
        })
        .collect()
}

fn looks_like_macs(text: &str) -> bool {
    text.split(',').all(|mac| {
        mac.len() == 17
            && mac
                .split(':')
                .all(|part| part.len() == 2 && part.bytes().all(|b| b.is_ascii_hexdigit()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifying_components_show_only_fingerprints() {
        let parts: Vec<String> = [
            "0123456789abcdef0123456789abcdef",
            "model name\t: Test CPU",
            "02:00:00:00:00:01,aa:bb:cc:00:11:22",
            "x64",
            "8",
            "build-host",
            std::env::consts::OS,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let shown = describe(&parts);
        let kinds: Vec<_> = shown.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                "machine id",
                "cpu info",
                "network addresses",
                "architecture",
                "cpu count",
                "host name",
                "platform"
            ]
        );
        assert!(shown[..3].iter().all(|s| s.value.is_none()));
        assert_eq!(shown[5].value.as_deref(), Some("build-host"));
        assert!(
            shown
                .iter()
                .all(|s| s.fingerprint.len() == FINGERPRINT_DIGITS)
        );
    }
}
