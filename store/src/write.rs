//! Writing a run: its header (run, meters, instruments, findings) in one
//! transaction, and each point with its samples in one transaction of its
//! own — a `kill -9` mid-write leaves every point either whole or absent.
//! Every write is an upsert keyed by the run's own names and skipped when
//! the stored digest already matches, so importing twice adds nothing.

use std::path::Path;

use reports::Record;
use reports::record::PointRecord;
use sha2::{Digest, Sha256};

use crate::db::{Sql, Value};
use crate::{Store, StoreError};

/// Which of a record's points to write.
#[derive(Debug, Clone, Copy)]
pub enum Points<'a> {
    /// Every point that was started at least once.
    All,
    /// Only this point key (the live listener, after the point finished).
    One(&'a str),
    /// The header only.
    None,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaveOutcome {
    pub header_written: bool,
    pub points_written: usize,
    pub points_unchanged: usize,
    pub samples_written: usize,
}

/// Samples go in multi-row INSERTs of this many rows (7 parameters a row,
/// well under SQLite's and PostgreSQL's parameter limits).
const SAMPLE_CHUNK: usize = 200;

fn digest(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn json(v: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A serde enum's name as written in the record ("pass", "guarded-binary").
pub(crate) fn name_of(v: &impl serde::Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => format!("unnamed: {e}"),
    }
}

impl Store {
    /// Writes `record` (its header and the points `which` selects).
    /// `run_dir` is the run's folder, kept so `store check` finds its journal.
    pub fn save(
        &mut self,
        record: &Record,
        run_dir: Option<&Path>,
        which: Points<'_>,
    ) -> Result<SaveOutcome, StoreError> {
        let mut out = SaveOutcome {
            header_written: self.save_header(record, run_dir)?,
            ..SaveOutcome::default()
        };
        let rule = name_of(&record.decision_rule.rule);
        let stored: std::collections::HashMap<String, String> = self
            .conn
            .sql()
            .rows(
                "SELECT point_key, digest FROM points WHERE run_id = $1",
                &[record.run_id.as_str().into()],
            )?
            .into_iter()
            .map(|r| (r[0].text(), r[1].text()))
            .collect();
        // Rows counted, not trusted: a point whose samples were lost behind
        // the store's back is written again (`store sync` repairs it).
        let counted: std::collections::HashMap<String, usize> = self
            .conn
            .sql()
            .rows(
                "SELECT point_key, COUNT(*) FROM samples WHERE run_id = $1 GROUP BY point_key",
                &[record.run_id.as_str().into()],
            )?
            .into_iter()
            .map(|r| (r[0].text(), usize::try_from(r[1].int()).unwrap_or(0)))
            .collect();
        for p in &record.points {
            let wanted = match which {
                Points::All => p.attempts > 0,
                Points::One(key) => p.key == key,
                Points::None => false,
            };
            if !wanted {
                continue;
            }
            let raws = p
                .samples
                .iter()
                .map(|s| json(&s.raw))
                .collect::<Result<Vec<_>, _>>()?;
            let d = point_digest(&rule, p, &raws)?;
            if stored.get(&p.key) == Some(&d)
                && counted.get(&p.key).copied().unwrap_or(0) == p.samples.len()
            {
                out.points_unchanged += 1;
                continue;
            }
            let n = self
                .conn
                .transaction(|tx| write_point(tx, &record.run_id, &rule, p, &raws, &d))?;
            out.points_written += 1;
            out.samples_written += n;
        }
        Ok(out)
    }

    fn save_header(&mut self, record: &Record, run_dir: Option<&Path>) -> Result<bool, StoreError> {
        let mut header = record.clone();
        header.points.clear();
        let header_json = json(&header)?;
        let dir = run_dir.map(|d| d.display().to_string());
        let d = digest(format!("{}\n{header_json}", dir.as_deref().unwrap_or("")).as_bytes());
        let found = self.conn.sql().rows(
            "SELECT header_digest FROM runs WHERE run_id = $1",
            &[record.run_id.as_str().into()],
        )?;
        if found.first().map(|r| r[0].text()) == Some(d.clone()) {
            return Ok(false);
        }
        let points_planned = record.points.len();
        self.conn.transaction(|tx| {
            tx.exec(
                "INSERT INTO runs (run_id, started_at, finished_at, status, message, plan_name,
                    plan_path, plan_sha256, rig_name, rig_path, rig_sha256, metrig_version,
                    simulated, seed, decision_rule, resumes, points_planned, run_dir,
                    header_json, header_digest)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                    $16, $17, $18, $19, $20)
                 ON CONFLICT (run_id) DO UPDATE SET
                    started_at = excluded.started_at, finished_at = excluded.finished_at,
                    status = excluded.status, message = excluded.message,
                    plan_name = excluded.plan_name, plan_path = excluded.plan_path,
                    plan_sha256 = excluded.plan_sha256, rig_name = excluded.rig_name,
                    rig_path = excluded.rig_path, rig_sha256 = excluded.rig_sha256,
                    metrig_version = excluded.metrig_version, simulated = excluded.simulated,
                    seed = excluded.seed, decision_rule = excluded.decision_rule,
                    resumes = excluded.resumes, points_planned = excluded.points_planned,
                    run_dir = COALESCE(excluded.run_dir, runs.run_dir),
                    header_json = excluded.header_json, header_digest = excluded.header_digest",
                &[
                    record.run_id.as_str().into(),
                    record.started_at.as_str().into(),
                    record.finished_at.clone().into(),
                    name_of(&record.status).into(),
                    record.message.as_str().into(),
                    record.plan_name.as_str().into(),
                    record.plan.path.as_str().into(),
                    record.plan.sha256.as_str().into(),
                    record.rig_name.as_str().into(),
                    record.rig.path.as_str().into(),
                    record.rig.sha256.as_str().into(),
                    record.metrig_version.as_str().into(),
                    record.simulated.into(),
                    record.seed.to_string().into(),
                    name_of(&record.decision_rule.rule).into(),
                    (record.resumes as usize).into(),
                    points_planned.into(),
                    dir.clone().into(),
                    header_json.as_str().into(),
                    d.as_str().into(),
                ],
            )?;
            let id: Value = record.run_id.as_str().into();
            for table in ["meters", "instruments", "findings"] {
                tx.exec(
                    &format!("DELETE FROM {table} WHERE run_id = $1"),
                    std::slice::from_ref(&id),
                )?;
            }
            for m in &record.meters {
                let said = m.said.clone().unwrap_or_default_self();
                tx.exec(
                    "INSERT INTO meters (run_id, position, serial, firmware, model_id, profile_id,
                        maker, model, profile_path, profile_sha256, map_status)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    &[
                        id.clone(),
                        m.position.into(),
                        said.0.into(),
                        said.1.into(),
                        said.2.into(),
                        m.profile_id.as_str().into(),
                        m.maker.as_str().into(),
                        m.model.as_str().into(),
                        m.profile.path.as_str().into(),
                        m.profile.sha256.as_str().into(),
                        m.map_status.as_str().into(),
                    ],
                )?;
            }
            for (i, ins) in record.instruments.iter().enumerate() {
                tx.exec(
                    "INSERT INTO instruments (run_id, ordinal, role, maker, model, serial,
                        firmware, calibration_due, simulated)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    &[
                        id.clone(),
                        i.into(),
                        ins.role.as_str().into(),
                        ins.maker.as_str().into(),
                        ins.model.as_str().into(),
                        ins.serial.as_str().into(),
                        ins.firmware.clone().into(),
                        ins.calibration_due.map(|d| d.to_string()).into(),
                        ins.simulated.into(),
                    ],
                )?;
            }
            for (i, f) in record.findings.iter().enumerate() {
                tx.exec(
                    "INSERT INTO findings (run_id, ordinal, point_key, severity, text)
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        id.clone(),
                        i.into(),
                        f.key.clone().into(),
                        name_of(&f.severity).into(),
                        f.text.as_str().into(),
                    ],
                )?;
            }
            Ok(())
        })?;
        Ok(true)
    }
}

/// The meter's own serial, firmware and model id, when it said them.
trait SaidParts {
    fn unwrap_or_default_self(self) -> (Option<String>, Option<String>, Option<String>);
}

impl SaidParts for Option<harness::rig::meter_link::MeterSelf> {
    fn unwrap_or_default_self(self) -> (Option<String>, Option<String>, Option<String>) {
        match self {
            Some(s) => (s.serial_number, s.firmware, s.model_id),
            None => (None, None, None),
        }
    }
}

/// What a stored point must equal to be left alone: its fields and every
/// sample, hashed once (the samples' raw JSON is the text that is stored).
fn point_digest(rule: &str, p: &PointRecord, raws: &[String]) -> Result<String, StoreError> {
    let fields = (
        &p.key,
        &p.suite,
        &p.id,
        p.position,
        &p.title,
        p.verdict,
        p.mean_error_pct,
        p.expanded_uncertainty_pct,
        p.limit_pct,
        &p.limit,
        &p.budget,
        &p.summary,
        &p.details,
        &p.loads,
        p.planned_rig_time_s,
        p.attempts,
    );
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update(json(&fields)?.as_bytes());
    for (s, raw) in p.samples.iter().zip(raws) {
        h.update((s.index as u64).to_le_bytes());
        h.update(s.at_s.to_bits().to_le_bytes());
        h.update(s.value.to_bits().to_le_bytes());
        h.update(s.unit.as_bytes());
        h.update([0]);
        h.update(raw.as_bytes());
        h.update([0]);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// One point and its samples; returns how many samples were written.
fn write_point(
    tx: &mut dyn Sql,
    run_id: &str,
    rule: &str,
    p: &PointRecord,
    raws: &[String],
    digest: &str,
) -> Result<usize, StoreError> {
    let loads: Vec<String> = p.loads.iter().map(|l| l.to_string()).collect();
    let limit_json = p.limit.as_ref().map(json).transpose()?;
    let budget_json = p.budget.as_ref().map(json).transpose()?;
    tx.exec(
        "INSERT INTO points (run_id, point_key, suite, point_id, position, title, verdict,
            mean_error_pct, expanded_uncertainty_pct, limit_pct, limit_unit, limit_table,
            limit_row, limit_clause, decision_rule, loads, summary, attempts, sample_count,
            planned_rig_time_s, limit_json, budget_json, details_json, loads_json, digest,
            conditions_json, planned_u_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
            $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)
         ON CONFLICT (run_id, point_key) DO UPDATE SET
            suite = excluded.suite, point_id = excluded.point_id, position = excluded.position,
            title = excluded.title, verdict = excluded.verdict,
            mean_error_pct = excluded.mean_error_pct,
            expanded_uncertainty_pct = excluded.expanded_uncertainty_pct,
            limit_pct = excluded.limit_pct, limit_unit = excluded.limit_unit,
            limit_table = excluded.limit_table, limit_row = excluded.limit_row,
            limit_clause = excluded.limit_clause, decision_rule = excluded.decision_rule,
            loads = excluded.loads, summary = excluded.summary, attempts = excluded.attempts,
            sample_count = excluded.sample_count,
            planned_rig_time_s = excluded.planned_rig_time_s,
            limit_json = excluded.limit_json, budget_json = excluded.budget_json,
            details_json = excluded.details_json, loads_json = excluded.loads_json,
            digest = excluded.digest, conditions_json = excluded.conditions_json,
            planned_u_json = excluded.planned_u_json",
        &[
            run_id.into(),
            p.key.as_str().into(),
            p.suite.as_str().into(),
            p.id.as_str().into(),
            p.position.into(),
            p.title.as_str().into(),
            name_of(&p.verdict).into(),
            p.mean_error_pct.into(),
            p.expanded_uncertainty_pct.into(),
            p.limit_pct.into(),
            p.limit.as_ref().map(|l| l.unit.as_str()).into(),
            p.limit.as_ref().map(|l| l.table.as_str()).into(),
            p.limit.as_ref().map(|l| l.row.as_str()).into(),
            p.limit.as_ref().map(|l| l.clause.as_str()).into(),
            rule.into(),
            loads.join("; ").into(),
            p.summary.as_str().into(),
            (p.attempts as usize).into(),
            p.samples.len().into(),
            p.planned_rig_time_s.into(),
            limit_json.into(),
            budget_json.into(),
            json(&p.details)?.into(),
            json(&p.loads)?.into(),
            digest.into(),
            p.conditions.as_ref().map(json).transpose()?.into(),
            p.planned_u.as_ref().map(json).transpose()?.into(),
        ],
    )?;
    tx.exec(
        "DELETE FROM samples WHERE run_id = $1 AND point_key = $2",
        &[run_id.into(), p.key.as_str().into()],
    )?;
    insert_samples(tx, run_id, &p.key, &p.samples, raws)
}

/// The INSERT of `rows` samples.
pub(crate) fn samples_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO samples (run_id, point_key, idx, at_s, value, unit, raw_json) VALUES ",
    );
    for i in 0..rows {
        let b = i * 7;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6,
            b + 7
        ));
    }
    sql
}

/// The samples of one point, through the connection's own fastest way
/// (`Sql::insert_samples`).
pub fn insert_samples(
    tx: &mut dyn Sql,
    run_id: &str,
    key: &str,
    samples: &[harness::run::events::Sample],
    raws: &[String],
) -> Result<usize, StoreError> {
    tx.insert_samples(run_id, key, samples, raws)
}

/// PostgreSQL's way: multi-row INSERTs, one round trip per 200 samples
/// (measured: `cargo bench -p metrig-store`).
pub(crate) fn insert_samples_chunked(
    tx: &mut dyn Sql,
    run_id: &str,
    key: &str,
    samples: &[harness::run::events::Sample],
    raws: &[String],
) -> Result<usize, StoreError> {
    let per = SAMPLE_CHUNK;
    let full = samples_sql(per);
    let mut params = Vec::with_capacity(per * 7);
    for (chunk, raws) in samples.chunks(per).zip(raws.chunks(per)) {
        params.clear();
        for (s, raw) in chunk.iter().zip(raws) {
            params.push(run_id.into());
            params.push(key.into());
            params.push(s.index.into());
            params.push(s.at_s.into());
            params.push(s.value.into());
            params.push(s.unit.as_str().into());
            params.push(raw.as_str().into());
        }
        if chunk.len() == per {
            tx.exec(&full, &params)?;
        } else {
            tx.exec(&samples_sql(chunk.len()), &params)?;
        }
    }
    Ok(samples.len())
}
