//! One deadline per provider call: the gate's request timeout bounds the whole
//! call and every HTTP request in it; the client's own `HttpOptions::timeout`
//! applies only outside a gate; a provider that ignores the deadline is still
//! cut off by the gate.
//!
//! The servers are loopback listeners that take connections (the kernel's
//! backlog completes them) and never answer; time is tokio's paused clock.

use license_gate_tests::support;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use license_gate::providers::HttpOptions;
use license_gate::providers::ecosire::{EcosireClient, EcosireOptions, EcosireProvider};
use license_gate::providers::exisone::{ExisOneClient, ExisOneClientOptions, ExisOneProvider};
use license_gate::{
    GateError, LicenseGate, LicenseKey, ProviderError,
    provider::{Deadline, LicenseAnswer, LicenseRequest, Provider},
};
use support::{
    APP_VERSION, ECOSIRE_DOMAIN, ECOSIRE_KEY, ECOSIRE_SECRET, EXISONE_HW, EXISONE_KEY, PRODUCT,
    Service,
};
use tokio::time::Instant;

/// The gate's request timeout in these tests.
const BUDGET: Duration = Duration::from_millis(200);
/// The clients' own timeout, far longer than the gate's budget.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A loopback server that takes connections and never answers, and its URL.
fn silent_server() -> (TcpListener, String) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// The `host:port` the transport names in its errors.
fn host_of(url: &str) -> String {
    url.trim_start_matches("http://").to_owned()
}

fn http(timeout: Duration) -> HttpOptions {
    HttpOptions::new()
        .timeout(timeout)
        .allow_insecure_loopback()
}

fn exisone_options(url: &str, timeout: Duration) -> ExisOneClientOptions {
    ExisOneClientOptions::new(url)
        .access_token(license_gate_testkit::exisone::ExisOneEmulator::TOKEN)
        .hardware_id_override(EXISONE_HW)
        .http(http(timeout))
}

fn ecosire_options(url: &str, timeout: Duration) -> EcosireOptions {
    EcosireOptions::new(url)
        .license_secret(ECOSIRE_SECRET)
        .http(http(timeout))
}

/// The real provider of `service` at `url`, with a 30 s client timeout.
fn provider(service: Service, url: &str) -> Arc<dyn Provider> {
    match service {
        Service::ExisOne => Arc::new(
            ExisOneProvider::from_options(exisone_options(url, CLIENT_TIMEOUT))
                .unwrap()
                .email("buyer@example.com")
                .app_version(APP_VERSION),
        ),
        Service::Ecosire => Arc::new(
            EcosireProvider::from_options(ecosire_options(url, CLIENT_TIMEOUT))
                .unwrap()
                .domain(ECOSIRE_DOMAIN),
        ),
    }
}

async fn gate(service: Service, provider: Arc<dyn Provider>) -> LicenseGate {
    LicenseGate::builder()
        .product(PRODUCT)
        .shared_provider(provider)
        .license_key(service.key())
        .install_global(false)
        .no_cache()
        .vendor_secret(support::vendor_secret())
        .request_timeout(BUDGET)
        .startup_timeout(Duration::from_secs(5))
        .jitter(0.0)
        .start()
        .await
        .expect("the gate starts")
}

/// Whether something connected to `listener` (nothing is accepted otherwise).
fn was_contacted(listener: &TcpListener) -> bool {
    listener.set_nonblocking(true).unwrap();
    listener.accept().is_ok()
}

#[tokio::test(start_paused = true)]
async fn the_gate_reports_the_transports_timeout_at_its_own_deadline() {
    for service in Service::ALL {
        let (listener, url) = silent_server();
        let gate = gate(service, provider(service, &url)).await;

        let started = Instant::now();
        let error = gate.activate().await.unwrap_err();
        let elapsed = started.elapsed();

        // The transport's error (it names the server), with the gate's budget;
        // not the client's 30 s and not the gate's backstop (which names the
        // provider).
        let GateError::Provider(ProviderError::Timeout { host, after }) = &error else {
            panic!("{service}: {error:?}");
        };
        assert_eq!(host, &host_of(&url), "{service}");
        assert_eq!(*after, BUDGET, "{service}");
        assert!(error.to_string().contains("0.2s"), "{service}: {error}");
        assert!(
            elapsed >= BUDGET && elapsed < BUDGET + Duration::from_millis(50),
            "{service}: {elapsed:?}"
        );
        assert!(was_contacted(&listener), "{service}");
        gate.shutdown().await;
    }
}

/// `error` is the transport's timeout for `url` after `timeout`, and it came
/// `timeout` after `started` (give or take the timer's tick).
fn assert_timed_out(error: &ProviderError, url: &str, timeout: Duration, started: Instant) {
    assert_eq!(
        *error,
        ProviderError::Timeout {
            host: host_of(url),
            after: timeout
        }
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= timeout && elapsed < timeout + Duration::from_millis(50),
        "{elapsed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_standalone_client_uses_its_own_timeout() {
    let timeout = Duration::from_millis(300);
    let (_listener, url) = silent_server();

    let exisone = ExisOneClient::new(exisone_options(&url, timeout)).unwrap();
    let started = Instant::now();
    let error = exisone
        .validate(EXISONE_KEY, EXISONE_HW, Some(PRODUCT), None)
        .await
        .unwrap_err();
    assert_timed_out(&error, &url, timeout, started);

    let ecosire = EcosireClient::new(ecosire_options(&url, timeout)).unwrap();
    let started = Instant::now();
    let error = ecosire
        .validate(&LicenseKey::new(ECOSIRE_KEY), ECOSIRE_DOMAIN)
        .await
        .unwrap_err();
    assert_timed_out(&error, &url, timeout, started);
}

#[tokio::test(start_paused = true)]
async fn a_deadline_already_passed_fails_at_once_with_nothing_sent() {
    for service in Service::ALL {
        let (listener, url) = silent_server();
        let provider = provider(service, &url);
        let request = LicenseRequest::new(PRODUCT, Some(LicenseKey::new(service.key())))
            .with_deadline(Deadline::after(BUDGET));
        tokio::time::advance(BUDGET).await;

        let started = Instant::now();
        let error = provider.validate(&request).await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::ZERO, "{service}");
        assert_eq!(
            error,
            ProviderError::Timeout {
                host: host_of(&url),
                after: BUDGET
            },
            "{service}"
        );
        assert!(!was_contacted(&listener), "{service}");
    }
}

/// A provider that never answers and knows nothing of deadlines.
#[derive(Debug)]
struct Deaf;

#[async_trait::async_trait]
impl Provider for Deaf {
    fn name(&self) -> &str {
        "deaf"
    }

    async fn validate(&self, _: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        std::future::pending().await
    }
}

#[tokio::test(start_paused = true)]
async fn a_provider_that_ignores_the_deadline_is_cut_off_by_the_gate() {
    let gate = gate(Service::ExisOne, Arc::new(Deaf)).await;

    let started = Instant::now();
    let error = gate.activate().await.unwrap_err();
    let elapsed = started.elapsed();

    let GateError::Provider(ProviderError::Timeout { host, after }) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(host, "deaf");
    assert_eq!(*after, BUDGET);
    // At the deadline, after the short wait for a provider's own answer.
    assert!(
        elapsed >= BUDGET && elapsed <= BUDGET + Duration::from_millis(100),
        "{elapsed:?}"
    );
    gate.shutdown().await;
}
