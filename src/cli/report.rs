//! `metrig report DIR`: re-renders a run's reports from its journal, once
//! its hash chain holds and `record.json` (if any) is its fold — an edited
//! journal or record is refused, naming the line, never rendered.

use std::path::Path;
use std::process::ExitCode;

use super::{EXIT_OK, usage};

pub fn run(dir: &Path, format: Option<&str>) -> anyhow::Result<ExitCode> {
    let record = reports::integrity::trusted_record(dir)?;
    match format {
        None => {
            reports::write_all(&record, dir).map_err(anyhow::Error::msg)?;
            say!(
                "re-rendered record.json, samples.csv, junit.xml, summary.md, report.html in {}",
                dir.display()
            )?;
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
