//! `metrig store check`: the store against the run folders' journals. The
//! journal is the run's proof; the store must hold every point it finished,
//! with the same verdict, mean and samples (counted and summed from the rows
//! themselves, not from a digest the writer computed).

use std::path::Path;

use harness::run::journal::read_journal;
use reports::Record;

use crate::{Store, StoreError};

/// What `check` found for one run folder.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CheckReport {
    pub dir: String,
    pub run_id: String,
    pub points_checked: usize,
    pub samples_checked: usize,
    /// Each disagreement, as a sentence.
    pub problems: Vec<String>,
}

/// A run folder's record, rebuilt from its journal.
pub fn record_of(dir: &Path) -> Result<Record, StoreError> {
    let events = read_journal(dir).map_err(|e| StoreError::Folder {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    Record::from_events(&events).ok_or_else(|| StoreError::Folder {
        path: dir.display().to_string(),
        message: "the journal holds no started run".into(),
    })
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

impl Store {
    /// Checks the run in `dir` against the store.
    pub fn check(&mut self, dir: &Path) -> Result<CheckReport, StoreError> {
        let record = record_of(dir)?;
        let mut rep = CheckReport {
            dir: dir.display().to_string(),
            run_id: record.run_id.clone(),
            ..CheckReport::default()
        };
        let sql = self.conn.sql();
        let run = sql.rows(
            "SELECT status FROM runs WHERE run_id = $1",
            &[record.run_id.as_str().into()],
        )?;
        let Some(run) = run.first() else {
            rep.problems
                .push(format!("run {} is not in the store", record.run_id));
            return Ok(rep);
        };
        let status = crate::write::name_of(&record.status);
        if run[0].text() != status {
            rep.problems.push(format!(
                "run {}: status in the store `{}`, in the journal `{status}`",
                record.run_id,
                run[0].text()
            ));
        }
        let stored: std::collections::HashMap<String, (String, Option<f64>)> = sql
            .rows(
                "SELECT point_key, verdict, mean_error_pct FROM points WHERE run_id = $1",
                &[record.run_id.as_str().into()],
            )?
            .into_iter()
            .map(|r| (r[0].text(), (r[1].text(), r[2].real())))
            .collect();
        let sums: std::collections::HashMap<String, (i64, f64)> = sql
            .rows(
                "SELECT point_key, COUNT(*), SUM(value) FROM samples WHERE run_id = $1
                 GROUP BY point_key",
                &[record.run_id.as_str().into()],
            )?
            .into_iter()
            .map(|r| (r[0].text(), (r[1].int(), r[2].real().unwrap_or(0.0))))
            .collect();
        for p in record.points.iter().filter(|p| p.attempts > 0) {
            rep.points_checked += 1;
            let Some((verdict, mean)) = stored.get(&p.key) else {
                rep.problems
                    .push(format!("point {} is not in the store", p.key));
                continue;
            };
            let want = crate::write::name_of(&p.verdict);
            if *verdict != want {
                rep.problems.push(format!(
                    "point {}: verdict in the store `{verdict}`, in the journal `{want}`",
                    p.key
                ));
            }
            let same_mean = match (mean, p.mean_error_pct) {
                (Some(a), Some(b)) => close(*a, b),
                (None, None) => true,
                // SQLite keeps a NaN as NULL.
                (None, Some(b)) => b.is_nan(),
                _ => false,
            };
            if !same_mean {
                rep.problems.push(format!(
                    "point {}: mean in the store {mean:?}, in the journal {:?}",
                    p.key, p.mean_error_pct
                ));
            }
            let (n, sum) = sums.get(&p.key).copied().unwrap_or((0, 0.0));
            let want_sum: f64 = p
                .samples
                .iter()
                .map(|s| s.value)
                .filter(|v| v.is_finite())
                .sum();
            rep.samples_checked += p.samples.len();
            if n != p.samples.len() as i64 {
                rep.problems.push(format!(
                    "point {}: {n} samples in the store, {} in the journal",
                    p.key,
                    p.samples.len()
                ));
            } else if !close(sum, want_sum) {
                rep.problems.push(format!(
                    "point {}: samples differ (sum {sum} in the store, {want_sum} in the journal)",
                    p.key
                ));
            }
        }
        Ok(rep)
    }

    /// Imports the run in `dir` from its journal (idempotent).
    pub fn import(&mut self, dir: &Path) -> Result<(String, crate::SaveOutcome), StoreError> {
        let record = record_of(dir)?;
        let out = self.save(&record, Some(dir), crate::Points::All)?;
        Ok((record.run_id, out))
    }
}
