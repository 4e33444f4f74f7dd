//! A static scanner for embedded vendor secrets, written the way an attacker
//! who has read license-gate's source would write one, to run against every
//! application built with it.
//!
//! It walks the ELF file's sections (by hand: the header, the section table,
//! code and data), and tries:
//!
//! - (a) the old `embed_secret!` scheme: each 64-bit immediate (`movabs`) in
//!   the code taken as a splitmix64 seed, applied to the data the instructions
//!   around it reference RIP-relatively, keeping runs of at least 16
//!   printable bytes;
//! - (b) shares: bytewise xor, wrapping add and subtract (either way) of
//!   pairs and triples of windows that start where code references data and
//!   lie near each other;
//! - (c) the secret as plain bytes anywhere in the file, and printable runs;
//! - (d) what constant folding leaves: the 64-bit immediates of the code
//!   concatenated in order, and 16-byte constants.
//!
//! The tests know the secret, so they compare each candidate with it; a real
//! attacker would keep the printable ones, so this is if anything stronger.

use std::collections::BTreeSet;
use std::ops::Range;

/// The splitmix64 increment (the old scheme's mask stream).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
/// How far from a `movabs` the instructions that reference the masked bytes
/// are looked for.
const CODE_REACH: usize = 160;
/// How far apart in the data the shares of one secret are looked for.
const DATA_REACH: u64 = 320;

/// One section of the file, at its load address.
#[derive(Clone, Debug)]
pub struct Section {
    pub name: String,
    pub addr: u64,
    pub bytes: Vec<u8>,
}

impl Section {
    fn span(&self) -> Range<u64> {
        self.addr..self.addr + self.bytes.len() as u64
    }
}

/// What the scanner reads of an executable: its code and its data.
#[derive(Clone, Debug, Default)]
pub struct Image {
    pub code: Vec<Section>,
    pub data: Vec<Section>,
    /// The whole file, for the plain search.
    pub file: Vec<u8>,
}

/// Which attack found a candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// (a) an immediate as the seed of the old mask stream.
    OldSeed,
    /// (b) a combination of windows of data.
    Shares,
    /// (c) plain bytes in the file.
    Plain,
    /// (d) what the optimiser leaves when it folds a recombination: 16
    /// consecutive bytes of the secret anywhere in the file (a 16-byte
    /// constant), or the secret in the stream of 64-bit immediates.
    Folded,
}

/// What a scan looked at and what it found.
#[derive(Debug, Default)]
pub struct Report {
    /// Candidates equal to the secret, with the attack that found them.
    pub found: Vec<(Attack, String)>,
    /// The 64-bit immediates tried as seeds.
    pub seeds: usize,
    /// The data addresses the code references (the windows' starts).
    pub targets: usize,
    /// The combinations of windows compared with the secret.
    pub combinations: u64,
}

impl Report {
    pub fn found_by(&self, attack: Attack) -> bool {
        self.found.iter().any(|(by, _)| *by == attack)
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// Reads the sections of a 64-bit little-endian ELF file (what the tests
/// build on x86-64 Linux): executable ones as code, other allocated ones
/// with contents as data.
pub fn parse_elf(file: Vec<u8>) -> Result<Image, String> {
    const SHF_ALLOC: u64 = 0x2;
    const SHF_EXECINSTR: u64 = 0x4;
    const SHT_NOBITS: u32 = 8;
    if file.get(..4) != Some(b"\x7fELF") || file.get(4) != Some(&2) || file.get(5) != Some(&1) {
        return Err("not a 64-bit little-endian ELF file".to_owned());
    }
    let bad = || "a truncated ELF header or section table".to_owned();
    let shoff = usize::try_from(u64_at(&file, 0x28).ok_or_else(bad)?).map_err(|_| bad())?;
    let shentsize = usize::from(u16_at(&file, 0x3A).ok_or_else(bad)?);
    let shnum = usize::from(u16_at(&file, 0x3C).ok_or_else(bad)?);
    let shstrndx = usize::from(u16_at(&file, 0x3E).ok_or_else(bad)?);
    let header = |index: usize| shoff + index * shentsize;
    let names_at = usize::try_from(u64_at(&file, header(shstrndx) + 0x18).ok_or_else(bad)?)
        .map_err(|_| bad())?;
    let mut image = Image::default();
    for index in 0..shnum {
        let at = header(index);
        let name_offset = u32_at(&file, at).ok_or_else(bad)? as usize;
        let kind = u32_at(&file, at + 4).ok_or_else(bad)?;
        let flags = u64_at(&file, at + 8).ok_or_else(bad)?;
        let addr = u64_at(&file, at + 0x10).ok_or_else(bad)?;
        let offset = u64_at(&file, at + 0x18).ok_or_else(bad)? as usize;
        let size = u64_at(&file, at + 0x20).ok_or_else(bad)? as usize;
        if flags & SHF_ALLOC == 0 || kind == SHT_NOBITS || size == 0 {
            continue;
        }
        let name_bytes = file.get(names_at + name_offset..).ok_or_else(bad)?;
        let name_end = name_bytes.iter().position(|&b| b == 0).unwrap_or(0);
        let name = String::from_utf8_lossy(&name_bytes[..name_end]).into_owned();
        let bytes = file.get(offset..offset + size).ok_or_else(bad)?.to_vec();
        let section = Section { name, addr, bytes };
        if flags & SHF_EXECINSTR != 0 {
            image.code.push(section);
        } else {
            image.data.push(section);
        }
    }
    image.file = file;
    Ok(image)
}

impl Image {
    /// The data bytes at `addr`, `len` of them, when they are in one section.
    fn data_at(&self, addr: u64, len: usize) -> Option<&[u8]> {
        self.data.iter().find_map(|section| {
            let span = section.span();
            (span.contains(&addr) && addr + len as u64 <= span.end).then(|| {
                let start = (addr - section.addr) as usize;
                &section.bytes[start..start + len]
            })
        })
    }

    fn in_data(&self, addr: u64) -> bool {
        self.data
            .iter()
            .any(|section| section.span().contains(&addr))
    }

    /// The data addresses referenced RIP-relatively by the code in `range`
    /// of `section` (a ModRM byte with mod 00 and r/m 101, then the 32-bit
    /// displacement, taken as the instruction's last field).
    fn references(&self, section: &Section, range: Range<usize>, out: &mut BTreeSet<u64>) {
        let code = &section.bytes;
        for at in range.start.max(1)..range.end.min(code.len().saturating_sub(3)) {
            if code[at - 1] & 0xC7 != 0x05 {
                continue;
            }
            let disp = i32::from_le_bytes(code[at..at + 4].try_into().unwrap());
            let next = section.addr + at as u64 + 4;
            let target = next.wrapping_add_signed(i64::from(disp));
            if self.in_data(target) {
                out.insert(target);
            }
        }
    }
}

/// Scans `image` for `secret` with every attack.
pub fn scan(image: &Image, secret: &[u8]) -> Report {
    let mut report = Report::default();
    old_seeds(image, secret, &mut report);
    shares(image, secret, &mut report);
    plain(image, secret, &mut report);
    folded(image, secret, &mut report);
    report
}

fn splitmix(state: u64) -> u64 {
    let mut z = state.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The old mask stream of `seed` over `masked`.
pub fn old_unmask(masked: &[u8], seed: u64) -> Vec<u8> {
    let mut state = seed;
    masked
        .iter()
        .map(|byte| {
            state = splitmix(state);
            byte ^ (state >> 32) as u8
        })
        .collect()
}

/// The runs of at least 16 printable bytes in `bytes`.
fn printable_runs(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split(|b| !(b.is_ascii_graphic() || *b == b' '))
        .filter(|run| run.len() >= 16)
}

fn report_run(report: &mut Report, attack: Attack, run: &[u8], secret: &[u8]) {
    if run.windows(secret.len()).any(|w| w == secret) {
        report
            .found
            .push((attack, String::from_utf8_lossy(run).into_owned()));
    }
}

/// (a): each `movabs` immediate as a seed (or as the stream's first state),
/// over what the code around it references.
fn old_seeds(image: &Image, secret: &[u8], report: &mut Report) {
    for section in &image.code {
        let code = &section.bytes;
        for at in 0..code.len().saturating_sub(10) {
            if !matches!(code[at], 0x48 | 0x49) || !(0xB8..=0xBF).contains(&code[at + 1]) {
                continue;
            }
            let imm = u64::from_le_bytes(code[at + 2..at + 10].try_into().unwrap());
            report.seeds += 1;
            let mut targets = BTreeSet::new();
            image.references(
                section,
                at.saturating_sub(CODE_REACH)..at + CODE_REACH,
                &mut targets,
            );
            for target in targets {
                let len = (16..=64)
                    .rev()
                    .find(|&len| image.data_at(target, len).is_some());
                let Some(masked) = len.and_then(|len| image.data_at(target, len)) else {
                    continue;
                };
                for seed in [imm, imm.wrapping_sub(GOLDEN)] {
                    let clear = old_unmask(masked, seed);
                    let runs: Vec<Vec<u8>> = printable_runs(&clear).map(<[u8]>::to_vec).collect();
                    for run in runs {
                        report_run(report, Attack::OldSeed, &run, secret);
                    }
                }
            }
        }
    }
}

/// The bytewise joins the shares could be combined with.
const JOINS: [fn(u8, u8) -> u8; 4] = [
    |a, b| a ^ b,
    u8::wrapping_add,
    u8::wrapping_sub,
    |a, b| b.wrapping_sub(a),
];

/// For each join, the operand `c` with `join(x, c) == want`.
const NEEDED: [fn(u8, u8) -> u8; 4] = [
    |x, want| x ^ want,
    |x, want| want.wrapping_sub(x),
    |x, want| x.wrapping_sub(want),
    |x, want| want.wrapping_add(x),
];

/// (b): pairs and triples of windows that start at referenced data
/// addresses within [`DATA_REACH`] of each other, joined bytewise. Every
/// ordered pair and triple is covered; the third window is looked up by the
/// first byte it would need, which is what keeps this fast.
fn shares(image: &Image, secret: &[u8], report: &mut Report) {
    let len = secret.len();
    let mut targets = BTreeSet::new();
    for section in &image.code {
        image.references(section, 0..section.bytes.len(), &mut targets);
    }
    // Sorted by address (a `BTreeSet`), so the near ones are a slice.
    let windows: Vec<(u64, &[u8])> = targets
        .iter()
        .filter_map(|&addr| image.data_at(addr, len).map(|w| (addr, w)))
        .collect();
    report.targets = windows.len();
    let mut found = Vec::new();
    for (i, &(a_addr, a)) in windows.iter().enumerate() {
        let lo = windows.partition_point(|&(addr, _)| addr + DATA_REACH < a_addr);
        let hi = windows.partition_point(|&(addr, _)| addr <= a_addr + DATA_REACH);
        let mut near: Vec<&[u8]> = (lo..hi).filter(|&j| j != i).map(|j| windows[j].1).collect();
        near.sort_by_key(|w| w[0]);
        let count = near.len() as u64;
        for (bi, b) in near.iter().enumerate() {
            for join in JOINS {
                report.combinations += 1 + 4 * count.saturating_sub(1);
                let first = join(a[0], b[0]);
                if first == secret[0] && (0..len).all(|k| join(a[k], b[k]) == secret[k]) {
                    found.push(
                        a.iter()
                            .zip(*b)
                            .map(|(&x, &y)| join(x, y))
                            .collect::<Vec<u8>>(),
                    );
                }
                for (join2, needed) in JOINS.iter().zip(NEEDED) {
                    let want = needed(first, secret[0]);
                    let from = near.partition_point(|w| w[0] < want);
                    for (ci, c) in near.iter().enumerate().skip(from) {
                        if c[0] != want {
                            break;
                        }
                        if ci != bi && (0..len).all(|k| join2(join(a[k], b[k]), c[k]) == secret[k])
                        {
                            found.push(secret.to_vec());
                        }
                    }
                }
            }
        }
    }
    for candidate in found {
        report_run(report, Attack::Shares, &candidate, secret);
    }
}

/// (c): the secret verbatim anywhere in the file, and in printable runs of
/// the data.
fn plain(image: &Image, secret: &[u8], report: &mut Report) {
    let len = secret.len();
    let starts = image
        .file
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == secret[0]);
    if starts
        .into_iter()
        .any(|(at, _)| image.file.get(at..at + len) == Some(secret))
    {
        report
            .found
            .push((Attack::Plain, String::from_utf8_lossy(secret).into_owned()));
    }
    for section in &image.data {
        let runs: Vec<Vec<u8>> = printable_runs(&section.bytes).map(<[u8]>::to_vec).collect();
        for run in runs {
            report_run(report, Attack::Plain, &run, secret);
        }
    }
}

/// (d): the immediates of `movabs` in code order, concatenated, and every
/// 16-byte piece of the secret anywhere in the file.
fn folded(image: &Image, secret: &[u8], report: &mut Report) {
    let mut stream = Vec::new();
    for section in &image.code {
        let code = &section.bytes;
        let mut at = 0;
        while at + 10 <= code.len() {
            if matches!(code[at], 0x48 | 0x49) && (0xB8..=0xBF).contains(&code[at + 1]) {
                stream.extend_from_slice(&code[at + 2..at + 10]);
                at += 10;
            } else {
                at += 1;
            }
        }
    }
    if stream.windows(secret.len()).any(|w| w == secret) {
        report
            .found
            .push((Attack::Folded, "the secret in 64-bit immediates".to_owned()));
    }
    // One pass over the file, with the pieces indexed by their first byte.
    let mut by_first: Vec<Vec<&[u8]>> = vec![Vec::new(); 256];
    for piece in secret.windows(16) {
        by_first[usize::from(piece[0])].push(piece);
    }
    let file = &image.file;
    for at in 0..file.len().saturating_sub(15) {
        let candidates = &by_first[usize::from(file[at])];
        if let Some(piece) = candidates
            .iter()
            .find(|piece| file[at..at + 16] == ***piece)
        {
            report.found.push((
                Attack::Folded,
                format!("16 bytes of the secret: {}", String::from_utf8_lossy(piece)),
            ));
            break;
        }
    }
}
