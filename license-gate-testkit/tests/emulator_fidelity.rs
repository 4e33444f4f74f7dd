//! Where the emulators must behave as the real services do for every SDK:
//! a key binds to the first machine that activates it, another machine
//! cannot deactivate it, the seat-limit reply keeps the service's message,
//! and instants carry at most seven fractional digits.

use std::time::{Duration, SystemTime};

use license_gate_runtime::providers::HttpOptions;
use license_gate_runtime::providers::exisone::{ExisOneClient, ExisOneClientOptions};
use license_gate_runtime::{LicenseKey, ProviderError};
use license_gate_testkit::ecosire::{EcosireEmulator, EmulatedLicense as EcosireLicense};
use license_gate_testkit::exisone::{EmulatedLicense, ExisOneControl, ExisOneEmulator};
use license_gate_testkit::instant::format_instant;

const KEY: &str = "ATLS-7Q2M-K9PD-X4RW";
const PRODUCT: &str = "Atlas Studio";
const HW: &str = "HW-TEST-0001";
const EMAIL: &str = "buyer@example.com";

/// Options for a client of the ExisOne emulator at `url`, as the machine `HW`.
fn options(url: &str) -> ExisOneClientOptions {
    ExisOneClientOptions::new(url)
        .access_token(ExisOneEmulator::TOKEN)
        .hardware_id_override(HW)
        .http(
            HttpOptions::new()
                .timeout(Duration::from_secs(5))
                .allow_insecure_loopback(),
        )
}

fn client(url: &str) -> ExisOneClient {
    ExisOneClient::new(options(url)).expect("valid client options")
}

/// An ExisOne emulator holding the standard test license.
async fn emulator() -> (ExisOneEmulator, ExisOneControl) {
    let emulator = ExisOneEmulator::start().await.expect("emulator starts");
    let control = emulator.control();
    control.add_license(EmulatedLicense::new(KEY, PRODUCT).features(["pro", "export"]));
    (emulator, control)
}

/// The number of fractional digits of an RFC 3339 instant (0 without a fraction).
fn fraction_digits(text: &str) -> usize {
    match text.split_once('.') {
        Some((_, rest)) => rest.chars().take_while(char::is_ascii_digit).count(),
        None => 0,
    }
}

#[test]
fn instants_have_at_most_seven_fractional_digits() {
    let base = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    for nanos in [0u32, 1, 99, 100, 952_612_769, 999_999_999] {
        let text = format_instant(base + Duration::from_nanos(u64::from(nanos)));
        assert!(fraction_digits(&text) <= 7, "{text}");
        assert!(text.ends_with('Z'), "{text}");
    }
    assert_eq!(
        format_instant(base + Duration::from_nanos(952_612_769)),
        "2027-01-15T08:00:00.9526127Z"
    );
    assert_eq!(format_instant(base), "2027-01-15T08:00:00Z");
}

#[tokio::test]
async fn exisone_binds_to_the_first_machine_and_refuses_deactivation_from_another() {
    let (emulator, control) = emulator().await;
    let first = client(&emulator.url());
    // Not bound to anything before the first activation.
    assert!(control.activations(KEY).is_empty());
    let answer = first.validate(KEY, HW, Some(PRODUCT), None).await.unwrap();
    assert_eq!(answer.status, "not_activated");

    first
        .activate(KEY, EMAIL, HW, PRODUCT, None)
        .await
        .expect("the first machine activates");
    assert_eq!(control.activations(KEY), vec![HW.to_owned()]);

    // A second machine finds the one seat taken, with the service's own words.
    let other = license_gate_runtime::providers::exisone::ExisOneClient::new(
        options(&emulator.url()).hardware_id_override("HW-OTHER"),
    )
    .unwrap();
    let err = other
        .activate(KEY, EMAIL, "HW-OTHER", PRODUCT, None)
        .await
        .unwrap_err();
    match &err {
        ProviderError::ActivationLimitReached { message, .. } => {
            assert_eq!(message.as_deref(), Some("All seats are in use (1 of 1)"));
        }
        other => panic!("expected the activation limit, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("the server says \"All seats are in use (1 of 1)\""),
        "{err}"
    );
    let last = control.last_request().unwrap();
    assert_eq!(last.path, "/api/license/activate");

    // Deactivating from the other machine is refused and frees nothing.
    let err = other
        .deactivate(KEY, "HW-OTHER", PRODUCT)
        .await
        .unwrap_err();
    match &err {
        ProviderError::Refused { status, code, .. } => {
            assert_eq!(*status, 400);
            assert_eq!(code.as_deref(), Some("hardware_mismatch"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(control.activations(KEY), vec![HW.to_owned()]);

    // The machine that holds the seat frees it.
    first.deactivate(KEY, HW, PRODUCT).await.unwrap();
    assert!(control.activations(KEY).is_empty());
}

#[tokio::test]
async fn exisone_expiry_is_written_with_at_most_seven_digits() {
    let (emulator, control) = emulator().await;
    let odd = SystemTime::now() + Duration::new(86_400, 123_456_789);
    control.add_license(
        EmulatedLicense::new("ODDS-AAAA-BBBB-CCCC", PRODUCT)
            .expires_at(odd)
            .activated_on(HW),
    );
    client(&emulator.url())
        .validate("ODDS-AAAA-BBBB-CCCC", HW, Some(PRODUCT), None)
        .await
        .unwrap();
    let reply = reqwest_free_body(&emulator.url(), "ODDS-AAAA-BBBB-CCCC").await;
    let text = reply["expirationDate"].as_str().expect("an expiry");
    assert!(fraction_digits(text) <= 7, "{text}");
    assert!(fraction_digits(text) > 0, "{text}");
}

/// The raw JSON of a validate reply, read over a plain TCP connection so the
/// test sees the text the emulator wrote, not the client's parse of it.
async fn reqwest_free_body(url: &str, key: &str) -> serde_json::Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let body = serde_json::json!({ "activationKey": key, "hardwareId": HW }).to_string();
    let request = format!(
        "POST /api/license/validate HTTP/1.1\r\nHost: {addr}\r\nAuthorization: ExisOneApi {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        license_gate_testkit::exisone::ExisOneEmulator::TOKEN,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8_lossy(&raw);
    let (_, json) = raw.split_once("\r\n\r\n").expect("a body");
    serde_json::from_str(json.trim()).expect("a JSON body")
}

#[tokio::test]
async fn ecosire_expiry_is_written_with_at_most_seven_digits() {
    let emulator = EcosireEmulator::start().await.unwrap();
    let odd = SystemTime::now() + Duration::new(86_400, 987_654_321);
    emulator
        .handle()
        .add_license(EcosireLicense::new("SHOP-A1B2-C3D4-E5F6-G7H8", "secret").expires_at(odd));
    let client = license_gate_runtime::providers::ecosire::EcosireClient::new(
        license_gate_runtime::providers::ecosire::EcosireOptions::new(emulator.url())
            .license_secret("secret")
            .http(license_gate_runtime::transport::HttpOptions::new().allow_insecure_loopback()),
    )
    .unwrap();
    // The emulator's reply is not logged; format the same instant the way
    // the validate route does and check the client read back exactly that.
    let text = format_instant(odd);
    assert!(fraction_digits(&text) <= 7, "{text}");
    let answer = client
        .validate(&LicenseKey::new("SHOP-A1B2-C3D4-E5F6-G7H8"), "shop.example")
        .await
        .unwrap();
    let expires = answer.license.unwrap().expires_at.unwrap();
    let back = license_gate_runtime::time::parse_iso8601(&text).unwrap();
    assert_eq!(expires, back);
    assert_ne!(expires, odd, "the nanoseconds beyond 100 ns are dropped");
}
