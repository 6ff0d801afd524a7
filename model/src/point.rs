//! A planned point and what its measurement came to: the record's rows.
//! Suites declare points, the framework judges them, reports read them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::load_point::LoadPoint;
use crate::stats::{Budget, Verdict};

/// How sure a standard's figure is (shared/standards.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// From a published text.
    Verified,
    /// Recalled; to confirm against the purchased standard.
    Recalled,
    Uncertain,
    /// Derived from the meter's ratings.
    Derived,
}

/// In the words of shared/standards.md and the record (`"verified"`).
impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Confidence::Verified => "verified",
            Confidence::Recalled => "recalled",
            Confidence::Uncertain => "uncertain",
            Confidence::Derived => "derived",
        })
    }
}

/// The limit a point is judged against, and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitRef {
    pub table: String,
    pub row: String,
    pub clause: String,
    pub confidence: Confidence,
    pub limit_pct: f64,
    /// Set when the plan replaced the table's figure; says why.
    pub overridden: Option<String>,
    /// The limit's unit: "%" (± percent error), "ms" (a maximum), or ""
    /// for a rule met or not.
    #[serde(default = "percent")]
    pub unit: String,
}

fn percent() -> String {
    "%".into()
}

impl LimitRef {
    /// The limit as a lab reads it: "±1 %", "±0.01 Hz", "≥ 30 ms",
    /// "≤ 200 ms", "rule". A unit written "±Hz" is a two-sided absolute
    /// limit, "≥ms" a minimum, any other a maximum.
    pub fn show(&self) -> String {
        match self.unit.as_str() {
            "%" => format!("±{} %", self.limit_pct),
            "" => "rule".into(),
            u if u.starts_with('±') => format!("±{} {}", self.limit_pct, &u['±'.len_utf8()..]),
            u if u.starts_with('≥') => format!("≥ {} {}", self.limit_pct, &u['≥'.len_utf8()..]),
            unit => format!("≤ {} {unit}", self.limit_pct),
        }
    }

    /// The same limit in another unit.
    pub fn in_unit(mut self, unit: &str) -> Self {
        self.unit = unit.into();
        self
    }
}

/// A planned point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointSpec {
    pub suite: String,
    pub id: String,
    /// 0-based position on the rig.
    pub position: usize,
    pub title: String,
    /// Every load point the point will apply, checked before anything is energised.
    pub loads: Vec<LoadPoint>,
    /// What the point would take on a real rig.
    pub rig_time: Duration,
    pub limit: Option<LimitRef>,
    /// Suite-private parameters.
    pub params: serde_json::Value,
    /// What the rig-time planner expects of the point: its U against its
    /// limit, and whether it was cut at `[plan] max_point_hours` (issue 20).
    /// `None` for a point judged by a rule rather than a figure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_u: Option<PlannedU>,
}

/// The uncertainty the planner sized a point for: the expected expanded U
/// (k = 2) of the method it chose, the point's limit, the U it aimed at
/// (limit ÷ target TUR, or the plan's maximum U) and, when the target could
/// not be met within `[plan] max_point_hours`, why (the point is then
/// planned at that limit and reaches `expected_u_pct`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedU {
    pub expected_u_pct: f64,
    pub limit_pct: f64,
    pub target_u_pct: f64,
    /// The method the planner chose ("register method, 0.01 kvarh", ...).
    pub method: String,
    /// Set when the point cannot meet its target: what limited it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flagged: Option<String>,
}

impl PlannedU {
    /// The test uncertainty ratio expected: limit ÷ U.
    pub fn tur(&self) -> f64 {
        if self.expected_u_pct > 0.0 {
            self.limit_pct / self.expected_u_pct
        } else {
            f64::INFINITY
        }
    }

    /// Whether the expected U is within the target (a small relative slack
    /// for the rounding of a dwell to whole seconds).
    pub fn meets_target(&self) -> bool {
        self.expected_u_pct <= self.target_u_pct * (1.0 + 1e-6)
    }
}

impl std::fmt::Display for PlannedU {
    /// "U 0.62 % / ±2 % (TUR 3.2)", with "FLAGGED: …" when cut short.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "U {:.3} % / ±{} % (TUR {:.1})",
            self.expected_u_pct,
            self.limit_pct,
            self.tur()
        )?;
        if let Some(why) = &self.flagged {
            write!(f, " FLAGGED: {why}")?;
        }
        Ok(())
    }
}

impl PointSpec {
    /// Unique within a run: "accuracy-active/p1/pf1-imin-up".
    pub fn key(&self) -> String {
        format!("{}/p{}/{}", self.suite, self.position + 1, self.id)
    }
}

/// What a measured point comes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointOutcome {
    pub verdict: Verdict,
    pub mean_error_pct: Option<f64>,
    pub expanded_uncertainty_pct: Option<f64>,
    pub limit_pct: Option<f64>,
    pub budget: Option<Budget>,
    /// One sentence a lab engineer reads.
    pub summary: String,
    /// Suite-specific figures (periods, histograms, counts).
    pub details: serde_json::Value,
}

impl PointOutcome {
    pub fn skipped(why: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Skipped,
            mean_error_pct: None,
            expanded_uncertainty_pct: None,
            limit_pct: None,
            budget: None,
            summary: why.into(),
            details: serde_json::Value::Null,
        }
    }
}
