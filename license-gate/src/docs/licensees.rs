//! # Many licensees in one server
//!
//! A server that answers many users or tenants, each with a license of its
//! own: a seat per signed-in user of a corporate ExisOne license (its SDK
//! page's "multi-tenant servers or hosted SaaS deployments": one client per
//! user, `hardware_id_override` set to a stable per-user identifier), or a
//! self-hosted server whose customers each bring their own key.
//!
//! [`LicenseGate::builder()`](crate::LicenseGate::builder) with one product
//! and its provider, then [`.licensees()`](crate::LicenseGateBuilder::licensees),
//! starts a [`Licensees`](crate::licensees::Licensees): one state per
//! licensee (its own key, machine identity, status, subscriptions and log
//! lines, which name the licensee's ID and never its key), one scheduler and
//! one request budget for all of them, and a store for their records.
//!
//! ```
//! use license_gate::{LicenseError, LicenseGate, VendorSecret, requires_feature};
//! use license_gate::licensees::{LicenseeId, MemoryStore, TokenBucketBudget};
//! # use license_gate::providers::mock::MockProvider;
//!
//! #[requires_feature("export")]
//! async fn export() -> Result<&'static str, LicenseError> {
//!     Ok("exported")
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (provider, _service) = MockProvider::licensed(["export"]);
//! // `provider` is your ExisOneProvider or EcosireProvider.
//! let licensees = LicenseGate::builder()
//!     .product("Atlas Cloud")
//!     .provider(provider)
//!     .vendor_secret(VendorSecret::new("the vendor secret of your build")?)
//!     .activate_on_first_use(true)
//!     .licensees()
//!     .store(MemoryStore::new())
//!     .budget(TokenBucketBudget::per_minute(30, 10))
//!     .start()
//!     .await?;
//!
//! // A user signs in for the first time: a seat of their license.
//! let alice = LicenseeId::new("alice");
//! licensees.add(alice.clone(), "AAAA-BBBB-CCCC-DDDD", "user:alice")?;
//! licensees.refresh(&alice).await; // or wait: a new licensee is validated at once
//!
//! // Each request runs in its licensee's scope (the tower layer does this).
//! assert_eq!(licensees.scope(&alice, export()).await, Ok("exported"));
//! // Outside every licensee's scope, gated code is denied.
//! assert!(export().await.is_err());
//!
//! // The user is removed: their seat is released on the service.
//! licensees.remove(&alice).await?;
//! licensees.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! ## Adding and removing licensees
//!
//! [`add(id, key, machine)`](crate::licensees::Licensees::add) takes the
//! licensee's ID (the application's user or tenant ID; it appears in logs),
//! its license key and its machine identity: the stable identifier the
//! provider sends in place of this machine's hardware ID (ExisOne: the
//! per-user hardware ID; ECOSIRE: the licensee's domain or fingerprint). A
//! provider with an identity of its own, ExisOne's `hardware_id_override` or
//! ECOSIRE's `domain`, sends that one for every licensee: leave both unset on
//! a server's provider.
//!
//! A new licensee is pending (denied) until its first validation, which the
//! scheduler starts at once; with
//! [`activate_on_first_use`](crate::LicenseGateBuilder::activate_on_first_use)
//! it is activated on first use, as a gate's single license is.
//! [`remove(id)`](crate::licensees::Licensees::remove) deactivates it on the
//! service (the seat is free for someone else), forgets its record and
//! denies code still running in its scope with
//! [`Reason::LicenseeRemoved`](crate::Reason::LicenseeRemoved); when the service
//! refuses or cannot be reached, the licensee stays and the error says why.
//!
//! ## Gating by the licensee in scope
//!
//! `#[requires_feature]`, `#[licensed]`, [`check_feature`](crate::check_feature)
//! and [`has_feature`](crate::has_feature) answer for the licensee in scope:
//!
//! - [`Licensees::scope(id, future)`](crate::licensees::Licensees::scope):
//!   the future sees the licensee on whichever thread polls it (one request's
//!   handler);
//! - [`Licensees::enter(id)`](crate::licensees::Licensees::enter): a guard for
//!   the current thread;
//! - [`CurrentScope`](crate::CurrentScope): captured where work is spawned
//!   (`tokio::spawn`, `spawn_blocking`, a thread) and carried into it, as
//!   test scopes are. A task spawned without it sees no licensee.
//!
//! A gated call with no licensee in scope is denied with
//! [`Reason::NoLicenseeInScope`](crate::Reason::NoLicenseeInScope) (the
//! registry installs a global state that denies, unless built with
//! `.install_global(false)`), and a call in the scope of an ID that is not
//! added is denied saying so. Neither ever falls back to another licensee's
//! license. Inside one licensee's scope a thread keeps what it read of that
//! licensee's state until a change is published, so repeated gated calls
//! read only thread-local memory.
//!
//! ## The tower layer
//!
//! With the cargo feature `tower`,
//! `license_gate::tower::LicenseeLayer` takes the licensee from each request
//! with a function the application gives (what its authentication layer put
//! in the request) and runs the handler in that licensee's scope;
//! `license_gate::tower::problem` turns a denial into an
//! `application/problem+json` reply: 403 when the plan lacks the feature, 402
//! when no license is in force (or the licensee is not added), 403
//! `/problems/no-licensee` when the request names no licensee. Run
//! `cargo run -p examples-providers --example licensees_server` for a service with two licensees
//! on different plans, one revoked while it serves.
//!
//! ## One scheduler, one budget
//!
//! One task schedules every licensee's validations (no task per licensee):
//! each is validated again after the heartbeat interval shortened by the
//! jitter, licensees started from the store at a random instant within the
//! interval (so a restart does not ask for all of them at once). Backoff
//! and grace are per licensee: a licensee whose server calls fail retries
//! on the gate's [retry policy](crate::RetryPolicy) and keeps its license
//! through its grace period, and holds at most one of the
//! [`max_in_flight`](crate::licensees::LicenseesBuilder::max_in_flight)
//! validation slots until the request timeout, never another licensee's
//! schedule or state.
//!
//! Every provider call first takes its place in the
//! [`RequestBudget`](crate::licensees::RequestBudget), which holds the
//! service's published limits across all licensees: requests over the limit
//! wait their turn, in order; none fails.
//! [`TokenBucketBudget::ecosire`](crate::licensees::TokenBucketBudget::ecosire)
//! holds ECOSIRE's published 30 validations and 10 activations a minute.
//! ExisOne publishes no limit, so the default is
//! [`Unlimited`](crate::licensees::Unlimited); set
//! [`TokenBucketBudget::per_minute`](crate::licensees::TokenBucketBudget::per_minute)
//! if your agreement with it names one. Choose the heartbeat so that the
//! licensees' validations fit the budget: 100,000 licensees validated daily
//! are 69 a minute, over ECOSIRE's 30; weekly (ECOSIRE's suggestion) they
//! are 10.
//!
//! ## Records and the store
//!
//! Each licensee's state, the latest time seen, its activation and a
//! generation are kept in a record sealed with HMAC-SHA256, keyed (as the
//! cache files are) from the vendor secret, the product, the licensee's ID,
//! its key and its machine identity. A record that was edited, belongs to
//! another licensee, or was written for another key or identity is rejected
//! with the reason and the licensee waits for the server; a record written
//! without a vendor secret never grants on its own. Records are written in
//! batches, at most a second after they change, and at
//! [`shutdown`](crate::licensees::Licensees::shutdown). When a licensee is
//! added again after a restart, its record bridges the start, held to its
//! last confirmation plus the grace period.
//!
//! A store implements [`LicenseeStore`](crate::licensees::LicenseeStore)
//! (load everything, save a batch in one crash-safe step, forget one);
//! [`MemoryStore`](crate::licensees::MemoryStore) keeps them in memory.
//!
//! ## Replicas
//!
//! Replicas of one server can share a store. Before a scheduled validation
//! the registry asks the store for the licensee's
//! [lease](crate::licensees::LicenseeStore::lease) for one heartbeat
//! interval; a replica that does not get it asks the service nothing and
//! takes the licensee's state from the record the holder wrote
//! ([`load`](crate::licensees::LicenseeStore::load)), if it opens for the
//! licensee's key and identity, carries the vendor secret and is no older
//! than the last one seen. The default lease is always granted (one
//! process); [`MemoryStore`](crate::licensees::MemoryStore) and a local
//! store keep it so.
//!
//! With Redis (cargo feature `redis`), replicas share the checking through a
//! [`Coordination`](crate::licensees::Coordination) instead:
//! `LicenseesBuilder::coordination(RedisCoordination::new(&replicas))` takes
//! a lease with a fencing token before each validation (the other replicas
//! wait for its result), publishes the sealed result, and applies the other
//! replicas' results within milliseconds over pub/sub; `RedisBudget` holds
//! the service's published limit for the whole deployment. With Redis
//! unreachable each replica validates alone within its share of the limit.
//! The README's "Replicas with Redis" section has the set-up and the
//! measured run (`examples/replicas.rs`).
