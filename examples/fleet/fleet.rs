//! The fleet simulation at full size, with plots: 10,000 installed
//! applications, each a real `LicenseGate` with the default heartbeat, jitter
//! and backoff, on simulated time (a day passes in seconds), against a
//! simulated server that goes down for an hour; then a release day against
//! the ECOSIRE rate limits.
//!
//! ```text
//! cargo run --release -p examples-fleet --example fleet [CLIENTS] [OUT_DIR]
//! ```
//!
//! Prints the numbers and writes `fleet-outage.png` and `fleet-release.png`
//! (default `docs/`). The plots carry no text, so they need no font on the
//! machine; the README gives their axes.

use std::path::{Path, PathBuf};

use license_gate_tests::fleet_sim::{self, DAY, HOUR};
use plotters::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let clients: usize = match args.next() {
        Some(n) => n.parse().map_err(|_| {
            format!("the first argument is the number of clients, such as 10000 (got `{n}`): cargo run --release -p examples-fleet --example fleet [CLIENTS] [OUT_DIR]")
        })?,
        None => 10_000,
    };
    let out = PathBuf::from(args.next().unwrap_or_else(|| "docs".to_owned()));
    std::fs::create_dir_all(&out).map_err(|error| {
        format!(
            "cannot create the folder for the plots, {}: {error}",
            out.display()
        )
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()?;

    let wall = std::time::Instant::now();
    // Five-minute bins: fine enough to show a surge, coarse enough that the
    // steady load of the fleet is not all noise.
    let outage = runtime.block_on(fleet_sim::outage_scenario(clients, 300));
    println!(
        "outage: {} clients, 3 simulated days in {:.1} s",
        clients,
        wall.elapsed().as_secs_f64()
    );
    println!(
        "  steady mean {:.3} req/s (highest 5-min bin {:.3}); recovery peak {:.3} req/s = {:.2}x the steady mean; attempts while down peaked at {:.3} req/s",
        outage.steady_mean,
        outage.steady_peak,
        outage.recovery_peak,
        outage.recovery_peak / outage.steady_mean,
        outage.outage_peak
    );
    println!(
        "  {} clients in grace when the server came back; all confirmed again {} after; {} lost their license",
        outage.in_grace_at_recovery,
        outage
            .all_confirmed_after
            .map_or("never".to_owned(), |d| format!(
                "{:.0} min",
                d.as_secs_f64() / 60.0
            )),
        outage.lost
    );
    plot_outage(&outage, &out.join("fleet-outage.png"))?;

    let wall = std::time::Instant::now();
    let release = runtime.block_on(fleet_sim::release_scenario(clients, 2 * HOUR, DAY, 60));
    println!(
        "release day: {} clients starting within 2 h, 1 simulated day in {:.1} s",
        clients,
        wall.elapsed().as_secs_f64()
    );
    println!(
        "  {} requests, {} refused with 429; {} licensed within the first hour, all licensed after {}; {} activated by the end of the day; {} lost their license",
        release.total,
        release.limited,
        release.licensed_after_hour,
        release
            .all_licensed_after
            .map_or("more than a day".to_owned(), |d| format!(
                "{:.1} h",
                d.as_secs_f64() / 3600.0
            )),
        release.activated,
        release.lost
    );
    plot_release(&release, &out.join("fleet-release.png"))?;
    println!("plots written to {}", out.display());
    Ok(())
}

/// Requests per second over the two days around the outage (5-minute bins),
/// the outage shaded, the steady mean and three times it as lines.
fn plot_outage(
    report: &fleet_sim::OutageReport,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let bin = report.bin as f64;
    let from = (DAY.as_secs() as f64 / bin) as usize;
    let points: Vec<(f64, f64)> = report
        .curve
        .iter()
        .enumerate()
        .skip(from)
        .map(|(i, rate)| (i as f64 * bin / 3600.0, *rate))
        .collect();
    let top = (3.0 * report.steady_mean).max(report.recovery_peak) * 1.2;
    let (x0, x1) = (24.0, 72.0);
    let root = BitMapBackend::new(path, (1200, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let area = root.margin(20, 20, 20, 20);
    let mut chart = ChartBuilder::on(&area).build_cartesian_2d(x0..x1, 0.0..top)?;
    let (start, end) = (
        report.outage.0 as f64 / 3600.0,
        report.outage.1 as f64 / 3600.0,
    );
    chart.draw_series(std::iter::once(Rectangle::new(
        [(start, 0.0), (end, top)],
        RGBColor(255, 210, 210).filled(),
    )))?;
    // Day marks every 6 hours.
    for h in (24..=72).step_by(6) {
        let h = f64::from(h);
        chart.draw_series(LineSeries::new(
            [(h, 0.0), (h, top)],
            RGBColor(230, 230, 230),
        ))?;
    }
    chart.draw_series(LineSeries::new(
        [(x0, report.steady_mean), (x1, report.steady_mean)],
        RGBColor(120, 120, 120).stroke_width(2),
    ))?;
    chart.draw_series(LineSeries::new(
        [
            (x0, 3.0 * report.steady_mean),
            (x1, 3.0 * report.steady_mean),
        ],
        RGBColor(230, 140, 0).stroke_width(2),
    ))?;
    chart.draw_series(LineSeries::new(points, BLUE.stroke_width(2)))?;
    chart.draw_series(LineSeries::new(
        [(x0, 0.0), (x1, 0.0)],
        BLACK.stroke_width(2),
    ))?;
    chart.draw_series(LineSeries::new(
        [(x0, 0.0), (x0, top)],
        BLACK.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}

/// Release day: requests that reached the server and requests answered, per
/// second (1-minute bins, the service's windows), with the limit.
fn plot_release(
    report: &fleet_sim::ReleaseReport,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let bin = report.bin as f64;
    let hours = report.simulated.as_secs_f64() / 3600.0;
    let series = |rates: &[f64]| -> Vec<(f64, f64)> {
        rates
            .iter()
            .enumerate()
            .map(|(i, rate)| (i as f64 * bin / 3600.0, *rate))
            .collect()
    };
    let top = report.requests.iter().copied().fold(1.0, f64::max) * 1.1;
    let root = BitMapBackend::new(path, (1200, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let area = root.margin(20, 20, 20, 20);
    let mut chart = ChartBuilder::on(&area).build_cartesian_2d(0.0..hours, 0.0..top)?;
    for h in (0..=hours as u32).step_by(3) {
        let h = f64::from(h);
        chart.draw_series(LineSeries::new(
            [(h, 0.0), (h, top)],
            RGBColor(230, 230, 230),
        ))?;
    }
    let limit = (30.0 + 10.0) / 60.0;
    chart.draw_series(LineSeries::new(
        [(0.0, limit), (hours, limit)],
        RGBColor(220, 0, 0).stroke_width(2),
    ))?;
    chart.draw_series(LineSeries::new(
        series(&report.requests),
        BLUE.stroke_width(1),
    ))?;
    chart.draw_series(LineSeries::new(
        series(&report.answered),
        RGBColor(0, 150, 0).stroke_width(2),
    ))?;
    chart.draw_series(LineSeries::new(
        [(0.0, 0.0), (hours, 0.0)],
        BLACK.stroke_width(2),
    ))?;
    chart.draw_series(LineSeries::new(
        [(0.0, 0.0), (0.0, top)],
        BLACK.stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}
