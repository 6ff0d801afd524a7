//! Plans (`fixtures/plans/*.toml`): which suites, repetitions, the decision
//! rule, warm-up and settling, limit overrides and preconditions. Parsed and
//! validated once, at the edge.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::params::Declaration;
use crate::stats::DecisionRule;

/// A refused plan: the one input-file error (`crate::files`).
pub type PlanError = crate::files::FileError;

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
    /// What the rig-time planner aims at and may spend (issue 20).
    #[serde(default)]
    pub targets: PlanTargets,
    /// `[plan] kind`: a type test must carry the 17025 facts (issue 19).
    #[serde(default)]
    pub kind: PlanKind,
    /// `[conditions]`: the reference conditions points are measured in.
    #[serde(default)]
    pub conditions: Option<model::lab::ReferenceConditions>,
    /// `[report]`: per-run facts and the lab, merged with the command line's.
    #[serde(default)]
    pub report: ReportSettings,
}

/// `[plan] target_tur`, `max_u_pct`, `max_point_hours`, `max_rig_hours`:
/// the uncertainty each point is planned for and the rig time a plan may
/// take. On a real bench rig time is the cost, so the planner sizes each
/// point's gate, dwell or pulse count for its target and no more
/// (`run::planner`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanTargets {
    /// Test uncertainty ratio each point is planned for: limit ÷ U
    /// (default 3, the ratio ILAC-G8 and JCGM 106 discuss as adequate).
    pub target_tur: f64,
    /// A maximum expanded U (percent) instead of the ratio, when set.
    pub max_u_pct: Option<f64>,
    /// No point is planned longer than this: a point that would need more
    /// is planned at it and flagged with the U it reaches.
    pub max_point_hours: f64,
    /// A plan whose rig hours exceed this is refused before anything is
    /// energised, naming the suites that cost most.
    pub max_rig_hours: Option<f64>,
}

/// Default `[plan] max_point_hours`: a day.
pub const DEFAULT_MAX_POINT_HOURS: f64 = 24.0;

impl Default for PlanTargets {
    fn default() -> Self {
        Self {
            target_tur: 3.0,
            max_u_pct: None,
            max_point_hours: DEFAULT_MAX_POINT_HOURS,
            max_rig_hours: None,
        }
    }
}

/// What a plan is for. A type test's report goes to a notified body, so
/// `metrig run` refuses it without the lab and run facts ISO/IEC 17025
/// §7.8.2.1 asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanKind {
    /// A development, nightly or gate run: no report facts required.
    #[default]
    Check,
    /// A type test (MID Annex B, module B).
    TypeTest,
}

/// `[report]` of a plan: facts of the run (each may come from the command
/// line instead, which wins), the lab file, and whether `report.pdf` is
/// printed at the end.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportSettings {
    pub facts: model::lab::RunFacts,
    /// The lab file (`fixtures/labs/*.toml`), relative to the plan.
    pub lab_file: Option<PathBuf>,
    /// The lab file's content, once loaded (the command line loads it).
    pub lab: Option<model::lab::LabInfo>,
    /// Print `report.pdf` beside `report.html` (headless Chromium).
    pub pdf: bool,
    /// The standards, with their editions, the plan's method follows
    /// (17025 §7.8.2.1 i: identification of the method used).
    pub standards: Vec<String>,
}

impl Plan {
    /// The facts a type test needs and this plan (as completed from the
    /// command line) lacks, by their flag names; empty for other plans.
    pub fn missing_report_facts(&self) -> Vec<&'static str> {
        if self.kind != PlanKind::TypeTest {
            return Vec::new();
        }
        let mut missing = Vec::new();
        if self.report.lab.is_none() {
            missing.push("lab");
        }
        missing.extend(self.report.facts.missing());
        missing
    }
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
    /// Why a type test may run on a lab rig whose type A floor has no
    /// study date (`rig::reference_model::floor_precondition`).
    #[serde(default)]
    pub floor_unstudied: Option<String>,
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
    conditions: Option<RawConditions>,
    report: Option<RawReport>,
}

/// `[conditions]`: EN 50470-3 §8 reference conditions (23 °C ± 2 K for class B).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConditions {
    temperature_c: f64,
    temperature_tolerance_k: f64,
    humidity_min_pct: Option<f64>,
    humidity_max_pct: Option<f64>,
    #[serde(default)]
    on_out_of_range: model::lab::OnOutOfRange,
    #[serde(default = "default_max_wait")]
    max_wait_s: f64,
    clause: String,
}

fn default_max_wait() -> f64 {
    3600.0
}

/// `[report]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    lab: Option<PathBuf>,
    report_number: Option<String>,
    customer: Option<String>,
    received: Option<chrono::NaiveDate>,
    operator: Option<String>,
    sample_id: Option<String>,
    #[serde(default)]
    pdf: bool,
    #[serde(default)]
    standards: Vec<String>,
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
    #[serde(default = "default_tur")]
    target_tur: f64,
    #[serde(default)]
    max_u_pct: Option<f64>,
    #[serde(default = "default_point_hours")]
    max_point_hours: f64,
    #[serde(default)]
    max_rig_hours: Option<f64>,
    #[serde(default)]
    kind: PlanKind,
}

fn default_tur() -> f64 {
    3.0
}
fn default_point_hours() -> f64 {
    DEFAULT_MAX_POINT_HOURS
}

fn default_reps() -> u32 {
    5
}
fn default_settle() -> f64 {
    5.0
}

/// Reads and checks the plan at `path` against `catalogue`, the
/// declarations of the suites this metrig has (`Suite::declaration`).
pub fn load_plan(path: &Path, catalogue: &[Declaration]) -> Result<Plan, PlanError> {
    let text = crate::files::read_bounded(path, "plan")?;
    parse_plan(&text, path, catalogue)
}

/// Checks a plan's text against `catalogue`, the suites' declarations: each
/// `[[suites]]` entry must name one, and carry only the parameters that
/// suite declares, each within its declared range.
pub fn parse_plan(text: &str, path: &Path, catalogue: &[Declaration]) -> Result<Plan, PlanError> {
    let raw: RawPlan = toml::from_str(text).map_err(|e| PlanError::syntax(path, &e))?;
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
            return Err(bad(
                key.into(),
                crate::files::show(v),
                "within 0..=86400 s".into(),
            ));
        }
    }
    // The planner's targets: each within what a lab could mean.
    let mut numbers = vec![
        (
            "plan.target_tur",
            h.target_tur,
            1.0,
            100.0,
            "within 1..=100",
        ),
        (
            "plan.max_point_hours",
            h.max_point_hours,
            0.01,
            1000.0,
            "within 0.01..=1000 h",
        ),
    ];
    if let Some(u) = h.max_u_pct {
        numbers.push((
            "plan.max_u_pct",
            u,
            1e-6,
            100.0,
            "within 0 (exclusive)..=100 %",
        ));
    }
    if let Some(r) = h.max_rig_hours {
        numbers.push((
            "plan.max_rig_hours",
            r,
            0.01,
            100_000.0,
            "within 0.01..=100000 h",
        ));
    }
    for (key, v, low, high, allowed) in numbers {
        if !(v.is_finite() && (low..=high).contains(&v)) {
            return Err(bad(key.into(), crate::files::show(v), allowed.into()));
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
        let Some(declared) = catalogue.iter().find(|d| d.id == id) else {
            let known: Vec<_> = catalogue.iter().map(|d| d.id).collect();
            return Err(bad(
                format!("suites[{i}].id"),
                format!("\"{id}\""),
                format!("one of {known:?}"),
            ));
        };
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
        super::params::check(&bad, i, declared, &t)?;
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
        if let Some(first) = raw.overrides[..i]
            .iter()
            .position(|p| p.table == o.table && p.row == o.row)
        {
            return Err(bad(
                format!("overrides[{i}].row"),
                format!("\"{}\" of table \"{}\"", o.row, o.table),
                format!("each row overridden once (overrides[{first}] already does)"),
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
    let conditions = raw
        .conditions
        .map(|c| conditions(&crate::files::Checker::new(path), c))
        .transpose()?;
    let report = raw
        .report
        .map(|r| ReportSettings {
            facts: model::lab::RunFacts {
                report_number: r.report_number,
                customer: r.customer,
                received: r.received,
                operator: r.operator,
                sample_id: r.sample_id,
            },
            lab_file: r
                .lab
                .map(|l| path.parent().unwrap_or(Path::new(".")).join(l)),
            lab: None,
            pdf: r.pdf,
            standards: r.standards,
        })
        .unwrap_or_default();
    Ok(Plan {
        kind: h.kind,
        conditions,
        report,
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
        targets: PlanTargets {
            target_tur: h.target_tur,
            max_u_pct: h.max_u_pct,
            max_point_hours: h.max_point_hours,
            max_rig_hours: h.max_rig_hours,
        },
    })
}

/// `[conditions]`, each figure within a physical range.
fn conditions(
    c: &crate::files::Checker<'_>,
    r: RawConditions,
) -> Result<model::lab::ReferenceConditions, PlanError> {
    let temperature_c = c.within(
        "conditions.temperature_c",
        r.temperature_c,
        -40.0..=85.0,
        "°C",
    )?;
    let tolerance = c.above(
        "conditions.temperature_tolerance_k",
        r.temperature_tolerance_k,
        0.0,
        50.0,
        "K",
    )?;
    let humidity_min_pct = r
        .humidity_min_pct
        .map(|v| c.within("conditions.humidity_min_pct", v, 0.0..=100.0, "%"))
        .transpose()?;
    let humidity_max_pct = r
        .humidity_max_pct
        .map(|v| {
            c.within(
                "conditions.humidity_max_pct",
                v,
                humidity_min_pct.unwrap_or(0.0)..=100.0,
                "% (and at least humidity_min_pct)",
            )
        })
        .transpose()?;
    let max_wait_s = c.within("conditions.max_wait_s", r.max_wait_s, 0.0..=86_400.0, "s")?;
    if r.clause.trim().is_empty() {
        return Err(c.invalid(
            "conditions.clause",
            "\"\"",
            "the clause the conditions come from (\"EN 50470-3 §8\")",
        ));
    }
    Ok(model::lab::ReferenceConditions {
        temperature_c,
        temperature_tolerance_k: tolerance,
        humidity_min_pct,
        humidity_max_pct,
        on_out_of_range: r.on_out_of_range,
        max_wait_s,
        clause: r.clause,
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

    /// Refuses an override whose table row no planned point uses (a typo'd
    /// table or row would otherwise change nothing, silently); `used` holds
    /// the (table, row) of every planned point's limit.
    pub fn check_overrides<'a>(
        &self,
        used: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), PlanError> {
        let used: std::collections::BTreeSet<(&str, &str)> = used.into_iter().collect();
        for (i, o) in self.overrides.iter().enumerate() {
            if !used.contains(&(o.table.as_str(), o.row.as_str())) {
                let mut rows: Vec<String> = used
                    .iter()
                    .filter(|(t, _)| *t == o.table)
                    .map(|(_, r)| r.to_string())
                    .collect();
                rows.truncate(20);
                return Err(PlanError::Invalid {
                    file: self.file.clone(),
                    key: format!("overrides[{i}]"),
                    value: format!("table \"{}\", row \"{}\"", o.table, o.row),
                    allowed: if rows.is_empty() {
                        "a table a planned point is judged by".into()
                    } else {
                        format!("a row a planned point is judged by: {rows:?}")
                    },
                });
            }
        }
        Ok(())
    }

    pub fn override_for(&self, table: &str, row: &str) -> Option<&LimitOverride> {
        self.overrides
            .iter()
            .find(|o| o.table == table && o.row == row)
    }
}
