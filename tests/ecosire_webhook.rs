//! ECOSIRE webhooks as a nudge: a delivery about the gate's license makes it
//! validate at once (a revocation is seen within a second), and a forged or
//! replayed delivery costs at most one validation.

use license_gate_tests::support;

use std::time::Duration;

use license_gate::providers::ecosire::EcosireProvider;
use license_gate::providers::ecosire::webhook::{EcosireWebhook, WEBHOOK_SIGNATURE_HEADER};
use license_gate::{LicenseGate, LicenseStatus};
use license_gate_testkit::ecosire::EcosireEmulator;
use support::ecosire::{KEY, emulator, options};

async fn start_gate(emulator: &EcosireEmulator) -> LicenseGate {
    let provider = EcosireProvider::from_options(options(emulator))
        .unwrap()
        .domain("shop.example")
        .features(["pro"]);
    LicenseGate::builder()
        .product("Shop Booster")
        .provider(provider)
        .license_key(KEY)
        // The heartbeat stays out of the way: only the webhook validates.
        .heartbeat_interval(Duration::from_secs(24 * 3600))
        .jitter(0.0)
        .install_global(false)
        .no_cache()
        .start()
        .await
        .expect("the gate starts")
}

/// Serves `webhook` at `/hooks/ecosire` on a loopback port; returns the address.
async fn serve(webhook: EcosireWebhook) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().route_service("/hooks/ecosire", webhook);
    tokio::spawn(async move { axum::serve(listener, app).await });
    address.to_string()
}

fn envelope(event: &str, key: &str) -> String {
    serde_json::json!({
        "id": "evt_0001",
        "event": event,
        "createdAt": "2026-12-06T10:00:00Z",
        "data": { "key": key },
    })
    .to_string()
}

/// POSTs `body` to `address` (`host:port`) over plain HTTP/1.1 with `headers`;
/// returns the status code and the reply's body.
async fn post_with(address: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut request = format!(
        "POST /hooks/ecosire HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("an HTTP status line");
    let body = reply.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, body.to_owned())
}

async fn post(address: &str, body: String) -> (u16, String) {
    post_with(
        address,
        &[
            ("x-ecosire-event", "license.revoked"),
            ("x-ecosire-delivery", "dlv_0001"),
        ],
        &body,
    )
    .await
}

fn validations(emulator: &EcosireEmulator) -> usize {
    emulator
        .handle()
        .requests()
        .iter()
        .filter(|r| r.path == "/api/licenses/validate")
        .count()
}

/// Waits (at most `within`) until the gate's status is `wanted`.
async fn status_becomes(gate: &LicenseGate, wanted: LicenseStatus, within: Duration) -> bool {
    let mut updates = gate.subscribe();
    tokio::time::timeout(within, async {
        loop {
            if gate.status() == wanted {
                return;
            }
            if updates.changed().await.is_err() {
                return;
            }
        }
    })
    .await
    .is_ok()
        && gate.status() == wanted
}

#[tokio::test]
async fn a_revocation_webhook_is_seen_within_a_second() {
    let emulator = emulator().await;
    let gate = start_gate(&emulator).await;
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    let address = serve(EcosireWebhook::new(gate.clone())).await;

    emulator.handle().revoke(KEY);
    // The key in another spelling still names this gate's license.
    let (status, _) = post(&address, envelope("license.revoked", &KEY.to_lowercase())).await;
    assert_eq!(status, 202);
    assert!(
        status_becomes(&gate, LicenseStatus::Revoked, Duration::from_secs(1)).await,
        "the gate still says {:?} a second after the webhook",
        gate.status()
    );
}

#[tokio::test]
async fn the_webhook_body_never_changes_the_state_by_itself() {
    let emulator = emulator().await;
    let gate = start_gate(&emulator).await;
    let address =
        serve(EcosireWebhook::new(gate.clone()).min_interval(Duration::from_secs(3600))).await;
    let before = validations(&emulator);

    // A forged "revoked" about a license the server still holds as active:
    // the gate asks the server, which confirms it, and nothing else changes.
    let mut updates = gate.subscribe();
    let confirmed = gate.product_state().last_confirmed;
    let (status, _) = post(&address, envelope("license.revoked", KEY)).await;
    assert_eq!(status, 202);
    tokio::time::timeout(Duration::from_secs(5), updates.changed())
        .await
        .expect("the webhook's validation is published")
        .unwrap();
    assert_eq!(gate.status(), LicenseStatus::Licensed);
    assert!(gate.product_state().last_confirmed >= confirmed);
    assert_eq!(validations(&emulator), before + 1);
}

#[tokio::test]
async fn replayed_deliveries_cost_at_most_one_validation_per_window() {
    let emulator = emulator().await;
    let gate = start_gate(&emulator).await;
    let address =
        serve(EcosireWebhook::new(gate.clone()).min_interval(Duration::from_secs(3600))).await;
    let before = validations(&emulator);

    emulator.handle().revoke(KEY);
    let mut messages = Vec::new();
    for _ in 0..5 {
        let (status, message) = post(&address, envelope("license.revoked", KEY)).await;
        assert_eq!(status, 202);
        messages.push(message);
    }
    assert!(
        messages[0].contains("validating the license now"),
        "{}",
        messages[0]
    );
    assert!(messages[1].contains("queued"), "{}", messages[1]);
    for message in &messages[2..] {
        assert!(message.contains("already queued"), "{message}");
    }
    assert!(status_becomes(&gate, LicenseStatus::Revoked, Duration::from_secs(5)).await);
    // One validation now; the queued one waits for the end of the hour.
    assert_eq!(validations(&emulator), before + 1);
}

#[tokio::test]
async fn deliveries_about_other_licenses_or_badly_signed_validate_nothing() {
    let emulator = emulator().await;
    let gate = start_gate(&emulator).await;
    let address = serve(
        EcosireWebhook::new(gate.clone()).verify_with(|headers, _body| {
            headers
                .get(WEBHOOK_SIGNATURE_HEADER)
                .is_some_and(|value| value == "the vendor's scheme")
        }),
    )
    .await;
    let before = validations(&emulator);

    // Unsigned: refused before anything else is read.
    let (status, message) = post(&address, envelope("license.revoked", KEY)).await;
    assert_eq!(status, 401, "{message}");
    assert!(message.contains("signature"), "{message}");

    let signed = |body: String| {
        let address = address.clone();
        async move {
            post_with(
                &address,
                &[(WEBHOOK_SIGNATURE_HEADER, "the vendor's scheme")],
                &body,
            )
            .await
        }
    };
    let (status, message) = signed(envelope("license.revoked", "ECO-ZZZZ-ZZZZ-ZZZZ")).await;
    assert_eq!(status, 200, "{message}");
    assert!(message.contains("does not hold"), "{message}");

    let (status, message) = signed("<html>403 Forbidden</html>".to_owned()).await;
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("not JSON"), "{message}");

    // None of these reached the server (each was answered before any
    // validation was started).
    assert_eq!(validations(&emulator), before);
    assert_eq!(gate.status(), LicenseStatus::Licensed);
}
