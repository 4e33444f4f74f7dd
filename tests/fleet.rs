//! The fleet simulation in the test suite: real gates on paused time against
//! a simulated server that goes down for an hour, and a release day against
//! the ECOSIRE rate limits. `cargo run --release -p examples-fleet --example fleet` runs the
//! full-size fleet and writes the plot.

use license_gate_tests::fleet_sim;

use std::time::Duration;

use fleet_sim::{DAY, HOUR};

/// The fleet of the issue. Both scenarios take under a second of wall time
/// in a test build: tokio and the runtime are optimised in dev and test
/// builds (see the workspace `Cargo.toml`), which takes the simulation from
/// about 4 s of CPU to about 1.2 s.
const CLIENTS: usize = 10_000;

#[tokio::test(start_paused = true)]
async fn an_hour_long_outage_neither_floods_the_server_nor_costs_a_license() {
    // Ten-minute bins: the steady load of 10,000 clients is about 72 requests
    // a bin (twice the example's five-minute bins), so a surge shows and the
    // noise of the load stays well under 2x.
    let report = fleet_sim::outage_scenario(CLIENTS, 600).await;
    println!("{report:#?}");
    assert!(report.steady_mean > 0.0, "the fleet calls the server");
    assert!(
        report.in_grace_at_recovery > 0,
        "some clients met the outage and went into grace"
    );
    assert!(
        report.recovery_peak <= 3.0 * report.steady_mean,
        "recovery peak {:.3}/s vs steady mean {:.3}/s",
        report.recovery_peak,
        report.steady_mean
    );
    assert_eq!(report.lost, 0, "no client lost its license to the outage");
    let confirmed = report
        .all_confirmed_after
        .expect("every client in grace is confirmed again");
    assert!(confirmed <= 2 * HOUR, "all confirmed within {confirmed:?}");
}

#[tokio::test(start_paused = true)]
async fn release_day_under_the_ecosire_rate_limits_licenses_every_client() {
    let report = fleet_sim::release_scenario(CLIENTS, 2 * HOUR, DAY, 60).await;
    println!(
        "{:#?}",
        (
            report.clients,
            report.total,
            report.limited,
            report.all_licensed_after,
            report.licensed_after_hour,
            report.activated,
            report.lost
        )
    );
    // 30 validations and 10 activations a minute (the bins are the windows):
    // the server never answers more.
    let cap = (30.0 + 10.0) / 60.0 + 1e-9;
    assert!(
        report.answered.iter().all(|&rate| rate <= cap),
        "answered validations (and activations) stay within the limits"
    );
    assert!(report.limited > 0, "the launch meets the rate limit");
    let all = report
        .all_licensed_after
        .expect("every client is licensed within the day");
    assert!(all < DAY, "all licensed after {all:?}");
    assert_eq!(report.lost, 0, "a rate limit never takes a license away");
    assert!(Duration::ZERO < all);
}
