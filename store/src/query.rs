//! The questions a lab asks of its history: which runs (by meter, firmware,
//! rig, plan, date), how one point of one meter moved run after run, and a
//! stored run back as a record for the firmware gate.

use std::collections::BTreeMap;

use harness::run::events::Sample;
use reports::Record;
use reports::record::PointRecord;
use serde::Serialize;

use crate::db::{Cell, Value};
use crate::{Store, StoreError};

/// `metrig history`'s filters; each one set narrows the runs.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub meter: Option<String>,
    pub firmware: Option<String>,
    pub rig: Option<String>,
    pub plan: Option<String>,
    /// ISO 8601 date or time; runs started on or after it.
    pub since: Option<String>,
    pub limit: Option<usize>,
}

/// One run as `history` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub run_id: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub plan: String,
    pub rig: String,
    pub metrig_version: String,
    pub meters: Vec<String>,
    pub firmware: Vec<String>,
    pub points_planned: i64,
    pub points: i64,
    /// Verdict name → how many points have it.
    pub verdicts: BTreeMap<String, i64>,
    pub run_dir: Option<String>,
}

/// One run of one point of one meter, as `trend` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendRow {
    pub run_id: String,
    pub started_at: String,
    pub firmware: Option<String>,
    pub rig: String,
    pub verdict: String,
    pub mean_error_pct: Option<f64>,
    pub expanded_uncertainty_pct: Option<f64>,
    pub limit_pct: Option<f64>,
    pub limit_unit: Option<String>,
}

impl Store {
    /// The run folder a stored run was written to (as the run saw it), if
    /// the store knows it: where `compare` and the station page look for
    /// its signature.
    pub fn run_dir(&mut self, run_id: &str) -> Result<Option<String>, StoreError> {
        let rows = self.conn.sql().rows(
            "SELECT run_dir FROM runs WHERE run_id = $1",
            &[run_id.into()],
        )?;
        Ok(rows.first().and_then(|r| r[0].opt_text()))
    }

    /// Runs matching `filter`, newest first, with their verdict counts.
    pub fn history(&mut self, filter: &HistoryFilter) -> Result<Vec<RunRow>, StoreError> {
        let mut clauses = Vec::new();
        let mut params: Vec<Value> = Vec::new();
        let mut add = |clause: &str, v: &Option<String>, params: &mut Vec<Value>| {
            if let Some(v) = v {
                params.push(v.as_str().into());
                clauses.push(clause.replace("{}", &format!("${}", params.len())));
            }
        };
        add(
            "EXISTS (SELECT 1 FROM meters m WHERE m.run_id = r.run_id AND m.serial = {})",
            &filter.meter,
            &mut params,
        );
        add(
            "EXISTS (SELECT 1 FROM meters m WHERE m.run_id = r.run_id AND m.firmware = {})",
            &filter.firmware,
            &mut params,
        );
        add("r.rig_name = {}", &filter.rig, &mut params);
        add("r.plan_name = {}", &filter.plan, &mut params);
        add("r.started_at >= {}", &filter.since, &mut params);
        let wher = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let limit = filter
            .limit
            .map(|n| format!(" LIMIT {n}"))
            .unwrap_or_default();
        let sql = self.conn.sql();
        let runs = sql.rows(
            &format!(
                "SELECT r.run_id, r.started_at, r.finished_at, r.status, r.plan_name, r.rig_name,
                    r.metrig_version, r.points_planned, r.run_dir
                 FROM runs r {wher} ORDER BY r.started_at DESC, r.run_id DESC{limit}"
            ),
            &params,
        )?;
        let mut out: Vec<RunRow> = runs
            .iter()
            .map(|r| RunRow {
                run_id: r[0].text(),
                started_at: r[1].text(),
                finished_at: r[2].opt_text(),
                status: r[3].text(),
                plan: r[4].text(),
                rig: r[5].text(),
                metrig_version: r[6].text(),
                points_planned: r[7].int(),
                run_dir: r[8].opt_text(),
                meters: Vec::new(),
                firmware: Vec::new(),
                points: 0,
                verdicts: BTreeMap::new(),
            })
            .collect();
        if out.is_empty() {
            return Ok(out);
        }
        let index: BTreeMap<String, usize> = out
            .iter()
            .enumerate()
            .map(|(i, r)| (r.run_id.clone(), i))
            .collect();
        let counts = sql.rows(
            &format!(
                "SELECT p.run_id, p.verdict, COUNT(*) FROM points p
                 WHERE p.run_id IN (SELECT r.run_id FROM runs r {wher})
                 GROUP BY p.run_id, p.verdict"
            ),
            &params,
        )?;
        for c in counts {
            if let Some(&i) = index.get(&c[0].text()) {
                out[i].points += c[2].int();
                out[i].verdicts.insert(c[1].text(), c[2].int());
            }
        }
        let meters = sql.rows(
            &format!(
                "SELECT m.run_id, m.serial, m.firmware FROM meters m
                 WHERE m.run_id IN (SELECT r.run_id FROM runs r {wher})
                 ORDER BY m.run_id, m.position"
            ),
            &params,
        )?;
        for m in meters {
            if let Some(&i) = index.get(&m[0].text()) {
                out[i]
                    .meters
                    .push(m[1].opt_text().unwrap_or_else(|| "?".into()));
                if let Some(f) = m[2].opt_text()
                    && !out[i].firmware.contains(&f)
                {
                    out[i].firmware.push(f);
                }
            }
        }
        Ok(out)
    }

    /// The point `suite`/`id` of the meter with this serial, run after run,
    /// oldest first.
    pub fn trend(
        &mut self,
        serial: &str,
        suite: &str,
        id: &str,
    ) -> Result<Vec<TrendRow>, StoreError> {
        let rows = self.conn.sql().rows(
            "SELECT r.run_id, r.started_at, m.firmware, r.rig_name, p.verdict, p.mean_error_pct,
                p.expanded_uncertainty_pct, p.limit_pct, p.limit_unit
             FROM meters m
             JOIN points p ON p.run_id = m.run_id AND p.position = m.position
             JOIN runs r ON r.run_id = m.run_id
             WHERE m.serial = $1 AND p.suite = $2 AND p.point_id = $3
             ORDER BY r.started_at, r.run_id",
            &[serial.into(), suite.into(), id.into()],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| TrendRow {
                run_id: r[0].text(),
                started_at: r[1].text(),
                firmware: r[2].opt_text(),
                rig: r[3].text(),
                verdict: r[4].text(),
                mean_error_pct: r[5].real(),
                expanded_uncertainty_pct: r[6].real(),
                limit_pct: r[7].real(),
                limit_unit: r[8].opt_text(),
            })
            .collect())
    }

    /// Every (suite, point id) measured on the meter with this serial, for
    /// its page of trends.
    pub fn meter_points(&mut self, serial: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self.conn.sql().rows(
            "SELECT DISTINCT p.suite, p.point_id FROM meters m
             JOIN points p ON p.run_id = m.run_id AND p.position = m.position
             WHERE m.serial = $1 ORDER BY p.suite, p.point_id",
            &[serial.into()],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| (r[0].text(), r[1].text()))
            .collect())
    }

    /// Which run a store reference names: `store:RUN_ID`, or
    /// `store:latest?rig=R&plan=P&firmware=V&meter=S` (every filter optional:
    /// the newest completed run that matches).
    pub fn resolve(&mut self, reference: &str) -> Result<String, StoreError> {
        let body = reference.strip_prefix("store:").unwrap_or(reference);
        let (head, query) = body.split_once('?').unwrap_or((body, ""));
        if head != "latest" {
            let found = self
                .conn
                .sql()
                .rows("SELECT run_id FROM runs WHERE run_id = $1", &[head.into()])?;
            return match found.first() {
                Some(r) => Ok(r[0].text()),
                None => Err(StoreError::NotFound(format!(
                    "{reference}: no run `{head}` in the store {}",
                    self.location
                ))),
            };
        }
        let mut filter = HistoryFilter {
            limit: None,
            ..HistoryFilter::default()
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = Some(v.to_string());
            match k {
                "rig" => filter.rig = v,
                "plan" => filter.plan = v,
                "firmware" => filter.firmware = v,
                "meter" => filter.meter = v,
                "since" => filter.since = v,
                _ => {
                    return Err(StoreError::NotFound(format!(
                        "{reference}: unknown filter `{k}`; allowed: rig, plan, firmware, meter, since"
                    )));
                }
            }
        }
        self.history(&filter)?
            .into_iter()
            .find(|r| r.status == "completed")
            .map(|r| r.run_id)
            .ok_or_else(|| {
                StoreError::NotFound(format!(
                    "{reference}: no completed run matches in the store {}",
                    self.location
                ))
            })
    }

    /// A stored run back as its record (points with their samples).
    pub fn record(&mut self, run_id: &str) -> Result<Record, StoreError> {
        let sql = self.conn.sql();
        let head = sql.rows(
            "SELECT header_json FROM runs WHERE run_id = $1",
            &[run_id.into()],
        )?;
        let Some(head) = head.first() else {
            return Err(StoreError::NotFound(format!(
                "no run `{run_id}` in the store"
            )));
        };
        let mut record: Record = serde_json::from_str(&head[0].text())
            .map_err(|e| StoreError::Corrupt(format!("run {run_id}: header_json: {e}")))?;
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!("run {run_id}: {what}: {e}"))
        };
        let points = sql.rows(
            "SELECT point_key, suite, point_id, position, title, verdict, mean_error_pct,
                expanded_uncertainty_pct, limit_pct, limit_json, budget_json, summary,
                details_json, loads_json, planned_rig_time_s, attempts, conditions_json,
                planned_u_json
             FROM points WHERE run_id = $1 ORDER BY point_key",
            &[run_id.into()],
        )?;
        let opt_json = |c: &Cell| c.opt_text().filter(|t| !t.is_empty());
        let mut by_key = BTreeMap::new();
        for p in points {
            let verdict = serde_json::from_value(serde_json::Value::String(p[5].text()))
                .map_err(|e| corrupt("verdict", e))?;
            let point = PointRecord {
                key: p[0].text(),
                suite: p[1].text(),
                id: p[2].text(),
                position: usize::try_from(p[3].int()).unwrap_or(0),
                title: p[4].text(),
                verdict,
                mean_error_pct: p[6].real(),
                expanded_uncertainty_pct: p[7].real(),
                limit_pct: p[8].real(),
                limit: opt_json(&p[9])
                    .map(|t| serde_json::from_str(&t))
                    .transpose()
                    .map_err(|e| corrupt("limit_json", e))?,
                budget: opt_json(&p[10])
                    .map(|t| serde_json::from_str(&t))
                    .transpose()
                    .map_err(|e| corrupt("budget_json", e))?,
                summary: p[11].text(),
                details: serde_json::from_str(&p[12].text())
                    .map_err(|e| corrupt("details_json", e))?,
                loads: serde_json::from_str(&p[13].text()).map_err(|e| corrupt("loads_json", e))?,
                planned_rig_time_s: p[14].real().unwrap_or(0.0),
                planned_u: opt_json(&p[17])
                    .map(|t| serde_json::from_str(&t))
                    .transpose()
                    .map_err(|e| corrupt("planned_u_json", e))?,
                attempts: u32::try_from(p[15].int()).unwrap_or(0),
                samples: Vec::new(),
                conditions: opt_json(&p[16])
                    .map(|t| serde_json::from_str(&t))
                    .transpose()
                    .map_err(|e| corrupt("conditions_json", e))?,
            };
            by_key.insert(point.key.clone(), point);
        }
        let samples = sql.rows(
            "SELECT point_key, idx, at_s, value, unit, raw_json FROM samples
             WHERE run_id = $1 ORDER BY point_key, idx",
            &[run_id.into()],
        )?;
        for s in samples {
            if let Some(p) = by_key.get_mut(&s[0].text()) {
                p.samples.push(Sample {
                    index: usize::try_from(s[1].int()).unwrap_or(0),
                    at_s: s[2].real().unwrap_or(f64::NAN),
                    value: s[3].real().unwrap_or(f64::NAN),
                    unit: s[4].text(),
                    raw: serde_json::from_str(&s[5].text()).map_err(|e| corrupt("raw_json", e))?,
                });
            }
        }
        record.points = by_key.into_values().collect();
        Ok(record)
    }
}
