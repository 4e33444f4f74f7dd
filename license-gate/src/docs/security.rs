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
//! | restore an old cache and set the clock back to when it was written | no grant | the latest trusted time is also kept in a separate time anchor; the later of the two counts |
//! | set the clock back between runs after the license expired | stays expired | trusted time never goes back; it starts from the cache and the anchor |
//! | set the clock back while the program runs | extends nothing | trusted time is carried forward by the monotonic clock |
//! | set the clock back with no cache and no anchor (first run) | caught at the first answer | every authentic reply re-anchors trusted time from the server's `Date` |
//! | an expired ExisOne offline code with the clock set back | stays expired | codes are checked at trusted time, never the raw clock; a cache never grants more than its code |
//! | a claimed confirmation later than the time the cache was written | rejected | cached instants in the future of their own writing are a forgery |
//! | keep the app closed for a day, then start with the server firewalled | `Grace` until `last_confirmed + grace`, then denied | grace counts from the server's last confirmation |
//! | restart daily to dodge the heartbeat | revocation seen at every start | a start from cache validates at once, in the background |
//! | `HTTPS_PROXY` to a loopback proxy plus `SSL_CERT_FILE` with the user's own CA | no grant; the proxy sees only a TLS tunnel | only the bundled roots (plus roots or pins the app configures) are trusted |
//! | `EXISONE_BASEURL=http://127.0.0.1:P` to a fake server | refused with a clear error | plain http only to loopback, and only when the app opts in; `from_env` never does |
//! | a reply that is not a JSON object, `[true]`, `{"valid":true}` without a license, an unknown status word | no grant (a malformed reply is a transport fault) | replies are strictly shaped; ECOSIRE grants only status `active` with a license object |
//! | a reply naming another license key | refused | the echoed key must be the one sent |
//! | a huge, endless, slow or deeply nested reply; garbage instead of HTTP | transport fault, no panic | size caps, timeouts, a strict parser |
//! | a date past 9999-12-31 in a reply, a clock at year 10026, `grace_period(Duration::MAX)` | no panic; out-of-range settings are clear errors | every instant saturates at 9999-12-31; builder durations have upper bounds |
//! | the background task panics (a bug, a provider that panics) | every product `Unlicensed { reason: "license check stopped: internal error" }`, logged; the task restarts | the heartbeat is supervised and fails closed |
//! | racing a refresh against expiry deadlines and gated calls | no update lost | one serialized writer derives every state from the latest one |
//! | a key echoed without dashes, with spaces, percent-encoded or in another case | masked in logs and statuses | redaction normalises before matching |
//! | read the vendor secret out of stripped release builds with one static scanner for every application, written against this crate's source: each 64-bit immediate as the seed of the old splitmix64 mask over the data the code around it references; xor, add and subtract of pairs and triples of nearby referenced data; printable strings | not found, with LTO on and off, at opt-level 3 and "z" (`tests/secret_scan.rs`, which also shows the scanner finding the old masking, plain xor shares and a plain string) | `embed_secret!` draws a new layout at every build from the operating system's random source: 3 to 5 shares in statics with drawn names, each byte recombined by straight-line code with drawn operations (xor, add, subtract, rotate), constants and order, the shares read through a volatile barrier so the optimiser cannot fold them back into the secret; no seed, key stream or instruction pattern is common to two builds |
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
//!   confirmation, and only until the program next reaches the server.
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
