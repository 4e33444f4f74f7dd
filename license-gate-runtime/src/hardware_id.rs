//! The hardware ID: a stable fingerprint of this machine, as the ExisOne SDKs
//! compute it, and used to bind the cache to the machine.
//!
//! The ID is the upper-case hex SHA-256 of `"ExisOneHardwareSalt_v1"` followed
//! by the machine's components. On Linux these are, in order: the machine IDs
//! (`/etc/machine-id`, `/var/lib/dbus/machine-id`,
//! `/sys/class/dmi/id/product_uuid`, each when readable), `/proc/cpuinfo`
//! without the lines that change at run time, the sorted MAC addresses of
//! physical interfaces (loopback, container, bridge and VPN interfaces are
//! skipped so they can come and go), the architecture word, the CPU count,
//! the host name and the platform name.
//!
//! On macOS and Windows the components come from system programs run by
//! their absolute paths (`programs`), never looked up on `PATH`, and with
//! none of the user's environment variables read: a program of the user's
//! earlier on `PATH`, or a `COMPUTERNAME` or `PROCESSOR_IDENTIFIER` set for
//! the app, changes nothing. On Linux the ID reads only files of `/etc`,
//! `/var/lib`, `/proc` and `/sys`.
//!
//! The ID is what the machine presents. A user who makes one machine present
//! another's files (for example with user, mount and UTS namespaces, which an
//! unprivileged Linux user can make) is, to this ID, that other machine: no
//! fingerprint taken on the client can tell them apart.
//!
//! What matters is that the same machine gives the same ID on every call and
//! after reboots. Two things the published SDK includes are left out on
//! purpose because they break that: the kernel version in the platform string
//! (it changes with every kernel update) and the scheduler's CPU count (it
//! changes with cgroup limits and CPU affinity); the CPU count here is the
//! number of processors the hardware reports.

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// The salt that starts the hashed string.
pub(crate) const SALT: &str = "ExisOneHardwareSalt_v1";

/// This machine's hardware ID (computed once per process): a stable
/// fingerprint of the machine, as the ExisOne SDKs compute it. Show it to the
/// user when a license is activated offline: the vendor's portal binds the
/// offline code to it.
///
/// ```
/// let id = license_gate::hardware_id();
/// assert_eq!(id.len(), 64);
/// assert_eq!(id, license_gate::hardware_id());
/// ```
pub fn hardware_id() -> String {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| from_components(&components())).clone()
}

/// The hardware ID of the given components: upper-case hex SHA-256 of the salt
/// followed by the components.
pub fn from_components(components: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(SALT.as_bytes());
    for component in components {
        hasher.update(component.as_bytes());
    }
    hex::encode_upper(hasher.finalize())
}

/// `override_id` when it is not blank (returned verbatim), else this machine's ID.
pub fn hardware_id_or(override_id: Option<&str>) -> String {
    match override_id {
        Some(id) if !id.trim().is_empty() => id.to_owned(),
        _ => hardware_id(),
    }
}

/// The components of this machine that go into the ID, in order.
pub fn components() -> Vec<String> {
    let mut parts = platform::machine_components();
    parts.push(architecture_word().to_owned());
    parts.push(platform::cpu_count().to_string());
    parts.push(platform::host_name());
    parts.push(std::env::consts::OS.to_owned());
    parts.retain(|p| !p.is_empty());
    parts
}

fn architecture_word() -> &'static str {
    if cfg!(target_pointer_width = "64") {
        "x64"
    } else {
        "x86"
    }
}

/// The system programs the ID runs on macOS and Windows, by absolute path:
/// never looked up on `PATH`, which the user sets. (On Windows the system
/// folder is named outright rather than read from `%SystemRoot%`, which is an
/// environment variable too.)
#[allow(dead_code)] // each platform runs only its own
pub(crate) mod programs {
    /// macOS: the I/O registry (platform UUID and serial number).
    pub(crate) const IOREG: &str = "/usr/sbin/ioreg";
    /// macOS: kernel values (CPU brand, CPU count).
    pub(crate) const SYSCTL: &str = "/usr/sbin/sysctl";
    /// macOS: network interfaces (MAC addresses).
    pub(crate) const IFCONFIG: &str = "/sbin/ifconfig";
    /// macOS: the local host name.
    pub(crate) const SCUTIL: &str = "/usr/sbin/scutil";
    /// macOS and other Unix systems: the host name.
    pub(crate) const HOSTNAME: &str = "/bin/hostname";
    /// Windows: registry values (machine GUID, processor, computer name).
    pub(crate) const REG: &str = r"C:\Windows\System32\reg.exe";
    /// Windows: network adapters (MAC addresses).
    pub(crate) const GETMAC: &str = r"C:\Windows\System32\getmac.exe";

    /// Every program above (for the test that they are absolute).
    pub(crate) const ALL: &[&str] = &[IOREG, SYSCTL, IFCONFIG, SCUTIL, HOSTNAME, REG, GETMAC];
}

/// The data of value `name` in the output of `reg query` (lines such as
/// `    MachineGuid    REG_SZ    1f7e…`), trimmed; the data may hold spaces.
#[allow(dead_code)] // Windows only, tested everywhere
pub(crate) fn reg_value(output: &str, name: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let line = line.trim();
        let (key, rest) = line.split_once(char::is_whitespace)?;
        if !key.eq_ignore_ascii_case(name) {
            return None;
        }
        let (kind, data) = rest.trim_start().split_once(char::is_whitespace)?;
        let data = data.trim();
        (kind.starts_with("REG_") && !data.is_empty()).then(|| data.to_owned())
    })
}

/// Interface names that belong to containers, bridges, VPNs and virtual
/// machines: they come and go without the machine changing.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))] // Linux and macOS, tested everywhere
pub(crate) const VIRTUAL_PREFIXES: &[&str] = &[
    "docker",
    "br-",
    "veth",
    "virbr",
    "vmnet",
    "vboxnet",
    "tun",
    "tap",
    "wg",
    "tailscale",
    "zt",
    "utun",
];

/// Whether an interface counts for the ID.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))] // Linux and macOS, tested everywhere
pub(crate) fn is_physical_interface(name: &str) -> bool {
    name != "lo" && !VIRTUAL_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Normalises MAC addresses: drops all-zero ones, lower-cases, sorts and joins.
pub(crate) fn join_macs(macs: impl IntoIterator<Item = String>) -> String {
    let mut macs: Vec<String> = macs
        .into_iter()
        .map(|m| m.trim().to_ascii_lowercase())
        .filter(|m| !m.is_empty() && m.chars().any(|c| c.is_ascii_hexdigit() && c != '0'))
        .collect();
    macs.sort();
    macs.dedup();
    macs.join(",")
}

/// `/proc/cpuinfo` keys (lower case) whose lines change between reads.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Linux only, tested everywhere
pub(crate) const CPUINFO_VOLATILE: &[&str] = &[
    "cpu mhz",
    "bogomips",
    "cache size",
    "core id",
    "apicid",
    "initial apicid",
    "cpu cores",
    "siblings",
    "processor",
];

/// `/proc/cpuinfo` without the lines that change at run time.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Linux only, tested everywhere
pub(crate) fn stable_cpuinfo(cpuinfo: &str) -> String {
    cpuinfo
        .lines()
        .filter(|line| {
            let key = line
                .split(':')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            !CPUINFO_VOLATILE.iter().any(|v| key.starts_with(v))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// The machine-ID files are read by the ExisOne SDK's ID too.
#[cfg(target_os = "linux")]
pub(crate) mod platform {
    use std::fs;

    fn read_trimmed(path: &str) -> Option<String> {
        let text = fs::read_to_string(path).ok()?;
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// The machine's identifiers that are readable and not blank, in this
    /// order: `/etc/machine-id`, `/var/lib/dbus/machine-id`, the DMI product
    /// UUID (the same files, in the same order, as the ExisOne SDKs).
    pub(crate) fn machine_ids() -> Vec<String> {
        [
            "/etc/machine-id",
            "/var/lib/dbus/machine-id",
            "/sys/class/dmi/id/product_uuid",
        ]
        .iter()
        .filter_map(|p| read_trimmed(p))
        .collect()
    }

    pub(super) fn machine_components() -> Vec<String> {
        let mut parts = machine_ids();
        if let Some(cpuinfo) = read_trimmed("/proc/cpuinfo") {
            parts.push(super::stable_cpuinfo(&cpuinfo));
        }
        parts.push(macs());
        parts
    }

    fn macs() -> String {
        let Ok(entries) = fs::read_dir("/sys/class/net") else {
            return String::new();
        };
        let macs = entries.filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            if !super::is_physical_interface(&name) {
                return None;
            }
            read_trimmed(&format!("/sys/class/net/{name}/address"))
        });
        super::join_macs(macs)
    }

    pub(super) fn cpu_count() -> usize {
        fs::read_to_string("/proc/cpuinfo")
            .map(|c| c.lines().filter(|l| l.starts_with("processor")).count())
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or(1)
    }

    pub(super) fn host_name() -> String {
        read_trimmed("/proc/sys/kernel/hostname")
            .or_else(|| read_trimmed("/etc/hostname"))
            .unwrap_or_default()
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use std::process::Command;

    use super::programs::{HOSTNAME, IFCONFIG, IOREG, SCUTIL, SYSCTL};

    /// Runs a system program by its absolute path with an empty environment.
    fn run(program: &str, args: &[&str]) -> Option<String> {
        let output = Command::new(program).args(args).env_clear().output().ok()?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (output.status.success() && !text.is_empty()).then_some(text)
    }

    /// A value of `ioreg`'s platform expert, such as `IOPlatformUUID`.
    fn platform_value(ioreg: &str, key: &str) -> Option<String> {
        let line = ioreg.lines().find(|l| l.contains(&format!("\"{key}\"")))?;
        Some(line.split('=').nth(1)?.trim().trim_matches('"').to_owned())
    }

    pub(super) fn machine_components() -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(ioreg) = run(IOREG, &["-rd1", "-c", "IOPlatformExpertDevice"]) {
            parts.extend(platform_value(&ioreg, "IOPlatformUUID"));
            parts.extend(platform_value(&ioreg, "IOPlatformSerialNumber"));
        }
        parts.extend(run(SYSCTL, &["-n", "machdep.cpu.brand_string"]));
        if let Some(ifconfig) = run(IFCONFIG, &[]) {
            parts.push(macs(&ifconfig));
        }
        parts
    }

    fn macs(ifconfig: &str) -> String {
        let mut current = String::new();
        let mut found = Vec::new();
        for line in ifconfig.lines() {
            if !line.starts_with(char::is_whitespace) {
                current = line.split(':').next().unwrap_or_default().to_owned();
            } else if let Some(rest) = line.trim().strip_prefix("ether ")
                && super::is_physical_interface(&current)
                && !current.starts_with("bridge")
            {
                found.push(
                    rest.split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
        super::join_macs(found)
    }

    pub(super) fn cpu_count() -> usize {
        run(SYSCTL, &["-n", "hw.ncpu"])
            .and_then(|n| n.parse().ok())
            .unwrap_or(1)
    }

    pub(super) fn host_name() -> String {
        run(SCUTIL, &["--get", "LocalHostName"])
            .or_else(|| run(HOSTNAME, &[]))
            .unwrap_or_default()
    }
}

#[cfg(target_os = "windows")]
mod platform {
    use std::process::Command;

    use super::programs::{GETMAC, REG};
    use super::reg_value;

    /// Where Windows keeps the system-wide environment it gives every
    /// process at logon (`PROCESSOR_IDENTIFIER`, `NUMBER_OF_PROCESSORS`): read
    /// here, not from this process's environment, which the user sets.
    const SYSTEM_ENVIRONMENT: &str =
        r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Environment";

    /// Runs a system program by its absolute path.
    fn run(program: &str, args: &[&str]) -> Option<String> {
        let output = Command::new(program).args(args).output().ok()?;
        let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (output.status.success() && !text.is_empty()).then_some(text)
    }

    /// Value `name` of registry key `key` (under `HKLM`), through `reg.exe`.
    fn registry(key: &str, name: &str) -> Option<String> {
        reg_value(&run(REG, &["query", key, "/v", name])?, name)
    }

    pub(super) fn machine_components() -> Vec<String> {
        let mut parts = Vec::new();
        parts.extend(registry(
            r"HKLM\SOFTWARE\Microsoft\Cryptography",
            "MachineGuid",
        ));
        parts.extend(registry(SYSTEM_ENVIRONMENT, "PROCESSOR_IDENTIFIER"));
        if let Some(getmac) = run(GETMAC, &["/fo", "csv", "/nh"]) {
            let macs = getmac
                .lines()
                .filter_map(|l| l.split(',').next())
                .map(|m| m.trim_matches('"').replace('-', ":"))
                .filter(|m| m.len() == 17);
            parts.push(super::join_macs(macs));
        }
        parts
    }

    pub(super) fn cpu_count() -> usize {
        registry(SYSTEM_ENVIRONMENT, "NUMBER_OF_PROCESSORS")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1)
    }

    /// The computer name, as `COMPUTERNAME` would give it.
    pub(super) fn host_name() -> String {
        registry(
            r"HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName",
            "ComputerName",
        )
        .unwrap_or_default()
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
mod platform {
    pub(super) fn machine_components() -> Vec<String> {
        Vec::new()
    }

    pub(super) fn cpu_count() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    }

    /// The host name from the system program, by its absolute path (not
    /// `$HOSTNAME`, which the user sets).
    pub(super) fn host_name() -> String {
        std::process::Command::new(super::programs::HOSTNAME)
            .env_clear()
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_interfaces_do_not_count() {
        for name in [
            "lo",
            "docker0",
            "br-1a2b",
            "veth12",
            "tun0",
            "wg0",
            "tailscale0",
            "utun3",
        ] {
            assert!(!is_physical_interface(name), "{name}");
        }
        for name in ["eth0", "enp3s0", "wlan0", "en0"] {
            assert!(is_physical_interface(name), "{name}");
        }
    }

    #[test]
    fn macs_are_sorted_and_zero_macs_dropped() {
        let joined = join_macs([
            "AA:BB:CC:00:11:22".to_owned(),
            "00:00:00:00:00:00".to_owned(),
            "02:00:00:00:00:01".to_owned(),
        ]);
        assert_eq!(joined, "02:00:00:00:00:01,aa:bb:cc:00:11:22");
    }

    #[test]
    fn volatile_cpuinfo_lines_are_dropped() {
        let info = "processor\t: 0\nmodel name\t: Test CPU\ncpu MHz\t\t: 2400.01\nbogomips\t: 4800\nflags\t: fpu";
        assert_eq!(stable_cpuinfo(info), "model name\t: Test CPU\nflags\t: fpu");
    }

    #[test]
    fn system_programs_are_named_by_absolute_path() {
        for program in programs::ALL {
            assert!(
                program.starts_with('/') || program.starts_with(r"C:\Windows\System32\"),
                "{program} would be looked up on PATH"
            );
        }
    }

    #[test]
    fn registry_values_are_read_from_reg_query_output() {
        let output = "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n    MachineGuid    REG_SZ    1f7e4a1c-2b3d-4e5f-8a9b-0c1d2e3f4a5b\r\n\r\n";
        assert_eq!(
            reg_value(output, "MachineGuid").as_deref(),
            Some("1f7e4a1c-2b3d-4e5f-8a9b-0c1d2e3f4a5b")
        );
        let output = "\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Environment\n    PROCESSOR_IDENTIFIER    REG_SZ    Intel64 Family 6 Model 158 Stepping 10, GenuineIntel\n    NUMBER_OF_PROCESSORS    REG_SZ    12\n";
        assert_eq!(
            reg_value(output, "PROCESSOR_IDENTIFIER").as_deref(),
            Some("Intel64 Family 6 Model 158 Stepping 10, GenuineIntel")
        );
        assert_eq!(
            reg_value(output, "NUMBER_OF_PROCESSORS").as_deref(),
            Some("12")
        );
        assert_eq!(reg_value(output, "PROCESSOR"), None);
        assert_eq!(
            reg_value(
                "ERROR: The system was unable to find the specified registry key or value.",
                "MachineGuid"
            ),
            None
        );
    }

    #[test]
    fn the_id_is_stable_and_shaped() {
        let a = from_components(&components());
        let b = from_components(&components());
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(hardware_id(), a);
    }

    // The examples these functions documented while they were public.
    #[test]
    fn components_are_hashed_as_one_string() {
        let id = from_components(&["abc".to_owned()]);
        assert_eq!(id, from_components(&["a".to_owned(), "bc".to_owned()]));
        assert!(
            id.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
    }

    #[test]
    fn a_blank_override_is_this_machine() {
        assert_eq!(hardware_id_or(Some("my-vm-42")), "my-vm-42");
        assert_eq!(hardware_id_or(Some("  ")), hardware_id());
    }
}
