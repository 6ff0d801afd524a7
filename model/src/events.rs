//! What happens during a run, as events. The journal writes them, the
//! progress display shows them, the record is their fold.

use serde::{Deserialize, Serialize};

use crate::identity::{Identity, MeterSelf};
use crate::lab::{Certificate, ClimateReading, LabInfo, ReferenceConditions, RunFacts};
use crate::point::{PointOutcome, PointSpec};
use crate::stats::DecisionRule;

/// A file the run used, with its hash, so the record proves which one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRef {
    pub path: String,
    pub sha256: String,
}

impl FileRef {
    pub fn of(path: &std::path::Path) -> Self {
        use sha2::{Digest, Sha256};
        let sha256 = std::fs::read(path)
            .map(|b| format!("{:x}", Sha256::digest(&b)))
            .unwrap_or_else(|e| format!("unreadable: {e}"));
        Self {
            path: path.display().to_string(),
            sha256,
        }
    }
}

/// A meter on the rig: its profile and what it said of itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterInfo {
    pub position: usize,
    pub profile_id: String,
    pub maker: String,
    pub model: String,
    pub profile: FileRef,
    pub map_status: String,
    pub said: Option<MeterSelf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub index: usize,
    /// Rig time, seconds.
    pub at_s: f64,
    pub value: f64,
    pub unit: String,
    /// The raw readings behind the value (counts, energies, instants).
    pub raw: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    /// A deviation from a standard that the datasheet itself allows.
    Deviation,
    Warning,
}

/// In the lab's words, as the reports and the station page print it.
impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Deviation => "deviation",
            Severity::Warning => "warning",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The point it belongs to, if any.
    pub key: Option<String>,
    pub severity: Severity,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Completed,
    /// Stopped by a signal, an error or a panic; resumable.
    Interrupted,
}

/// Whether the meters' settings were put back at the end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreOutcome {
    pub position: usize,
    pub restored: bool,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    pub run_id: String,
    pub started_at: String,
    pub plan_name: String,
    pub plan: FileRef,
    pub rig: FileRef,
    pub rig_name: String,
    pub simulated: bool,
    pub seed: u64,
    pub decision_rule: DecisionRule,
    pub decision_rule_text: String,
    pub meters: Vec<MeterInfo>,
    pub instruments: Vec<Identity>,
    pub points: Vec<PointSpec>,
    /// Set when this start continues an interrupted run.
    pub resumed: bool,
    pub metrig_version: String,
    /// The laboratory's fixed facts (`--lab FILE`), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lab: Option<LabInfo>,
    /// Customer, receipt date, operator, sample id, report number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<RunFacts>,
    /// The calibration certificates the rig file declares, per instrument.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<Certificate>,
    /// The plan's reference conditions (`[conditions]`), if it declares them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_conditions: Option<ReferenceConditions>,
    /// The standards and editions the plan's method follows (`[report] standards`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub standards: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    RunStarted(Box<RunHeader>),
    PointStarted {
        key: String,
        at_s: f64,
    },
    Sample {
        key: String,
        sample: Sample,
    },
    Finding {
        finding: Finding,
    },
    /// The climate sensor's reading as a point (or a group of points
    /// measured together) starts; `outside` set when it lies outside the
    /// plan's reference conditions (EN 50470-3 §8, 17025 §7.8.2.1 reporting
    /// of environmental conditions).
    Conditions {
        key: String,
        reading: ClimateReading,
    },
    PointFinished {
        key: String,
        outcome: PointOutcome,
        at_s: f64,
    },
    RunFinished {
        status: RunStatus,
        message: String,
        restore: Vec<RestoreOutcome>,
        finished_at: String,
    },
}

/// Anything that follows a run. Listeners never talk to instruments.
pub trait Listener: Send {
    fn on_event(&mut self, event: &RunEvent);
}
