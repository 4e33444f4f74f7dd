//! The hardware ID exactly as the official ExisOne SDKs compute it (the
//! Python package `exisone-client` 0.10, whose scheme the .NET, Node and
//! Swift SDKs share), for applications that move from an SDK to license-gate
//! and must keep their customers' activations and offline codes.
//!
//! The ID is the upper-case hex SHA-256 of `"ExisOneHardwareSalt_v1"`
//! followed by these components, joined without separators (Linux):
//!
//! 1. the contents of `/etc/machine-id`, `/var/lib/dbus/machine-id` and
//!    `/sys/class/dmi/id/product_uuid`, each trimmed, when readable and not
//!    empty;
//! 2. `/proc/cpuinfo` without blank lines and without the lines whose key
//!    starts with a volatile word (`cpu mhz`, `bogomips`, ...), each line
//!    right-trimmed, joined with `"\n"`;
//! 3. each MAC address of an Ethernet-type interface (what `ip -o link show`
//!    prints as `link/ether`, interfaces that are down included), upper case
//!    without colons, sorted, without duplicates and all-zero addresses;
//!    `lo` and the virtual prefixes (`docker`, `veth`, `tun`, ...) skipped by
//!    the name before any `@`. The SDK reads them by running `ip` found on
//!    `PATH`; this module reads the same kernel data from `/sys/class/net`
//!    without running anything, and, as the SDK, finds no addresses when no
//!    executable `ip` is on `PATH`;
//! 4. `x64` when the kernel's machine name (`uname -m`) ends in `64`, else
//!    `x86`;
//! 5. the number of online CPUs of the system (`sysconf(_SC_NPROCESSORS_ONLN)`,
//!    what Python's `os.cpu_count()` returns; not the process's affinity);
//! 6. the host name (`gethostname`);
//! 7. Python's `platform.platform()`: on Linux
//!    `Linux-<kernel release>-<machine>-with-glibc<version>` (the glibc
//!    version from `confstr(_CS_GNU_LIBC_VERSION)`, as CPython reads it).
//!
//! The price of the match: the kernel release, the glibc version and the host
//! name are part of the ID, so a kernel update, a distribution upgrade or a
//! rename of the machine gives it a new ID (a new seat, and offline codes for
//! the old ID stop matching). license-gate's own [`crate::hardware_id`]
//! leaves those out for that reason; choose this one only to stay compatible
//! with IDs an SDK already computed.
//!
//! The SDK's answer also depends on the Python that runs it: this is what it
//! computes under CPython 3.9 and later (compared on one machine under 3.9 to
//! 3.13). Under CPython 3.8, `platform()` names the newest glibc symbol
//! version the interpreter's own binary links against instead of the
//! installed glibc, which this module cannot know.
//!
//! Known gaps, where the SDK's answer depends on things this module does not
//! replicate: CPython's `uname -p` (dropped by `platform()` when it prints
//! `unknown` or the machine name, as GNU coreutils, busybox and the Fedora
//! patch do; an `athlon` on 32-bit Fedora would differ); on musl, CPython
//! scans its own executable for a C library version, taken here as none
//! (`...-with`); Python's `PYTHON_CPU_COUNT` override (3.13) is not read.
//! macOS follows the SDK's commands (`system_profiler`, `ifconfig -a`,
//! `uname -p`, `file`-free `64bit`) and is not proved against the SDK;
//! Windows is not replicated (the SDK asks WMI through the retired `wmic`)
//! and gives license-gate's own ID.

use std::sync::OnceLock;

// The SDK's salt, virtual interface prefixes and volatile `/proc/cpuinfo`
// keys are the ones license-gate's own ID uses.
use crate::hardware_id::{
    CPUINFO_VOLATILE as CPUINFO_VOLATILE_PREFIXES, VIRTUAL_PREFIXES as VIRTUAL_NIC_PREFIXES,
};

/// This machine's hardware ID as the official ExisOne SDK 0.10 computes it
/// (computed once per process). Choose it to keep activations and offline
/// codes made by an application that used an ExisOne SDK; its cost is that a
/// kernel or C library update, or a new host name, changes it (see
/// [`LicenseGateBuilder::exisone_sdk_hardware_id`](crate::LicenseGateBuilder::exisone_sdk_hardware_id)).
///
/// ```
/// let id = license_gate::exisone_sdk_hardware_id();
/// assert_eq!(id.len(), 64);
/// assert_eq!(id, license_gate::exisone_sdk_hardware_id());
/// ```
pub fn exisone_sdk_hardware_id() -> String {
    cached().to_owned()
}

/// The ID, computed on first use.
pub(crate) fn cached() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| hash(&components()))
}

/// The upper-case hex SHA-256 of the salt followed by `components`.
fn hash(components: &[String]) -> String {
    crate::hardware_id::from_components(components)
}

/// The components the SDK hashes on this machine, in its order.
fn components() -> Vec<String> {
    platform::components()
}

/// Whether the SDK takes an interface name for a virtual adapter.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))] // Linux and macOS, tested everywhere
fn is_virtual_nic_name(name: &str) -> bool {
    let name = name.to_lowercase();
    VIRTUAL_NIC_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// One MAC address as the SDK keeps it: upper case without colons, only when
/// it has 12 characters and is not all zeros.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))] // Linux and macOS, tested everywhere
fn sdk_mac(raw: &str) -> Option<String> {
    let mac = raw.replace(':', "").to_uppercase();
    (mac.chars().count() == 12 && mac != "000000000000").then_some(mac)
}

/// The SDK's MAC list from `(name, address)` pairs: skips `lo` and virtual
/// names, keeps the first of duplicates, sorts.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))] // Linux and macOS, tested everywhere
fn sdk_macs(interfaces: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let mut macs: Vec<String> = Vec::new();
    for (name, address) in interfaces {
        if is_virtual_nic_name(&name) || name == "lo" {
            continue;
        }
        if let Some(mac) = sdk_mac(&address)
            && !macs.contains(&mac)
        {
            macs.push(mac);
        }
    }
    macs.sort();
    macs
}

/// `/proc/cpuinfo` as the SDK keeps it: lines with an empty key and volatile
/// lines dropped, the rest right-trimmed and joined with `"\n"`; `None` when
/// nothing is left.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Linux only, tested everywhere
fn stable_cpuinfo(cpuinfo: &str) -> Option<String> {
    let lines: Vec<&str> = cpuinfo
        .lines()
        .filter(|line| {
            let key = line
                .split(':')
                .next()
                .unwrap_or_default()
                .trim()
                .to_lowercase();
            !key.is_empty() && !CPUINFO_VOLATILE_PREFIXES.iter().any(|p| key.starts_with(p))
        })
        .map(str::trim_end)
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// `platform.platform()`'s `_platform`: the non-empty parts trimmed and
/// joined with `-`, characters unsafe in file names replaced by `-`,
/// `unknown` removed, runs of `-` folded and trailing ones dropped.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))] // Linux and macOS, tested everywhere
fn python_platform_string(parts: &[&str]) -> String {
    let mut text = parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.trim())
        .collect::<Vec<_>>()
        .join("-")
        .replace(' ', "_");
    for c in ['/', '\\', ':', ';', '"', '(', ')'] {
        text = text.replace(c, "-");
    }
    text = text.replace("unknown", "");
    while text.contains("--") {
        text = text.replace("--", "-");
    }
    while text.ends_with('-') {
        text.pop();
    }
    text
}

/// Python's `_unknown_as_blank`.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))] // Linux and macOS, tested everywhere
fn unknown_as_blank(value: String) -> String {
    if value == "unknown" {
        String::new()
    } else {
        value
    }
}

/// The architecture word: `x64` when the machine name ends in `64`.
#[cfg_attr(not(any(target_os = "linux", target_os = "macos")), allow(dead_code))] // Linux and macOS, tested everywhere
fn architecture_word(machine: &str) -> &'static str {
    if machine.ends_with("64") {
        "x64"
    } else {
        "x86"
    }
}

/// Whether `program` would be found and run from `PATH` as Python's
/// `subprocess` looks it up (an empty entry is the current folder; no `PATH`
/// means `:/bin:/usr/bin`).
#[cfg(target_os = "linux")]
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_else(|| ":/bin:/usr/bin".into());
    std::env::split_paths(&path).any(|dir| {
        let candidate = if dir.as_os_str().is_empty() {
            std::path::PathBuf::from(program)
        } else {
            dir.join(program)
        };
        std::fs::metadata(&candidate)
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    })
}

/// The calls into the C library the SDK's Python makes (through `os` and
/// `socket`), made the same way so the answers are the same.
#[cfg(unix)]
mod libc_calls {
    use std::ffi::CStr;

    /// `uname()`'s system, release and machine.
    pub(super) fn uname() -> (String, String, String) {
        // SAFETY: `utsname` is plain old data, valid when zeroed; `uname`
        // fills it and every field is a NUL-terminated string on success.
        let mut name: libc::utsname = unsafe { std::mem::zeroed() };
        if unsafe { libc::uname(&mut name) } != 0 {
            return Default::default();
        }
        let text = |field: &[libc::c_char]| {
            // SAFETY: on success each field holds a NUL-terminated string
            // within its array.
            unsafe { CStr::from_ptr(field.as_ptr()) }
                .to_string_lossy()
                .into_owned()
        };
        (
            text(&name.sysname),
            text(&name.release),
            text(&name.machine),
        )
    }

    /// `gethostname()`, as Python's `socket.gethostname()`.
    pub(super) fn host_name() -> String {
        let mut buf = [0u8; 1024];
        // SAFETY: the buffer is writable for its length; one byte is kept
        // back so the text is NUL-terminated even when truncated.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
        if rc != 0 {
            return String::new();
        }
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    }

    /// `sysconf(_SC_NPROCESSORS_ONLN)`, as Python's `os.cpu_count()` (its
    /// `or 1` for an unknown count included).
    pub(super) fn cpu_count() -> String {
        // SAFETY: `sysconf` has no preconditions.
        let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        if n < 1 { "1".to_owned() } else { n.to_string() }
    }

    /// `confstr(_CS_GNU_LIBC_VERSION)` split in two, as CPython's
    /// `platform.libc_ver()`: `("glibc", "2.36")`.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pub(super) fn libc_version() -> (String, String) {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is writable for its length; `confstr` writes at
        // most that many bytes, NUL included.
        let n = unsafe {
            libc::confstr(
                libc::_CS_GNU_LIBC_VERSION,
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n == 0 || n > buf.len() {
            return Default::default();
        }
        let text = String::from_utf8_lossy(&buf[..n - 1]).into_owned();
        let mut parts = text.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some(name), Some(_)) => {
                // Python's `split(maxsplit=1)`: the rest keeps its end.
                let rest = text.trim_start()[name.len()..].trim_start();
                (name.to_owned(), rest.to_owned())
            }
            _ => Default::default(),
        }
    }

    /// Without glibc CPython scans its own executable for a C library name;
    /// a musl build finds none.
    #[cfg(all(target_os = "linux", not(target_env = "gnu")))]
    pub(super) fn libc_version() -> (String, String) {
        Default::default()
    }
}

#[cfg(target_os = "linux")]
mod platform {
    use std::fs;

    use super::libc_calls;

    /// The `(name, address)` of every Ethernet-type interface in
    /// `net` (`/sys/class/net`), the name cut at its first `@` as the SDK's
    /// pattern reads `ip`'s `name@link:`.
    pub(super) fn ether_interfaces(net: &std::path::Path) -> Vec<(String, String)> {
        let Ok(entries) = fs::read_dir(net) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let Ok(full) = entry.file_name().into_string() else {
                continue;
            };
            let dir = entry.path();
            // `ip` prints `link/ether` for ARPHRD_ETHER (type 1).
            let is_ether = fs::read_to_string(dir.join("type"))
                .map(|t| t.trim() == "1")
                .unwrap_or(false);
            if !is_ether {
                continue;
            }
            let Ok(address) = fs::read_to_string(dir.join("address")) else {
                continue;
            };
            let name = full.split('@').next().unwrap_or_default().to_owned();
            if name.is_empty() {
                continue;
            }
            found.push((name, address.trim().to_owned()));
        }
        found
    }

    pub(super) fn components() -> Vec<String> {
        let mut parts = crate::hardware_id::platform::machine_ids();
        if let Ok(cpuinfo) = fs::read_to_string("/proc/cpuinfo")
            && let Some(stable) = super::stable_cpuinfo(&cpuinfo)
        {
            parts.push(stable);
        }
        if super::on_path("ip") {
            parts.extend(super::sdk_macs(ether_interfaces(std::path::Path::new(
                "/sys/class/net",
            ))));
        }
        let (system, release, machine) = libc_calls::uname();
        parts.push(super::architecture_word(&machine).to_owned());
        parts.push(libc_calls::cpu_count());
        parts.push(libc_calls::host_name());
        let (system, release, machine) = (
            super::unknown_as_blank(system),
            super::unknown_as_blank(release),
            super::unknown_as_blank(machine),
        );
        let (lib, version) = libc_calls::libc_version();
        let libc = format!("{lib}{version}");
        // `uname -p` is `unknown` or the machine name on Linux: both dropped.
        parts.push(super::python_platform_string(&[
            &system, &release, &machine, "", "with", &libc,
        ]));
        parts
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use std::process::Command;

    use super::libc_calls;

    fn run(program: &str, args: &[&str]) -> Option<String> {
        let output = Command::new(program).args(args).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// `ProductVersion` of the system version file, as Python's `mac_ver()`.
    fn mac_release() -> String {
        let Ok(plist) = std::fs::read_to_string("/System/Library/CoreServices/SystemVersion.plist")
        else {
            return String::new();
        };
        let Some(at) = plist.find("<key>ProductVersion</key>") else {
            return String::new();
        };
        let rest = &plist[at..];
        let (Some(start), Some(end)) = (rest.find("<string>"), rest.find("</string>")) else {
            return String::new();
        };
        rest.get(start + "<string>".len()..end)
            .unwrap_or_default()
            .to_owned()
    }

    pub(super) fn components() -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(profile) = run("/usr/sbin/system_profiler", &["SPHardwareDataType"])
            && let Some(line) = profile.lines().find(|l| l.contains("Hardware UUID"))
        {
            let uuid = line.rsplit(':').next().unwrap_or_default().trim();
            if !uuid.is_empty() {
                parts.push(uuid.to_owned());
            }
        }
        if let Some(ifconfig) = run("/sbin/ifconfig", &["-a"]) {
            let mut current: Option<String> = None;
            let mut found = Vec::new();
            for line in ifconfig.split('\n') {
                if !line.is_empty() && !line.starts_with([' ', '\t']) {
                    current = Some(line.split(':').next().unwrap_or_default().trim().to_owned());
                    continue;
                }
                if let Some(name) = &current
                    && !name.is_empty()
                    && name != "lo0"
                    && line.contains("ether ")
                {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    if let Some(at) = words.iter().position(|w| *w == "ether")
                        && let Some(mac) = words.get(at + 1)
                    {
                        found.push((name.clone(), (*mac).to_owned()));
                    }
                }
            }
            parts.extend(super::sdk_macs(found));
        }
        let (system, release, machine) = libc_calls::uname();
        parts.push(super::architecture_word(&machine).to_owned());
        parts.push(libc_calls::cpu_count());
        parts.push(libc_calls::host_name());
        let processor = run("/usr/bin/uname", &["-p"])
            .map(|p| p.trim().to_owned())
            .unwrap_or_default();
        let processor = if processor == machine {
            String::new()
        } else {
            super::unknown_as_blank(processor)
        };
        let macos = mac_release();
        let (system, release) = if macos.is_empty() {
            (system, release)
        } else {
            ("macOS".to_owned(), macos)
        };
        let bits = if cfg!(target_pointer_width = "64") {
            "64bit"
        } else {
            "32bit"
        };
        parts.push(super::python_platform_string(&[
            &system, &release, &machine, &processor, bits,
        ]));
        parts
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod platform {
    /// Not replicated here (see the module docs): license-gate's own components.
    pub(super) fn components() -> Vec<String> {
        crate::hardware_id::components()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_keeps_the_sdks_lines() {
        let info = "processor\t: 0\nmodel name\t: Test CPU  \ncpu MHz\t\t: 2400.01\n\nbogomips\t: 4800\nflags\t\t: fpu\n: odd\n\nprocessor\t: 1\nmodel name\t: Test CPU\n";
        assert_eq!(
            stable_cpuinfo(info).as_deref(),
            Some("model name\t: Test CPU\nflags\t\t: fpu\nmodel name\t: Test CPU")
        );
        assert_eq!(stable_cpuinfo("processor : 0\n\n"), None);
    }

    #[test]
    fn macs_are_the_sdks() {
        let pairs = [
            ("eth0", "02:FC:00:00:00:01"),
            ("lo", "00:00:00:00:00:01"),
            ("Docker0", "02:42:ac:11:00:02"),
            ("ifb0", "26:6d:98:f1:0d:82"),
            ("eth1", "02:fc:00:00:00:01"),
            ("bond0", "00:00:00:00:00:00"),
            ("br0", "aa:bb:cc:dd:ee:ff"),
            ("short0", "aa:bb"),
        ]
        .map(|(n, a)| (n.to_owned(), a.to_owned()));
        assert_eq!(
            sdk_macs(pairs),
            ["02FC00000001", "266D98F10D82", "AABBCCDDEEFF"]
        );
    }

    #[test]
    fn the_platform_string_is_pythons() {
        assert_eq!(
            python_platform_string(&["Linux", "6.1.0-13-amd64", "x86_64", "", "with", "glibc2.36"]),
            "Linux-6.1.0-13-amd64-x86_64-with-glibc2.36"
        );
        assert_eq!(
            python_platform_string(&["Linux", "5.15.0", "x86_64", "", "with", ""]),
            "Linux-5.15.0-x86_64-with"
        );
        assert_eq!(
            python_platform_string(&["Linux", "6.6 (custom)", "armv7l", "", "with", "glibc2.31"]),
            "Linux-6.6_-custom-armv7l-with-glibc2.31"
        );
        assert_eq!(
            python_platform_string(&["macOS", "14.2.1", "arm64", "arm", "64bit"]),
            "macOS-14.2.1-arm64-arm-64bit"
        );
        assert_eq!(architecture_word("aarch64"), "x64");
        assert_eq!(architecture_word("armv7l"), "x86");
        assert_eq!(architecture_word("i686"), "x86");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn interfaces_are_read_like_ip_lists_them() {
        let net = tempfile::tempdir().unwrap();
        let add = |name: &str, kind: &str, address: &str| {
            let dir = net.path().join(name);
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("type"), format!("{kind}\n")).unwrap();
            std::fs::write(dir.join("address"), format!("{address}\n")).unwrap();
        };
        add("eth0", "1", "02:fc:00:00:00:01");
        add("lo", "772", "00:00:00:00:00:00");
        add("wlan0@phy", "1", "aa:bb:cc:dd:ee:ff");
        add("veth@x", "1", "11:11:11:11:11:11");
        add(
            "ib0",
            "32",
            "80:00:00:48:fe:80:00:00:00:00:00:00:00:00:00:00:00:00:00:01",
        );
        let mut found = platform::ether_interfaces(net.path());
        found.sort();
        assert_eq!(
            found,
            [
                ("eth0", "02:fc:00:00:00:01"),
                ("veth", "11:11:11:11:11:11"),
                ("wlan0", "aa:bb:cc:dd:ee:ff"),
            ]
            .map(|(n, a)| (n.to_owned(), a.to_owned()))
        );
        assert_eq!(sdk_macs(found), ["02FC00000001", "AABBCCDDEEFF"]);
    }

    #[test]
    fn the_id_is_stable_and_shaped() {
        let id = exisone_sdk_hardware_id();
        assert_eq!(id, hash(&components()));
        assert_eq!(id.len(), 64);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
    }
}
