//! What a suite is to the runner: a list of points planned from the plan and
//! the meter's ratings, and a way to measure one point on a rig. Suites never
//! print or talk to listeners; they return measurements and emit samples
//! through `PointIo`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::events::{Finding, RunEvent, Sample, Severity};
use super::params::{Declaration, Param, ParamKind};
use super::plan::Plan;
use crate::modbus::LinkError;
use crate::profile::MeterProfile;
use crate::rig::{Rig, RigError};
use crate::stats::DecisionRule;
pub use model::point::{Confidence, LimitRef, PlannedU, PointOutcome, PointSpec};

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The rig failed: the run stops (exit 3).
    #[error(transparent)]
    Rig(#[from] RigError),
    /// The point could not be measured; the run goes on.
    #[error("{0}")]
    Measure(String),
    /// The meter's link failed; the point records an error.
    #[error("meter: {0}")]
    Link(#[from] LinkError),
    /// The plan asks for something the suite cannot do.
    #[error("{0}")]
    Plan(String),
}

/// What a suite sees of the plan when it plans its points.
#[derive(Debug)]
pub struct PlanContext<'a> {
    pub plan: &'a Plan,
    pub params: &'a toml::Table,
    pub repetitions: u32,
    pub positions: Vec<(usize, Arc<MeterProfile>)>,
    pub simulated: bool,
    /// The reference standard's pulse constant, when the rig has one.
    pub reference_constant: Option<crate::quantity::MeterConstant>,
    /// The reference's uncertainty per quantity (the rig's `[metrology]`),
    /// which the planner adds to a method's own when it sizes a dwell.
    pub reference: Option<crate::rig::reference_model::ReferenceModel>,
}

impl PlanContext<'_> {
    /// A numeric parameter of the suite's plan entry, or its default.
    pub fn number(&self, key: &str, default: f64) -> Result<f64, SuiteError> {
        match self.params.get(key) {
            None => Ok(default),
            Some(toml::Value::Float(f)) => Ok(*f),
            Some(toml::Value::Integer(i)) => Ok(*i as f64),
            Some(v) => Err(SuiteError::Plan(format!(
                "parameter `{key}` = {v}: a number"
            ))),
        }
    }

    /// The declared numeric parameter `param`, or `default`, within the
    /// range the suite declared for it. Plan validation refuses an entry
    /// out of range first (`run::params`); a context built another way gets
    /// the same bound here, from the same declaration.
    pub fn number_of(&self, param: &Param, default: f64) -> Result<f64, SuiteError> {
        let v = self.number(param.key, default)?;
        if let ParamKind::Number {
            low,
            high,
            unit,
            whole,
        } = param.kind
            && !(v.is_finite() && (low..=high).contains(&v) && (!whole || v.fract() == 0.0))
        {
            let what = if whole { "a whole number" } else { "a number" };
            return Err(SuiteError::Plan(format!(
                "parameter `{}` = {v}: {what} within {low}..={high} {unit}",
                param.key
            )));
        }
        Ok(v)
    }

    /// The declared choice `param`, or `default`: one of its declared options.
    pub fn choice_of(
        &self,
        param: &Param,
        default: &'static str,
    ) -> Result<&'static str, SuiteError> {
        let options = match param.kind {
            ParamKind::Choice(options) => options,
            _ => &[],
        };
        match self.params.get(param.key) {
            None => Ok(default),
            Some(toml::Value::String(s)) if options.contains(&s.as_str()) => Ok(options
                .iter()
                .find(|o| **o == s)
                .copied()
                .unwrap_or(default)),
            Some(v) => Err(SuiteError::Plan(format!(
                "parameter `{}` = {v}: one of {options:?}",
                param.key
            ))),
        }
    }

    pub fn flag(&self, key: &str, default: bool) -> Result<bool, SuiteError> {
        match self.params.get(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(v) => Err(SuiteError::Plan(format!(
                "parameter `{key}` = {v}: true or false"
            ))),
        }
    }

    /// The planner for this plan's targets (`[plan] target_tur`,
    /// `max_u_pct`, `max_point_hours`).
    pub fn planner(&self) -> super::planner::Planner {
        super::planner::Planner::of(&self.plan.targets)
    }

    /// The reference's expanded U (k = 2) for `quantity` at `phase_deg`,
    /// or 0 when the rig declares none (a rig without a reference).
    pub fn reference_u(
        &self,
        quantity: crate::rig::reference_model::ReferenceQuantity,
        phase_deg: f64,
    ) -> f64 {
        self.reference
            .as_ref()
            .map_or(0.0, |m| m.expanded(quantity, phase_deg))
    }

    /// A plan's override of a table row, if any.
    pub fn limit(
        &self,
        table: &str,
        row: &str,
        clause: &str,
        confidence: Confidence,
        limit_pct: f64,
    ) -> LimitRef {
        let o = self.plan.override_for(table, row);
        LimitRef {
            table: table.into(),
            row: row.into(),
            clause: clause.into(),
            confidence,
            limit_pct: o.map_or(limit_pct, |o| o.limit_pct),
            overridden: o.map(|o| format!("{} (table: {limit_pct})", o.reason)),
            unit: "%".into(),
        }
    }
}

/// The runner's side of a point: where samples and findings go, and the
/// plan's settings a measurement needs.
pub struct PointIo<'a> {
    pub(crate) emit: &'a mut (dyn FnMut(RunEvent) + Send),
    pub(crate) key: String,
    pub(crate) samples: Vec<Sample>,
    pub decision_rule: DecisionRule,
    pub settle: Duration,
    pub repetitions: u32,
    /// With sequential stopping: the rule and the point's limit (percent).
    pub sequential: Option<(crate::stats::SequentialRule, f64)>,
}

impl std::fmt::Debug for PointIo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PointIo")
            .field("key", &self.key)
            .field("samples", &self.samples.len())
            .finish()
    }
}

impl PointIo<'_> {
    /// Records one raw result: it reaches the journal (synced) before the
    /// suite goes on.
    pub fn sample(
        &mut self,
        at: crate::rig::RigInstant,
        value: f64,
        unit: &str,
        raw: serde_json::Value,
    ) -> &Sample {
        let s = Sample {
            index: self.samples.len(),
            at_s: at.secs_f64(),
            value,
            unit: unit.into(),
            raw,
        };
        (self.emit)(RunEvent::Sample {
            key: self.key.clone(),
            sample: s.clone(),
        });
        self.samples.push(s);
        self.samples.last().expect("just pushed")
    }

    /// Records one raw result whose raw readings are a typed value (a gate,
    /// a dial test). A value that will not serialise is an error naming the
    /// point and the sample — never a silent `null` in the record.
    pub fn sample_of<T: serde::Serialize>(
        &mut self,
        at: crate::rig::RigInstant,
        value: f64,
        unit: &str,
        raw: &T,
    ) -> Result<&Sample, SuiteError> {
        let raw = serde_json::to_value(raw).map_err(|e| {
            SuiteError::Measure(format!(
                "{}: the raw readings of sample {}: {e}",
                self.key,
                self.samples.len()
            ))
        })?;
        Ok(self.sample(at, value, unit, raw))
    }

    pub fn finding(&mut self, severity: Severity, text: impl Into<String>) {
        (self.emit)(RunEvent::Finding {
            finding: Finding {
                key: Some(self.key.clone()),
                severity,
                text: text.into(),
            },
        });
    }

    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// Whether the repetitions so far (`errors`, with the budget's fixed
    /// `components`) already decide the point, under sequential stopping.
    pub fn decided(&self, errors: &[f64], components: &[crate::stats::Component]) -> bool {
        self.sequential.is_some_and(|(rule, limit)| {
            rule.decided(errors, components, limit, self.decision_rule)
                .is_some()
        })
    }
}

#[async_trait]
pub trait Suite: Send + Sync + std::fmt::Debug {
    fn id(&self) -> &'static str;
    fn title(&self) -> &'static str;
    /// The parameters this suite reads from its `[[suites]]` entry, with
    /// their ranges: plan validation checks an entry against them.
    fn params(&self) -> &'static [Param] {
        &[]
    }
    /// What plan validation knows of this suite (`run::params`).
    fn declaration(&self) -> Declaration {
        Declaration {
            id: self.id(),
            params: self.params(),
        }
    }
    /// Whether one point may be measured on every position at once (one
    /// load on the series circuit, each position gated on its own pulses).
    /// A suite that changes what the positions share (the RS485 bus's line
    /// settings) says no, and its points run one position at a time.
    fn concurrent_positions(&self) -> bool {
        true
    }
    /// The points this suite runs under the plan, for every applicable position.
    fn points(&self, ctx: &PlanContext<'_>) -> Result<Vec<PointSpec>, SuiteError>;
    /// Measures one point. The runner applies nothing itself: the suite
    /// energises through `rig.energise` (which checks limits again).
    async fn run(
        &self,
        point: &PointSpec,
        rig: &mut Rig,
        io: &mut PointIo<'_>,
    ) -> Result<PointOutcome, SuiteError>;
    /// What `point` needs from a dwell it may share with other suites'
    /// points at the same load (issue 20, `run::dwell`); `None` (the
    /// default) keeps it alone.
    fn dwell_use(&self, point: &PointSpec) -> Option<super::dwell::DwellUse> {
        let _ = point;
        None
    }
    /// Whether this suite's points may be measured in any order (each
    /// leaves the meter as it needs none of the others to have left it).
    /// The default keeps the plan's order: a settings matrix, a reboot, a
    /// weight written and not put back.
    fn any_order(&self) -> bool {
        false
    }
}
