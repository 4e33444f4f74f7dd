//! The ECOSIRE client against the emulator over real HTTP: exact requests,
//! every reply shape, status and error.

use license_gate_tests::support;
use support::key_letters;

use std::time::{Duration, SystemTime};

use license_gate::LicenseKey;
use license_gate::ProviderError;
use license_gate::providers::ecosire::__private::{CODE_EXPIRED, CODE_REVOKED, CODE_SUSPENDED};
use license_gate::providers::ecosire::{EcosireClient, EcosireStatus};
use license_gate_testkit::ecosire::{EmulatedLicense, EmulatedStatus, RateLimits};
use license_gate_testkit::{Fault, TestCertificate};
use serde_json::json;
use support::ecosire::{
    FixedClock, KEY, OffClock, SECRET, client, emulator, emulator_with, options,
};

fn key() -> LicenseKey {
    LicenseKey::new(KEY)
}

/// Ten years: lets requests stamped at the vectors' fixed instants through.
const ANY_TIME: Duration = Duration::from_secs(10 * 365 * 86_400);

#[tokio::test]
async fn each_endpoint_sends_the_signed_vector_request() {
    let emulator = emulator().await;
    let handle = emulator.handle();
    handle.set_timestamp_tolerance(ANY_TIME);
    // Vector case 1: secret `test-secret`, 2026-01-01T00:00:00Z. A client
    // learns the server's time from each reply, so each endpoint gets a new
    // client whose first request is stamped by its clock alone.
    let client = || {
        EcosireClient::new(options(&emulator).clock(FixedClock::at_unix(1_767_225_600))).unwrap()
    };
    let domain = "mystore.myshopify.com";
    client().validate(&key(), domain).await.unwrap();
    client().activate(&key(), domain).await.unwrap();
    client().deactivate(&key(), domain).await.unwrap();

    let requests = handle.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/licenses/validate",
            "/api/licenses/activate",
            "/api/licenses/deactivate"
        ]
    );
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            request.body_text(),
            r#"{"domain":"mystore.myshopify.com","key":"SHOP-A1B2-C3D4-E5F6-G7H8","timestamp":"1767225600"}"#
        );
        assert_eq!(
            request.header("x-ecosire-signature"),
            Some("cb73196f2eed4234fb1eaaf911ec14902d00772b6342d85ee4487f4ef3c002f5")
        );
    }
}

#[tokio::test]
async fn platform_fields_are_sent_and_signed() {
    let emulator = emulator().await;
    emulator.handle().set_timestamp_tolerance(ANY_TIME);
    // Vector case 4: platform and platform_version.
    let client = EcosireClient::new(
        options(&emulator)
            .clock(FixedClock::at_unix(1_800_000_000))
            .platform("odoo", "18.0"),
    )
    .unwrap();
    let reply = client.validate(&key(), "a.example").await.unwrap();
    let license = reply.license.unwrap();
    assert_eq!(license.platform.as_deref(), Some("odoo"));
    assert_eq!(license.platform_version.as_deref(), Some("18.0"));
    let request = emulator.handle().last_request().unwrap();
    assert_eq!(
        request.body_text(),
        r#"{"domain":"a.example","key":"SHOP-A1B2-C3D4-E5F6-G7H8","platform":"odoo","platform_version":"18.0","timestamp":"1800000000"}"#
    );
    assert_eq!(
        request.header("x-ecosire-signature"),
        Some("bfa095b97971797b29aae5c445a3aa7abc1d22a82f5cd9218dd1266fad32362b")
    );

    // Vector case 5: odoo_version alone.
    let client = EcosireClient::new(
        options(&emulator)
            .clock(FixedClock::at_unix(1_800_000_001))
            .odoo_version("17"),
    )
    .unwrap();
    client.validate(&key(), "Z.example").await.unwrap();
    let request = emulator.handle().last_request().unwrap();
    assert_eq!(
        request.body_text(),
        r#"{"domain":"Z.example","key":"SHOP-A1B2-C3D4-E5F6-G7H8","odoo_version":"17","timestamp":"1800000001"}"#
    );
    assert_eq!(
        request.header("x-ecosire-signature"),
        Some("209766d5d43d5fe2350b1fd4dbcbd4993ce1b7eb05551b0ab209030743aeba75")
    );
}

#[tokio::test]
async fn lower_case_keys_are_sent_upper_case_and_bad_keys_send_nothing() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let reply = client
        .validate(&LicenseKey::new("shop-a1b2-c3d4-e5f6-g7h8"), "shop.example")
        .await
        .unwrap();
    assert!(reply.valid);
    assert_eq!(
        emulator.handle().last_request().unwrap().field("key"),
        Some(KEY)
    );
    emulator.handle().clear_requests();

    let err = client
        .validate(&LicenseKey::new("SHOP-A1B2-C3D4-E5F6-G7H"), "shop.example")
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::InvalidKey(_)), "{err:?}");
    assert!(
        err.to_string().contains("group 4 has 3 characters"),
        "{err}"
    );
    assert!(emulator.handle().requests().is_empty());
    assert_eq!(emulator.handle().faults().requests(), 1);
}

#[tokio::test]
async fn timestamps_come_from_the_clock_at_send_time() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let before = unix_now();
    client.validate(&key(), "shop.example").await.unwrap();
    let after = unix_now();
    let sent: u64 = emulator
        .handle()
        .last_request()
        .unwrap()
        .field("timestamp")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (before..=after).contains(&sent),
        "{before} <= {sent} <= {after}"
    );
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn validate_reports_every_status_in_both_shapes() {
    let expiry = SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800); // 2100-01-01
    let emulator = emulator_with(
        EmulatedLicense::new(KEY, SECRET)
            .activation_limit(3)
            .expires_at(expiry),
    )
    .await;
    let handle = emulator.handle();
    handle.bind(KEY, "other.example");
    let client = client(&emulator);
    let cases = [
        (EmulatedStatus::Active, EcosireStatus::Active, true, None),
        (
            EmulatedStatus::Expired,
            EcosireStatus::Expired,
            false,
            Some("License expired"),
        ),
        (
            EmulatedStatus::Suspended,
            EcosireStatus::Suspended,
            false,
            Some("License suspended"),
        ),
        (
            EmulatedStatus::Revoked,
            EcosireStatus::Revoked,
            false,
            Some("License revoked"),
        ),
    ];
    for wrapped in [false, true] {
        handle.set_wrapped_replies(wrapped);
        for (set, expected, valid, message) in &cases {
            handle.set_status(KEY, *set);
            let reply = client.validate(&key(), "shop.example").await.unwrap();
            assert_eq!(reply.valid, *valid, "{set:?} wrapped={wrapped}");
            assert_eq!(reply.message.as_deref(), *message);
            let license = reply.license.clone().unwrap();
            assert_eq!(license.status.as_ref(), Some(expected));
            assert_eq!(license.key.as_ref().map(|k| k.expose()), Some(KEY));
            assert_eq!(license.expires_at, Some(expiry));
            assert_eq!(license.activations_count, Some(1));
            assert_eq!(license.activations_limit, Some(3));
        }
    }
}

#[tokio::test]
async fn a_past_expiry_reads_as_expired() {
    let emulator = emulator_with(
        EmulatedLicense::new(KEY, SECRET).expires_at(SystemTime::now() - Duration::from_secs(60)),
    )
    .await;
    let reply = client(&emulator)
        .validate(&key(), "shop.example")
        .await
        .unwrap();
    assert!(!reply.valid);
    assert_eq!(reply.status(), Some(&EcosireStatus::Expired));
}

#[tokio::test]
async fn explicit_errors_in_both_shapes() {
    let emulator = emulator().await;
    let handle = emulator.handle();
    let good = client(&emulator);
    let wrong_secret =
        EcosireClient::new(options(&emulator).license_secret("not-the-secret")).unwrap();
    let skewed = EcosireClient::new(
        options(&emulator).clock(FixedClock(SystemTime::now() - Duration::from_secs(3600))),
    )
    .unwrap();
    let unknown = LicenseKey::new("SHOP-ZZZZ-ZZZZ-ZZZZ-ZZZZ");

    for wrapped in [false, true] {
        handle.set_wrapped_replies(wrapped);
        handle.restore(KEY);

        let err = good.validate(&unknown, "shop.example").await.unwrap_err();
        assert_eq!(
            err,
            ProviderError::NotFound {
                message: "License not found".into()
            }
        );
        assert!(!err.is_transient());

        let err = wrong_secret
            .validate(&key(), "shop.example")
            .await
            .unwrap_err();
        assert_eq!(
            err,
            ProviderError::PermissionDenied {
                status: 401,
                message: "Invalid signature".into()
            }
        );
        // The vendor's secret, not the user's license: transient.
        assert!(err.is_transient() && err.is_credentials_fault());
        assert!(!err.to_string().contains("not-the-secret"));
        assert!(err.to_string().contains("license secret"), "{err}");

        // A clock an hour behind is refused once, then corrected from the
        // refusal's `Date`.
        let reply = skewed.validate(&key(), "shop.example").await.unwrap();
        assert!(reply.valid);

        for (status, code) in [
            (EmulatedStatus::Suspended, CODE_SUSPENDED),
            (EmulatedStatus::Revoked, CODE_REVOKED),
            (EmulatedStatus::Expired, CODE_EXPIRED),
        ] {
            handle.set_status(KEY, status);
            let err = good.activate(&key(), "shop.example").await.unwrap_err();
            assert!(
                matches!(&err, ProviderError::Refused { status: 403, code: Some(c), .. } if c == code),
                "{err:?}"
            );
            assert!(!err.is_transient());
        }
    }
}

#[tokio::test]
async fn injected_statuses_and_broken_replies() {
    let emulator = emulator().await;
    let faults = emulator.handle().faults();
    let client = client(&emulator);
    let the_key = key();
    let validate = || client.validate(&the_key, "shop.example");

    for (status, transient) in [
        (400, false),
        (403, true),
        (404, true),
        (409, false),
        (422, false),
        (500, true),
        (502, true),
        (503, true),
    ] {
        faults.fail_next(1, status);
        let err = validate().await.unwrap_err();
        assert_eq!(err.is_transient(), transient, "HTTP {status}: {err:?}");
        match status {
            // In the service's shape, a 403 refuses the credentials.
            403 => assert!(matches!(
                err,
                ProviderError::PermissionDenied { status: 403, .. }
            )),
            // A 404 that does not say "License not found" is no answer
            // about the license.
            404 => assert!(matches!(err, ProviderError::NotAnAnswer { .. })),
            409 => assert!(matches!(err, ProviderError::ActivationLimitReached { .. })),
            400 | 422 => {
                assert!(matches!(err, ProviderError::Refused { status: s, .. } if s == status))
            }
            _ => {
                assert!(matches!(err, ProviderError::ServerFault { status: s, .. } if s == status))
            }
        }
    }

    faults.inject_next(1, Fault::MalformedJson);
    let err = validate().await.unwrap_err();
    assert!(
        matches!(err, ProviderError::MalformedReply { .. }),
        "{err:?}"
    );
    assert!(err.is_transient());

    faults.inject_next(1, Fault::Oversized(400 * 1024));
    let err = validate().await.unwrap_err();
    assert!(
        matches!(err, ProviderError::ReplyTooLarge { .. }),
        "{err:?}"
    );

    faults.drop_next(1);
    let err = validate().await.unwrap_err();
    assert!(matches!(err, ProviderError::Unreachable { .. }), "{err:?}");

    faults.set_delay(Duration::from_secs(3));
    let mut slow = options(&emulator);
    slow.http = slow.http.clone().timeout(Duration::from_millis(200));
    let slow = EcosireClient::new(slow).unwrap();
    let err = slow.validate(&key(), "shop.example").await.unwrap_err();
    assert!(matches!(err, ProviderError::Timeout { .. }), "{err:?}");
    faults.set_delay(Duration::ZERO);

    faults.go_down();
    let err = validate().await.unwrap_err();
    assert!(matches!(err, ProviderError::Unreachable { .. }), "{err:?}");
    faults.come_up();
    assert!(validate().await.unwrap().valid);

    let refused = EcosireClient::new(
        options(&emulator).base_url(format!("{}/api", license_gate_testkit::refused_url())),
    )
    .unwrap();
    let err = refused.validate(&key(), "shop.example").await.unwrap_err();
    assert!(matches!(err, ProviderError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn a_limit_of_two_refuses_the_third_domain_until_one_is_released() {
    let emulator = emulator_with(EmulatedLicense::new(KEY, SECRET).activation_limit(2)).await;
    let handle = emulator.handle();
    let client = client(&emulator);

    let a = client.activate(&key(), "a.example").await.unwrap();
    assert!(a.activated);
    assert_eq!(
        (a.activations_count, a.activations_limit),
        (Some(1), Some(2))
    );
    let b = client.activate(&key(), "b.example").await.unwrap();
    assert_eq!(b.activations_count, Some(2));
    // Activating a bound domain again takes no slot.
    let again = client.activate(&key(), "b.example").await.unwrap();
    assert!(again.activated);
    assert_eq!(again.activations_count, Some(2));

    for wrapped in [false, true] {
        handle.set_wrapped_replies(wrapped);
        let err = client.activate(&key(), "c.example").await.unwrap_err();
        assert!(
            matches!(err, ProviderError::ActivationLimitReached { .. }),
            "{err:?}"
        );
        assert!(!err.is_transient());
        assert!(
            err.to_string()
                .contains("deactivate the license on another installation")
        );
    }
    assert_eq!(handle.bindings(KEY), ["a.example", "b.example"]);

    let released = client.deactivate(&key(), "a.example").await.unwrap();
    assert!(released.deactivated);
    assert_eq!(released.activations_count, Some(1));
    let c = client.activate(&key(), "c.example").await.unwrap();
    assert!(c.activated);
    assert_eq!(c.activations_count, Some(2));
    assert_eq!(handle.bindings(KEY), ["b.example", "c.example"]);

    let nothing = client.deactivate(&key(), "a.example").await.unwrap();
    assert!(!nothing.deactivated);
    assert_eq!(
        nothing.message.as_deref(),
        Some("No activation for this domain")
    );
}

#[tokio::test]
async fn no_request_leaves_while_rate_limited() {
    let emulator = emulator().await;
    let handle = emulator.handle();
    handle.set_rate_limits(RateLimits::all(1, Duration::from_secs(60)));
    let client = client(&emulator);

    assert!(client.validate(&key(), "shop.example").await.unwrap().valid);
    let first = handle.last_request().unwrap();
    assert_eq!(first.path, "/api/licenses/validate");

    let err = client.validate(&key(), "shop.example").await.unwrap_err();
    let wait = err.retry_after().expect("the reset instant is honoured");
    assert!(
        wait > Duration::from_secs(50) && wait <= Duration::from_secs(61),
        "{wait:?}"
    );
    assert!(err.is_transient());
    assert_eq!(handle.requests().len(), 2);

    // Inside the window nothing reaches the emulator, whatever the endpoint.
    for _ in 0..3 {
        let err = client.validate(&key(), "shop.example").await.unwrap_err();
        assert!(matches!(
            err,
            ProviderError::RateLimited {
                retry_after: Some(_)
            }
        ));
        let err = client.activate(&key(), "shop.example").await.unwrap_err();
        assert!(matches!(err, ProviderError::RateLimited { .. }));
    }
    assert_eq!(handle.requests().len(), 2);
    assert_eq!(handle.faults().requests(), 2);
}

#[tokio::test]
async fn replies_carry_rate_limit_headers() {
    let emulator = emulator().await;
    let client = client(&emulator);
    // The published defaults.
    client.validate(&key(), "shop.example").await.unwrap();
    client.activate(&key(), "shop.example").await.unwrap();
    let raw = reqwest_free_probe(&emulator.url()).await;
    assert_eq!(raw.0, 30);
    assert_eq!(raw.1, 28);
}

/// Reads the rate-limit headers of one more validation, sent by hand over a
/// raw TCP connection so no client brake interferes.
async fn reqwest_free_probe(base: &str) -> (u32, u32) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base
        .trim_start_matches("http://")
        .trim_end_matches("/api")
        .to_owned();
    let body = json!({"key": KEY, "domain": "probe.example", "timestamp": unix_now().to_string()});
    let signature =
        license_gate_testkit::ecosire::expected_signature(SECRET, body.as_object().unwrap());
    let body = body.to_string();
    let request = format!(
        "POST /api/licenses/validate HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nx-ecosire-signature: {signature}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    let header = |name: &str| -> u32 {
        reply
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name)
                    .then(|| v.trim().parse().unwrap())
            })
            .unwrap_or_else(|| panic!("no {name} header in {reply}"))
    };
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    (header("x-ratelimit-limit"), header("x-ratelimit-remaining"))
}

#[tokio::test]
async fn over_tls_with_the_test_certificate_trusted() {
    let certificate = TestCertificate::localhost();
    let emulator = license_gate_testkit::ecosire::EcosireEmulator::start_tls(&certificate)
        .await
        .unwrap();
    emulator
        .handle()
        .add_license(EmulatedLicense::new(KEY, SECRET));
    assert!(emulator.url().starts_with("https://localhost:"));

    let mut trusting = options(&emulator);
    trusting.http = trusting
        .http
        .extra_root_certificate(certificate.ca_pem().as_bytes().to_vec());
    let trusted = EcosireClient::new(trusting).unwrap();
    assert!(
        trusted
            .validate(&key(), "shop.example")
            .await
            .unwrap()
            .valid
    );

    let untrusted = client(&emulator);
    let err = untrusted
        .validate(&key(), "shop.example")
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Unreachable { .. }), "{err:?}");
}

#[tokio::test]
async fn server_messages_mask_the_key_and_replies_carry_the_server_clock() {
    let emulator = emulator().await;
    let bare: String = KEY.chars().filter(|c| *c != '-').collect();
    let body = json!({"valid": false, "message": format!("license {} is on hold", bare.to_ascii_lowercase())});
    emulator
        .handle()
        .faults()
        .inject_next(1, Fault::Reply(200, body.to_string()));
    let client = client(&emulator);
    let reply = client.validate(&key(), "shop.example").await.unwrap();
    let message = reply.message.clone().unwrap();
    assert_eq!(message, "license ****-****-****-****-G7H8 is on hold");
    assert!(!format!("{reply:?}").to_ascii_uppercase().contains(&bare));
    assert!(reply.server_time.is_some(), "the emulator sends `Date`");

    // A reply about another key is a refusal, not an answer.
    let other =
        json!({"valid": true, "license": {"key": "SHOP-ZZZZ-ZZZZ-ZZZZ-ZZZZ", "status": "active"}});
    emulator
        .handle()
        .faults()
        .inject_next(1, Fault::Reply(200, other.to_string()));
    let err = client.validate(&key(), "shop.example").await.unwrap_err();
    assert!(
        matches!(&err, ProviderError::Refused { code: Some(c), .. } if c == "key_mismatch"),
        "{err:?}"
    );
}

// ---- the server's clock ------------------------------------------------------

/// Lockout (issue: a clock 10 minutes off gets "timestamp too far from the
/// server time", which used to be `Invalid` at once). Against the emulator's
/// 5-minute tolerance, a client whose clock is 10 minutes ahead or behind is
/// refused once, retries at once with the time of the refusal's `Date`, and
/// is validated; its later requests are stamped with the server's time from
/// the start.
#[tokio::test]
async fn a_clock_ten_minutes_off_is_corrected_from_the_server_date() {
    for off in [600, -600] {
        let emulator = emulator().await;
        let client = EcosireClient::new(options(&emulator).clock(OffClock(off))).unwrap();
        let reply = client
            .validate(&key(), "shop.example")
            .await
            .unwrap_or_else(|e| panic!("clock {off:+} s: {e}"));
        assert!(reply.valid, "clock {off:+} s");
        let learned = client.server_offset_secs();
        assert!(
            (learned + off).abs() <= 2,
            "clock {off:+} s: learned offset {learned}"
        );
        // One refusal, one retry; then the next call goes through at once.
        let faults = emulator.handle().faults().clone();
        assert_eq!(faults.requests(), 2, "clock {off:+} s");
        client.activate(&key(), "shop.example").await.unwrap();
        assert_eq!(faults.requests(), 3, "clock {off:+} s");
        let stamped: i64 = emulator
            .handle()
            .last_request()
            .unwrap()
            .field("timestamp")
            .unwrap()
            .parse()
            .unwrap();
        let skew = stamped - unix_now() as i64;
        assert!(skew.abs() <= 2, "clock {off:+} s: stamped {skew:+} s off");
    }
}

/// A server that keeps refusing the time stamp (here: the refusal injected
/// twice) gives `ClockOff`: transient, and it says by how much the clock is
/// off, from the refusal's `Date`.
#[tokio::test]
async fn a_time_stamp_refused_twice_says_how_far_the_clock_is_off() {
    let emulator = emulator().await;
    let refusal = r#"{"statusCode": 400, "message": "Request timestamp is too far from the server time", "error": "Bad Request"}"#;
    emulator
        .handle()
        .faults()
        .inject_next(2, Fault::Reply(400, refusal.to_owned()));
    let client = EcosireClient::new(options(&emulator).clock(OffClock(600))).unwrap();
    let err = client.validate(&key(), "shop.example").await.unwrap_err();
    match &err {
        ProviderError::ClockOff {
            offset_secs: Some(ahead),
            ..
        } => assert!((ahead - 600).abs() <= 2, "{err:?}"),
        other => panic!("expected ClockOff with an offset, got {other:?}"),
    }
    assert!(err.is_transient());
    let text = err.to_string();
    assert!(text.contains("s ahead of the server's"), "{text}");
    assert!(text.contains("set this machine's date and time"), "{text}");
    assert_eq!(
        emulator.handle().faults().requests(),
        2,
        "one retry, no more"
    );
}

// ---- keys in errors ----------------------------------------------------------

/// Privacy: whatever the server's error quotes the key in (as sent, without
/// dashes, with spaces, percent-encoded, in lower case; in a refusal, an
/// HTML page, an unreadable reply), no error of the client shows it.
#[tokio::test]
async fn errors_never_quote_the_key_in_any_spelling() {
    let emulator = emulator().await;
    let client = client(&emulator);
    let bare: String = KEY.chars().filter(|c| *c != '-').collect();
    let spellings = [
        KEY.to_owned(),
        bare.clone(),
        bare.to_ascii_lowercase(),
        KEY.replace('-', " "),
        KEY.replace('-', "%2D"),
        KEY.to_ascii_lowercase(),
    ];
    for echoed in &spellings {
        let replies = [
            Fault::Reply(
                400,
                format!(
                    r#"{{"statusCode": 400, "message": "key {echoed} is on hold", "error": "Bad Request"}}"#
                ),
            ),
            Fault::Reply(
                404,
                format!(r#"{{"statusCode": 404, "message": "License not found: {echoed}"}}"#),
            ),
            Fault::Reply(
                401,
                format!(r#"{{"statusCode": 401, "message": "Invalid signature for {echoed}"}}"#),
            ),
            Fault::Page(403, format!("<html>blocked: {echoed}</html>")),
            Fault::Reply(200, format!(r#"{{"valid": "{echoed}"}}"#)),
            Fault::Reply(503, format!("down for {echoed}")),
        ];
        for reply in replies {
            for call in 0..3 {
                // A 2xx deactivate reply without `deactivated: false` is a
                // deactivation, as the guide reads it: no error to look at.
                if call == 2 && matches!(reply, Fault::Reply(200, _)) {
                    continue;
                }
                emulator.handle().faults().inject_next(1, reply.clone());
                let err = match call {
                    0 => client.validate(&key(), "shop.example").await.map(|_| ()),
                    1 => client.activate(&key(), "shop.example").await.map(|_| ()),
                    _ => client.deactivate(&key(), "shop.example").await.map(|_| ()),
                }
                .expect_err("the injected reply is an error");
                let text = format!("{err} {err:?}");
                assert!(
                    !key_letters(&text).contains(&key_letters(KEY)),
                    "call {call}, {reply:?}: the error quotes the key: {text}"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_prefix_with_digits_is_a_key() {
    let emulator = emulator_with(EmulatedLicense::new("SHOP2-A1B2-C3D4-E5F6", SECRET)).await;
    let client = client(&emulator);
    let key = LicenseKey::new("shop2-a1b2-c3d4-e5f6");
    let reply = client.validate(&key, "shop.example").await.unwrap();
    assert!(reply.valid);
    let sent = emulator.handle().last_request().unwrap();
    assert_eq!(sent.field("key"), Some("SHOP2-A1B2-C3D4-E5F6"));
    // Still refused locally, without a request: a prefix with other characters.
    let err = client
        .validate(&LicenseKey::new("SHOP_2-A1B2-C3D4-E5F6"), "shop.example")
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::InvalidKey(_)), "{err:?}");
    assert_eq!(emulator.handle().requests().len(), 1);
}
