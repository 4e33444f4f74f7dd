//! The clock-tamper floor: a lower bound for the current time taken from
//! timestamps the operating system and other programs keep, which the user
//! of the application cannot cheaply set back.
//!
//! Every file a program writes gets the clock's reading as its modification
//! time. Setting the clock back changes files written afterwards, not the
//! ones written before: the newest of those still says how late it was. The
//! module has two halves:
//! - [`floor_of`], a pure function from candidate timestamps (grouped by
//!   independent source) to a floor, and [`is_set_back`], the rule that
//!   compares it with trusted time;
//! - [`ClockFloor::collect`], the I/O edge: a bounded number of `stat` calls
//!   on the places a platform keeps such files, never a walk of a directory
//!   tree.
//!
//! Files can carry future timestamps without anyone cheating (an archive
//! extracted with its times kept, a network mount whose server's clock runs
//! ahead). So the floor is not the newest timestamp: it is the newest instant
//! that **two independent sources** both reach (the second-newest of the
//! sources' newest timestamps), and it counts only when trusted time is
//! behind it by more than the tolerance ([`DEFAULT_TOLERANCE`], one day).
//! The security guide gives the method and the false-positive rates measured
//! on synthetic machines (see the tests below).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::ProviderError;
use crate::provider::LicenseAnswer;
use crate::state::{LicenseStatus, ProductState, Source};

/// How far trusted time may be behind the floor before the clock counts as
/// set back: one day. It is more than the largest mix-up of time zones (a
/// clock kept in local time by another system on the same machine is off by
/// at most 14 hours) and than the drift of an unsynchronised clock over
/// months, so an honest clock is never behind by that much; and a user who
/// sets the clock back by less gains less than a day, once.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(24 * 3600);

/// How many independent sources must reach an instant for it to be the floor.
const AGREEING_SOURCES: usize = 2;

/// The most directory entries one scanned folder contributes.
const MAX_ENTRIES_PER_DIR: usize = 48;

/// The most `stat` calls one collection makes, whatever the sources.
const MAX_STATS: usize = 200;

/// Timestamps before 2001-09-09 (10^9 s after the Unix epoch) are ignored:
/// files from reproducible builds and archives often carry the epoch itself.
const EARLIEST_EVIDENCE_SECS: u64 = 1_000_000_000;

/// One place to look: a file, or a folder whose own time and whose entries'
/// times count.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Place {
    /// One `stat`: the file's (or folder's) modification time.
    File(PathBuf),
    /// The folder's own time and those of at most [`MAX_ENTRIES_PER_DIR`] of
    /// its entries (not recursively).
    Dir(PathBuf),
}

/// A group of places written by one kind of program (system logs, the
/// package manager, the user's own files): one vote in the floor.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FloorSource {
    name: String,
    places: Vec<Place>,
}

/// Where a gate looks for evidence that the clock was set back, and how much
/// it tolerates.
///
/// A gate that reads the system clock uses [`ClockFloor::system`] unless told
/// otherwise; a gate given another clock (`.clock(..)`, as tests do) uses
/// none, since files on disk say nothing about a test's clock. Tests of the
/// floor itself give folders of their own:
///
/// ```
/// use license_gate::ClockFloor;
///
/// let dir = std::env::temp_dir();
/// let floor = ClockFloor::none()
///     .source_dir("logs", dir.join("logs"))
///     .source_files("packages", [dir.join("status")]);
/// assert_eq!(floor.source_count(), 2);
/// ```
///
/// When trusted time is earlier than the floor by more than the
/// [tolerance](Self::tolerance), the gate reads the clock as set back: a
/// cached state and an offline code stop granting, with the status
/// `Unlicensed` and the reason [`Reason::ClockSetBack`](crate::Reason::ClockSetBack), until the license server
/// answers. A server's answer is never turned into a denial by the floor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClockFloor {
    sources: Vec<FloorSource>,
    tolerance: Duration,
}

impl Default for ClockFloor {
    fn default() -> Self {
        ClockFloor::system()
    }
}

impl ClockFloor {
    /// No evidence: the floor never says the clock is set back.
    pub fn none() -> Self {
        ClockFloor {
            sources: Vec::new(),
            tolerance: DEFAULT_TOLERANCE,
        }
    }

    /// The places this platform keeps files the user cannot cheaply set back
    /// (system logs, package-manager and time-keeping state), plus the user's
    /// own recently written files as one source.
    pub fn system() -> Self {
        let mut floor = ClockFloor::none();
        floor.sources = platform_sources();
        floor
    }

    /// Adds a source whose evidence is `dir`'s own modification time and
    /// those of its entries (at most 48 of them, not recursively).
    pub fn source_dir(mut self, name: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        self.sources.push(FloorSource {
            name: name.into(),
            places: vec![Place::Dir(dir.into())],
        });
        self
    }

    /// Adds a source whose evidence is the modification times of `files`.
    pub fn source_files<I, P>(mut self, name: impl Into<String>, files: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        self.sources.push(FloorSource {
            name: name.into(),
            places: files.into_iter().map(|p| Place::File(p.into())).collect(),
        });
        self
    }

    /// How far trusted time may be behind the floor (default one day: more
    /// than the largest time-zone mix-up, 14 hours, so an honest clock is
    /// never that far behind).
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The number of independent sources.
    pub fn source_count(&self) -> usize {
        self.sources.len()
    }

    /// The tolerance in force.
    pub(crate) fn tolerance_value(&self) -> Duration {
        self.tolerance
    }

    /// Reads the sources' timestamps: at most 200 `stat` calls (48 entries
    /// per folder), missing and unreadable places skipped.
    pub(crate) fn collect(&self) -> Vec<Candidate> {
        let mut budget = MAX_STATS;
        let mut found = Vec::new();
        for (index, source) in self.sources.iter().enumerate() {
            for place in &source.places {
                match place {
                    Place::File(path) => {
                        if let Some(at) = modified(path, &mut budget) {
                            found.push(Candidate { source: index, at });
                        }
                    }
                    Place::Dir(dir) => scan_dir(dir, index, &mut budget, &mut found),
                }
            }
        }
        found
    }

    /// Reads the sources now and returns the floor they give: the newest
    /// instant two independent sources both reach (`None` when fewer than
    /// two have evidence). Costs at most 200 `stat` calls; the gate calls it
    /// once, at start.
    ///
    /// ```
    /// let floor = license_gate::ClockFloor::none().read();
    /// assert_eq!(floor, None);
    /// ```
    pub fn read(&self) -> Option<SystemTime> {
        floor_of(&self.collect())
    }

    /// The name of source `index`, for logs.
    pub(crate) fn source_name(&self, index: usize) -> &str {
        self.sources.get(index).map_or("?", |s| s.name.as_str())
    }
}

/// One piece of evidence: a modification time, and the source it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) source: usize,
    pub(crate) at: SystemTime,
}

/// The floor the candidates give: the second-newest of the sources' newest
/// timestamps, so one source alone (a folder of future-dated files) never
/// decides it; `None` with fewer than two sources. Timestamps before 2001
/// are ignored.
pub(crate) fn floor_of(candidates: &[Candidate]) -> Option<SystemTime> {
    floor_agreed_by(candidates, AGREEING_SOURCES)
}

/// The newest instant that `agreeing` sources all reach.
fn floor_agreed_by(candidates: &[Candidate], agreeing: usize) -> Option<SystemTime> {
    let earliest = UNIX_EPOCH + Duration::from_secs(EARLIEST_EVIDENCE_SECS);
    let mut newest: Vec<(usize, SystemTime)> = Vec::new();
    for c in candidates.iter().filter(|c| c.at >= earliest) {
        match newest.iter_mut().find(|(source, _)| *source == c.source) {
            Some((_, at)) => *at = (*at).max(c.at),
            None => newest.push((c.source, c.at)),
        }
    }
    newest.sort_by_key(|&(_, at)| std::cmp::Reverse(at));
    newest.get(agreeing.checked_sub(1)?).map(|(_, at)| *at)
}

/// Whether trusted time `now` is behind `floor` by more than `tolerance`:
/// the clock was set back, and no record of this gate remembers the later time.
pub(crate) fn is_set_back(now: SystemTime, floor: Option<SystemTime>, tolerance: Duration) -> bool {
    floor.is_some_and(|floor| {
        floor
            .duration_since(now)
            .is_ok_and(|behind| behind > tolerance)
    })
}

/// The state a product shows while the clock is set back: a cached grant or
/// an offline code's grant becomes `Unlicensed` with [`Reason::ClockSetBack`](crate::Reason::ClockSetBack); a
/// denial stays as it is (the floor never makes a state better).
pub(crate) fn withhold(state: ProductState) -> ProductState {
    if !state.status.grants_access() {
        return state;
    }
    ProductState {
        status: LicenseStatus::Unlicensed {
            reason: crate::reason::Reason::ClockSetBack,
        },
        features: Default::default(),
        ..state
    }
}

/// Whether `status` is the one [`withhold`] gives (never written to the
/// cache: once the date is right, the cached state counts again).
pub(crate) fn is_withheld(status: &LicenseStatus) -> bool {
    matches!(
        status,
        LicenseStatus::Unlicensed {
            reason: crate::reason::Reason::ClockSetBack
        }
    )
}

/// Whether an outcome is the license server's own answer, which the floor
/// never overrides: any answer but one made on this machine (an offline
/// code checked locally, without the server's time), and any refusal.
pub(crate) fn answered_by_server(outcome: &Result<LicenseAnswer, ProviderError>) -> bool {
    match outcome {
        Ok(answer) => {
            answer.server_time.is_some()
                || !matches!(answer.source, Source::OfflineCode | Source::Cache)
        }
        Err(error) => !error.is_transient(),
    }
}

/// The next state of a product while the clock is set back: the server's
/// answer as it is; otherwise a grant is withheld, and a state already
/// withheld stays as it was (so nothing new is cached).
pub(crate) fn hold(
    previous: &ProductState,
    next: ProductState,
    outcome: &Result<LicenseAnswer, ProviderError>,
) -> ProductState {
    if answered_by_server(outcome) {
        next
    } else if is_withheld(&previous.status) && next.status.grants_access() {
        previous.clone()
    } else {
        withhold(next)
    }
}

/// `path`'s modification time, within the budget of `stat` calls.
fn modified(path: &Path, budget: &mut usize) -> Option<SystemTime> {
    if *budget == 0 {
        return None;
    }
    *budget -= 1;
    std::fs::metadata(path).ok()?.modified().ok()
}

/// The folder's time and those of its first entries, within the budget.
fn scan_dir(dir: &Path, source: usize, budget: &mut usize, found: &mut Vec<Candidate>) {
    if let Some(at) = modified(dir, budget) {
        found.push(Candidate { source, at });
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.take(MAX_ENTRIES_PER_DIR).flatten() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        // A link's own time (no link is followed): never a walk elsewhere.
        if let Ok(at) = entry.metadata().and_then(|m| m.modified()) {
            found.push(Candidate { source, at });
        }
    }
}

fn files(name: &str, paths: &[&str]) -> FloorSource {
    FloorSource {
        name: name.to_owned(),
        places: paths
            .iter()
            .map(|p| Place::File(PathBuf::from(p)))
            .collect(),
    }
}

fn folders(name: &str, paths: &[&str]) -> FloorSource {
    FloorSource {
        name: name.to_owned(),
        places: paths.iter().map(|p| Place::Dir(PathBuf::from(p))).collect(),
    }
}

/// The user's own recently written files, one source: the user can set
/// these back (or forward) freely, so they are one vote among many.
fn user_source(relative: &[&str], scanned: &[&str]) -> Option<FloorSource> {
    let home = dirs::home_dir()?;
    let mut places: Vec<Place> = relative.iter().map(|p| Place::File(home.join(p))).collect();
    places.extend(scanned.iter().map(|p| Place::Dir(home.join(p))));
    Some(FloorSource {
        name: "the user's files".to_owned(),
        places,
    })
}

#[cfg(target_os = "linux")]
fn platform_sources() -> Vec<FloorSource> {
    let mut sources = vec![
        folders("system logs", &["/var/log"]),
        files(
            "package manager",
            &[
                "/var/lib/dpkg/status",
                "/var/lib/dpkg",
                "/var/lib/apt/lists",
                "/var/cache/apt/pkgcache.bin",
                "/var/lib/rpm",
                "/var/lib/rpm/rpmdb.sqlite",
                "/var/lib/pacman/local",
                "/lib/apk/db/installed",
                "/var/lib/snapd/state.json",
            ],
        ),
        files(
            "time keeping",
            &[
                "/var/lib/systemd/timesync/clock",
                "/etc/adjtime",
                "/var/lib/chrony/drift",
                "/var/lib/ntp/ntp.drift",
                "/var/lib/systemd/random-seed",
            ],
        ),
        folders("system timers", &["/var/lib/systemd/timers"]),
        files(
            "system state",
            &[
                "/var/lib/logrotate/status",
                "/var/lib/logrotate.status",
                "/run/utmp",
                "/var/lib/NetworkManager",
                "/var/lib/dhcp",
            ],
        ),
    ];
    // The journal keeps one folder per machine ID.
    if let Ok(id) = std::fs::read_to_string("/etc/machine-id") {
        let id = id.trim();
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            sources.push(FloorSource {
                name: "system journal".to_owned(),
                places: vec![
                    Place::Dir(PathBuf::from(format!("/var/log/journal/{id}"))),
                    Place::File(PathBuf::from(format!("/run/log/journal/{id}"))),
                ],
            });
        }
    }
    sources.extend(user_source(
        &[
            ".local/share/recently-used.xbel",
            ".bash_history",
            ".zsh_history",
        ],
        &[".cache"],
    ));
    sources
}

#[cfg(target_os = "macos")]
fn platform_sources() -> Vec<FloorSource> {
    let mut sources = vec![
        folders("system logs", &["/private/var/log"]),
        folders("unified log", &["/private/var/db/diagnostics"]),
        files(
            "installer",
            &[
                "/private/var/db/receipts",
                "/private/var/log/install.log",
                "/Library/Receipts/InstallHistory.plist",
            ],
        ),
        files(
            "system state",
            &[
                "/Library/Preferences/SystemConfiguration/preferences.plist",
                "/Library/Preferences/SystemConfiguration",
                "/private/var/db/dslocal/nodes/Default/users",
                "/private/var/run/utmpx",
            ],
        ),
    ];
    sources.extend(user_source(&[], &["Library/Caches", "Library/Preferences"]));
    sources
}

#[cfg(windows)]
fn platform_sources() -> Vec<FloorSource> {
    // Absolute paths: `SystemRoot` and friends are the user's to set.
    let mut sources = vec![
        folders("event logs", &[r"C:\Windows\System32\winevt\Logs"]),
        files(
            "registry hives",
            &[
                r"C:\Windows\System32\config\SYSTEM",
                r"C:\Windows\System32\config\SOFTWARE",
                r"C:\Windows\System32\config",
            ],
        ),
        files(
            "windows update",
            &[
                r"C:\Windows\SoftwareDistribution\DataStore",
                r"C:\Windows\SoftwareDistribution\Download",
                r"C:\Windows\Logs\CBS\CBS.log",
            ],
        ),
        folders("system logs", &[r"C:\Windows\Logs", r"C:\Windows\Temp"]),
    ];
    sources.extend(user_source(
        &[],
        &[
            r"AppData\Local\Temp",
            r"AppData\Roaming\Microsoft\Windows\Recent",
        ],
    ));
    sources
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn platform_sources() -> Vec<FloorSource> {
    vec![
        folders("system logs", &["/var/log"]),
        files(
            "system state",
            &["/var/db", "/var/run/utmp", "/var/run/utmpx"],
        ),
    ]
    .into_iter()
    .chain(user_source(&[], &[".cache"]))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn at(days: f64) -> SystemTime {
        let base = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        if days >= 0.0 {
            base + Duration::from_secs_f64(days * 86_400.0)
        } else {
            base - Duration::from_secs_f64(-days * 86_400.0)
        }
    }

    fn c(source: usize, days: f64) -> Candidate {
        Candidate {
            source,
            at: at(days),
        }
    }

    #[test]
    fn the_floor_is_the_second_newest_source() {
        assert_eq!(floor_of(&[]), None);
        // One source alone, however new, decides nothing.
        assert_eq!(floor_of(&[c(0, 400.0), c(0, 1.0)]), None);
        // A folder of files a year ahead is outvoted.
        assert_eq!(
            floor_of(&[c(0, 365.0), c(1, -1.0), c(1, -0.5), c(2, -3.0)]),
            Some(at(-0.5))
        );
        // Timestamps of the epoch (reproducible builds) are ignored.
        let epoch = Candidate {
            source: 3,
            at: UNIX_EPOCH,
        };
        assert_eq!(floor_of(&[epoch, c(0, -1.0)]), None);
    }

    #[test]
    fn set_back_means_behind_by_more_than_the_tolerance() {
        let floor = Some(at(0.0));
        assert!(!is_set_back(at(0.0), floor, DAY));
        assert!(!is_set_back(at(-0.9), floor, DAY));
        assert!(!is_set_back(at(5.0), floor, DAY));
        assert!(is_set_back(at(-1.1), floor, DAY));
        assert!(!is_set_back(at(-100.0), None, DAY));
    }

    #[test]
    fn a_set_back_clock_withholds_local_grants_but_never_a_server_answer() {
        let cached = ProductState {
            source: Source::Cache,
            ..ProductState::new("P", LicenseStatus::Licensed, ["pro"])
        };
        let held = withhold(cached.clone());
        assert!(is_withheld(&held.status));
        assert!(held.features.is_empty());
        // A denial stays a denial.
        let expired = ProductState::new("P", LicenseStatus::Expired, ["pro"]);
        assert_eq!(withhold(expired.clone()), expired);

        let local = Ok(LicenseAnswer::licensed(["pro"]).from_source(Source::OfflineCode));
        let granted = ProductState {
            source: Source::OfflineCode,
            ..cached.clone()
        };
        // A local offline-code answer does not lift it, and changes nothing.
        assert_eq!(hold(&held, granted.clone(), &local), held);
        // The server's answer (with its time, or from the server itself) does.
        let told = Ok(LicenseAnswer::licensed(["pro"])
            .from_source(Source::OfflineCode)
            .with_server_time(at(0.0)));
        assert_eq!(hold(&held, granted.clone(), &told), granted);
        let online = Ok(LicenseAnswer::licensed(["pro"]));
        assert_eq!(hold(&held, cached.clone(), &online), cached);
        // Unreachable: held.
        let unreachable = Err(ProviderError::Unreachable {
            host: "h".into(),
            detail: "refused".into(),
        });
        assert!(is_withheld(
            &hold(&cached, cached.clone(), &unreachable).status
        ));
    }

    #[test]
    fn collecting_reads_chosen_files_and_folders_within_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        for i in 0..100 {
            std::fs::write(logs.join(format!("{i}.log")), b"x").unwrap();
        }
        let status = dir.path().join("status");
        std::fs::write(&status, b"x").unwrap();
        let floor = ClockFloor::none()
            .source_dir("logs", &logs)
            .source_files("packages", [&status, &dir.path().join("missing")]);
        let found = floor.collect();
        // The folder itself and at most 48 of its 100 entries; one file.
        assert_eq!(found.iter().filter(|c| c.source == 0).count(), 49);
        assert_eq!(found.iter().filter(|c| c.source == 1).count(), 1);
        assert!(floor.read().is_some());
        assert_eq!(floor.source_name(1), "packages");
    }

    #[test]
    fn the_system_floor_stays_within_its_budget() {
        let floor = ClockFloor::system();
        let found = floor.collect();
        assert!(found.len() <= MAX_STATS);
        println!(
            "{} sources, {} timestamps, floor {:?}",
            floor.source_count(),
            found.len(),
            floor.read().map(crate::time::format_rfc3339)
        );
    }

    /// A small deterministic generator (splitmix64) for the synthetic machines.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        /// Exponentially distributed, with the given mean.
        fn exp(&mut self, mean: f64) -> f64 {
            -mean * (1.0 - self.unit()).ln()
        }
    }

    /// One synthetic machine at true time 0 (in days): `sources` sources whose
    /// newest file is a random age old, each of them carrying future-dated
    /// files (1 hour to 2 years ahead) with probability `p_future` (`p_user`
    /// for the user's own source, number 0); the clock is set back by
    /// `set_back` days, which rewrites the sources written more often than that.
    fn machine(
        rng: &mut Rng,
        sources: usize,
        p_user: f64,
        p_future: f64,
        set_back: f64,
        agreeing: usize,
    ) -> bool {
        let mut candidates = Vec::new();
        for source in 0..sources {
            // Mean age of the newest file: a few hours, up to days for some.
            let mean_age = [0.2, 0.5, 1.0, 2.0, 0.1, 3.0][source % 6];
            let age = rng.exp(mean_age);
            // Written again since the set back: its newest time is the new clock's.
            let newest = if set_back > 0.0 && age < set_back && rng.unit() < 0.5 {
                -set_back - rng.exp(0.05)
            } else {
                -age
            };
            candidates.push(c(source, newest));
            let p = if source == 0 { p_user } else { p_future };
            if rng.unit() < p {
                let ahead = 1.0 / 24.0 + rng.unit() * 730.0;
                candidates.push(c(source, ahead));
            }
        }
        let floor = floor_agreed_by(&candidates, agreeing);
        is_set_back(at(-set_back), floor, DAY)
    }

    fn rate(p_user: f64, p_future: f64, set_back: f64, agreeing: usize) -> f64 {
        let mut rng = Rng(17);
        let n = 100_000;
        let hits = (0..n)
            .filter(|_| machine(&mut rng, 6, p_user, p_future, set_back, agreeing))
            .count();
        hits as f64 / n as f64
    }

    /// The numbers in the security guide ("How the clock floor was
    /// measured"): 100 000 synthetic machines of six sources per line; the
    /// user's own files future-dated on 30 % of machines, each system source
    /// on 0 %, 1 % or 10 %; an honest clock, or one set back 2 or 10 days.
    /// `agreeing` 1 is the newest timestamp alone; 2 is the rule in force.
    #[test]
    fn false_positives_on_future_dated_files_and_detection_rates() {
        let mut table = Vec::new();
        for agreeing in 1..=3 {
            for p_system in [0.0, 0.01, 0.1] {
                let fp = rate(0.3, p_system, 0.0, agreeing);
                let caught_2 = rate(0.3, p_system, 2.0, agreeing);
                let caught_10 = rate(0.3, p_system, 10.0, agreeing);
                println!(
                    "agreeing {agreeing}, system sources future-dated {p_system}: false positives {fp:.4}, set back 2 d caught {caught_2:.4}, 10 d {caught_10:.4}"
                );
                table.push((agreeing, p_system, fp, caught_10));
            }
        }
        let row = |agreeing, p_system| {
            *table
                .iter()
                .find(|r| r.0 == agreeing && r.1 == p_system)
                .expect("a row")
        };
        // The newest timestamp alone flags every machine with future-dated files.
        assert!(row(1, 0.0).2 > 0.25);
        // Two agreeing sources: no false positive from the user's files alone,
        // under 2 % when system sources are future-dated one time in a hundred.
        assert!(row(2, 0.0).2 < 0.001, "{:?}", row(2, 0.0));
        assert!(row(2, 0.01).2 < 0.02, "{:?}", row(2, 0.01));
        assert!(row(2, 0.01).3 > 0.9, "{:?}", row(2, 0.01));
    }
}
