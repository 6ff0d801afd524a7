//! `metrig report DIR`: re-renders a run's reports from its journal, once
//! its hash chain holds and `record.json` (if any) is its fold — an edited
//! journal or record is refused, naming the line, never rendered.

use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_OK, usage};

pub fn run(dir: &Path, format: Option<&str>, pdf: bool) -> anyhow::Result<ExitCode> {
    let record = reports::integrity::trusted_record(dir)?;
    if pdf && format.is_some() {
        return Err(usage(
            "--pdf writes report.pdf beside report.html; it does not go with --format",
        ));
    }
    match format {
        None => {
            reports::write_all(&record, dir).map_err(anyhow::Error::msg)?;
            say!(
                "re-rendered record.json, samples.csv, junit.xml, summary.md, report.html in {}",
                dir.display()
            )?;
            if pdf {
                // issue 19: report.html printed by headless Chromium.
                let written = reports::pdf::print(dir)?;
                say!("printed {}", written.display())?;
            }
        }
        Some("md") => say!("{}", reports::markdown::render(&record))?,
        Some("html") => say!("{}", reports::html::render(&record))?,
        Some("junit") => say!(
            "{}",
            reports::junit::render(&record).map_err(anyhow::Error::msg)?
        )?,
        Some("csv") => say!(
            "{}",
            reports::csv::render(&record).map_err(anyhow::Error::msg)?
        )?,
        Some(other) => {
            return Err(usage(format!(
                "--format {other}: one of html, md, junit, csv"
            )));
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}
