//! # Security model
//!
//! Client-side gating raises the cost of piracy; it cannot make it impossible.
//! Code that runs on the user's machine can be patched, and a determined
//! attacker can remove any check. What license-gate guarantees is that the
//! gate is **never fooled by the ordinary ways** a license is stretched:
//!
//! - **The trust anchors** are the license server's answer over TLS and the
//!   RSA signature of ExisOne offline codes (RSASSA-PKCS1-v1_5 with SHA-256).
//!   Nothing else grants a license.
//! - **https is required** for every service URL; plain http is accepted only
//!   for loopback hosts (`127.0.0.0/8`, `::1`, `localhost`) so emulators and
//!   tests run without certificates. Redirects are not followed. An optional
//!   list of allowed hosts pins the service.
//! - **Replies are size-capped** (256 KiB by default) and parsed without
//!   panics; a hostile or broken server cannot make the client allocate
//!   without bound or crash the program.
//! - **The cache is tamper-evident**: each file carries an HMAC-SHA256 keyed
//!   from the product, the license key and the hardware ID. An edited,
//!   truncated, or copied cache (from another machine, or for another key) is
//!   rejected with a log line and never trusted. Writes are atomic (temporary
//!   file, flush, rename), so a crash leaves the old cache or the new one.
//! - **Clocks set backwards extend nothing**: the runtime keeps the latest
//!   wall time it has trusted, in memory and in the cache, and moves it on with
//!   the monotonic clock; expiry and grace are measured against it.
//! - **Explicit answers apply at once**: revoked, expired, suspended, version
//!   outdated and invalid take effect on the next answer, with no grace; only
//!   failing to reach the server keeps the last confirmed state, and only for
//!   the grace period.
//! - **Secrets never reach logs**: access tokens and license secrets are
//!   [`Secret`](crate::Secret)s that print as `<redacted>`; license keys are
//!   [`LicenseKey`](crate::LicenseKey)s that print masked
//!   (`****-****-****-G7H8`); error messages quote server replies but never a
//!   key or a token. Signature and cache checks compare in constant time.
//!
//! What it does not do: obfuscate your binary, detect debuggers, or stop a user
//! who patches the check out of the machine code. Keep the server as the
//! authority for anything that matters (downloads, cloud features), and use
//! the gate to keep honest users honest and to make the rest work for it.
