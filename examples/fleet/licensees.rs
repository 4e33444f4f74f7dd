//! Many licensees in one server process, at full size: 100,000 licensees in
//! one `Licensees` registry, started from the redb store, for two simulated
//! days (tokio's paused time) under ECOSIRE's published limits (30
//! validations and 10 activations a minute), against a simulated service
//! that counts every minute's requests; one licensee is revoked on the
//! service on the second day.
//!
//! ```text
//! cargo run --release -p examples-fleet --example licensees -- --licensees 100000 [--days 2] [--out docs]
//! ```
//!
//! The store is first filled by a child process (this program again, with
//! `--populate`): yesterday's server, which validated and activated every
//! licensee. The run then measures, in this process: the start from the
//! store to every licensee served, the resident memory it grew by, a gated
//! call in a licensee's scope against the same call ungated, and the
//! service's load. It writes `licensees-load.png` (validations per minute,
//! no text, so no font is needed; the README gives its axes) and prints, as
//! its last line, one JSON object with the numbers.

use std::path::{Path, PathBuf};
use std::process::Command;

use license_gate_tests::licensees_sim::{self, DAY, RunConfig, VALIDATIONS_PER_MINUTE};
use plotters::prelude::*;

const USAGE: &str = "cargo run --release -p examples-fleet --example licensees -- --licensees 100000 [--days 2] [--out docs]";

struct Args {
    licensees: usize,
    days: u32,
    out: PathBuf,
    /// Set in the child that fills the store.
    populate: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        licensees: 100_000,
        days: 2,
        out: PathBuf::from("docs"),
        populate: None,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut value = |what: &str| {
            given
                .next()
                .ok_or_else(|| format!("`{flag}` takes {what}: {USAGE}"))
        };
        match flag.as_str() {
            "--licensees" => {
                let n = value("a number of licensees")?;
                args.licensees = n
                    .parse()
                    .ok()
                    .filter(|n| *n >= 2)
                    .ok_or_else(|| format!("`--licensees` takes a number of at least 2, such as 100000 (got `{n}`): {USAGE}"))?;
            }
            "--days" => {
                let n = value("a number of days")?;
                args.days = n.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    format!("`--days` takes a whole number of days, such as 2 (got `{n}`): {USAGE}")
                })?;
            }
            "--out" => args.out = PathBuf::from(value("a folder for the plot")?),
            "--populate" => args.populate = Some(PathBuf::from(value("the store's path")?)),
            other => return Err(format!("unknown argument `{other}`: {USAGE}")),
        }
    }
    Ok(args)
}

fn paused_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    if let Some(store) = &args.populate {
        return paused_runtime()?.block_on(licensees_sim::populate(store, args.licensees));
    }
    std::fs::create_dir_all(&args.out).map_err(|error| {
        format!(
            "cannot create the folder for the plot, {}: {error}",
            args.out.display()
        )
    })?;
    let dir = tempfile::tempdir()?;
    let store = dir.path().join("licensees.redb");

    // Yesterday's server, in a process of its own, so that what it
    // allocated is not counted (or reused) here.
    let wall = std::time::Instant::now();
    let status = Command::new(std::env::current_exe()?)
        .arg("--licensees")
        .arg(args.licensees.to_string())
        .arg("--populate")
        .arg(&store)
        .status()?;
    if !status.success() {
        return Err(format!("filling the store failed ({status})").into());
    }
    let store_bytes = std::fs::metadata(&store)?.len();
    println!(
        "store: {} licensees validated, activated and written by yesterday's server in {:.1} s; {:.1} MiB on disk ({:.0} bytes per licensee)",
        args.licensees,
        wall.elapsed().as_secs_f64(),
        store_bytes as f64 / (1024.0 * 1024.0),
        store_bytes as f64 / args.licensees as f64
    );

    let simulated = DAY * args.days;
    let report = paused_runtime()?.block_on(licensees_sim::run(RunConfig {
        licensees: args.licensees,
        simulated,
        revoke_at: simulated.mul_f64(0.75),
        store,
        timing_calls: 2_000_000,
        timing_rounds: 7,
    }))?;

    let heartbeat_minutes = report.heartbeat.as_secs() / 60;
    println!(
        "start: {} licensees from the store to serving in {:.0} ms (store loaded and registry started {:.0} ms, every licensee added and its record opened {:.0} ms; {} granted from their records); resident memory grew by {} per licensee over the run",
        report.licensees,
        report.start_from_store_ms,
        report.loaded_ms,
        report.added_ms,
        report.granted_from_store,
        report
            .bytes_per_licensee
            .map_or("(not measurable here)".to_owned(), |b| format!(
                "{b:.0} bytes"
            )),
    );
    println!(
        "gated call in a licensee's scope {:.2} ns, ungated {:.2} ns ({:+.2} ns)",
        report.gated_call_ns,
        report.ungated_call_ns,
        report.gated_call_ns - report.ungated_call_ns
    );
    println!(
        "{} simulated days in {:.1} s: heartbeat {} min ({:.1} h, what {VALIDATIONS_PER_MINUTE} validations a minute allow at {:.0}%), {:.0} validations a day, busiest minute {:.2}x the mean, {} minutes over the limits, {} of {} licensees validated, {} lost their license, {} store writes",
        args.days,
        report.wall_s,
        heartbeat_minutes,
        heartbeat_minutes as f64 / 60.0,
        licensees_sim::PLANNED_SHARE * 100.0,
        report.validations_per_day,
        report.peak_to_mean,
        report.budget_exceeded_minutes,
        report.validated_licensees,
        report.licensees,
        report.lost,
        report.store_writes
    );
    println!(
        "revocation: denied {:.0} ms (simulated) after the service revoked it, with its validation asked for at once; the others unaffected: {}",
        report.revocation_seen_ms, report.others_unaffected
    );
    let plot = args.out.join("licensees-load.png");
    plot_load(&report, &plot)?;
    println!("plot written to {}", plot.display());

    let json = serde_json::json!({
        "licensees": report.licensees,
        "bytes_per_licensee": report.bytes_per_licensee.map(|b| b.round()),
        "gated_call_ns": round2(report.gated_call_ns),
        "ungated_call_ns": round2(report.ungated_call_ns),
        "start_from_store_ms": report.start_from_store_ms.round(),
        "validations_per_day": report.validations_per_day.round(),
        "peak_to_mean": round2(report.peak_to_mean),
        "budget_exceeded_minutes": report.budget_exceeded_minutes,
        "revocation_seen_ms": report.revocation_seen_ms.round(),
        "heartbeat_minutes": heartbeat_minutes,
        "validated_licensees": report.validated_licensees,
        "lost": report.lost,
        "simulated_days": args.days,
    });
    println!("{json}");
    Ok(())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Validations per minute over the run, with the limit (red) and the mean
/// (grey).
fn plot_load(
    report: &licensees_sim::Report,
    path: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let minutes = &report.validations_per_minute;
    let hours = minutes.len() as f64 / 60.0;
    let mean = minutes.iter().map(|v| f64::from(*v)).sum::<f64>() / minutes.len().max(1) as f64;
    let top = f64::from(VALIDATIONS_PER_MINUTE) * 1.3;
    let root = BitMapBackend::new(path, (1200, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let area = root.margin(20, 20, 20, 20);
    let mut chart = ChartBuilder::on(&area).build_cartesian_2d(0.0..hours, 0.0..top)?;
    for h in (0..=hours as u32).step_by(6) {
        let h = f64::from(h);
        chart.draw_series(LineSeries::new(
            [(h, 0.0), (h, top)],
            RGBColor(230, 230, 230),
        ))?;
    }
    chart.draw_series(LineSeries::new(
        minutes
            .iter()
            .enumerate()
            .map(|(i, v)| (i as f64 / 60.0, f64::from(*v))),
        BLUE.stroke_width(1),
    ))?;
    chart.draw_series(LineSeries::new(
        [(0.0, mean), (hours, mean)],
        RGBColor(120, 120, 120).stroke_width(2),
    ))?;
    let limit = f64::from(VALIDATIONS_PER_MINUTE);
    chart.draw_series(LineSeries::new(
        [(0.0, limit), (hours, limit)],
        RGBColor(220, 0, 0).stroke_width(2),
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
