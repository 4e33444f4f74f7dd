//! Statuses and errors that say why, read without any tracing subscriber:
//! what `start()` waits for when the server cannot be reached, what a
//! pending status says, and that a denial names one remedy, the right one.
//! Also: `shutdown()` returns while a call is in flight, and the handle works
//! from outside any tokio runtime.
//!
//! Servers are loopback: a port nothing listens on (connections are
//! refused), a listener that takes connections and never answers, and the
//! ExisOne emulator. Time is tokio's paused clock wherever a test waits.

use license_gate_tests::support;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use license_gate::providers::HttpOptions;
use license_gate::providers::exisone::{ExisOneClientOptions, ExisOneProvider};
use license_gate::{LicenseGate, LicenseStatus, ProviderError, Reason};
use license_gate_testkit::exisone::ExisOneEmulator;
use support::exisone::{EMAIL, HW, KEY, PRODUCT, emulator};
use tokio::time::Instant;

/// A loopback URL on which every connection is refused: a port that was
/// bound and let go.
fn refusing_url() -> String {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// A loopback server that takes connections and never answers, and its URL.
fn silent_server() -> (TcpListener, String) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

fn exisone(url: &str, token: &str) -> ExisOneProvider {
    ExisOneProvider::from_options(
        ExisOneClientOptions::new(url)
            .access_token(token)
            .hardware_id_override(HW)
            .http(
                HttpOptions::new()
                    .timeout(Duration::from_secs(5))
                    .allow_insecure_loopback(),
            ),
    )
    .expect("valid options")
    .email(EMAIL)
}

#[tokio::test(start_paused = true)]
async fn start_keeps_trying_a_refused_server_for_the_startup_timeout_and_says_why() {
    let url = refusing_url();
    let host = url.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let real = std::time::Instant::now();
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(exisone(&url, ExisOneEmulator::TOKEN))
        .license_key(KEY)
        .install_global(false)
        .no_cache()
        .startup_timeout(Duration::from_secs(5))
        .start()
        .await
        .expect("the gate starts");
    let waited = started.elapsed();
    println!(
        "start() with a refused server returned after {waited:?} of the gate's clock ({:?} of real time)",
        real.elapsed()
    );
    // Attempts go on through the start-up timeout, as the lifecycle guide
    // says (at 0, 0.25, 0.75, 1.75, 2.75, 3.75 and 4.75 s; the next would
    // start after it), not only the first refusal's few milliseconds.
    assert_eq!(waited, Duration::from_millis(4750));

    let status = gate.status();
    match &status {
        LicenseStatus::Pending {
            reason: reason @ Reason::NoAnswer { .. },
        } => assert!(
            matches!(
                reason.provider_error(),
                Some(ProviderError::Unreachable { .. })
            ),
            "{reason:?}"
        ),
        other => panic!("expected pending with the last attempt's failure, got {other:?}"),
    }
    let text = status.to_string();
    assert!(
        text.starts_with(&format!(
            "license check pending: could not reach the license server at {host}: "
        )) && text.ends_with("; check the network connection"),
        "{text}"
    );
    let denial = gate.check_feature("pro").unwrap_err();
    assert_eq!(
        denial.to_string(),
        format!("{PRODUCT} is not licensed for `pro`: {text}")
    );
    gate.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn an_explicit_answer_ends_the_wait_at_once() {
    let (emulator, control) = emulator().await;
    control.remove_license(KEY);
    let started = Instant::now();
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(exisone(&emulator.url(), ExisOneEmulator::TOKEN))
        .license_key(KEY)
        .install_global(false)
        .no_cache()
        .start()
        .await
        .expect("the gate starts");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(gate.status(), LicenseStatus::Invalid { .. }),
        "{:?}",
        gate.status()
    );
    // A wrong key: the remedy once.
    let denial = gate.check_feature("pro").unwrap_err().to_string();
    assert_eq!(
        denial.matches("check the license key").count(),
        1,
        "one remedy: {denial}"
    );
    gate.shutdown().await;
}

#[tokio::test]
async fn a_wrong_access_token_says_access_token_not_license_key() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(exisone(&emulator.url(), "not-the-token"))
        .license_key(KEY)
        .install_global(false)
        .no_cache()
        .startup_timeout(Duration::from_secs(5))
        .start()
        .await
        .expect("the gate starts");
    let status = gate.status();
    assert!(
        matches!(
            status.reason().and_then(Reason::provider_error),
            Some(ProviderError::PermissionDenied { .. })
        ),
        "{status:?}"
    );
    for text in [
        status.to_string(),
        gate.check_feature("pro").unwrap_err().to_string(),
    ] {
        assert!(text.contains("access token"), "{text}");
        assert!(!text.contains("check the license key"), "{text}");
        assert!(!text.contains("check the connection"), "{text}");
    }
    gate.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_cache_without_a_vendor_secret_says_so_in_the_status() {
    let (emulator, control) = emulator().await;
    control.bind(KEY, HW);
    let dir = tempfile::tempdir().unwrap();
    let builder = |url: &str| {
        LicenseGate::builder()
            .product(PRODUCT)
            .provider(exisone(url, ExisOneEmulator::TOKEN))
            .license_key(KEY)
            .install_global(false)
            .hardware_id(HW)
            .cache_dir(dir.path())
            .startup_timeout(Duration::from_secs(1))
    };
    let gate = builder(&emulator.url()).start().await.unwrap();
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    gate.shutdown().await;

    // The server gone: the cache is there, but without a vendor secret it
    // grants nothing, and the status says both why it waits and why the
    // cache does not bridge the wait.
    let gate = builder(&refusing_url()).start().await.unwrap();
    let status = gate.status();
    let text = status.to_string();
    assert!(
        matches!(
            &status,
            LicenseStatus::Pending {
                reason: Reason::NoAnswer { .. }
            }
        ),
        "{status:?}"
    );
    assert!(
        text.contains("could not reach the license server"),
        "{text}"
    );
    assert!(
        text.contains(
            "the license cache does not grant on its own: it was written without a vendor secret"
        ),
        "{text}"
    );
    gate.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_returns_at_once_while_a_call_hangs() {
    let (_listener, url) = silent_server();
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .shared_provider(Arc::new(exisone(&url, ExisOneEmulator::TOKEN)))
        .license_key(KEY)
        .install_global(false)
        .no_cache()
        .request_timeout(Duration::from_secs(60))
        .startup_timeout(Duration::from_secs(1))
        .start()
        .await
        .expect("the gate starts");
    // The first validation is still waiting for the silent server.
    assert!(matches!(gate.status(), LicenseStatus::Pending { .. }));
    let subscriber = gate.subscribe();
    let asked = Instant::now();
    gate.shutdown().await;
    let took = asked.elapsed();
    println!("shutdown() with a call in flight took {took:?} of the gate's clock");
    assert!(
        took < Duration::from_secs(1),
        "shutdown waited for the hung call: {took:?}"
    );
    assert_eq!(
        subscriber.borrow().products[0].status,
        LicenseStatus::Unlicensed {
            reason: Reason::GateShutDown
        }
    );
}

/// Runs `future` to completion on this thread, with no tokio runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

#[test]
fn the_handle_works_outside_any_tokio_runtime() {
    let (provider, mock) = license_gate::providers::mock::MockProvider::licensed(["pro"]);
    let gate = LicenseGate::builder()
        .product(PRODUCT)
        .provider(provider)
        .install_global(false)
        .no_cache()
        .start_blocking()
        .expect("the gate starts on its own runtime");
    assert!(gate.has_feature("pro"));
    mock.revoke();
    // Called from a thread with no tokio runtime, driven by another executor.
    let snapshot = block_on(gate.refresh());
    assert_eq!(snapshot.products[0].status, LicenseStatus::Revoked);
    mock.restore();
    let snapshot = block_on(gate.activate()).expect("activates");
    assert!(snapshot.products[0].status.grants_access());
    block_on(gate.shutdown());
}
