//! Every fault the emulators can produce, against a gate that was licensed a
//! moment before, for both services, over real HTTP on loopback.
//!
//! The rule under test (ARCHITECTURE.md, "Where each rule lives"): not reaching
//! the server keeps the last confirmed state as `Grace { until }` with its
//! features; an explicit answer from the server denies at once.
//!
//! One table, one loop; each row starts a fresh emulator and gate. Run with
//! `--nocapture` to see the table.

use license_gate_tests::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use license_gate::{
    LicenseGate, LicenseStatus, ProviderError,
    provider::{LicenseAnswer, LicenseRequest, Provider},
};
use license_gate_testkit::exisone::Permission;
use license_gate_testkit::{Fault, refused_url};
use support::{ECOSIRE_KEY, ECOSIRE_SECRET, EXISONE_KEY, Emulated, Service, TIMEOUT, provider};

const GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

/// What a CDN in front of the service answers when it blocks a client.
const CDN_PAGE: &str = "<!DOCTYPE html><html><head><title>Access denied</title></head><body><h1>403 Forbidden</h1><p>Request blocked by the edge network. Ray ID: 7f3a9c.</p></body></html>";
/// What a firewall in front of the service answers for a path it hides.
const FIREWALL_PAGE: &str = "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>firewall</center></body></html>";
/// A CDN's JSON error: not the service's error shape.
const CDN_JSON: &str =
    r#"{"success": false, "errors": [{"code": 1020, "detail": "Access denied"}]}"#;
/// An API gateway's JSON 404: not the service's error shape.
const GATEWAY_JSON: &str =
    r#"{"type": "about:blank", "title": "Not Found", "status": 404, "traceId": "00-ab"}"#;
/// ECOSIRE's refusal of a request stamped too far from its clock.
const TIMESTAMP_REFUSED: &str = r#"{"statusCode": 400, "message": "Request timestamp is too far from the server time", "error": "Bad Request"}"#;
/// ECOSIRE's (NestJS's) answer for a route it does not have.
const ROUTE_NOT_FOUND: &str =
    r#"{"statusCode": 404, "message": "Cannot POST /api/licenses/validate", "error": "Not Found"}"#;

/// A provider that talks to the emulator until told to talk to a loopback
/// port where nothing listens, so a licensed gate meets a refused connection.
#[derive(Debug)]
struct Redirectable {
    live: Arc<dyn Provider>,
    refused: Arc<dyn Provider>,
    use_refused: AtomicBool,
}

impl Redirectable {
    fn current(&self) -> &dyn Provider {
        if self.use_refused.load(Ordering::SeqCst) {
            &*self.refused
        } else {
            &*self.live
        }
    }
}

#[async_trait::async_trait]
impl Provider for Redirectable {
    fn name(&self) -> &str {
        self.live.name()
    }

    async fn validate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        self.current().validate(request).await
    }

    async fn activate(&self, request: &LicenseRequest) -> Result<LicenseAnswer, ProviderError> {
        self.current().activate(request).await
    }

    async fn deactivate(&self, request: &LicenseRequest) -> Result<(), ProviderError> {
        self.current().deactivate(request).await
    }
}

/// What a row's fault acts on.
struct Rig {
    emulated: Emulated,
    redirect: Arc<Redirectable>,
}

/// What the gate does after the fault is set up.
#[derive(Clone, Copy, Debug)]
enum Action {
    /// A validation (what the heartbeat does).
    Refresh,
    /// An activation on this installation.
    Activate,
}

/// The status the gate must show afterwards.
#[derive(Clone, Debug)]
enum Expect {
    /// `Grace { until: last confirmation + grace }`, features kept.
    Grace,
    /// Still licensed, freshly confirmed.
    Licensed,
    /// Denied at once with exactly this status.
    Status(LicenseStatus),
    /// Denied at once as invalid, the reason containing this text.
    Invalid(&'static str),
}

/// Whether the faulted request reaches the emulator's request counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reaches {
    Yes,
    No,
    /// A service that is down closes new connections unread but breaks
    /// requests on connections already open: either can happen.
    Either,
}

struct Row {
    service: Service,
    fault: &'static str,
    inject: fn(&Rig),
    action: Action,
    reaches: Reaches,
    expect: Expect,
}

fn rows() -> Vec<Row> {
    use Action::{Activate, Refresh};
    let mut rows = Vec::new();
    for service in Service::ALL {
        let row = |fault, inject: fn(&Rig), reaches, expect| Row {
            service,
            fault,
            inject,
            action: Refresh,
            reaches,
            expect,
        };
        rows.extend([
            row(
                "connection refused",
                |r| r.redirect.use_refused.store(true, Ordering::SeqCst),
                Reaches::No,
                Expect::Grace,
            ),
            row(
                "service down (connections closed)",
                |r| r.emulated.faults().go_down(),
                Reaches::Either,
                Expect::Grace,
            ),
            row(
                "timeout (reply after 2x the 1 s limit)",
                |r| r.emulated.faults().set_delay(TIMEOUT * 2),
                Reaches::Yes,
                Expect::Grace,
            ),
            row(
                "slow reply (100 ms, under the 1 s limit)",
                |r| r.emulated.faults().set_delay(Duration::from_millis(100)),
                Reaches::Yes,
                Expect::Licensed,
            ),
            row(
                "dropped connection (after the reply head)",
                |r| r.emulated.faults().inject_next(1, Fault::DropConnection),
                Reaches::Yes,
                Expect::Grace,
            ),
            row(
                "HTTP 500",
                |r| r.emulated.faults().fail_next(1, 500),
                Reaches::Yes,
                Expect::Grace,
            ),
            row(
                "HTTP 502",
                |r| r.emulated.faults().fail_next(1, 502),
                Reaches::Yes,
                Expect::Grace,
            ),
            row(
                "HTTP 503",
                |r| r.emulated.faults().fail_next(1, 503),
                Reaches::Yes,
                Expect::Grace,
            ),
            row(
                "HTTP 429 (rate limited)",
                |r| r.emulated.faults().fail_next(1, 429),
                Reaches::Yes,
                Expect::Grace,
            ),
            row(
                "malformed JSON",
                |r| r.emulated.faults().inject_next(1, Fault::MalformedJson),
                Reaches::Yes,
                Expect::Grace,
            ),
            row(
                "oversized body (1 MiB)",
                |r| {
                    r.emulated
                        .faults()
                        .inject_next(1, Fault::Oversized(1 << 20))
                },
                Reaches::Yes,
                Expect::Grace,
            ),
            row(
                "a CDN's HTML 403 page in front of the service",
                |r| {
                    r.emulated
                        .faults()
                        .inject_next(1, Fault::Page(403, CDN_PAGE.into()))
                },
                Reaches::Yes,
                Expect::Grace,
            ),
            row(
                "a firewall's HTML 404 page in front of the service",
                |r| {
                    r.emulated
                        .faults()
                        .inject_next(1, Fault::Page(404, FIREWALL_PAGE.into()))
                },
                Reaches::Yes,
                Expect::Grace,
            ),
            row(
                "HTTP 403 with JSON of another shape (a CDN's)",
                |r| {
                    r.emulated
                        .faults()
                        .inject_next(1, Fault::Reply(403, CDN_JSON.into()))
                },
                Reaches::Yes,
                Expect::Grace,
            ),
            row(
                "HTTP 404 with JSON of another shape (a gateway's)",
                |r| {
                    r.emulated
                        .faults()
                        .inject_next(1, Fault::Reply(404, GATEWAY_JSON.into()))
                },
                Reaches::Yes,
                Expect::Grace,
            ),
        ]);
    }

    let exisone = |fault, inject: fn(&Rig), expect| Row {
        service: Service::ExisOne,
        fault,
        inject,
        action: Refresh,
        reaches: Reaches::Yes,
        expect,
    };
    rows.extend([
        exisone(
            "revoked",
            |r| r.emulated.exisone().revoke(EXISONE_KEY),
            Expect::Status(LicenseStatus::Revoked),
        ),
        exisone(
            "expired",
            |r| r.emulated.exisone().expire(EXISONE_KEY),
            Expect::Status(LicenseStatus::Expired),
        ),
        exisone(
            "suspended",
            |r| r.emulated.exisone().suspend(EXISONE_KEY),
            Expect::Status(LicenseStatus::Suspended),
        ),
        exisone(
            "version outdated (minimum 2.0.0)",
            |r| r.emulated.exisone().set_minimum_version(Some("2.0.0")),
            Expect::Status(LicenseStatus::VersionOutdated {
                minimum: "2.0.0".into(),
            }),
        ),
        exisone(
            "unknown key (HTTP 404)",
            |r| r.emulated.exisone().remove_license(EXISONE_KEY),
            Expect::Invalid("not found on the license server"),
        ),
        exisone(
            "token lacks `verify` (HTTP 403: the vendor's configuration, logged as an error)",
            |r| {
                r.emulated.exisone().add_token(
                    license_gate_testkit::exisone::ExisOneEmulator::TOKEN,
                    &[Permission::Generate, Permission::Email],
                )
            },
            Expect::Grace,
        ),
    ]);

    let ecosire = |fault, inject: fn(&Rig), action, expect| Row {
        service: Service::Ecosire,
        fault,
        inject,
        action,
        reaches: Reaches::Yes,
        expect,
    };
    rows.extend([
        ecosire(
            "suspended",
            |r| r.emulated.ecosire().suspend(ECOSIRE_KEY),
            Refresh,
            Expect::Status(LicenseStatus::Suspended),
        ),
        ecosire(
            "revoked",
            |r| r.emulated.ecosire().revoke(ECOSIRE_KEY),
            Refresh,
            Expect::Status(LicenseStatus::Revoked),
        ),
        ecosire(
            "expired",
            |r| r.emulated.ecosire().expire(ECOSIRE_KEY),
            Refresh,
            Expect::Status(LicenseStatus::Expired),
        ),
        ecosire(
            "unknown key (HTTP 404)",
            |r| r.emulated.ecosire().remove_license(ECOSIRE_KEY),
            Refresh,
            Expect::Invalid("License not found"),
        ),
        ecosire(
            "bad signature (HTTP 401, secret rotated: the vendor's configuration, logged as an error)",
            |r| {
                r.emulated.ecosire().add_license(
                    license_gate_testkit::ecosire::EmulatedLicense::new(
                        ECOSIRE_KEY,
                        "rotated-on-the-server",
                    ),
                )
            },
            Refresh,
            Expect::Grace,
        ),
        ecosire(
            "time stamp refused once (clock off; retried with the server's time)",
            |r| {
                r.emulated
                    .faults()
                    .inject_next(1, Fault::Reply(400, TIMESTAMP_REFUSED.into()))
            },
            Refresh,
            Expect::Licensed,
        ),
        ecosire(
            "time stamp refused on every try (clock off)",
            |r| {
                r.emulated
                    .faults()
                    .inject_next(2, Fault::Reply(400, TIMESTAMP_REFUSED.into()))
            },
            Refresh,
            Expect::Grace,
        ),
        ecosire(
            "HTTP 404 in the service's shape about a route, not the license",
            |r| {
                r.emulated
                    .faults()
                    .inject_next(1, Fault::Reply(404, ROUTE_NOT_FOUND.into()))
            },
            Refresh,
            Expect::Grace,
        ),
        ecosire(
            "activation limit (HTTP 409, on activate)",
            |r| {
                let handle = r.emulated.ecosire();
                handle.add_license(
                    license_gate_testkit::ecosire::EmulatedLicense::new(
                        ECOSIRE_KEY,
                        ECOSIRE_SECRET,
                    )
                    .activation_limit(1),
                );
                handle.bind(ECOSIRE_KEY, "another-installation.example");
            },
            Activate,
            Expect::Invalid("activation limit reached (1 of 1 in use)"),
        ),
    ]);
    rows
}

/// Runs one row on a fresh emulator and gate; returns the status column.
async fn run(row: &Row) -> String {
    let what = format!("{} / {}", row.service, row.fault);
    let emulated = Emulated::start(row.service).await;
    let redirect = Arc::new(Redirectable {
        live: emulated.provider(),
        refused: provider(row.service, &refused_url()),
        use_refused: AtomicBool::new(false),
    });
    let gate: LicenseGate = emulated
        .builder_with(redirect.clone())
        .grace_period(GRACE)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{what}: the gate did not start: {e}"));
    let before = gate.product_state();
    assert_eq!(
        before.status,
        LicenseStatus::Licensed,
        "{what}: the gate must be licensed before the fault"
    );
    let confirmed = before
        .last_confirmed
        .unwrap_or_else(|| panic!("{what}: a licensed gate has a confirmation time"));

    let rig = Rig { emulated, redirect };
    (row.inject)(&rig);
    let requests = rig.emulated.requests();
    match row.action {
        Action::Refresh => {
            gate.refresh().await;
        }
        Action::Activate => {
            let outcome = gate.activate().await;
            assert!(
                outcome.is_err(),
                "{what}: the activation should be refused, got {outcome:?}"
            );
        }
    }
    let status = gate.status();
    let state = gate.product_state();
    assert_eq!(
        state.status, status,
        "{what}: the published status and the status read now differ"
    );
    let reached = rig.emulated.requests() > requests;
    match row.reaches {
        Reaches::Yes => assert!(reached, "{what}: the request never reached the emulator"),
        Reaches::No => assert!(!reached, "{what}: a request reached the emulator"),
        Reaches::Either => {}
    }

    let column = match &row.expect {
        Expect::Grace => {
            assert_eq!(
                status,
                LicenseStatus::Grace {
                    until: confirmed + GRACE
                },
                "{what}: a transport fault must keep the license until the last confirmation + grace"
            );
            assert_eq!(
                state.last_confirmed,
                Some(confirmed),
                "{what}: a fault must not count as a confirmation"
            );
            assert!(
                gate.has_feature("pro") && gate.has_feature("export"),
                "{what}: the features must stay during grace, have {:?}",
                state.features
            );
            "`Grace { until }`: features kept".to_owned()
        }
        Expect::Licensed => {
            assert_eq!(
                status,
                LicenseStatus::Licensed,
                "{what}: a reply within the timeout must keep the gate licensed"
            );
            assert!(
                state.last_confirmed.is_some_and(|at| at >= confirmed),
                "{what}: the reply must count as a fresh confirmation"
            );
            assert!(
                gate.has_feature("pro"),
                "{what}: the features must stay, have {:?}",
                state.features
            );
            "`Licensed` (reply within the timeout)".to_owned()
        }
        Expect::Status(expected) => {
            assert_eq!(
                &status, expected,
                "{what}: an explicit answer must apply at once"
            );
            format!("`{}` at once ({status})", status.name())
        }
        Expect::Invalid(needle) => {
            match &status {
                LicenseStatus::Invalid { reason } => assert!(
                    reason.to_string().contains(needle),
                    "{what}: the reason should contain {needle:?}, is {reason:?}"
                ),
                other => panic!("{what}: expected an invalid license at once, got {other:?}"),
            }
            format!("`invalid` at once ({needle})")
        }
    };
    if !matches!(row.expect, Expect::Grace | Expect::Licensed) {
        assert!(
            !gate.has_feature("pro") && state.features.is_empty(),
            "{what}: a denial must take every feature away, have {:?}",
            state.features
        );
        let denial = gate
            .check_feature("pro")
            .expect_err("a denied license refuses gated calls");
        assert_eq!(
            denial.status(),
            Some(&status),
            "{what}: the error of a gated call must carry the status"
        );
    }
    gate.shutdown().await;
    column
}

#[tokio::test]
async fn fault_table() {
    let rows = rows();
    let mut table = vec![
        "| service | fault | status afterwards |".to_owned(),
        "|---|---|---|".to_owned(),
    ];
    for row in &rows {
        let column = run(row).await;
        table.push(format!("| {} | {} | {} |", row.service, row.fault, column));
    }
    println!("{}", table.join("\n"));
}

/// Attack (on a paying user): whatever stands in front of the service (a
/// CDN, a proxy, a firewall) answers every request with its own error page.
/// A user whose license was confirmed and cached starts the app again
/// behind it: the cache starts the gate, the background check meets the
/// page, and the license stays, in grace, with its features; never
/// `Invalid`. For ECOSIRE also a server that refuses every time stamp (a
/// clock problem, not an answer about the license).
#[tokio::test]
async fn a_cached_license_behind_an_error_page_stays_in_grace_across_a_restart() {
    for service in Service::ALL {
        let mut pages = vec![
            ("a CDN's HTML 403", Fault::Page(403, CDN_PAGE.into())),
            (
                "a firewall's HTML 404",
                Fault::Page(404, FIREWALL_PAGE.into()),
            ),
            (
                "JSON of another shape (403)",
                Fault::Reply(403, CDN_JSON.into()),
            ),
        ];
        if service == Service::Ecosire {
            pages.push((
                "a refused time stamp",
                Fault::Reply(400, TIMESTAMP_REFUSED.into()),
            ));
        }
        for (what, page) in pages {
            let what = format!("{service} / {what}");
            let emulated = Emulated::start(service).await;
            let cache = tempfile::TempDir::new().expect("a temporary folder");
            let anchor = tempfile::TempDir::new().expect("a temporary folder");
            let builder = || {
                emulated
                    .builder()
                    .cache_dir(cache.path())
                    .time_anchor_dir(anchor.path())
                    .grace_period(GRACE)
            };
            let first = builder().start().await.expect("the first gate starts");
            assert_eq!(first.status(), LicenseStatus::Licensed, "{what}");
            let confirmed = first
                .product_state()
                .last_confirmed
                .expect("a confirmation time");
            first.shutdown().await;

            emulated.faults().inject_next(1000, page);
            let requests = emulated.requests();
            let gate = builder().start().await.expect("the second gate starts");
            gate.refresh().await;
            assert!(
                emulated.requests() > requests,
                "{what}: the check reached the page"
            );
            let state = gate.product_state();
            // The cache keeps instants to the millisecond.
            let millis = |t: std::time::SystemTime| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_millis()
            };
            match &state.status {
                LicenseStatus::Grace { until } => assert_eq!(
                    millis(*until),
                    millis(confirmed + GRACE),
                    "{what}: grace runs from the last confirmation"
                ),
                other => panic!(
                    "{what}: an error page in front of the service must keep the license in grace, have {other:?}"
                ),
            }
            assert!(
                gate.has_feature("pro") && gate.has_feature("export"),
                "{what}: the features stay in grace, have {:?}",
                state.features
            );
            gate.shutdown().await;
        }
    }
}

/// A refusal of the application's own credentials (ExisOne: the access
/// token lacks `verify`; ECOSIRE: the license secret was rotated on the
/// server) keeps the license through grace, and is logged at error level
/// naming what to fix, never the credential itself.
#[tokio::test(flavor = "current_thread")]
async fn a_refused_credential_keeps_grace_and_is_logged_as_an_error() {
    let logs = support::LogBuffer::default();
    let _capture = logs.capture();
    for service in Service::ALL {
        logs.clear();
        let emulated = Emulated::start(service).await;
        let gate = emulated
            .builder()
            .grace_period(GRACE)
            .start()
            .await
            .expect("the gate starts");
        let confirmed = gate.product_state().last_confirmed.expect("confirmed");
        match service {
            Service::ExisOne => emulated.exisone().add_token(
                license_gate_testkit::exisone::ExisOneEmulator::TOKEN,
                &[Permission::Generate, Permission::Email],
            ),
            Service::Ecosire => {
                emulated
                    .ecosire()
                    .add_license(license_gate_testkit::ecosire::EmulatedLicense::new(
                        ECOSIRE_KEY,
                        "rotated-on-the-server",
                    ))
            }
        }
        gate.refresh().await;
        assert_eq!(
            gate.status(),
            LicenseStatus::Grace {
                until: confirmed + GRACE
            },
            "{service}: the vendor's credentials are not the user's license"
        );
        let logged = logs.text();
        let line = logged
            .lines()
            .find(|l| l.contains("ERROR") && l.contains("refused this application's credentials"))
            .unwrap_or_else(|| panic!("{service}: no error-level line:\n{logged}"));
        let fix = match service {
            Service::ExisOne => "access token",
            Service::Ecosire => "license secret",
        };
        assert!(line.contains(fix), "{service}: {line}");
        for secret in [
            license_gate_testkit::exisone::ExisOneEmulator::TOKEN,
            ECOSIRE_SECRET,
        ] {
            assert!(!logged.contains(secret), "{service}: {logged}");
        }
        gate.shutdown().await;
    }
}
