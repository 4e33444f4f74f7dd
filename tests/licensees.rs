//! Many licensees in one server process, against the real loopback ExisOne
//! emulator: each licensee's own key and per-user hardware ID, gating by the
//! licensee in scope (across spawned tasks and threads), no licensee in
//! scope denied, a revocation that denies only its licensee, removal that
//! frees the seat and forgets the record, a restart from the store, and one
//! licensee's hanging server calls that do not hold up another's.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use license_gate::licensees::{
    LICENSEE_REMOVED, LicenseeId, Licensees, MemoryStore, NO_LICENSEE_IN_SCOPE,
};
use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider, HttpOptions};
use license_gate::{
    CurrentScope, LicenseAnswer, LicenseError, LicenseGate, LicenseRequest, LicenseStatus,
    Provider, ProviderError, Source, check_feature,
};
use license_gate_testkit::exisone::{EmulatedLicense, ExisOneControl, ExisOneEmulator};
use license_gate_tests::support::vendor_secret;

const PRODUCT: &str = "Atlas Server";
/// A corporate license on the "team" plan: a seat per signed-in user.
const TEAM_KEY: &str = "TEAM-7Q2M-K9PD-X4RW";
/// A corporate license on the "basic" plan.
const BASIC_KEY: &str = "BASE-3H8J-W2NC-Q6TV";

#[license_gate::requires_feature("export")]
fn export_report() -> Result<&'static str, LicenseError> {
    Ok("report")
}

/// The emulator holding the two plans, three seats each.
async fn emulator() -> (ExisOneEmulator, ExisOneControl) {
    let emulator = ExisOneEmulator::start().await.expect("emulator starts");
    let control = emulator.control();
    control.add_license(
        EmulatedLicense::new(TEAM_KEY, PRODUCT)
            .features(["pro", "export"])
            .seats(3),
    );
    control.add_license(
        EmulatedLicense::new(BASIC_KEY, PRODUCT)
            .features(["pro"])
            .seats(3),
    );
    (emulator, control)
}

/// The ExisOne provider of a server: no `hardware_id_override`, so each
/// licensee's request carries its own per-user hardware ID.
fn provider(url: &str) -> ExisOneProvider {
    ExisOneProvider::from_options(
        ExisOneClientOptions::new(url)
            .access_token(ExisOneEmulator::TOKEN)
            .http(
                HttpOptions::new()
                    .timeout(Duration::from_secs(5))
                    .allow_insecure_loopback(),
            ),
    )
    .expect("valid ExisOne options")
    .email("it@customer.example")
}

async fn start(provider: impl Provider, store: &MemoryStore) -> Licensees {
    LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .vendor_secret(vendor_secret())
        .activate_on_first_use(true)
        .request_timeout(Duration::from_secs(2))
        .install_global(false)
        .licensees()
        .store(store.clone())
        .start()
        .await
        .expect("licensees start")
}

/// Waits until licensee `id` has an answer (the scheduler validates a new
/// licensee at once).
async fn answered(licensees: &Licensees, id: &LicenseeId) -> LicenseStatus {
    let mut changes = licensees.subscribe(id).expect("added");
    let snapshot = changes
        .wait_for(|s| s.products[0].status != LicenseStatus::Pending)
        .await
        .expect("the licensee is published")
        .clone();
    snapshot.products[0].status.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_licensee_is_gated_by_its_own_license_in_scope() {
    let (emulator, control) = emulator().await;
    let store = MemoryStore::new();
    let licensees = start(provider(&emulator.url()), &store).await;
    let (alice, bob) = (LicenseeId::new("alice"), LicenseeId::new("bob"));
    licensees
        .add(alice.clone(), TEAM_KEY, "user:alice")
        .expect("added");
    licensees
        .add(bob.clone(), BASIC_KEY, "user:bob")
        .expect("added");
    assert_eq!(answered(&licensees, &alice).await, LicenseStatus::Licensed);
    assert_eq!(answered(&licensees, &bob).await, LicenseStatus::Licensed);
    // Each activated its own seat with its own per-user hardware ID.
    assert_eq!(control.activations(TEAM_KEY), ["user:alice"]);
    assert_eq!(control.activations(BASIC_KEY), ["user:bob"]);

    // A gated function answers for the licensee in scope.
    let in_alice = licensees.scope(&alice, async { export_report() }).await;
    assert_eq!(in_alice, Ok("report"));
    let in_bob = licensees.scope(&bob, async { export_report() }).await;
    let denied = in_bob.expect_err("the basic plan has no export");
    assert!(
        matches!(denied, LicenseError::MissingFeature { .. }),
        "{denied}"
    );

    // The scope is carried into spawned work by `CurrentScope`.
    let spawned = licensees
        .scope(&alice, async {
            let scope = CurrentScope::capture();
            let task = tokio::spawn(scope.scope(async { export_report() }));
            let blocking = tokio::task::spawn_blocking({
                let scope = scope.clone();
                move || scope.run(export_report)
            });
            (task.await.expect("task"), blocking.await.expect("blocking"))
        })
        .await;
    assert_eq!(spawned, (Ok("report"), Ok("report")));
    // Without carrying it, spawned work sees no licensee.
    let uncarried = licensees
        .scope(&alice, async {
            tokio::spawn(async { export_report() }).await.expect("task")
        })
        .await;
    assert!(
        uncarried.is_err(),
        "a spawned task does not inherit the scope"
    );

    // A thread enters a licensee with the guard.
    let on_thread = std::thread::spawn({
        let licensees = licensees.clone();
        let bob = bob.clone();
        move || {
            let _bob = licensees.enter(&bob);
            (
                check_feature("pro").is_ok(),
                check_feature("export").is_ok(),
            )
        }
    })
    .join()
    .expect("thread");
    assert_eq!(on_thread, (true, false));

    // No licensee in scope: denied, saying so, never another's license.
    let _none = licensees.enter_none();
    let denied = export_report().expect_err("no licensee in scope");
    assert!(
        denied.to_string().contains(NO_LICENSEE_IN_SCOPE),
        "{denied}"
    );
    drop(_none);
    // An unknown licensee is denied too.
    let stranger = licensees
        .scope(&LicenseeId::new("mallory"), async { export_report() })
        .await
        .expect_err("not added");
    assert!(
        stranger.to_string().contains("`mallory` is not added"),
        "{stranger}"
    );
    licensees.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_denies_only_its_licensee_and_removal_frees_the_seat() {
    let (emulator, control) = emulator().await;
    let store = MemoryStore::new();
    let licensees = start(provider(&emulator.url()), &store).await;
    let (alice, bob, carol) = (
        LicenseeId::new("alice"),
        LicenseeId::new("bob"),
        LicenseeId::new("carol"),
    );
    licensees
        .add(alice.clone(), TEAM_KEY, "user:alice")
        .unwrap();
    licensees
        .add(carol.clone(), TEAM_KEY, "user:carol")
        .unwrap();
    licensees.add(bob.clone(), BASIC_KEY, "user:bob").unwrap();
    for id in [&alice, &bob, &carol] {
        assert_eq!(answered(&licensees, id).await, LicenseStatus::Licensed);
    }
    assert_eq!(control.activations(TEAM_KEY).len(), 2, "two team seats");

    // The basic plan is revoked: its licensee is denied at its next
    // validation, the team's licensees are not.
    control.revoke(BASIC_KEY);
    for id in [&alice, &bob, &carol] {
        licensees.refresh(id).await.expect("added");
    }
    assert_eq!(licensees.status(&bob), Some(LicenseStatus::Revoked));
    assert!(
        licensees
            .scope(&bob, async { check_feature("pro") })
            .await
            .is_err()
    );
    assert!(
        licensees
            .scope(&alice, async { check_feature("pro") })
            .await
            .is_ok()
    );
    assert!(
        licensees
            .scope(&carol, async { check_feature("export") })
            .await
            .is_ok()
    );

    // Removing alice deactivates her seat on the service and forgets her record.
    licensees.flush().await;
    assert!(store.get(&alice).is_some(), "alice's record was stored");
    let mut alice_changes = licensees.subscribe(&alice).unwrap();
    licensees.remove(&alice).await.expect("removed");
    assert_eq!(
        control.activations(TEAM_KEY),
        ["user:carol"],
        "alice's seat is free"
    );
    assert!(store.get(&alice).is_none(), "alice's record is forgotten");
    assert!(store.get(&carol).is_some());
    assert!(!licensees.contains(&alice));
    let last = alice_changes.borrow_and_update().clone();
    assert_eq!(
        last.products[0].status,
        LicenseStatus::Unlicensed {
            reason: LICENSEE_REMOVED.into()
        },
        "code still in alice's scope is denied"
    );
    // Carol is untouched.
    assert!(
        licensees
            .scope(&carol, async { check_feature("export") })
            .await
            .is_ok()
    );
    // Removing an unknown licensee says so.
    let error = licensees.remove(&alice).await.unwrap_err();
    assert!(error.to_string().contains("not added"), "{error}");
    licensees.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_serves_from_the_store_and_rejects_a_record_under_another_key() {
    let (emulator, control) = emulator().await;
    let store = MemoryStore::new();
    let first = start(provider(&emulator.url()), &store).await;
    let alice = LicenseeId::new("alice");
    let bob = LicenseeId::new("bob");
    first.add(alice.clone(), TEAM_KEY, "user:alice").unwrap();
    first.add(bob.clone(), BASIC_KEY, "user:bob").unwrap();
    answered(&first, &alice).await;
    answered(&first, &bob).await;
    first.shutdown().await;
    assert_eq!(store.len(), 2, "both records written at shutdown");

    // The server restarts while the service is down: the records bridge it.
    control.faults().go_down();
    let second = start(provider(&emulator.url()), &store).await;
    let status = second.add(alice.clone(), TEAM_KEY, "user:alice").unwrap();
    assert_eq!(status, LicenseStatus::Licensed, "from the stored record");
    assert_eq!(second.state(&alice).unwrap().source, Source::Cache);
    assert!(
        second
            .scope(&alice, async { check_feature("export") })
            .await
            .is_ok()
    );
    // Bob comes back with another key: his record does not open for it.
    let status = second.add(bob.clone(), TEAM_KEY, "user:bob").unwrap();
    assert_eq!(status, LicenseStatus::Pending);
    assert!(
        second
            .scope(&bob, async { check_feature("pro") })
            .await
            .is_err()
    );
    second.shutdown().await;
}

/// A provider that hangs for one key (until the request timeout) and asks
/// the emulator for every other.
#[derive(Debug)]
struct HangsFor {
    key: &'static str,
    inner: ExisOneProvider,
}

#[async_trait]
impl Provider for HangsFor {
    fn name(&self) -> &str {
        "hangs-for-one-key"
    }
    async fn validate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        if request
            .license_key
            .as_ref()
            .is_some_and(|k| k.expose() == self.key)
        {
            std::future::pending::<()>().await;
        }
        self.inner.validate(request).await
    }
    async fn activate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        self.inner.activate(request).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_licensees_hanging_server_does_not_hold_up_another() {
    let (emulator, control) = emulator().await;
    const HANGING_KEY: &str = "HANG-0000-0000-0000";
    control.add_license(EmulatedLicense::new(HANGING_KEY, PRODUCT).seats(3));
    let store = MemoryStore::new();
    let licensees = Arc::new(
        start(
            HangsFor {
                key: HANGING_KEY,
                inner: provider(&emulator.url()),
            },
            &store,
        )
        .await,
    );
    let (stuck, fine) = (LicenseeId::new("stuck"), LicenseeId::new("fine"));
    licensees
        .add(stuck.clone(), HANGING_KEY, "user:stuck")
        .unwrap();
    licensees.add(fine.clone(), TEAM_KEY, "user:fine").unwrap();
    // The stuck licensee's validation hangs until the 2 s request timeout;
    // the other one's completes meanwhile, well within it.
    let started = tokio::time::Instant::now();
    let fine_status =
        tokio::time::timeout(Duration::from_millis(1500), answered(&licensees, &fine))
            .await
            .expect("the other licensee is answered while one hangs");
    assert_eq!(fine_status, LicenseStatus::Licensed);
    assert_eq!(licensees.status(&stuck), Some(LicenseStatus::Pending));
    // The hanging one ends at its deadline, as pending (never granted).
    let stuck_status = licensees.refresh(&stuck).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_eq!(stuck_status.products[0].status, LicenseStatus::Pending);
    assert!(
        licensees
            .scope(&fine, async { check_feature("export") })
            .await
            .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_global_state_denies_outside_every_licensee() {
    let (emulator, _control) = emulator().await;
    let licensees = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider(&emulator.url()))
        .activate_on_first_use(true)
        .licensees()
        .start()
        .await
        .expect("installed as the global gate");
    assert!(licensees.is_global());
    let alice = LicenseeId::new("alice");
    licensees
        .add(alice.clone(), TEAM_KEY, "user:alice")
        .unwrap();
    answered(&licensees, &alice).await;
    // Outside any scope: the installed state denies, naming why.
    let denied = check_feature("pro").unwrap_err();
    assert!(
        denied.to_string().contains(NO_LICENSEE_IN_SCOPE),
        "{denied}"
    );
    assert!(
        licensees
            .scope(&alice, async { check_feature("pro") })
            .await
            .is_ok()
    );
    // A second global gate cannot be installed beside it.
    let again = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider(&emulator.url()))
        .licensees()
        .start()
        .await;
    assert!(matches!(
        again,
        Err(license_gate::GateError::AlreadyInstalled)
    ));
    licensees.shutdown().await;
    // After shutdown no gate is installed: denied as no gate.
    assert!(matches!(
        check_feature("pro"),
        Err(LicenseError::NoGate { .. })
    ));
}

#[tokio::test(flavor = "current_thread")]
async fn logs_name_the_licensee_and_never_its_key() {
    use license_gate_tests::support::{LogBuffer, key_letters};
    let logs = LogBuffer::default();
    let _capture = logs.capture();
    let (emulator, control) = emulator().await;
    let store = MemoryStore::new();
    let licensees = start(provider(&emulator.url()), &store).await;
    const UNKNOWN_KEY: &str = "ZZZZ-9Y8X-7W6V-5U4T";
    let (alice, eve) = (LicenseeId::new("alice"), LicenseeId::new("eve"));
    licensees
        .add(alice.clone(), TEAM_KEY, "user:alice")
        .unwrap();
    licensees.add(eve.clone(), UNKNOWN_KEY, "user:eve").unwrap();
    assert_eq!(answered(&licensees, &alice).await, LicenseStatus::Licensed);
    let eve_status = answered(&licensees, &eve).await;
    assert!(!eve_status.grants_access(), "{eve_status}");
    control.revoke(TEAM_KEY);
    licensees.refresh(&alice).await;
    licensees.remove(&eve).await.ok();
    licensees.shutdown().await;

    let text = logs.text();
    assert!(
        text.contains("licensee's license state changed") && text.contains("licensee=alice"),
        "{text}"
    );
    assert!(
        text.contains("to=\"revoked\"") || text.contains("to=revoked"),
        "{text}"
    );
    assert!(text.contains("licensee=eve"), "{text}");
    let letters = key_letters(&text);
    for key in [TEAM_KEY, UNKNOWN_KEY] {
        assert!(
            !letters.contains(&key_letters(key)),
            "the key {key} leaked into the logs:\n{text}"
        );
    }
}

/// ECOSIRE: each licensee binds its own domain (the provider has none of
/// its own), activated on first validation; the budget holds ECOSIRE's
/// published limits; removal releases the domain's binding.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ecosire_licensees_bind_their_own_domains() {
    use license_gate::licensees::TokenBucketBudget;
    use license_gate::providers::ecosire::{EcosireOptions, EcosireProvider};
    use license_gate_testkit::ecosire::{EcosireEmulator, EmulatedLicense as EcosireLicense};
    const SECRET: &str = "shop-plugin-license-secret";
    const SHOP_A: &str = "SHOP-A1B2-C3D4-E5F6-G7H8";
    const SHOP_B: &str = "SHOP-J2K3-L4M5-N6P7-Q8R9";
    let emulator = EcosireEmulator::start().await.unwrap();
    let handle = emulator.handle();
    handle.add_license(EcosireLicense::new(SHOP_A, SECRET).activation_limit(2));
    handle.add_license(EcosireLicense::new(SHOP_B, SECRET).activation_limit(2));
    let provider = EcosireProvider::from_options(
        EcosireOptions::new(emulator.url())
            .license_secret(SECRET)
            .http(
                HttpOptions::new()
                    .timeout(Duration::from_secs(5))
                    .allow_insecure_loopback(),
            ),
    )
    .unwrap()
    .features(["pro"]);
    let licensees = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .vendor_secret(vendor_secret())
        .install_global(false)
        .licensees()
        .budget(TokenBucketBudget::ecosire())
        .start()
        .await
        .unwrap();
    let (a, b) = (LicenseeId::new("shop-a"), LicenseeId::new("shop-b"));
    licensees.add(a.clone(), SHOP_A, "a.shop.example").unwrap();
    licensees.add(b.clone(), SHOP_B, "b.shop.example").unwrap();
    assert_eq!(answered(&licensees, &a).await, LicenseStatus::Licensed);
    assert_eq!(answered(&licensees, &b).await, LicenseStatus::Licensed);
    assert_eq!(handle.bindings(SHOP_A), ["a.shop.example"]);
    assert_eq!(handle.bindings(SHOP_B), ["b.shop.example"]);
    assert!(
        licensees
            .scope(&a, async { check_feature("pro") })
            .await
            .is_ok()
    );

    handle.revoke(SHOP_A);
    licensees.refresh(&a).await;
    licensees.refresh(&b).await;
    assert_eq!(licensees.status(&a), Some(LicenseStatus::Revoked));
    assert!(
        licensees
            .scope(&b, async { check_feature("pro") })
            .await
            .is_ok()
    );

    licensees.remove(&b).await.expect("removed");
    assert!(
        handle.bindings(SHOP_B).is_empty(),
        "shop b's binding released"
    );
    licensees.shutdown().await;
}

/// A store shared by two replicas whose lease only replica A ever gets.
#[derive(Debug, Clone)]
struct LeasedTo {
    store: MemoryStore,
    holder: bool,
}

#[async_trait]
impl license_gate::licensees::LicenseeStore for LeasedTo {
    async fn load_all(
        &self,
    ) -> Result<Vec<license_gate::licensees::StoredRecord>, license_gate::licensees::StoreError>
    {
        self.store.load_all().await
    }
    async fn save(
        &self,
        records: Vec<license_gate::licensees::StoredRecord>,
    ) -> Result<(), license_gate::licensees::StoreError> {
        self.store.save(records).await
    }
    async fn forget(&self, id: &LicenseeId) -> Result<(), license_gate::licensees::StoreError> {
        self.store.forget(id).await
    }
    async fn load(
        &self,
        id: &LicenseeId,
    ) -> Result<Option<license_gate::licensees::StoredRecord>, license_gate::licensees::StoreError>
    {
        self.store.load(id).await
    }
    async fn lease(
        &self,
        _: &LicenseeId,
        _: Duration,
    ) -> Result<bool, license_gate::licensees::StoreError> {
        Ok(self.holder)
    }
}

/// Counts the calls it forwards.
#[derive(Debug)]
struct Counted {
    inner: ExisOneProvider,
    calls: Arc<std::sync::atomic::AtomicUsize>,
}

#[async_trait]
impl Provider for Counted {
    fn name(&self) -> &str {
        "counted"
    }
    async fn validate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.validate(request).await
    }
    async fn activate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.activate(request).await
    }
}

/// Two replicas share a store: the one without the lease never asks the
/// service; it takes what the lease holder learned (a revocation included)
/// from the licensee's record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_without_the_lease_reads_the_holders_record() {
    let (emulator, control) = emulator().await;
    let shared = MemoryStore::new();
    let replica = |holder: bool, calls: Arc<std::sync::atomic::AtomicUsize>| {
        LicenseGate::builder()
            .product(PRODUCT)
            .provider(Counted {
                inner: provider(&emulator.url()),
                calls,
            })
            .vendor_secret(vendor_secret())
            .activate_on_first_use(true)
            .heartbeat_interval(Duration::from_secs(1))
            .install_global(false)
            .licensees()
            .store(LeasedTo {
                store: shared.clone(),
                holder,
            })
            .start()
    };
    let (a_calls, b_calls) = (Arc::default(), Arc::default());
    let a = replica(true, Arc::clone(&a_calls)).await.unwrap();
    let alice = LicenseeId::new("alice");
    a.add(alice.clone(), TEAM_KEY, "user:alice").unwrap();
    assert_eq!(answered(&a, &alice).await, LicenseStatus::Licensed);
    a.flush().await;

    let b = replica(false, Arc::clone(&b_calls)).await.unwrap();
    assert_eq!(
        b.add(alice.clone(), TEAM_KEY, "user:alice").unwrap(),
        LicenseStatus::Licensed,
        "from the holder's record"
    );
    control.revoke(TEAM_KEY);
    a.refresh(&alice).await;
    a.flush().await;
    let mut changes = b.subscribe(&alice).unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        changes.wait_for(|s| s.products[0].status == LicenseStatus::Revoked),
    )
    .await
    .expect("replica B sees the revocation within a heartbeat")
    .unwrap();
    assert!(
        b.scope(&alice, async { check_feature("pro") })
            .await
            .is_err()
    );
    use std::sync::atomic::Ordering::SeqCst;
    assert_eq!(b_calls.load(SeqCst), 0, "replica B never asked the service");
    assert!(
        a_calls.load(SeqCst) >= 3,
        "replica A did (validation, activation, refresh)"
    );
    a.shutdown().await;
    b.shutdown().await;
}
