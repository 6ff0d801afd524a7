//! The run record: everything a notified body needs to trace each verdict to
//! its raw samples. It is the fold of the run's events, so it can be rebuilt
//! from the journal of a run that was killed. Schema-versioned; read and
//! written here only.

use std::path::Path;

use model::events::{FileRef, Finding, MeterInfo, RestoreOutcome, RunEvent, Sample};
use model::identity::Identity;
use model::lab::{Certificate, ClimateReading, LabInfo, ReferenceConditions, RunFacts};
use model::load_point::LoadPoint;
use model::point::{Confidence, LimitRef};
use model::stats::{Budget, DecisionRule, Verdict};
use serde::{Deserialize, Serialize};

pub const RECORD_FILE: &str = "record.json";

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{path}: not a metrig record: {message}")]
    Format { path: String, message: String },
    #[error("{path}: record schema {found}, this metrig reads schema {expected}")]
    Schema {
        path: String,
        found: u32,
        expected: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Completed,
    Interrupted,
    /// No end was journaled: the harness was killed. `--resume` continues it.
    Unfinished,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRuleRecord {
    pub rule: DecisionRule,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRecord {
    pub key: String,
    pub suite: String,
    pub id: String,
    pub position: usize,
    pub title: String,
    pub verdict: Verdict,
    pub mean_error_pct: Option<f64>,
    pub expanded_uncertainty_pct: Option<f64>,
    pub limit_pct: Option<f64>,
    pub limit: Option<LimitRef>,
    pub budget: Option<Budget>,
    pub summary: String,
    pub details: serde_json::Value,
    pub loads: Vec<LoadPoint>,
    /// Planned duration on a real rig, seconds.
    pub planned_rig_time_s: f64,
    /// The U the rig-time planner sized the point for, and its flag when
    /// the target TUR could not be met within `[plan] max_point_hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_u: Option<model::point::PlannedU>,
    /// How many times the point was started (more than one after a resume).
    pub attempts: u32,
    pub samples: Vec<Sample>,
    /// The climate as the point started (`None`: the rig has no climate
    /// sensor, or the record predates issue 19). `conditions.outside` says
    /// why the point was measured outside the plan's reference conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<ClimateReading>,
}

impl PointRecord {
    /// Whether the point was measured outside the reference conditions.
    pub fn outside_conditions(&self) -> bool {
        self.conditions
            .as_ref()
            .is_some_and(|c| c.outside.is_some())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub schema_version: u32,
    pub run_id: String,
    pub metrig_version: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: RecordStatus,
    pub message: String,
    pub plan_name: String,
    pub plan: FileRef,
    pub rig_name: String,
    pub rig: FileRef,
    pub simulated: bool,
    pub seed: u64,
    pub decision_rule: DecisionRuleRecord,
    pub meters: Vec<MeterInfo>,
    pub instruments: Vec<Identity>,
    pub points: Vec<PointRecord>,
    pub findings: Vec<Finding>,
    /// Limit rows used whose figure is not verified (recalled, uncertain).
    pub limits_not_verified: Vec<LimitRef>,
    /// Limit rows the plan replaced, with its reason.
    pub limits_overridden: Vec<LimitRef>,
    pub restore: Vec<RestoreOutcome>,
    /// How many times the run was resumed.
    pub resumes: u32,
    /// The laboratory (`--lab FILE`; ISO/IEC 17025 §7.8.2.1 b, o).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab: Option<LabInfo>,
    /// Report number, customer, receipt date, operator, sample id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<RunFacts>,
    /// Calibration certificates of the rig's instruments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<Certificate>,
    /// The plan's reference conditions, if it declares them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_conditions: Option<ReferenceConditions>,
    /// The standards and editions of the method (the plan's `[report] standards`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub standards: Vec<String>,
}

impl Record {
    /// Folds a run's events into its record. `None` if the run never started.
    pub fn from_events(events: &[RunEvent]) -> Option<Record> {
        let mut record: Option<Record> = None;
        for e in events {
            match e {
                RunEvent::RunStarted(h) => match &mut record {
                    None => {
                        record = Some(Record {
                            schema_version: crate::RECORD_SCHEMA_VERSION,
                            run_id: h.run_id.clone(),
                            metrig_version: h.metrig_version.clone(),
                            started_at: h.started_at.clone(),
                            finished_at: None,
                            status: RecordStatus::Unfinished,
                            message: "no end journaled".into(),
                            plan_name: h.plan_name.clone(),
                            plan: h.plan.clone(),
                            rig_name: h.rig_name.clone(),
                            rig: h.rig.clone(),
                            simulated: h.simulated,
                            seed: h.seed,
                            decision_rule: DecisionRuleRecord {
                                rule: h.decision_rule,
                                text: h.decision_rule_text.clone(),
                            },
                            meters: h.meters.clone(),
                            instruments: h.instruments.clone(),
                            points: h
                                .points
                                .iter()
                                .map(|p| PointRecord {
                                    key: p.key(),
                                    suite: p.suite.clone(),
                                    id: p.id.clone(),
                                    position: p.position,
                                    title: p.title.clone(),
                                    verdict: Verdict::Skipped,
                                    mean_error_pct: None,
                                    expanded_uncertainty_pct: None,
                                    limit_pct: p.limit.as_ref().map(|l| l.limit_pct),
                                    limit: p.limit.clone(),
                                    budget: None,
                                    summary: "not run".into(),
                                    details: serde_json::Value::Null,
                                    loads: p.loads.clone(),
                                    planned_rig_time_s: p.rig_time.as_secs_f64(),
                                    planned_u: p.planned_u.clone(),
                                    attempts: 0,
                                    samples: Vec::new(),
                                    conditions: None,
                                })
                                .collect(),
                            findings: Vec::new(),
                            limits_not_verified: Vec::new(),
                            limits_overridden: Vec::new(),
                            restore: Vec::new(),
                            resumes: 0,
                            lab: h.lab.clone(),
                            facts: h.facts.clone(),
                            certificates: h.certificates.clone(),
                            reference_conditions: h.reference_conditions.clone(),
                            standards: h.standards.clone(),
                        });
                    }
                    Some(r) => {
                        r.resumes += 1;
                        r.status = RecordStatus::Unfinished;
                        r.meters = h.meters.clone();
                        r.instruments = h.instruments.clone();
                    }
                },
                RunEvent::PointStarted { key, .. } => {
                    if let Some(p) = point(&mut record, key) {
                        // A restarted point's earlier samples stay in the journal only.
                        p.samples.clear();
                        p.attempts += 1;
                    }
                }
                RunEvent::Conditions { key, reading } => {
                    // A point measured again (resumed) keeps its latest reading.
                    if let Some(p) = point(&mut record, key) {
                        p.conditions = Some(reading.clone());
                    }
                }
                RunEvent::Sample { key, sample } => {
                    if let Some(p) = point(&mut record, key) {
                        p.samples.push(sample.clone());
                    }
                }
                RunEvent::Finding { finding } => {
                    if let Some(r) = &mut record {
                        r.findings.push(finding.clone());
                    }
                }
                RunEvent::PointFinished { key, outcome, .. } => {
                    if let Some(p) = point(&mut record, key) {
                        p.verdict = outcome.verdict;
                        p.mean_error_pct = outcome.mean_error_pct;
                        p.expanded_uncertainty_pct = outcome.expanded_uncertainty_pct;
                        p.limit_pct = outcome.limit_pct.or(p.limit_pct);
                        p.budget = outcome.budget.clone();
                        p.summary = outcome.summary.clone();
                        p.details = outcome.details.clone();
                    }
                }
                RunEvent::RunFinished {
                    status,
                    message,
                    restore,
                    finished_at,
                } => {
                    if let Some(r) = &mut record {
                        r.status = match status {
                            model::events::RunStatus::Completed => RecordStatus::Completed,
                            model::events::RunStatus::Interrupted => RecordStatus::Interrupted,
                        };
                        r.message = message.clone();
                        r.restore = restore.clone();
                        r.finished_at = Some(finished_at.clone());
                    }
                }
            }
        }
        if let Some(r) = &mut record {
            let mut seen = std::collections::BTreeSet::new();
            for p in &r.points {
                if let Some(l) = &p.limit
                    && seen.insert((l.table.clone(), l.row.clone()))
                {
                    if l.confidence != Confidence::Verified {
                        r.limits_not_verified.push(l.clone());
                    }
                    if l.overridden.is_some() {
                        r.limits_overridden.push(l.clone());
                    }
                }
            }
        }
        record
    }

    pub fn count(&self, v: Verdict) -> usize {
        self.points.iter().filter(|p| p.verdict == v).count()
    }

    /// "30 pass, 2 fail": each verdict that occurs, with its count.
    pub fn verdict_counts(&self) -> Vec<String> {
        Verdict::ALL
            .iter()
            .filter(|v| self.count(**v) > 0)
            .map(|v| format!("{} {}", self.count(*v), v))
            .collect()
    }

    pub fn failures(&self) -> usize {
        self.points
            .iter()
            .filter(|p| p.verdict.is_failure())
            .count()
    }

    /// Writes `record.json` in `dir` atomically: a reader never sees half a record.
    pub fn write(&self, dir: &Path) -> Result<(), RecordError> {
        let path = dir.join(RECORD_FILE);
        let text = serde_json::to_vec_pretty(self).map_err(|e| RecordError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        crate::safe_write::write_file(dir, RECORD_FILE, &text).map_err(|message| RecordError::Io {
            path: path.display().to_string(),
            message,
        })
    }

    pub fn read(dir: &Path) -> Result<Record, RecordError> {
        let path = dir.join(RECORD_FILE);
        let p = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| RecordError::Io {
            path: p.clone(),
            message: e.to_string(),
        })?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| RecordError::Format {
                path: p.clone(),
                message: e.to_string(),
            })?;
        let found = v
            .get("schema_version")
            .and_then(|s| s.as_u64())
            .unwrap_or(0) as u32;
        if found != crate::RECORD_SCHEMA_VERSION {
            return Err(RecordError::Schema {
                path: p,
                found,
                expected: crate::RECORD_SCHEMA_VERSION,
            });
        }
        serde_json::from_value(v).map_err(|e| RecordError::Format {
            path: p,
            message: e.to_string(),
        })
    }
}

fn point<'a>(record: &'a mut Option<Record>, key: &str) -> Option<&'a mut PointRecord> {
    record
        .as_mut()
        .and_then(|r| r.points.iter_mut().find(|p| p.key == key))
}

/// The record a listener builds as the run goes.
#[derive(Debug, Default)]
pub struct RecordListener {
    pub events: Vec<RunEvent>,
}

impl model::events::Listener for RecordListener {
    fn on_event(&mut self, event: &RunEvent) {
        self.events.push(event.clone());
    }
}

/// A point's limit as the tables print it: from its limit row when it has
/// one (with the row's unit), else the bare percent figure.
pub fn limit_text(p: &PointRecord) -> String {
    match (&p.limit, p.limit_pct) {
        (Some(l), Some(v)) => {
            let mut l = l.clone();
            l.limit_pct = v;
            l.show()
        }
        (Some(l), None) => l.show(),
        (None, Some(v)) => format!("±{v} %"),
        (None, None) => "—".into(),
    }
}
