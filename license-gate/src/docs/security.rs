//! # Security model
//!
//! Client-side gating raises the cost of piracy; it cannot make it impossible.
//! Code that runs on the user's machine can be patched. The bar license-gate
//! holds itself to: **no attack by the application's own user — a text
//! editor, the clock, environment variables, a small script, a proxy on
//! loopback — is cheaper than extracting a secret from the vendor's binary**,
//! which costs about what patching the check out costs. Where a user can still
//! win, this page says so.
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
//!   [`embed_secret!`](crate::embed_secret) (stored masked, never verbatim)
//!   and give it to the builder:
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
//!
//! ## Attacks and results
//!
//! Each row is a test in the repository (`tests/attacks.rs` for the cache,
//! clock and crash rows; `tests/attack_transport.rs` and the provider tests
//! for the network rows) that tries the attack the way a user would, across
//! restarts where it matters.
//!
//! | attack | result | why |
//! |---|---|---|
//! | write a cache by script: `licensed`, every feature, confirmed in 2076 | no grant | without the vendor secret a cache never grants on its own; with it, the script cannot compute the HMAC |
//! | a cache written without the vendor secret, or with a guessed one | rejected, logged, `Pending` | HKDF key from the vendor secret |
//! | copy a cache from another machine, or re-tag it for this one | rejected | the hardware ID is part of the key; re-tagging needs the vendor secret |
//! | edit, truncate or replace bytes of the cache | rejected | HMAC-SHA256, compared in constant time |
//! | restore an old cache and set the clock back to when it was written | no grant | the cache and the time anchor vouch for each other (below); with the anchor kept, it also remembers the later time, and the later of the two counts |
//! | restore a cache saved while licensed, delete the time anchor, set the clock back, keep the app from the server | no grant at any start; the status is `Unlicensed { reason: "the time anchor that vouches for the license cache is missing: the license is checked with the server" }`; licensed again as soon as the server answers | each record names the other under its tag: the cache its installation ID (drawn at the first write), its folder and its generation (bumped at every write); the anchor the installation, its folder and the generation of every cache it vouches for. A cache whose anchor is missing, fails its check, was moved or copied from another folder or installation, or is from another write never grants on its own |
//! | point `XDG_DATA_HOME` (or `XDG_CACHE_HOME`) at an empty folder: no file touched | no grant until the server answers; the status says the anchor is missing (with an empty cache folder: no cache, `Pending`) | the anchor's folder follows the platform's folders, because sandboxes (Flatpak, Snap) and users move them for every program; so a missing anchor beside an existing cache is treated as tampering. A first run has neither record and waits for the server anyway |
//! | put back an older cache under the current anchor, or an older anchor under the current cache | no grant until the server answers; the status says the two are from different writes | generations must match; the only mismatch accepted is an anchor exactly one write behind its cache (a crash between the two writes: the cache is written first), which is what restoring both records of that write gives anyway |
//! | a cache whose `last_confirmed + grace` passed while the app was closed, its expiry a year away | `Unlicensed { reason: "grace period over" }` from the first moment, before any check | at start a cached `Licensed` or `Grace` is settled against `last_confirmed + grace` at trusted time before it grants anything (`Grace { until }` is never later than that) |
//! | set the clock back between runs after the license expired | stays expired | trusted time never goes back; it starts from the cache and the anchor |
//! | set the clock back while the program runs | extends nothing | trusted time is carried forward by the monotonic clock |
//! | set the clock back with no cache and no anchor (first run) | caught at the first answer | every authentic reply re-anchors trusted time from the server's `Date` |
//! | an expired ExisOne offline code with the clock set back | stays expired | codes are checked at trusted time, never the raw clock; a cache never grants more than its code |
//! | a claimed confirmation later than the time the cache was written | rejected | cached instants in the future of their own writing are a forgery |
//! | keep the app closed for a day, then start with the server firewalled | `Grace` until `last_confirmed + grace`, then denied | grace counts from the server's last confirmation |
//! | restart daily to dodge the heartbeat | revocation seen at every start the server answers | a start from cache validates at once, in the background |
//! | keep every run shorter than the first check: an `HTTPS_PROXY` (or a server) that accepts and never answers, so the check hangs for the request timeout | grants only until `last_confirmed + grace` (7 days by default) from the last real confirmation, then `Unlicensed { reason: "grace period over" }` at every start | a check with no answer confirms nothing: no run writes a fresher `last_confirmed` or a later `Grace { until }` without the server's answer, and every start holds the cache to its last confirmation |
//! | `HTTPS_PROXY` to a loopback proxy plus `SSL_CERT_FILE` with the user's own CA | no grant; the proxy sees only a TLS tunnel | only the bundled roots (plus roots or pins the app configures) are trusted |
//! | `EXISONE_BASEURL=http://127.0.0.1:P` to a fake server | refused with a clear error | plain http only to loopback, and only when the app opts in; `from_env` never does |
//! | a reply that is not a JSON object, `[true]`, `{"valid":true}` without a license, an unknown status word | no grant (a malformed reply is a transport fault) | replies are strictly shaped; ECOSIRE grants only status `active` with a license object |
//! | a reply naming another license key | refused | the echoed key must be the one sent |
//! | a huge, endless, slow or deeply nested reply; garbage instead of HTTP | transport fault, no panic | size caps, timeouts, a strict parser |
//! | a date past 9999-12-31 in a reply, a clock at year 10026, `grace_period(Duration::MAX)` | no panic; out-of-range settings are clear errors | every instant saturates at 9999-12-31; builder durations have upper bounds |
//! | kill the app between writing the cache and writing the anchor | the next start grants what the newer cache says, never more, and catches the anchor up; an anchor left more than one write behind (two cache writes with no anchor write between them, then a crash): no grant until the server answers | writes are atomic, the cache goes first and the anchor after it |
//! | the background task panics (a bug, a provider that panics) | every product `Unlicensed { reason: "license check stopped: internal error" }`, logged; the task restarts | the heartbeat is supervised and fails closed |
//! | racing a refresh against expiry deadlines and gated calls | no update lost | one serialized writer derives every state from the latest one |
//! | a key echoed without dashes, with spaces, percent-encoded or in another case | masked in logs and statuses | redaction normalises before matching |
//! | a stray `TestLicense::…scoped()` in release code | does not compile | test helpers are behind the `testing` cargo feature, for `[dev-dependencies]` only |
//!
//! ## What remains possible
//!
//! - **Patching the binary**, or reading the vendor secret out of it with a
//!   debugger. Masking raises the cost of the latter to that of the former;
//!   nothing on the client can do more.
//! - **Restoring both records with the clock set back**: a user who saves
//!   the cache and the time anchor of one write (two folders, or one with
//!   [`CacheLocation::Dir`](crate::CacheLocation)) and restores both, with the
//!   clock set back to when they were saved and the server firewalled,
//!   replays the state they saved: a grant for at most the grace period
//!   counted from the saved confirmation (`last_confirmed + grace`, 7 days by
//!   default), and only until the program next reaches the server. It can be
//!   repeated, each time with the clock set back again. A restored pair is
//!   byte for byte the pair that was written, so nothing in the gate's own
//!   records tells them apart; only evidence kept elsewhere (the server's
//!   answer and its `Date`, or timestamps the operating system keeps) can.
//!   Deleting, moving or mixing records of different writes gains nothing.
//! - **A machine whose bundled roots are replaced**: rebuilding the binary with
//!   other roots is patching it.
//! - **No persistence at all** (`no_cache()`): with nothing on disk, a clock set
//!   back before the first answer of a run is caught only when the server
//!   answers; an offline code is then checked against that clock.
//!
//! ## Advice to vendors
//!
//! - Give the gate a vendor secret, embedded at build time from your CI's
//!   secrets; rotate it with a release if it leaks (old caches simply stop
//!   granting on their own and are confirmed again online).
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
