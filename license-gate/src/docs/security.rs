//! # Security model
//!
//! Client-side gating raises the cost of piracy; it cannot make it impossible.
//! Code that runs on the user's machine can be patched. The bar license-gate
//! holds itself to: **no attack by the application's own user — a text
//! editor, the clock, environment variables, a small script, a proxy, the
//! namespaces an unprivileged user can make — is cheaper than working on this
//! one application's binary** (patching it, or reading its vendor secret out
//! with a debugger), **and no single tool works against every application
//! built with license-gate**. The table below lists what was tried, each row a
//! test; where a user can still win, [What remains possible](#what-remains-possible)
//! says exactly how and what it costs. Two wins there fall short of the bar
//! and are stated as such: a machine made to present another machine's
//! identity with namespaces is that machine to any client-side fingerprint,
//! and the same namespaces can hide the files the clock-tamper floor reads
//! (the second needs both records restored from a backup as well, and gains
//! at most the grace period from the saved confirmation).
//!
//! ## The trust anchors
//!
//! - The license server's answer over TLS, checked against the web roots
//!   compiled into the binary (not the machine's certificate store, not
//!   `SSL_CERT_FILE` or `SSL_CERT_DIR`), optionally pinned.
//! - The RSA signature of ExisOne offline codes (RSASSA-PKCS1-v1_5, SHA-256).
//! - The **vendor secret** ([`VendorSecret`](crate::VendorSecret)), which keys
//!   the cache and the time anchors through HKDF-SHA256 together with the
//!   product, the license key and the hardware ID. Embed it at build time with
//!   [`embed_secret!`](crate::embed_secret) (laid out afresh at every
//!   build, never verbatim: see the table below) and give it to the builder:
//!
//! ```no_run
//! # use license_gate::providers::mock::MockProvider;
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! # let (provider, _) = MockProvider::licensed(["pro"]);
//! let gate = license_gate::LicenseGate::builder()
//!     .application("Northwind", "Atlas Studio")
//!     .vendor_secret(license_gate::embed_secret!("ATLAS_LICENSE_SECRET")?)
//!     .product("Atlas Studio")
//!     .provider(provider)
//!     .license_key("ABCD-EFGH-JKMN-PQRS")
//!     .start()
//!     .await?;
//! # gate.shutdown().await;
//! # Ok(())
//! # }
//! # let _ = run;
//! ```
//!
//! Without a vendor secret everything that keys the cache is known to the user
//! (the hardware ID is printed by `license-gate hardware-id`, the algorithm is
//! public), so **a cache never grants on its own**: a start from it is
//! `Pending` until the server or a verified offline code confirms.
//! [`LicenseGate::vendor_secret_warning`](crate::LicenseGate::vendor_secret_warning)
//! says so ([`VendorSecretWarning::Missing`](crate::VendorSecretWarning::Missing)),
//! without a tracing subscriber.
//!
//! ### Making the secret, and the development secret
//!
//! `license-gate secret new --var ATLAS_LICENSE_SECRET` (the command line,
//! `license-gate-cli`) prints 32 fresh random bytes, hex-encoded, and the
//! lines that give them to the build: the `[env]` table of a git-ignored
//! `.cargo/config.toml`, the `.gitignore` line, and a GitHub Actions `env:`
//! line that reads a repository secret.
//!
//! When the variable is not set (or empty), `embed_secret!` decides by the
//! build's profile, with `cfg(debug_assertions)` (a proc macro cannot see the
//! profile, so the expansion holds both branches):
//!
//! - **a debug build** (`cargo build`, `cargo run`, `cargo check`,
//!   `cargo test`) gets the **development secret**: fixed and public (it is
//!   in this crate's source), so it protects nothing against a user who reads
//!   it, but the gate runs exactly as with a real secret (the cache grants on
//!   its own). The gate logs one warning at start naming the variable and
//!   `license-gate secret new`, and `vendor_secret_warning()` returns
//!   [`VendorSecretWarning::Development`](crate::VendorSecretWarning::Development);
//!   `VendorSecret::is_development` tells it too. Every key is derived from it
//!   under a purpose of its own (HKDF salt), so a build with a real secret, even
//!   one that holds the development secret's very bytes, rejects every cache
//!   and time anchor it wrote, and it rejects theirs;
//! - **a release build** (any profile without `debug-assertions`) does not
//!   compile: the error names the variable and `license-gate secret new`. A
//!   shipped build therefore cannot carry the development secret unless its
//!   profile turns `debug-assertions` on.
//!
//! A secret shorter than 16 bytes is a compile error in every profile.
//!
//! ## Attacks and results
//!
//! Each row is a test in the repository (`tests/attacks.rs` for the cache,
//! clock and crash rows, `tests/attacks_clock.rs` for the clock floor and
//! the server's time for offline codes; `tests/attack_transport.rs` and the provider tests
//! for the network rows) that tries the attack the way a user would, across
//! restarts where it matters.
//!
//! | attack | result | why |
//! |---|---|---|
//! | write a cache by script: `licensed`, every feature, confirmed in 2076 | no grant | without the vendor secret a cache never grants on its own; with it, the script cannot compute the HMAC |
//! | a cache written without the vendor secret, or with a guessed one | rejected, logged, `Pending` | HKDF key from the vendor secret |
//! | a cache and time anchor written with the public development secret (a debug build's, or by script from this source), put before a release build | rejected, `Pending` until the server answers | development keys are derived under their own purpose, apart from every real secret's, the same bytes included (`cache.rs` `what_the_development_secret_wrote_no_real_secret_reads`, `tests/vendor_secret.rs`); a release build cannot embed the development secret (`tests/vendor_secret.rs` builds a new crate both ways) |
//! | copy a cache from another machine, or re-tag it for this one | rejected, as long as this machine presents its own identity | the hardware ID is part of the key; re-tagging needs the vendor secret. A machine made to present the other's identity (user, mount and UTS namespaces) is that machine: see "What remains possible" |
//! | a fake `hostname`, `ioreg`, `sysctl`, `ifconfig`, `scutil`, `reg` or `getmac` first on `PATH`; `HOSTNAME`, `COMPUTERNAME`, `PROCESSOR_IDENTIFIER`, `NUMBER_OF_PROCESSORS`, `SystemRoot` set for the app | the hardware ID does not change | system programs run by absolute path; no environment variable is read (Windows reads those values from the registry); Linux reads only files of `/etc`, `/var/lib`, `/proc` and `/sys` |
//! | edit, truncate or replace bytes of the cache | rejected | HMAC-SHA256, compared in constant time |
//! | restore an old cache and set the clock back to when it was written | no grant | the cache and the time anchor vouch for each other (below); with the anchor kept, it also remembers the later time, and the later of the two counts |
//! | restore a cache saved while licensed, delete the time anchor, set the clock back, keep the app from the server | no grant at any start; the status is `Unlicensed { reason: "the time anchor that vouches for the license cache is missing: the license is checked with the server" }`; licensed again as soon as the server answers | each record names the other under its tag: the cache its installation ID (drawn at the first write), its folder and its generation (bumped at every write); the anchor the installation, its folder and the generation of every cache it vouches for. A cache whose anchor is missing, fails its check, was moved or copied from another folder or installation, or is from another write never grants on its own |
//! | point `XDG_DATA_HOME` (or `XDG_CACHE_HOME`) at an empty folder: no file touched | no grant until the server answers; the status says the anchor is missing (with an empty cache folder: no cache, `Pending`) | the anchor's folder follows the platform's folders, because sandboxes (Flatpak, Snap) and users move them for every program; so a missing anchor beside an existing cache is treated as tampering. A first run has neither record and waits for the server anyway |
//! | put back an older cache under the current anchor, or an older anchor under the current cache | no grant until the server answers; the status says the two are from different writes | generations must match; the only mismatch accepted is an anchor exactly one write behind its cache (a crash between the two writes: the cache is written first), which is what restoring both records of that write gives anyway |
//! | a cache whose `last_confirmed + grace` passed while the app was closed, its expiry a year away | `Unlicensed { reason: "grace period over" }` from the first moment, before any check | at start a cached `Licensed` or `Grace` is settled against `last_confirmed + grace` at trusted time before it grants anything (`Grace { until }` is never later than that) |
//! | set the clock back between runs after the license expired | stays expired | trusted time never goes back; it starts from the cache and the anchor |
//! | set the clock back while the program runs | extends nothing | trusted time is carried forward by the monotonic clock |
//! | set the clock back with no cache and no anchor (first run) | caught at start when this machine's files were written more than a day later than the clock says (a cache or offline code does not grant: `Unlicensed` with [`Reason::ClockSetBack`](crate::Reason::ClockSetBack)); otherwise at the first answer | the clock-tamper floor ([`ClockFloor`](crate::ClockFloor)); every authentic reply re-anchors trusted time from the server's `Date` |
//! | restore both the cache and the time anchor (a matching pair) and set the clock back, server firewalled | no grant when this machine's files were written more than a day after the clock's reading: `Unlicensed` with `Reason::ClockSetBack` until the server answers; the withheld state is never cached | the clock-tamper floor (`tests/attacks_clock.rs`) |
//! | files dated in the future (an archive extracted with its times, a network mount with a fast clock) | no denial from one source of them; see the measured rates below | the floor is the newest instant two independent sources both reach, and counts only past a day's tolerance |
//! | an expired ExisOne offline code with the clock set back | stays expired | codes are checked at trusted time, never the raw clock; a cache never grants more than its code |
//! | the same with the cache and the anchor deleted and the clock set back 10 days, server reachable | expired at the server's first answer, and after restarts | whenever the server answers, a code is read at the server's time: the `Date` of the reply to the validation call that tells the server about the code (refusal or not), which also re-anchors trusted time (`tests/attacks_clock.rs`) |
//! | (lockout) one run with the clock a year ahead, then corrected: a valid 30-day offline code read as expired | licensed again at the first server answer, and offline after it | the server's `Date` re-anchors trusted time, also for offline codes; the code is read at the server's time |
//! | a claimed confirmation later than the time the cache was written | rejected | cached instants in the future of their own writing are a forgery |
//! | keep the app closed for a day, then start with the server firewalled | `Grace` until `last_confirmed + grace`, then denied | grace counts from the server's last confirmation |
//! | restart daily to dodge the heartbeat | revocation seen at every start the server answers | a start from cache validates at once, in the background |
//! | keep every run shorter than the first check: an `HTTPS_PROXY` (or a server) that accepts and never answers, so the check hangs for the request timeout | grants only until `last_confirmed + grace` (7 days by default) from the last real confirmation, then `Unlicensed { reason: "grace period over" }` at every start | a check with no answer confirms nothing: no run writes a fresher `last_confirmed` or a later `Grace { until }` without the server's answer, and every start holds the cache to its last confirmation |
//! | `HTTPS_PROXY` to a loopback proxy plus `SSL_CERT_FILE` with the user's own CA | no grant; the proxy sees only a TLS tunnel | only the bundled roots (plus roots or pins the app configures) are trusted |
//! | `EXISONE_BASEURL=http://127.0.0.1:P` to a fake server | refused with a clear error | plain http only to loopback, and only when the app opts in; `from_env` never does |
//! | `EXISONE_BASEURL=https://…` to a domain of the user's own with a publicly trusted certificate, serving "valid, every feature" | refused when the client is built, with an error that says how code names its servers; nothing is contacted | a base URL from the environment is accepted only for a host the code lists in `HttpOptions::allowed_hosts` or a server whose key the code pins (`HttpOptions::spki_pin`); an app names its server with `ExisOneClientOptions::new(url)`. The ECOSIRE base URL never comes from the environment |
//! | an error page in front of the service: a CDN's HTML 403, a firewall's HTML 404, JSON of another shape, an ECOSIRE 404 about a route | `Grace` until `last_confirmed + grace`, features kept; never `Invalid` (also from a cache, across a restart) | only an error reply in the service's documented shape can deny at once (ExisOne: a JSON object with a string `error`, `message` or `status`; ECOSIRE: `{statusCode, message, error}`, plain or wrapped in `{data, error}`, and for a 404 the message "License not found"); any other error reply is `ProviderError::NotAnAnswer`, transient |
//! | the service refuses the vendor's credentials (ExisOne 401/403: the token lacks `verify` or was rotated; ECOSIRE 401 "Invalid signature": the secret does not match) | `Grace`, and an error-level log naming the access token or license secret to fix (never its value) | a configuration fault of the vendor, not an answer about the user's license: `ProviderError::PermissionDenied` is transient |
//! | an ECOSIRE user's clock 10 minutes off (requests are signed with a `timestamp`) | validated | the client learns the server's clock from the `Date` of the service's replies, signs with the corrected time, and retries a refused time stamp once with the refusal's `Date` |
//! | an ECOSIRE server that keeps refusing the time stamp | `Grace`, never `Invalid`; the error says by how many seconds the clock is off | `ProviderError::ClockOff` is transient. The testkit's emulator accepts 5 minutes either way (`set_timestamp_tolerance`); ECOSIRE publishes no tolerance |
//! | a reply that is not a JSON object, `[true]`, `{"valid":true}` without a license, an unknown status word | no grant (a malformed reply is a transport fault) | replies are strictly shaped; ECOSIRE grants only status `active` with a license object |
//! | a reply naming another license key | refused | the echoed key must be the one sent |
//! | a huge, endless, slow or deeply nested reply; garbage instead of HTTP | transport fault, no panic | size caps, timeouts, a strict parser |
//! | a date past 9999-12-31 in a reply, a clock at year 10026, `grace_period(Duration::MAX)` | no panic; out-of-range settings are clear errors | every instant saturates at 9999-12-31; builder durations have upper bounds |
//! | kill the app between writing the cache and writing the anchor | the next start grants what the newer cache says, never more, and catches the anchor up; an anchor left more than one write behind (two cache writes with no anchor write between them, then a crash): no grant until the server answers | writes are atomic, the cache goes first and the anchor after it |
//! | the background task panics (a bug, a provider that panics) | every product `Unlicensed { reason: "license check stopped: internal error" }`, logged; the task restarts | the heartbeat is supervised and fails closed |
//! | start the gate with `start().await?;` (handle dropped at once), then the license is revoked or reaches its expiry | denied at the next heartbeat; at the expiry instant | the process holds the global gate, and its heartbeat, until `shutdown` |
//! | drop every handle of a gate that is not the global one; end the runtime its heartbeat ran on (`#[tokio::main]` returns) | every product `Unlicensed` with `Reason::GateDropped` or `Reason::RuntimeStopped`; no panic, no hang | a gate that stops checking fails closed, and nothing publishes after the stop |
//! | racing a refresh against expiry deadlines and gated calls | no update lost | one serialized writer derives every state from the latest one |
//! | a key echoed without dashes, with spaces, percent-encoded or in another case | masked in logs, statuses, and every error of the gate and of the public clients (`ExisOneClient`, `EcosireClient`) | redaction normalises before matching |
//! | read the vendor secret out of stripped release builds with one static scanner for every application, written against this crate's source: each 64-bit immediate as the seed of the old splitmix64 mask over the data the code around it references; xor, add and subtract of pairs and triples of nearby referenced data; printable strings | not found, with LTO on and off, at opt-level 3 and "z" (`tests/secret_scan.rs` builds opt-level 3 without LTO and "z" with fat LTO in every run, all four with `LICENSE_GATE_SCAN_ALL_PROFILES=1`; it also shows the scanner finding the old masking, plain xor shares, a plain string and the expansion without its barrier) | `embed_secret!` draws a new layout at every build from the operating system's random source: 3 to 5 shares in statics with drawn names, each byte recombined by straight-line code with drawn operations (xor, add, subtract, rotate), constants and order, the shares read through a volatile barrier so the optimiser cannot fold them back into the secret; no seed, key stream or instruction pattern is common to two builds |
//! | a stray `TestLicense::…scoped()` in release code | does not compile | test helpers are behind the `testing` cargo feature, for `[dev-dependencies]` only |
//!
//! ## What remains possible
//!
//! - **Running this one application under a debugger** (or emulating its
//!   code): break where the secret is recombined, or where the
//!   [`VendorSecret`](crate::VendorSecret) is built from it, and read the
//!   bytes. A scanner that knows license-gate's source finds no fixed pattern
//!   to look for, so this is work on one build of one application, done again
//!   for the next build.
//! - **Patching the binary**: removing the check, or reading and replacing
//!   what it compares. Nothing on the client can prevent either.
//! - **Restoring every anchor at once with the clock set back**: a user who
//!   saves both the cache and the time anchor (two folders) and restores both
//!   with the clock set back, while the server stays firewalled, replays the
//!   state they saved — for at most the grace period measured from the saved
//!   confirmation, and only until the program next reaches the server —
//!   **only** when the clock-tamper floor does not see it: the clock is set
//!   back by less than a day; or the files it reads were set back too (system
//!   files need the administrator; `touch` on the user's own files is not
//!   enough, they are one source of several); or fewer than two sources have
//!   evidence (a minimal container); or the program runs in a mount namespace
//!   an unprivileged user made (`unshare -Urm`) with folders of their own
//!   bound over the system's logs and state. That last one is a small script
//!   that works against every application built with license-gate: the floor
//!   raises the cost of the restore from copying two folders to that script,
//!   no further. A restored pair is byte for byte the pair that was written,
//!   so nothing in the gate's own records tells them apart; deleting, moving
//!   or mixing records of different writes gains nothing (the cache then
//!   waits for the server).
//! - **Before the first answer of a run**: with no record that remembers a
//!   later time and no floor evidence, a start from an offline code reads the
//!   code at the clock as set back, until the first answer (one request, at
//!   once in the background) reads it at the server's time.
//! - **A clock that was far ahead while the system wrote files** leaves them
//!   dated ahead; when the clock is corrected, starts without the server read
//!   as "clock set back" (a false positive: cached states and offline codes do
//!   not grant) until those files are written again, or, in each run, until
//!   the server answers. The floor cannot tell that clock from one set back.
//! - **Presenting another machine's identity.** The hardware ID is what the
//!   machine presents. On Linux it is read from files (`/etc/machine-id`,
//!   `/proc/cpuinfo`, `/sys/class/net/*/address`) and the host name, all of
//!   which an unprivileged user can replace for one process tree with user,
//!   mount and UTS namespaces (`unshare -Urmu`, then bind-mounting machine
//!   A's copies over them). Machine B doing so is machine A to the gate: A's
//!   copied cache and time anchor grant on B, an offline code issued for A
//!   verifies on B, and online one activation serves both machines. The same
//!   holds wherever B can be made to report A's values (a virtual machine
//!   cloned from A, or given A's identifiers). No fingerprint taken on the
//!   client can tell the two apart (`tests/attacks.rs` runs the ID in such
//!   namespaces: it follows the files the user chose); only the license
//!   server can notice (one activation validating from two places at once).
//!   Without that effort, a
//!   copied cache is rejected, and `PATH` or environment variables do not
//!   change the ID.
//! - **A machine whose bundled roots are replaced**: rebuilding the binary with
//!   other roots is patching it.
//! - **Keeping the answers from arriving**: a firewall, a proxy that cuts the
//!   TLS tunnel, or, in an app that takes the ECOSIRE secret from
//!   `ECOSIRE_LICENSE_SECRET` rather than from code, a wrong secret there (the
//!   server then refuses the signature). All of these are faults, not
//!   answers: the license is kept until `last_confirmed + grace`, then denied,
//!   no longer than with the server firewalled. The secret only signs
//!   requests; no answer is trusted because of it.
//! - **Choosing what the SDK-compatible hardware ID reads**
//!   ([`exisone_sdk_hardware_id`](crate::exisone_sdk_hardware_id), opt-in):
//!   as the ExisOne SDK, it counts network addresses only when an `ip`
//!   program is on `PATH`, and reads the host name, which a user can change
//!   in a namespace of their own. Either only makes this machine present
//!   another ID (a new activation, a seat); presenting another machine's ID
//!   needs every other component of it too, as with the default ID.
//! - **No persistence at all** (`no_cache()`): with nothing on disk, a clock set
//!   back before the first answer of a run, and not seen by the clock floor,
//!   is caught only when the server answers; until then an offline code is
//!   checked against that clock (as in the previous point).
//!
//! ## The clock-tamper floor, and how it was measured
//!
//! Every file a program writes takes the clock's reading as its modification
//! time; setting the clock back changes the files written afterwards, not
//! those written before. At start a gate that reads the system clock takes
//! the newest modification times of independent sources the user cannot
//! cheaply set back — on Linux the system logs (`/var/log`), the journal,
//! package-manager state (`/var/lib/dpkg/status`, rpm, pacman, apk, snapd),
//! time keeping (`/var/lib/systemd/timesync/clock`, `/etc/adjtime`, chrony,
//! ntp), systemd timer stamps and other system state, and the user's own
//! recent files as one source; on macOS `/private/var/log`, the unified log,
//! installer receipts and system configuration; on Windows the event logs,
//! the registry hives, Windows Update's data store and `C:\Windows\Logs` —
//! at most 200 `stat` calls (48 entries per folder, never a walk of a tree).
//! The **floor** is the newest instant that two of these sources both reach
//! (the second-newest of the sources' newest times); the clock counts as
//! set back when trusted time at start is more than the tolerance behind it.
//! The tolerance is one day: more than the largest time-zone mix-up of a
//! clock kept in local time by another system (14 hours), and a user who
//! sets the clock back by less gains less than a day. A gate given its own
//! clock (tests) reads no floor unless given one with
//! [`LicenseGateBuilder::clock_floor`](crate::LicenseGateBuilder::clock_floor).
//!
//! The floor never turns a server's answer into a denial: it withholds only
//! grants made on this machine (a cached state, an offline code read without
//! the server's time), it is lifted by the first authentic `Date`, and the
//! withheld state is never written to the cache.
//!
//! Measured on 100 000 synthetic machines per line (the test
//! `clock_floor::tests::false_positives_on_future_dated_files_and_detection_rates`):
//! six sources, the newest file of each a random age old (exponential, mean
//! 2.4 hours to 3 days); the user's own files dated 1 hour to 2 years in the
//! future on 30 % of machines, each system source on 0 %, 1 % or 10 %; a
//! clock set back by 2 or 10 days rewrites each source written since with
//! probability ½ (pessimistic: folders keep older files).
//!
//! | future-dated system sources | false positives, newest time alone | false positives, two sources (in force) | caught, set back 2 days | caught, set back 10 days |
//! |---|---|---|---|---|
//! | 0 % | 29.9 % | 0.00 % | 74.3 % | 91.1 % |
//! | 1 % | 33.3 % | 1.53 % | 75.1 % | 91.4 % |
//! | 10 % | 58.5 % | 17.6 % | 82.5 % | 93.8 % |
//!
//! Requiring three sources would cut the 1 % line's false positives to
//! 0.04 % but catch only 70 % of 10-day set-backs. Reading the floor costs
//! about 0.15 ms at start with the file system's cache warm (the benchmark
//! `start-up/reading the system clock floor` in `cargo bench -p license-gate --bench gate`,
//! on a shared two-core Linux machine where it found 16 timestamps in 7
//! sources); a cold cache adds a disk read per place not read recently.
//!
//! ## Fuzzing
//!
//! The code that reads outside input is fuzzed with cargo-fuzz (`fuzz/`,
//! `scripts/fuzz`; nightly only, not run in CI). Every crash found became a
//! unit test next to its fix. The last campaign ran after the fixes, one
//! target at a time at the lowest priority on a shared 2-core machine, and
//! found nothing:
//!
//! | target | what it feeds | executions | time | crashes |
//! |---|---|---:|---:|---:|
//! | `iso8601` | any text as a date; what parses must format and read back to the same instant | 1,000,000 | 22 s | 0 |
//! | `exisone_reply` | HTTP status, headers and body of every ExisOne call | 1,000,000 | 150 s | 0 |
//! | `ecosire_reply` | the same for ECOSIRE, and license-key formats | 1,000,000 | 203 s | 0 |
//! | `cache_load` | cache and time-anchor files, raw or behind a valid tag | 1,000,000 | 266 s | 0 |
//! | `macro_args` | any tokens as the attributes' arguments | 1,000,000 | 453 s | 0 |
//! | `exisone_offline` | any text as an offline code, against the test key | 1,000,000 | 425 s | 0 |
//! | `exisone_offline_roundtrip` | offline codes minted from any content, RSA-signed, validated back | 96,873 | 603 s | 0 |
//!
//! (`FUZZ_FLAGS=-runs=1000000 scripts/fuzz 1800 TARGET` for the first six,
//! `scripts/fuzz 600 exisone_offline_roundtrip` for the round trip, which
//! signs every input with RSA.) Before it, the `iso8601` target had found
//! that an instant before 1970 with a fraction of a second was written one
//! second late without its fraction (`1015-01-01T00:00:00.0010000` came back
//! as `1015-01-01T00:00:01Z`); `time::format_rfc3339` now rounds such an
//! instant down to its second and keeps the fraction, and the input is a
//! unit test and a seed.
//!
//! After the records, the error classification, the ECOSIRE key format and
//! the attributes' parsing changed, the targets that read them ran again to
//! 1,000,000 executions each, with no crash: `cache_load` 225 s,
//! `exisone_reply` 183 s, `ecosire_reply` 201 s, `macro_args` 726 s,
//! `iso8601` 36 s.
//!
//! ## Advice to vendors
//!
//! - Give the gate a vendor secret, embedded at build time from your CI's
//!   secrets; rotate it with a release if it leaks (old caches simply stop
//!   granting on their own and are confirmed again online).
//! - Name your license server in code (`ExisOneClientOptions::new(url)`). If
//!   a development build lets `EXISONE_BASEURL` choose, list the hosts it may
//!   choose with `HttpOptions::allowed_hosts`; anything else is refused.
//! - Watch for the error-level log "the license server refused this
//!   application's credentials": a rotated ExisOne token or ECOSIRE secret
//!   leaves every user in grace, and grace ends.
//! - Strip release builds (`strip = true` in the release profile): symbol
//!   names tell a reader of the binary where the code is.
//! - A build that embeds a vendor secret is **not bit-for-bit reproducible**:
//!   `embed_secret!` draws the layout of the secret from the operating
//!   system's random source at every build, on purpose, so that no two builds
//!   (and no two applications) share a pattern a tool could look for. Two
//!   builds of the same source differ in the shares' bytes and in the code
//!   that recombines them; everything else builds as before. To check a build,
//!   build without the secret (give `vendor_secret` a value loaded another
//!   way) or compare everything but that code. The build's dependency file in
//!   the target folder records the variable's value, as it does for any
//!   `env!`; ship the binary, not the target folder.
//! - Ship ExisOne access tokens with the least permission the app needs
//!   (verify-only, if your service offers such tokens): a token in a client
//!   binary is public.
//! - Keep the server the authority for what matters: downloads, cloud
//!   features, anything a server does for the user. Use the gate to keep
//!   honest users honest and to make the rest work for it.
//! - Keep the heartbeat and grace periods as short as your users' offline
//!   habits allow.
//!
//! ## Secrets
//!
//! Access tokens and license secrets are [`Secret`](crate::Secret)s that print
//! as `<redacted>`; license keys are [`LicenseKey`](crate::LicenseKey)s that
//! print masked (`****-****-****-G7H8`); vendor secrets never print. Error
//! messages quote server replies but never a key, a token or a secret.
//! Signature and cache checks compare in constant time.
