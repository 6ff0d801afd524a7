//! `metrig trend`: one point of one meter, run after run, with its drift.

use std::path::PathBuf;
use std::process::ExitCode;

use store::Store;

use super::store::{location, on_thread};
use super::{EXIT_OK, usage};

#[derive(Debug, clap::Args)]
pub struct TrendArgs {
    /// The meter's serial number.
    #[arg(long)]
    meter: String,
    /// The point as SUITE/ID, e.g. accuracy-active/pf1-iref.
    #[arg(long)]
    point: String,
    /// Where to write the plot: .svg or .html (default
    /// reports/out/trend-<meter>-<suite>-<id>.html).
    #[arg(long)]
    plot: Option<PathBuf>,
    /// The rows and the drift as JSON.
    #[arg(long)]
    json: bool,
    /// The store: a SQLite file or a postgres:// URL.
    #[arg(long)]
    store: Option<String>,
}

pub fn run(args: TrendArgs) -> anyhow::Result<ExitCode> {
    let Some((suite, id)) = args.point.split_once('/') else {
        return Err(usage(format!(
            "--point {}: expected SUITE/ID, e.g. accuracy-active/pf1-iref",
            args.point
        )));
    };
    let (suite, id) = (suite.to_string(), id.to_string());
    let loc = location(args.store.as_deref())?;
    let meter = args.meter.clone();
    let (s2, i2) = (suite.clone(), id.clone());
    let rows = on_thread(move || Ok(Store::open(&loc)?.trend(&meter, &s2, &i2)?))?;
    if rows.is_empty() {
        return Err(usage(format!(
            "no run of meter {} has the point {suite}/{id} in the store",
            args.meter
        )));
    }
    let drift = store::trend::drift(&rows);
    if args.json {
        let v = serde_json::json!({ "rows": rows, "drift": drift });
        say!("{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        say!(
            "{:<25} {:<40} {:<12} {:>10} {:>9} {:>8}  verdict",
            "started",
            "run",
            "firmware",
            "mean %",
            "U %",
            "limit"
        )?;
        for r in &rows {
            say!(
                "{:<25} {:<40} {:<12} {:>10} {:>9} {:>8}  {}",
                r.started_at,
                r.run_id,
                r.firmware.as_deref().unwrap_or("?"),
                r.mean_error_pct.map_or("—".into(), |v| format!("{v:+.4}")),
                r.expanded_uncertainty_pct
                    .map_or("—".into(), |v| format!("{v:.4}")),
                r.limit_pct.map_or("—".into(), |v| format!("±{v}")),
                r.verdict
            )?;
        }
        match &drift {
            Some(d) => say!("{}", d.show())?,
            None => say!("drift: fewer than 3 measured runs")?,
        }
    }
    let title = format!("meter {} — {suite}/{id}", args.meter);
    let plot = args.plot.unwrap_or_else(|| {
        PathBuf::from("reports/out").join(format!(
            "trend-{}-{suite}-{id}.html",
            args.meter.replace(['/', '\\'], "_")
        ))
    });
    let body = if plot.extension().is_some_and(|e| e == "svg") {
        store::trend::svg(&title, &rows, drift.as_ref())
    } else {
        store::trend::html(&title, &rows, drift.as_ref())
    };
    if let Some(parent) = plot.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| usage(format!("{}: {e}", parent.display())))?;
    }
    std::fs::write(&plot, body).map_err(|e| usage(format!("{}: {e}", plot.display())))?;
    if !args.json {
        say!("plot written to {}", plot.display())?;
    }
    Ok(ExitCode::from(EXIT_OK))
}
