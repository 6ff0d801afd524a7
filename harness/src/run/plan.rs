//! Plans (`fixtures/plans/*.toml`): which suites, repetitions, the decision
//! rule, warm-up and settling, limit overrides and preconditions. Parsed and
//! validated once, at the edge.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::stats::DecisionRule;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{file}: cannot read the plan: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Syntax { file: PathBuf, message: String },
    #[error("{file}: `{key}` = {value}: {allowed}")]
    Invalid {
        file: PathBuf,
        key: String,
        value: String,
        allowed: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    pub decision_rule: DecisionRule,
    /// Repetitions of each measured point, unless a suite entry overrides it.
    pub repetitions: u32,
    /// Warm-up at Iref before the first point (real rigs; simulated time on the sim).
    pub warm_up: Duration,
    /// Settling time after each change of load point.
    pub settle: Duration,
    pub suites: Vec<SuiteEntry>,
    /// Repeat each point a fixed count, or stop once its verdict is decided
    /// (`stats::sequential`).
    pub stopping: Stopping,
    pub overrides: Vec<LimitOverride>,
    pub preconditions: Preconditions,
    pub compare: CompareSettings,
}

/// How many times a point is repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stopping {
    /// The plan's repetitions, always (type tests).
    #[default]
    Fixed,
    /// Up to the plan's repetitions, stopping once the verdict is decided
    /// at the rule's risk (nightly and gate plans).
    Sequential,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteEntry {
    pub id: String,
    pub repetitions: Option<u32>,
    /// Suite-specific parameters, checked by the suite.
    pub params: toml::Table,
}

/// A plan's replacement for one row of a standard's table: labs correct a
/// recalled limit without touching code; the record says which rows changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverride {
    pub table: String,
    pub row: String,
    pub limit_pct: f64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preconditions {
    /// The firmware version every meter must report before any point runs.
    pub firmware: Option<String>,
    /// Why the run may go on with an instrument past its calibration due
    /// date (`measure::calibration`); without it such a run is refused.
    #[serde(default)]
    pub calibration_overdue: Option<String>,
}

/// The firmware gate's settings (`metrig compare`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareSettings {
    /// Significance level of Welch's test.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// A change smaller than this fraction of the point's limit (MPE) is not
    /// a regression, however significant.
    #[serde(default = "default_fraction")]
    pub practical_fraction_of_mpe: f64,
}

fn default_alpha() -> f64 {
    0.01
}
fn default_fraction() -> f64 {
    0.2
}

impl Default for CompareSettings {
    fn default() -> Self {
        Self {
            alpha: default_alpha(),
            practical_fraction_of_mpe: default_fraction(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    plan: RawHead,
    #[serde(default)]
    preconditions: Preconditions,
    #[serde(default)]
    compare: Option<CompareSettings>,
    suites: Vec<toml::Table>,
    #[serde(default)]
    overrides: Vec<LimitOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHead {
    name: String,
    #[serde(default)]
    description: String,
    decision_rule: DecisionRule,
    #[serde(default = "default_reps")]
    repetitions: u32,
    #[serde(default)]
    warm_up_s: f64,
    #[serde(default = "default_settle")]
    settle_s: f64,
    #[serde(default)]
    stopping: Stopping,
}

fn default_reps() -> u32 {
    5
}
fn default_settle() -> f64 {
    5.0
}

pub fn load_plan(path: &Path, known_suites: &[&str]) -> Result<Plan, PlanError> {
    let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    parse_plan(&text, path, known_suites)
}

pub fn parse_plan(text: &str, path: &Path, known_suites: &[&str]) -> Result<Plan, PlanError> {
    let raw: RawPlan = toml::from_str(text).map_err(|e| PlanError::Syntax {
        file: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    let bad = |key: String, value: String, allowed: String| PlanError::Invalid {
        file: path.to_path_buf(),
        key,
        value,
        allowed,
    };
    let h = &raw.plan;
    if !(1..=1000).contains(&h.repetitions) {
        return Err(bad(
            "plan.repetitions".into(),
            h.repetitions.to_string(),
            "within 1..=1000".into(),
        ));
    }
    for (key, v) in [
        ("plan.warm_up_s", h.warm_up_s),
        ("plan.settle_s", h.settle_s),
    ] {
        if !(v.is_finite() && (0.0..=86_400.0).contains(&v)) {
            return Err(bad(key.into(), v.to_string(), "within 0..=86400 s".into()));
        }
    }
    if raw.suites.is_empty() {
        return Err(bad(
            "suites".into(),
            "[]".into(),
            "at least one [[suites]] entry".into(),
        ));
    }
    let mut suites = Vec::new();
    for (i, mut t) in raw.suites.into_iter().enumerate() {
        let id = match t.remove("id") {
            Some(toml::Value::String(s)) => s,
            other => {
                return Err(bad(
                    format!("suites[{i}].id"),
                    format!("{other:?}"),
                    "a suite id string".into(),
                ));
            }
        };
        if !known_suites.contains(&id.as_str()) {
            return Err(bad(
                format!("suites[{i}].id"),
                format!("\"{id}\""),
                format!("one of {known_suites:?}"),
            ));
        }
        let repetitions = match t.remove("repetitions") {
            None => None,
            Some(toml::Value::Integer(n)) if (1..=1000).contains(&n) => Some(n as u32),
            Some(v) => {
                return Err(bad(
                    format!("suites[{i}].repetitions"),
                    v.to_string(),
                    "within 1..=1000".into(),
                ));
            }
        };
        if suites.iter().any(|s: &SuiteEntry| s.id == id) {
            return Err(bad(
                format!("suites[{i}].id"),
                format!("\"{id}\""),
                "each suite may appear once".into(),
            ));
        }
        suites.push(SuiteEntry {
            id,
            repetitions,
            params: t,
        });
    }
    for (i, o) in raw.overrides.iter().enumerate() {
        if !(o.limit_pct.is_finite() && o.limit_pct > 0.0 && o.limit_pct <= 100.0) {
            return Err(bad(
                format!("overrides[{i}].limit_pct"),
                o.limit_pct.to_string(),
                "within 0 (exclusive)..=100".into(),
            ));
        }
        if o.reason.trim().is_empty() {
            return Err(bad(
                format!("overrides[{i}].reason"),
                "\"\"".into(),
                "say why the limit is overridden".into(),
            ));
        }
    }
    let compare = raw.compare.unwrap_or_default();
    if !(compare.alpha > 0.0 && compare.alpha < 0.5) {
        return Err(bad(
            "compare.alpha".into(),
            compare.alpha.to_string(),
            "within 0..0.5 (exclusive)".into(),
        ));
    }
    if !(compare.practical_fraction_of_mpe >= 0.0 && compare.practical_fraction_of_mpe <= 1.0) {
        return Err(bad(
            "compare.practical_fraction_of_mpe".into(),
            compare.practical_fraction_of_mpe.to_string(),
            "within 0..=1".into(),
        ));
    }
    Ok(Plan {
        file: path.to_path_buf(),
        name: h.name.clone(),
        description: h.description.clone(),
        decision_rule: h.decision_rule,
        repetitions: h.repetitions,
        stopping: h.stopping,
        warm_up: Duration::from_secs_f64(h.warm_up_s),
        settle: Duration::from_secs_f64(h.settle_s),
        suites,
        overrides: raw.overrides,
        preconditions: raw.preconditions,
        compare,
    })
}

impl Plan {
    pub fn repetitions_for(&self, suite: &str) -> u32 {
        self.suites
            .iter()
            .find(|s| s.id == suite)
            .and_then(|s| s.repetitions)
            .unwrap_or(self.repetitions)
    }

    pub fn entry(&self, suite: &str) -> Option<&SuiteEntry> {
        self.suites.iter().find(|s| s.id == suite)
    }

    pub fn override_for(&self, table: &str, row: &str) -> Option<&LimitOverride> {
        self.overrides
            .iter()
            .find(|o| o.table == table && o.row == row)
    }
}
