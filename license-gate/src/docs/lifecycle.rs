//! # The running gate: heartbeat, grace, expiry, cache
//!
//! A [`LicenseGate`](crate::LicenseGate) holds one immutable
//! [`LicenseSnapshot`](crate::LicenseSnapshot) per validation and swaps it
//! whole: a reader never sees half an update and never takes a lock. Every
//! change is published to [`subscribers`](crate::LicenseGate::subscribe) and
//! logged through `tracing` (`from`, `to`, `reason`), never with a secret.
//!
//! ```no_run
//! use std::time::Duration;
//! use license_gate::LicenseGate;
//! use license_gate::providers::exisone::{ExisOneClient, ExisOneClientOptions, ExisOneProvider};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = ExisOneClient::new(
//!     ExisOneClientOptions::new("https://license.example.com").access_token("token"),
//! )?;
//! let gate = LicenseGate::builder()
//!     .product("Atlas Studio")
//!     .provider(ExisOneProvider::new(client))
//!     .app_version(env!("CARGO_PKG_VERSION"))
//!     .license_key("ABCD-EFGH-JKMN-PQRS")
//!     .heartbeat_interval(Duration::from_secs(24 * 3600)) // the default
//!     .grace_period(Duration::from_secs(7 * 24 * 3600)) // the default
//!     .start()
//!     .await?;
//! # let _ = gate;
//! # Ok(())
//! # }
//! # let _ = run;
//! ```
//!
//! ## The rules
//!
//! - **An explicit answer applies at once.** Invalid, expired, suspended,
//!   revoked and version outdated deny on the answer that says so, with no
//!   grace.
//! - **Not reaching the server keeps the last confirmed state** (status
//!   [`Grace { until }`](crate::LicenseStatus::Grace), features kept) until
//!   `last_confirmed + grace`; then the status becomes
//!   [`Unlicensed`](crate::LicenseStatus::Unlicensed) with the reason
//!   [`Reason::GraceOver`](crate::Reason::GraceOver). The next good answer restores it.
//!   Connect errors, timeouts, dropped connections, HTTP 5xx, 429, malformed
//!   and oversized replies count as not reaching the server
//!   ([`ProviderError::is_transient`](crate::ProviderError::is_transient)).
//!   A call has one deadline, the
//!   [request timeout](crate::LicenseGateBuilder::request_timeout) (30 s)
//!   from its start, for all its HTTP requests together.
//! - **Expiry takes effect at its instant**, between heartbeats too: a timer
//!   publishes the change within milliseconds of the instant, and every check
//!   reads an instant that has passed as expired even before that.
//! - **A clock set backwards extends nothing.** The runtime keeps the latest
//!   wall time it has trusted (also in the cache) and moves it on with the
//!   monotonic clock.
//! - **Start-up never waits on the network when a valid cache exists**: the
//!   cached state is used at once and the next validation is due one interval
//!   after the cached confirmation. Without a cache, `start` waits for the
//!   first answer for at most the
//!   [start-up timeout](crate::LicenseGateBuilder::startup_timeout) (5 s).
//!   An answer (valid or not) ends the wait at once. An attempt that gets
//!   none for a reason that may pass in a moment (the connection refused or
//!   dropped, a timeout, a 5xx) is tried again after 250 ms, then after
//!   waits doubling to 1 s, as long as the next attempt starts within the
//!   timeout: with the default, a server that refuses every connection is
//!   tried 7 times and `start` returns after 4.75 s. A refused access token
//!   and a rate limit are not tried again (another attempt does not mend
//!   them), so `start` returns on them at once. The gate then runs with
//!   [`Pending`](crate::LicenseStatus::Pending) (denied), whose
//!   [reason](crate::Reason) says why (the last attempt's failure, and why
//!   a cache found at start does not bridge the wait, such as
//!   [`Reason::CacheWithoutVendorSecret`](crate::Reason::CacheWithoutVendorSecret)),
//!   and keeps trying on the heartbeat's retry schedule.
//! - **The heartbeat** validates every product on an interval (default 24 h;
//!   the ECOSIRE guide asks for weekly) shortened by a random jitter (default
//!   up to 10 %) so a fleet does not call at once, backs off from 30 s
//!   doubling to 1 h while the server cannot be reached, and honours a
//!   server's rate-limit reset. [`refresh`](crate::LicenseGate::refresh)
//!   validates at once.
//! - **Runtimes**: the heartbeat runs on the application's tokio runtime, or on
//!   a one-thread runtime of its own when there is none
//!   ([`start_blocking`](crate::LicenseGateBuilder::start_blocking) from a
//!   plain `fn main`). The handle's calls to the server (`refresh`,
//!   `activate`, `deactivate`) run there too, so they can be awaited from any
//!   thread, runtime or executor.
//! - **Every reason is in the status**, for a program with no tracing
//!   subscriber: `gate.status()` and its `Display` (and a denial's) say why
//!   a product is pending, unlicensed or invalid, through a typed
//!   [`Reason`](crate::Reason) a program can match.
//!
//! ## Dropping the handle, shutdown, and the runtime
//!
//! A gate never keeps a grant that nobody checks any more:
//!
//! - **The global gate runs until [`shutdown`](crate::LicenseGate::shutdown)**,
//!   whether or not the application keeps a handle: the process holds one
//!   from `start` on. `LicenseGate::builder()…start().await?;` without `let`
//!   is enough for code gated by the attributes; the heartbeat, the expiry
//!   timer and the end of grace go on, and
//!   [`LicenseGate::global`](crate::LicenseGate::global) gives the handle back.
//! - **A gate started with `.install_global(false)` stops when its last handle
//!   is dropped**; whatever still sees its state (a
//!   [`scope`](crate::LicenseGate::scope), an [`enter`](crate::LicenseGate::enter)
//!   guard, a subscriber) reads every product as
//!   [`Unlicensed`](crate::LicenseStatus::Unlicensed) with the reason
//!   [`Reason::GateDropped`](crate::Reason::GateDropped) from that moment.
//! - **Shutdown** removes the global gate (gated code then denies with
//!   `LicenseError::NoGate`) and leaves the state of the gate itself
//!   unlicensed with [`Reason::GateShutDown`](crate::Reason::GateShutDown).
//!   It returns at once, also while a call to the server is in flight (the
//!   call is abandoned).
//! - **The runtime the heartbeat ran on shuts down** (`#[tokio::main]`
//!   returns, a test's runtime ends, an application drops the runtime it
//!   started the gate on): the gate stays installed but denies, with
//!   [`Reason::RuntimeStopped`](crate::Reason::RuntimeStopped); a later `shutdown`, from
//!   any runtime or [`shutdown_blocking`](crate::LicenseGate::shutdown_blocking)
//!   from plain code, neither hangs nor panics. Start the gate on a runtime
//!   that lives as long as the gated code, or with
//!   [`start_blocking`](crate::LicenseGateBuilder::start_blocking) on one of
//!   its own.
//!
//! None of these writes the cache: the next start begins from the last
//! confirmed state, as after any exit.
//!
//! ```
//! use license_gate::{LicenseGate, providers::mock::MockProvider};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (provider, _server) = MockProvider::licensed(["pro"]);
//! LicenseGate::builder()
//!     .product("Atlas Studio")
//!     .provider(provider)
//!     .no_cache() // an example keeps nothing on disk
//!     .start()
//!     .await?; // no `let`: the gate runs on
//! assert!(license_gate::has_feature("pro"));
//!
//! // At exit, or to start another gate:
//! LicenseGate::global().expect("the gate runs").shutdown().await;
//! assert!(!license_gate::has_feature("pro"));
//! # Ok(())
//! # }
//! ```
//!
//! ## The cache
//!
//! The last confirmed state of each product is kept in a file (by default in
//! the platform's cache folder, see [`CacheLocation`](crate::CacheLocation);
//! [`cache_dir`](crate::LicenseGateBuilder::cache_dir) and
//! [`no_cache`](crate::LicenseGateBuilder::no_cache) change that), protected by
//! an HMAC keyed (HKDF) from the vendor secret, the product, the license key
//! and the hardware ID, and written atomically; the latest trusted time is
//! also kept in a separate time anchor. See [`security`](super::security).
//!
//! Name the application, so its cache and time anchor live in its own
//! platform folders, and give the gate the vendor secret, without which a
//! cache never grants on its own (see [`security`](super::security)):
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
