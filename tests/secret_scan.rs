//! Attack: read the vendor secret out of an application's binary with one
//! static scanner that works against every application built with
//! license-gate (issue: "the embedded secret comes out by a generic static
//! scan").
//!
//! The scanner (`support::scan`) is written as an attacker who has read this
//! crate's source would write it. It must find the secret where it is there
//! to find (the old splitmix64 masking, rebuilt here as the positive control;
//! plain xor shares; the plain bytes; the macro's own expansion with the
//! shares read without the volatile barrier, which the optimiser folds back
//! into the secret), and must not find it in stripped
//! release builds of a small application that uses `embed_secret!`, with LTO
//! on and off, at opt-level 3 and "z", nor in this debug test binary.
//!
//! The release builds take a while on a small machine: the default run builds
//! two profiles (opt-level 3 without LTO, and "z" with fat LTO and one codegen
//! unit); set `LICENSE_GATE_SCAN_ALL_PROFILES=1` to build all four.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use license_gate_tests::support::scan::{self, Attack, Image, Section};

/// The variable the small application embeds.
const APP_VAR: &str = "SCAN_APP_SECRET";

/// Profiles the default run builds, and the others.
const DEFAULT_PROFILES: [&str; 2] = ["o3", "oz-fat"];
const MORE_PROFILES: [&str; 2] = ["o3-fat", "oz"];

/// A secret no earlier build held: cargo must rebuild for it (the variable
/// changed), and no binary of an earlier run can pass for this one.
fn fresh_secret() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos(),
        );
        hasher.finish()
    };
    format!("scan-secret-{:016x}{:016x}", word(), word())
}

// ---------------------------------------------------------------- the scanner

/// Code that references `addr` RIP-relatively from `code_addr + at`:
/// `lea rdi, [rip + disp]`.
fn lea_to(code: &mut Vec<u8>, code_addr: u64, addr: u64) {
    code.extend_from_slice(&[0x48, 0x8D, 0x3D]);
    let next = code_addr + code.len() as u64 + 4;
    let disp = i32::try_from(addr as i64 - next as i64).unwrap();
    code.extend_from_slice(&disp.to_le_bytes());
}

fn synthetic(code: Vec<u8>, data: Vec<u8>) -> Image {
    let mut file = code.clone();
    file.extend_from_slice(&data);
    Image {
        code: vec![Section {
            name: ".text".to_owned(),
            addr: 0x1000,
            bytes: code,
        }],
        data: vec![Section {
            name: ".rodata".to_owned(),
            addr: 0x10_0000,
            bytes: data,
        }],
        file,
    }
}

/// Bytes that look like nothing in particular.
fn noise(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(167).wrapping_add(salt) ^ 0xA5)
        .collect()
}

#[test]
fn the_scanner_finds_each_scheme_it_knows_in_a_synthetic_binary() {
    let secret = b"a synthetic vendor secret, 40 bytes long";
    let data_addr = 0x10_0000;

    // (a) the old scheme: `movabs rsi, seed` beside `lea rdi, [masked]`.
    let seed = 0x1234_5678_9ABC_DEF0u64;
    let masked = scan::old_unmask(secret, seed);
    let mut data = noise(256, 1);
    data[64..64 + masked.len()].copy_from_slice(&masked);
    let mut code = noise(32, 2);
    code.extend_from_slice(&[0x48, 0xBE]);
    code.extend_from_slice(&seed.to_le_bytes());
    lea_to(&mut code, 0x1000, data_addr + 64);
    code.extend(noise(32, 3));
    let report = scan::scan(&synthetic(code.clone(), data.clone()), secret);
    assert!(report.found_by(Attack::OldSeed), "{report:?}");
    assert!(!report.found_by(Attack::Plain));

    // Without the seed in the code, (a) finds nothing.
    let mut unseeded = code.clone();
    unseeded[34..42].copy_from_slice(&0u64.to_le_bytes());
    let report = scan::scan(&synthetic(unseeded, data), secret);
    assert!(report.found.is_empty(), "{report:?}");

    // (b) three xor shares, each referenced by the code.
    let a = noise(secret.len(), 7);
    let b = noise(secret.len(), 99);
    let c: Vec<u8> = (0..secret.len()).map(|i| secret[i] ^ a[i] ^ b[i]).collect();
    let mut data = noise(64, 5);
    let mut code = noise(16, 6);
    for share in [&a, &c, &b] {
        lea_to(&mut code, 0x1000, data_addr + data.len() as u64);
        data.extend_from_slice(share);
        data.extend(noise(8, 9));
    }
    let report = scan::scan(&synthetic(code.clone(), data.clone()), secret);
    assert!(report.found_by(Attack::Shares), "{report:?}");
    assert!(report.combinations > 0);

    // (b) two shares joined by a wrapping subtraction.
    let mut data = noise(64, 5);
    let d: Vec<u8> = (0..secret.len())
        .map(|i| a[i].wrapping_sub(secret[i]))
        .collect();
    let mut code = noise(16, 6);
    for share in [&a, &d] {
        lea_to(&mut code, 0x1000, data_addr + data.len() as u64);
        data.extend_from_slice(share);
    }
    let report = scan::scan(&synthetic(code, data), secret);
    assert!(report.found_by(Attack::Shares), "{report:?}");

    // (c) plain bytes.
    let mut data = noise(64, 5);
    data.extend_from_slice(secret);
    let report = scan::scan(&synthetic(noise(64, 1), data), secret);
    assert!(report.found_by(Attack::Plain), "{report:?}");
}

// ------------------------------------------------- the macro's own round trip

/// What `crate = ".."` points at in the test below: the real barrier, and a
/// constructor that hands back the recombined bytes.
mod shim {
    pub mod __private {
        pub use license_gate::__private::read_share;

        pub fn embedded_secret(bytes: &[u8]) -> Vec<u8> {
            bytes.to_vec()
        }
    }
}

#[test]
fn embed_secret_recombines_exactly_the_variable() {
    let combined = license_gate::embed_secret!("LICENSE_GATE_TEST_VENDOR_SECRET", crate = "shim");
    let expected = std::env::var("LICENSE_GATE_TEST_VENDOR_SECRET")
        .expect("cargo sets LICENSE_GATE_TEST_VENDOR_SECRET for test runs from .cargo/config.toml");
    assert_eq!(combined, expected.as_bytes());
    let secret = license_gate::embed_secret!("LICENSE_GATE_TEST_VENDOR_SECRET");
    assert!(secret.is_ok());
}

// ------------------------------------------------------------- real binaries

/// The target folder this test runs from (`target/debug/deps/..` -> `target`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

fn image_of(path: &Path) -> Image {
    let file = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    scan::parse_elf(file).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Scans a binary and checks that the scan looked at something real.
fn scan_binary(path: &Path, secret: &str) -> scan::Report {
    let image = image_of(path);
    assert!(
        image.code.iter().map(|s| s.bytes.len()).sum::<usize>() > 1000,
        "{}: no code found",
        path.display()
    );
    assert!(
        image.data.iter().any(|s| s.name == ".rodata"),
        "{}: no .rodata found",
        path.display()
    );
    let started = Instant::now();
    let report = scan::scan(&image, secret.as_bytes());
    eprintln!(
        "scanned {} ({} bytes) in {:.2?}: {} seeds, {} referenced windows, {} combinations, found {:?}",
        path.display(),
        image.file.len(),
        started.elapsed(),
        report.seeds,
        report.targets,
        report.combinations,
        report.found.iter().map(|(by, _)| *by).collect::<Vec<_>>()
    );
    assert!(report.seeds > 0 && report.targets > 0 && report.combinations > 0);
    report
}

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn this_debug_test_binary_holds_no_secret_the_scanner_finds() {
    // This binary embeds the test secret (above) with `embed_secret!`.
    let secret = std::env::var("LICENSE_GATE_TEST_VENDOR_SECRET")
        .expect("cargo sets LICENSE_GATE_TEST_VENDOR_SECRET for test runs from .cargo/config.toml");
    let report = scan_binary(&std::env::current_exe().unwrap(), &secret);
    assert!(
        report.found.is_empty(),
        "the scanner found the secret: {report:?}"
    );
}

const APP_MAIN: &str = r#"//! A small application that embeds its vendor secret.

fn main() {
    let secret = license_gate::embed_secret!("SCAN_APP_SECRET").expect("long enough");
    let builder = license_gate::LicenseGate::builder()
        .product("Scan App")
        .vendor_secret(secret);
    std::hint::black_box(builder);
    // The same variable again through a constructor that hands the bytes
    // back, to check the release build recombines them right.
    let combined = license_gate::embed_secret!("SCAN_APP_SECRET", crate = "crate::shim");
    let expected = std::env::var("SCAN_APP_SECRET").unwrap_or_default();
    if combined == expected.as_bytes() {
        println!("recombined: ok");
    } else {
        println!("recombined: wrong");
    }
}

mod shim {
    pub mod __private {
        pub use license_gate::__private::read_share;

        pub fn embedded_secret(bytes: &[u8]) -> Vec<u8> {
            bytes.to_vec()
        }
    }
}
"#;

/// The positive control of (d): the real macro's expansion with the shares
/// read plainly instead of through the volatile barrier, which the optimiser
/// may fold back into the secret.
const APP_NO_BARRIER: &str = r#"//! embed_secret! without its barrier, as the positive control.

fn main() {
    let secret = license_gate::embed_secret!("SCAN_APP_SECRET", crate = "crate::plain_read");
    println!("{}", std::hint::black_box(secret).len());
}

mod plain_read {
    pub mod __private {
        pub fn read_share<const N: usize>(share: &'static [u8; N]) -> [u8; N] {
            *share
        }

        pub fn embedded_secret(bytes: &[u8]) -> Vec<u8> {
            bytes.to_vec()
        }
    }
}
"#;

/// The positive control: `embed_secret!` as it was before, rebuilt here (a
/// mask stream of splitmix64 from a seed of the call site, unmasked by a
/// function of another crate, which `inline(never)` stands in for).
const APP_OLD_SCHEME: &str = r#"//! The old masking, as the positive control.

const fn splitmix(state: u64) -> u64 {
    let mut z = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const fn seed(name: &str, file: &str, line: u32, column: u32) -> u64 {
    let mut state = splitmix(((line as u64) << 32) | column as u64);
    let mut i = 0;
    while i < name.len() {
        state = splitmix(state ^ name.as_bytes()[i] as u64);
        i += 1;
    }
    let mut i = 0;
    while i < file.len() {
        state = splitmix(state ^ file.as_bytes()[i] as u64);
        i += 1;
    }
    state
}

const fn mask<const N: usize>(raw: &[u8], seed: u64) -> [u8; N] {
    let mut out = [0u8; N];
    let mut state = seed;
    let mut i = 0;
    while i < N {
        state = splitmix(state);
        out[i] = raw[i] ^ ((state >> 32) as u8);
        i += 1;
    }
    out
}

struct KeyStream(u64);

impl Iterator for KeyStream {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        self.0 = splitmix(self.0);
        Some((self.0 >> 32) as u8)
    }
}

#[inline(never)]
fn unmask(masked: &[u8], seed: u64) -> Vec<u8> {
    let mut bytes = masked.to_vec();
    for (byte, mask) in bytes.iter_mut().zip(KeyStream(seed)) {
        *byte ^= mask;
    }
    bytes
}

macro_rules! embed_secret {
    ($name:literal) => {{
        const RAW: &[u8] = env!($name).as_bytes();
        const SEED: u64 = seed($name, file!(), line!(), column!());
        static MASKED: [u8; RAW.len()] = mask::<{ RAW.len() }>(RAW, SEED);
        unmask(&MASKED, SEED)
    }};
}

fn main() {
    let secret = embed_secret!("SCAN_APP_SECRET");
    println!("{}", std::hint::black_box(secret).len());
}
"#;

/// The positive control of (b): three plain xor shares behind the same
/// volatile barrier as the real macro.
const APP_XOR_SHARES: &str = r#"//! Plain xor shares, as the positive control.

const RAW: &[u8] = env!("SCAN_APP_SECRET").as_bytes();
const N: usize = RAW.len();

const fn pad(salt: u8) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (i as u8).wrapping_mul(151).wrapping_add(salt) ^ 0x5A;
        i += 1;
    }
    out
}

const PA: [u8; N] = pad(17);
const PB: [u8; N] = pad(201);

const fn last() -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = RAW[i] ^ PA[i] ^ PB[i];
        i += 1;
    }
    out
}

static A: [u8; N] = PA;
static B: [u8; N] = PB;
static C: [u8; N] = last();

fn main() {
    // SAFETY: references are valid for reads.
    let (a, b, c) = unsafe {
        (
            std::ptr::read_volatile(&A),
            std::ptr::read_volatile(&B),
            std::ptr::read_volatile(&C),
        )
    };
    let secret: Vec<u8> = (0..N).map(|i| a[i] ^ b[i] ^ c[i]).collect();
    println!("{}", std::hint::black_box(secret).len());
}
"#;

/// The positive control of (c): the secret as a plain string.
const APP_PLAIN: &str = r#"//! The plain secret, as the positive control.

fn main() {
    println!("{}", std::hint::black_box(env!("SCAN_APP_SECRET")).len());
}
"#;

/// Writes the small application: the facade by path with only `macros`,
/// stripped, in the four profiles.
fn write_app(dir: &Path) {
    let facade = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("license-gate");
    let manifest = format!(
        r#"[package]
name = "scan-app"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
license-gate = {{ path = {facade:?}, default-features = false, features = ["macros"] }}

[profile.release]
strip = true

[profile.o3]
inherits = "release"
opt-level = 3
lto = false

[profile.o3-fat]
inherits = "release"
opt-level = 3
lto = "fat"
codegen-units = 1

[profile.oz]
inherits = "release"
opt-level = "z"
lto = false

[profile.oz-fat]
inherits = "release"
opt-level = "z"
lto = "fat"
codegen-units = 1

[workspace]
"#
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The workspace's lock file: the same versions, all already fetched.
    let lock = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("Cargo.lock");
    std::fs::copy(lock, dir.join("Cargo.lock")).unwrap();
    std::fs::create_dir_all(dir.join("src/bin")).unwrap();
    std::fs::write(dir.join("src/main.rs"), APP_MAIN).unwrap();
    std::fs::write(dir.join("src/bin/old_scheme.rs"), APP_OLD_SCHEME).unwrap();
    std::fs::write(dir.join("src/bin/xor_shares.rs"), APP_XOR_SHARES).unwrap();
    std::fs::write(dir.join("src/bin/plain.rs"), APP_PLAIN).unwrap();
    std::fs::write(dir.join("src/bin/no_barrier.rs"), APP_NO_BARRIER).unwrap();
}

#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn stripped_release_builds_hold_no_secret_the_scanner_finds() {
    let app = tempfile::tempdir().unwrap();
    write_app(app.path());
    // One target folder for every profile, kept between runs.
    let target = target_dir().join("secret-scan");
    let secret = fresh_secret();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut profiles = DEFAULT_PROFILES.to_vec();
    if std::env::var_os("LICENSE_GATE_SCAN_ALL_PROFILES").is_some_and(|v| v == "1") {
        profiles.extend(MORE_PROFILES);
    }
    let total = Instant::now();
    for profile in &profiles {
        let started = Instant::now();
        let output = Command::new(&cargo)
            .args([
                "build",
                "--offline",
                "--quiet",
                "--bins",
                "--profile",
                profile,
            ])
            .current_dir(app.path())
            .env("CARGO_TARGET_DIR", &target)
            .env(APP_VAR, &secret)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "building the app at profile {profile} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        eprintln!("built profile {profile} in {:.1?}", started.elapsed());
        let bin = target.join(profile);

        // The release build recombines the secret right.
        let run = Command::new(bin.join("scan-app"))
            .env(APP_VAR, &secret)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&run.stdout).trim(),
            "recombined: ok",
            "profile {profile}"
        );

        // The positive controls: the scanner finds what is there to find.
        let old = scan_binary(&bin.join("old_scheme"), &secret);
        assert!(
            old.found_by(Attack::OldSeed),
            "profile {profile}: the scanner missed the old scheme: {old:?}"
        );
        let shares = scan_binary(&bin.join("xor_shares"), &secret);
        assert!(
            shares.found_by(Attack::Shares),
            "profile {profile}: the scanner missed plain xor shares: {shares:?}"
        );
        let plain = scan_binary(&bin.join("plain"), &secret);
        assert!(
            plain.found_by(Attack::Plain),
            "profile {profile}: the scanner missed the plain secret: {plain:?}"
        );

        // Without the volatile barrier the optimiser folds the real
        // expansion back into the secret, and (d) sees it.
        let unbarred = scan_binary(&bin.join("no_barrier"), &secret);
        assert!(
            unbarred.found_by(Attack::Folded),
            "profile {profile}: the expansion read without its barrier was not folded into the secret, or the scanner missed it: {unbarred:?}"
        );

        // The attack: nothing in the application that uses `embed_secret!`.
        let report = scan_binary(&bin.join("scan-app"), &secret);
        assert!(
            report.found.is_empty(),
            "profile {profile}: the scanner found the secret: {report:?}"
        );
    }
    eprintln!(
        "{} profiles built and scanned in {:.1?}",
        profiles.len(),
        total.elapsed()
    );
}
