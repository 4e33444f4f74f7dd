//! What a gate logs through `tracing` while it activates, validates, meets a
//! fault and is revoked, against both emulators: every state transition
//! (from, to, reason), and never the license key, the access token or the
//! license secret.

use license_gate::Reason;
use license_gate_tests::support;

use license_gate::LicenseStatus;
use license_gate_testkit::Fault;
use support::{Emulated, LogBuffer, Service};

/// The `license state changed` line of the transition `from` -> `to`.
fn transition<'a>(logs: &'a str, from: &str, to: &str) -> Option<&'a str> {
    logs.lines().find(|line| {
        line.contains("license state changed")
            && line.contains(&format!("from=\"{from}\""))
            && line.contains(&format!("to=\"{to}\""))
    })
}

#[tokio::test]
async fn the_logs_show_every_transition_and_no_secret() {
    let logs = LogBuffer::default();
    let _capture = logs.capture();
    for service in Service::ALL {
        logs.clear();
        // An ExisOne license not yet activated on this machine.
        let emulated = Emulated::start_with(service, false).await;
        let faults = emulated.faults();
        let gate = emulated
            .builder()
            .start()
            .await
            .unwrap_or_else(|e| panic!("{service}: the gate did not start: {e}"));
        let mut expected = Vec::new();
        match service {
            Service::ExisOne => {
                assert_eq!(
                    gate.status(),
                    LicenseStatus::Unlicensed {
                        reason: Reason::NotActivated
                    },
                    "{service}: not activated yet, and the status says how to activate"
                );
                gate.activate()
                    .await
                    .unwrap_or_else(|e| panic!("{service}: activation failed: {e}"));
                expected.extend([("pending", "unlicensed"), ("unlicensed", "licensed")]);
            }
            // The first validation activates.
            Service::Ecosire => expected.push(("pending", "licensed")),
        }
        assert_eq!(
            gate.status(),
            LicenseStatus::Licensed,
            "{service}: activated"
        );
        gate.refresh().await;
        assert_eq!(
            gate.status(),
            LicenseStatus::Licensed,
            "{service}: validated"
        );

        faults.fail_next(1, 503);
        gate.refresh().await;
        assert!(
            matches!(gate.status(), LicenseStatus::Grace { .. }),
            "{service}: a 503 starts grace, got {}",
            gate.status()
        );
        emulated.revoke();
        gate.refresh().await;
        assert_eq!(gate.status(), LicenseStatus::Revoked, "{service}: revoked");
        expected.extend([("licensed", "grace"), ("grace", "revoked")]);
        gate.shutdown().await;

        let text = logs.text();
        for (from, to) in expected {
            let line = transition(&text, from, to).unwrap_or_else(|| {
                panic!(
                    "{service}: no log line for the transition {from} -> {to}; the logs:\n{text}"
                )
            });
            assert!(
                line.contains("reason=") && line.contains("INFO"),
                "{service}: the transition {from} -> {to} should be an INFO line with its reason: {line}"
            );
        }
        assert!(
            text.lines()
                .any(|l| l.contains("WARN") && l.contains("license validation failed")),
            "{service}: the failed validation should be a warning; the logs:\n{text}"
        );
        assert!(
            text.contains("reason=license revoked"),
            "{service}: the revocation's reason should be logged; the logs:\n{text}"
        );

        let lower = text.to_ascii_lowercase();
        let key = service.key();
        let secrets = [
            ("the license key", key.to_owned()),
            ("the license key without dashes", key.replace('-', "")),
            (
                "the access token / license secret",
                service.credential().to_owned(),
            ),
        ];
        for (what, secret) in secrets {
            assert!(
                !lower.contains(&secret.to_ascii_lowercase()),
                "{service}: {what} appears in the logs:\n{text}"
            );
        }
    }
}

/// Replies a real server might send that carry the license key back: a
/// validation reply with a field of an unexpected type (the key is echoed in
/// `license.key`), a server error that quotes the key, and an explicit
/// refusal that names it. The gate keeps working and neither its logs nor
/// its state show the key.
#[tokio::test]
async fn replies_that_echo_the_key_do_not_put_it_in_the_logs_or_the_state() {
    let logs = LogBuffer::default();
    let _capture = logs.capture();
    for service in Service::ALL {
        logs.clear();
        let key = service.key();
        let emulated = Emulated::start(service).await;
        let faults = emulated.faults();
        let gate = emulated.builder().start().await.unwrap();
        assert_eq!(
            gate.status(),
            LicenseStatus::Licensed,
            "{service}: licensed at start"
        );

        let malformed = match service {
            Service::ExisOne => format!(
                r#"{{"isValid": true, "status": "licensed", "activationKey": "{key}", "features": "pro"}}"#
            ),
            Service::Ecosire => format!(
                r#"{{"valid": true, "license": {{"key": "{key}", "status": "active", "activationsLimit": "three"}}}}"#
            ),
        };
        let server_error =
            format!(r#"{{"statusCode": 500, "message": "validation of {key} failed"}}"#);
        let refusal = format!(
            r#"{{"statusCode": 400, "error": "invalid_request", "message": "the key {} is not valid here"}}"#,
            key.to_ascii_lowercase()
        );
        for (what, status, body, transient) in [
            ("a malformed reply", 200, malformed, true),
            ("a server error", 500, server_error, true),
            ("a refusal", 400, refusal, false),
        ] {
            faults.inject_next(1, Fault::Reply(status, body));
            gate.refresh().await;
            let state = gate.product_state();
            assert_eq!(
                matches!(state.status, LicenseStatus::Grace { .. }),
                transient,
                "{service} / {what}: unexpected status {}",
                state.status
            );
            assert!(
                !state
                    .status
                    .to_string()
                    .to_ascii_lowercase()
                    .contains(&key.to_ascii_lowercase()),
                "{service} / {what}: the status shows the license key: {}",
                state.status
            );
            // Back to a confirmed license for the next reply.
            gate.refresh().await;
            assert_eq!(
                gate.status(),
                LicenseStatus::Licensed,
                "{service} / {what}: a good answer restores the license"
            );
        }
        gate.shutdown().await;

        let text = logs.text();
        assert!(
            text.contains("license validation failed"),
            "{service}: the failures should be logged; the logs:\n{text}"
        );
        assert!(
            !text
                .to_ascii_lowercase()
                .contains(&key.to_ascii_lowercase()),
            "{service}: the license key appears in the logs:\n{text}"
        );
    }
}
