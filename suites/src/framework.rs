//! The framework every suite is written against: a suite declares, per
//! position, the points it plans (id, title, loads, rig time, the limit
//! row that judges it, typed parameters) and measures one point; this module
//! loops over the rig's positions, serialises the parameters once (a failure
//! is an error naming the point), resolves the limit row against the plan's
//! overrides, and hands what was measured to `harness::run::judge`, which
//! applies the plan's decision rule and builds the outcome.
//!
//! Each suite also declares the parameters its plan entry may carry
//! (`Declares::PARAMS`); plan validation takes them from the catalogue
//! (`crate::catalogue`).
//!
//! Owns: the `Declares` trait, `Planned`, `Limit`, and `Framed`, the
//! adapter that makes a declaring suite a runner's `Suite`.
//! May import: harness (run, rig, profile), the suite id and the limit rows.

use std::time::Duration;

use async_trait::async_trait;
use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::rig::Rig;
use harness::run::dwell::DwellUse;
use harness::run::{
    Measured, Param, PlanContext, PointIo, PointOutcome, PointSpec, Suite, SuiteError,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::SuiteId;
use crate::limits::Row;

/// The limit a point declares: a table row, the figure it is judged at
/// (the row's, unless the plan's parameters set another before any
/// `[[overrides]]`), and its unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    row: Row,
    value: f64,
    unit: &'static str,
}

impl Limit {
    /// The row's own figure, in the row's unit (`limits::unit_of`: "%"
    /// unless the row is in Hz, PF units, pulses or a minimum time).
    pub fn of(row: Row) -> Self {
        Self {
            row,
            value: row.limit_pct,
            unit: crate::limits::unit_of(&row),
        }
    }

    /// The row, judged at `value` (a plan parameter that replaces the row's figure).
    pub fn at(mut self, value: f64) -> Self {
        self.value = value;
        self
    }

    /// The limit's unit: "ms" for a maximum time, "" for a rule met or not.
    pub fn in_unit(mut self, unit: &'static str) -> Self {
        self.unit = unit;
        self
    }
}

/// One point a suite plans on one position.
#[derive(Debug, Clone)]
pub struct Planned<P> {
    pub id: String,
    pub title: String,
    /// Every load the point applies, checked before anything is energised.
    pub loads: Vec<LoadPoint>,
    /// What the point takes on a real rig.
    pub rig_time: Duration,
    pub limit: Option<Limit>,
    pub params: P,
    /// The U the rig-time planner sized the point for (`run::planner`).
    pub planned_u: Option<harness::run::PlannedU>,
}

impl<P> Planned<P> {
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        loads: Vec<LoadPoint>,
        rig_time: Duration,
        params: P,
    ) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
            loads,
            rig_time,
            limit: None,
            params,
            planned_u: None,
        }
    }

    /// The U the planner sized the point for, shown by `--dry-run` and
    /// kept in the record (with its flag when the target was not met).
    pub fn sized(mut self, planned_u: harness::run::PlannedU) -> Self {
        self.planned_u = Some(planned_u);
        self
    }

    /// The limit the framework judges the point against.
    pub fn judged_by(mut self, limit: Limit) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// What a suite plans for one meter.
pub type Plans<P> = Result<Vec<Planned<P>>, SuiteError>;

/// What a suite's measurement of one point comes to, for the framework to judge.
pub type Measure = Result<Measured, SuiteError>;

/// Where a point is measured: the point, the rig (or this position's view
/// of it, in lockstep), and the runner's side (samples, findings, settings).
#[derive(Debug)]
pub struct Bench<'a, 'io> {
    pub point: &'a PointSpec,
    pub rig: &'a mut Rig,
    pub io: &'a mut PointIo<'io>,
}

/// A suite as it is written: what it plans for one meter, and how it
/// measures one point. The framework does the rest; the registry
/// (`crate::suite`) gives it its id.
pub trait Declares: Send + Sync + std::fmt::Debug + 'static {
    const TITLE: &'static str;
    /// The parameters the suite reads from its `[[suites]]` entry, with
    /// their ranges: plan validation checks every entry against them
    /// (`harness::run::params`), so they are declared here and nowhere else.
    const PARAMS: &'static [Param] = &[];
    /// The suite's private parameters of a point, kept in the record.
    type Params: Serialize + DeserializeOwned + Send + Sync;

    /// Whether one point may be measured on every position at once (one
    /// load on the series circuit, each position gated on its own pulses).
    /// A suite that changes what the positions share says no.
    fn concurrent_positions(&self) -> bool {
        true
    }

    /// The points of this suite for the meter at `position`.
    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Self::Params>;

    /// Measures one point (energising through `rig.energise`, which checks
    /// limits again) and says what was measured; the framework judges it.
    fn measure(
        &self,
        params: Self::Params,
        at: Bench<'_, '_>,
    ) -> impl std::future::Future<Output = Measure> + Send;

    /// What `point` drives and reads in a dwell it may share with other
    /// suites' points (issue 20, `harness::run::dwell`); `None` keeps it alone.
    fn dwell_use(&self, point: &PointSpec) -> Option<DwellUse> {
        let _ = point;
        None
    }

    /// Whether the points may run in any order (each needs nothing another
    /// left behind); the default keeps the plan's order.
    fn any_order(&self) -> bool {
        false
    }
}

/// A declaring suite as the runner sees it, under its id.
#[derive(Debug)]
pub struct Framed<S> {
    id: SuiteId,
    suite: S,
}

impl<S: Declares> Framed<S> {
    pub fn new(id: SuiteId, suite: S) -> Self {
        Self { id, suite }
    }
}

/// The record's point for `planned` on `position`: parameters serialised
/// once, the limit row resolved against the plan's overrides.
pub fn spec<P: Serialize>(
    ctx: &PlanContext<'_>,
    suite: SuiteId,
    position: usize,
    planned: Planned<P>,
) -> Result<PointSpec, SuiteError> {
    let mut spec = PointSpec {
        suite: suite.as_str().into(),
        id: planned.id,
        position,
        title: planned.title,
        loads: planned.loads,
        rig_time: planned.rig_time,
        limit: planned.limit.map(|l| {
            let r = l.row;
            ctx.limit(r.table, r.id, r.clause, r.confidence, l.value)
                .in_unit(l.unit)
        }),
        params: serde_json::Value::Null,
        planned_u: planned.planned_u,
    };
    spec.params = serde_json::to_value(&planned.params)
        .map_err(|e| SuiteError::Plan(format!("{}: its parameters: {e}", spec.key())))?;
    Ok(spec)
}

#[async_trait]
impl<S: Declares> Suite for Framed<S> {
    fn id(&self) -> &'static str {
        self.id.as_str()
    }

    fn title(&self) -> &'static str {
        S::TITLE
    }

    fn params(&self) -> &'static [Param] {
        S::PARAMS
    }

    fn concurrent_positions(&self) -> bool {
        self.suite.concurrent_positions()
    }

    fn points(&self, ctx: &PlanContext<'_>) -> Result<Vec<PointSpec>, SuiteError> {
        let mut out = Vec::new();
        for (position, profile) in &ctx.positions {
            for planned in self.suite.plan(ctx, profile)? {
                out.push(spec(ctx, self.id, *position, planned)?);
            }
        }
        Ok(out)
    }

    async fn run(
        &self,
        point: &PointSpec,
        rig: &mut Rig,
        io: &mut PointIo<'_>,
    ) -> Result<PointOutcome, SuiteError> {
        let params: S::Params = serde_json::from_value(point.params.clone())
            .map_err(|e| SuiteError::Plan(format!("{}: its parameters: {e}", point.key())))?;
        let measured = self.suite.measure(params, Bench { point, rig, io }).await?;
        Ok(harness::run::judge(
            measured,
            point.limit.as_ref(),
            io.decision_rule,
        ))
    }

    fn dwell_use(&self, point: &PointSpec) -> Option<DwellUse> {
        self.suite.dwell_use(point)
    }

    fn any_order(&self) -> bool {
        self.suite.any_order()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use harness::run::parse_plan;

    use super::*;
    use crate::limits::class_b;

    const PLAN: &str = "[plan]\nname = \"t\"\ndescription = \"t\"\ndecision_rule = \"simple-acceptance\"\nrepetitions = 1\n\n[[suites]]\nid = \"accuracy-active\"\n\n[[overrides]]\ntable = \"en50470-3-class-b\"\nrow = \"itr-imax-pf1\"\nlimit_pct = 0.5\nreason = \"the lab's tighter class\"\n";

    fn with_ctx<R>(f: impl FnOnce(&PlanContext<'_>) -> R) -> R {
        with_params("", f)
    }

    fn with_params<R>(params: &str, f: impl FnOnce(&PlanContext<'_>) -> R) -> R {
        let plan = parse_plan(PLAN, Path::new("t.toml"), &crate::catalogue()).expect("plan");
        let params: toml::Table = toml::from_str(params).expect("params");
        let ctx = PlanContext {
            plan: &plan,
            params: &params,
            repetitions: 1,
            positions: Vec::new(),
            simulated: true,
            reference_constant: None,
            reference: None,
        };
        f(&ctx)
    }

    #[test]
    fn a_limit_row_is_resolved_against_the_plans_overrides() {
        let spec = with_ctx(|ctx| {
            let planned = Planned::new("p", "t", Vec::new(), Duration::ZERO, 1u32)
                .judged_by(Limit::of(class_b::ITR_IMAX_PF1));
            spec(ctx, SuiteId::AccuracyActive, 2, planned)
        })
        .expect("spec");
        assert_eq!(spec.key(), "accuracy-active/p3/p");
        let limit = spec.limit.expect("limit");
        assert_eq!(limit.limit_pct, 0.5);
        assert_eq!(limit.confidence, class_b::ITR_IMAX_PF1.confidence);
        assert!(limit.overridden.is_some_and(|o| o.contains("tighter")));
        assert_eq!(limit.unit, "%");
        assert_eq!(spec.params, serde_json::json!(1));
    }

    #[test]
    fn parameters_that_do_not_serialise_are_an_error_naming_the_point() {
        // JSON object keys must be strings: a map keyed by numbers pairs cannot serialise.
        let params: BTreeMap<(u8, u8), u8> = BTreeMap::from([((1, 2), 3)]);
        let err = with_ctx(|ctx| {
            let planned = Planned::new("bad", "t", Vec::new(), Duration::ZERO, params);
            spec(ctx, SuiteId::Registers, 0, planned)
        })
        .expect_err("cannot serialise");
        let text = err.to_string();
        assert!(text.contains("registers/p1/bad"), "{text}");
        assert!(matches!(err, SuiteError::Plan(_)));
    }

    #[test]
    fn a_declared_parameter_is_read_within_its_declared_range() {
        let results = Param::whole("results", 3.0, 1000.0, "results");
        assert_eq!(
            with_params("", |c| c.number_of(&results, 10.0)).ok(),
            Some(10.0)
        );
        assert_eq!(
            with_params("results = 12", |c| c.number_of(&results, 10.0)).ok(),
            Some(12.0)
        );
        for bad in [
            "results = 2",
            "results = 12.5",
            "results = inf",
            "results = \"x\"",
        ] {
            let e = with_params(bad, |c| c.number_of(&results, 10.0)).expect_err(bad);
            assert!(e.to_string().contains("`results`"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_declared_choice_is_one_of_its_options() {
        let deviations = Param::choice("deviations", &["finding", "fail"]);
        let read = |p: &str| with_params(p, |c| c.choice_of(&deviations, "finding"));
        assert_eq!(read("").ok(), Some("finding"));
        assert_eq!(read("deviations = \"fail\"").ok(), Some("fail"));
        let e = read("deviations = \"warn\"").expect_err("not an option");
        assert!(e.to_string().contains("[\"finding\", \"fail\"]"), "{e}");
    }

    #[test]
    fn a_point_without_a_row_declares_no_limit() {
        let spec = with_ctx(|ctx| {
            spec(
                ctx,
                SuiteId::Tariff,
                0,
                Planned::new("p", "t", Vec::new(), Duration::ZERO, ()),
            )
        })
        .expect("spec");
        assert_eq!(spec.limit, None);
    }
}
