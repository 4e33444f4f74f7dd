//! `license-gate hardware-id`.

use license_gate_runtime::hardware_id;
use serde_json::{Value, json};

use crate::cli::HardwareIdArgs;
use crate::error::CliResult;
use crate::report::{Report, print_out};

/// How many hex digits of a component's fingerprint are shown.
const FINGERPRINT_DIGITS: usize = 12;

/// One component of the ID as shown: what it is, and its value when that is
/// not identifying, else only a fingerprint.
struct Shown {
    kind: String,
    value: Option<String>,
    fingerprint: String,
}

/// Where the machine identifiers come from, in the order the ID reads them,
/// with their contents (to tell which component is which).
fn machine_id_sources() -> Vec<(&'static str, String)> {
    if !cfg!(target_os = "linux") {
        return Vec::new();
    }
    [
        ("machine id (/etc/machine-id)", "/etc/machine-id"),
        (
            "machine id (/var/lib/dbus/machine-id)",
            "/var/lib/dbus/machine-id",
        ),
        ("product uuid (DMI)", "/sys/class/dmi/id/product_uuid"),
    ]
    .into_iter()
    .filter_map(|(label, path)| {
        let text = std::fs::read_to_string(path).ok()?;
        let text = text.trim();
        (!text.is_empty()).then(|| (label, text.to_owned()))
    })
    .collect()
}

/// Prints the hardware ID, and with `--components` what it is made of.
pub fn run(args: &HardwareIdArgs, json: bool) -> CliResult<Option<Report>> {
    let id = if args.exisone_sdk {
        license_gate::exisone_sdk_hardware_id()
    } else {
        hardware_id::hardware_id()
    };
    if !args.components {
        if json {
            return Ok(Some(Report::new().field("hardware_id", "hardware id", id)));
        }
        print_out(&id);
        return Ok(None);
    }
    let shown = describe(&hardware_id::components(), &machine_id_sources());
    if json {
        let list: Vec<Value> = shown
            .iter()
            .map(|c| json!({ "kind": c.kind, "value": c.value, "fingerprint": c.fingerprint }))
            .collect();
        return Ok(Some(
            Report::new().field("hardware_id", "hardware id", id).field(
                "components",
                "components",
                list,
            ),
        ));
    }
    print_out(&id);
    print_out(&format!(
        "\ncomponents, in order (fingerprint = first {FINGERPRINT_DIGITS} hex digits of a salted SHA-256 of the component;\ncompare two outputs to see which one changed):"
    ));
    let width = shown.iter().map(|c| c.kind.len()).max().unwrap_or(0);
    for (index, c) in shown.iter().enumerate() {
        let mut value = c
            .value
            .as_deref()
            .map(|v| format!("  ({v})"))
            .unwrap_or_default();
        // Equal fingerprints are one value read twice (often a symlink), not a bug.
        if let Some(first) = shown[..index]
            .iter()
            .position(|o| o.fingerprint == c.fingerprint)
        {
            value.push_str(&format!("  (same as {})", first + 1));
        }
        print_out(&format!(
            "  {:>2}. {:<width$} {}{value}",
            index + 1,
            c.kind,
            c.fingerprint
        ));
    }
    Ok(None)
}

/// Names the components. The last ones are, in order, the architecture word,
/// the CPU count, the host name (when known) and the platform; the ones
/// before are the machine's identifiers, the CPU description and the network
/// addresses, shown only as fingerprints.
fn describe(components: &[String], sources: &[(&'static str, String)]) -> Vec<Shown> {
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
    // Machine identifiers are matched to their sources in order; without a
    // known source they are numbered.
    let mut next_source = 0;
    let mut machine_ids = 0;
    components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (kind, value) = if i == arch_at {
                ("architecture".to_owned(), Some(c.clone()))
            } else if i == arch_at + 1 {
                ("cpu count".to_owned(), Some(c.clone()))
            } else if i + 1 == components.len() && c == platform {
                ("platform".to_owned(), Some(c.clone()))
            } else if i > arch_at + 1 {
                ("host name".to_owned(), Some(c.clone()))
            } else if c.contains('\n') || c.contains(": ") {
                ("cpu info".to_owned(), None)
            } else if looks_like_macs(c) {
                ("network addresses".to_owned(), None)
            } else {
                machine_ids += 1;
                let found = sources[next_source.min(sources.len())..]
                    .iter()
                    .position(|(_, text)| text == c);
                let kind = match found {
                    Some(offset) => {
                        let label = sources[next_source + offset].0;
                        next_source += offset + 1;
                        label.to_owned()
                    }
                    None => format!("machine id #{machine_ids}"),
                };
                (kind, None)
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
            "fedcba9876543210fedcba9876543210",
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
        let sources = [
            ("machine id (/etc/machine-id)", parts[0].clone()),
            ("product uuid (DMI)", "not in the list".to_owned()),
        ];
        let shown = describe(&parts, &sources);
        let kinds: Vec<_> = shown.iter().map(|s| s.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "machine id (/etc/machine-id)",
                "machine id #2",
                "cpu info",
                "network addresses",
                "architecture",
                "cpu count",
                "host name",
                "platform"
            ]
        );
        assert!(shown[..4].iter().all(|s| s.value.is_none()));
        assert_eq!(shown[6].value.as_deref(), Some("build-host"));
        assert!(
            shown
                .iter()
                .all(|s| s.fingerprint.len() == FINGERPRINT_DIGITS)
        );
    }
}
