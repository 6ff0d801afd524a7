//! `metrig history`: the runs in the store, newest first, with their verdicts.

use std::process::ExitCode;

use store::{HistoryFilter, Store};

use super::EXIT_OK;
use super::store::{location, on_thread};

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Runs with a meter of this serial number.
    #[arg(long)]
    meter: Option<String>,
    /// Runs with a meter on this firmware.
    #[arg(long)]
    firmware: Option<String>,
    /// Runs on the rig of this name (the rig file's `[rig] name`).
    #[arg(long)]
    rig: Option<String>,
    /// Runs of the plan of this name (the plan file's `name`).
    #[arg(long)]
    plan: Option<String>,
    /// Runs started on or after this date (YYYY-MM-DD) or time (RFC 3339).
    #[arg(long)]
    since: Option<String>,
    /// At most this many runs.
    #[arg(long)]
    limit: Option<usize>,
    /// One JSON array, for scripts.
    #[arg(long)]
    json: bool,
    /// The store: a SQLite file or a postgres:// URL.
    #[arg(long)]
    store: Option<String>,
}

pub fn run(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    if let Some(since) = &args.since
        && chrono::NaiveDate::parse_from_str(since, "%Y-%m-%d").is_err()
        && chrono::DateTime::parse_from_rfc3339(since).is_err()
    {
        return Err(super::usage(format!(
            "--since {since}: expected a date YYYY-MM-DD or an RFC 3339 time"
        )));
    }
    let loc = location(args.store.as_deref())?;
    let filter = HistoryFilter {
        meter: args.meter,
        firmware: args.firmware,
        rig: args.rig,
        plan: args.plan,
        since: args.since,
        limit: args.limit,
    };
    let rows = on_thread(move || Ok(Store::open(&loc)?.history(&filter)?))?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    say!(
        "{:<25} {:<40} {:<16} {:<12} {:<11} {:<14} {:>6}  verdicts",
        "started",
        "run",
        "plan",
        "rig",
        "status",
        "firmware",
        "points"
    )?;
    for r in &rows {
        let verdicts: Vec<String> = r.verdicts.iter().map(|(v, n)| format!("{n} {v}")).collect();
        say!(
            "{:<25} {:<40} {:<16} {:<12} {:<11} {:<14} {:>6}  {}",
            r.started_at,
            r.run_id,
            r.plan,
            r.rig,
            r.status,
            r.firmware.join(","),
            format!("{}/{}", r.points, r.points_planned),
            verdicts.join(", ")
        )?;
    }
    say!("{} runs", rows.len())?;
    Ok(ExitCode::from(EXIT_OK))
}
