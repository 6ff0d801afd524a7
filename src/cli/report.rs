//! `metrig report DIR`: re-renders a run's reports from its record (or, for
//! a run that was killed, from its journal).

use std::path::Path;
use std::process::ExitCode;

use harness::run::journal::read_journal;
use reports::Record;

use super::{EXIT_OK, usage};

pub fn run(dir: &Path, format: Option<&str>) -> anyhow::Result<ExitCode> {
    let record = match Record::read(dir) {
        Ok(r) => r,
        Err(reports::RecordError::Io { .. }) => {
            let events = read_journal(dir).map_err(usage)?;
            Record::from_events(&events)
                .ok_or_else(|| usage(format!("{}: the journal holds no run", dir.display())))?
        }
        Err(e) => return Err(usage(e.to_string())),
    };
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
