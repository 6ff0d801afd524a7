//! `accuracy-active` — EN 50470-3 class B active energy: the intrinsic error
//! at the verification load points, with increasing then decreasing current,
//! and the variation of error with voltage and frequency.
//!
//! Load points (shared/standards.md, verification points, V): Imin at PF 1;
//! Itr (= 0.1 Iref here), Iref and Imax at PF 1, 0.5 inductive and 0.8
//! capacitive; each sweep up then down. Influence points at Iref: 0.9 and
//! 1.1 Un, the extended 0.8 and 1.15 Un, and fn ± 2 %, at PF 1 and 0.5L,
//! each judged on the change of error from the reference condition.

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::quantity::{Amps, Hertz, PowerFactor, Volts};
use harness::rig::reference_model::ReferenceQuantity;
use harness::run::{Measured, Param, PlanContext, PlannedU};
use harness::stats::{Budget, Component};
use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::error_point::{
    DEFAULT_GATE_COUNTS, GATE_COUNTS, Gate, MIN_SPAN, gate_pulses, measure_errors, min_span_s,
    spread_time,
};
use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use crate::limits::{Row, class_b};

#[derive(Debug, Default)]
pub struct AccuracyActive;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Params {
    /// The load point judged.
    load: LoadPoint,
    /// For influence points: the reference-condition load the change is taken from.
    reference_load: Option<LoadPoint>,
    pulses: usize,
    led_wh: f64,
    /// Rig time the gates are spread over (`stats::type_a`).
    #[serde(default = "crate::error_point::serde_min_span")]
    min_span_s: f64,
}

/// A planned point: its loads are the judged load and, for an influence
/// point, the reference condition's.
fn planned(
    ctx: &PlanContext<'_>,
    id: String,
    title: String,
    row: Row,
    params: Params,
    rig_time: Duration,
) -> Planned<Params> {
    let mut loads = vec![params.load];
    loads.extend(params.reference_load);
    let u = expected_u(ctx, row, &params);
    Planned::new(id, title, loads, rig_time, params)
        .judged_by(Limit::of(row))
        .sized(u)
}

/// The U a point's gates are expected to reach (issue 20's dry-run column):
/// the reference at the load's phase and ±1 reference count per gate (two
/// gates for an influence point's change of error). Type A is what the
/// repetitions find; the plan's `gate_counts` sets the gate, not the planner.
fn expected_u(ctx: &PlanContext<'_>, row: Row, p: &Params) -> PlannedU {
    let gates = if p.reference_load.is_some() { 2 } else { 1 };
    // Reference pulses in a gate of `pulses` LED pulses: ±1 of them.
    let constant = ctx.reference_constant.map_or(1_000_000.0, |c| c.0);
    let counts = (p.pulses as f64 * p.led_wh / 1000.0 * constant).max(1.0);
    crate::common::expected_u(
        ctx,
        row,
        format!(
            "gates of {} LED pulses ({counts:.0} reference counts)",
            p.pulses
        ),
        ctx.reference_u(ReferenceQuantity::ActiveEnergy, p.load.phase.0),
        &vec![100.0 / counts; gates],
    )
}

/// The record's details of a point: its load and gate, and `more`.
fn details(p: &Params, more: serde_json::Value) -> serde_json::Value {
    let mut d = serde_json::json!({
        "current_a": p.load.current.0,
        "pf": p.load.power_factor().notation(),
        "voltage_v": p.load.voltage.0,
        "frequency_hz": p.load.frequency.0,
        "pulses_per_gate": p.pulses,
    });
    if let (Some(d), serde_json::Value::Object(more)) = (d.as_object_mut(), more) {
        d.extend(more);
    }
    d
}

fn pf_name(pf: &str) -> String {
    format!("pf{pf}")
}

/// `influence`: whether the influence-quantity points are planned.
const INFLUENCE: Param = Param::flag("influence");

impl Declares for AccuracyActive {
    const TITLE: &'static str = "Active energy accuracy, EN 50470-3 class B";
    const PARAMS: &'static [Param] = &[GATE_COUNTS, INFLUENCE, MIN_SPAN];
    type Params = Params;

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let counts = ctx.number_of(&GATE_COUNTS, DEFAULT_GATE_COUNTS)?;
        let influence = ctx.flag(INFLUENCE.key, true)?;
        let span = min_span_s(ctx, ctx.repetitions)?;
        let mut out = Vec::new();
        let r = &profile.ratings;
        let weight = profile.pulse.led_constant.weight();
        let n = gate_pulses(counts, ctx.reference_constant, weight);
        let point = |i: Amps, pf: &str, u: Volts, f: Hertz| {
            LoadPoint::new(
                u,
                i,
                PowerFactor::parse(pf).unwrap_or(PowerFactor::UNITY),
                f,
            )
        };
        let sweeps: [(&str, Vec<(&str, Amps)>); 3] = [
            (
                "1",
                vec![
                    ("imin", r.imin),
                    ("itr", r.itr),
                    ("iref", r.iref),
                    ("imax", r.imax),
                ],
            ),
            (
                "0.5L",
                vec![("itr", r.itr), ("iref", r.iref), ("imax", r.imax)],
            ),
            (
                "0.8C",
                vec![("itr", r.itr), ("iref", r.iref), ("imax", r.imax)],
            ),
        ];
        for (pf, currents) in &sweeps {
            let down: Vec<_> = currents.iter().rev().map(|c| (c, "down")).collect();
            for ((name, i), dir) in currents.iter().map(|c| (c, "up")).chain(down) {
                let load = point(*i, pf, r.un, r.fn_default());
                let row = class_b::intrinsic_row(i.0, r.itr.0, *pf == "1");
                let rig_time = ctx.plan.settle
                    + spread_time(load.active_power(), weight, n, ctx.repetitions, span);
                out.push(planned(
                    ctx,
                    format!("{}-{name}-{dir}", pf_name(pf)),
                    format!(
                        "{} {} A, PF {pf}, current {}",
                        name.to_uppercase(),
                        i.0,
                        if dir == "up" {
                            "increasing"
                        } else {
                            "decreasing"
                        }
                    ),
                    row,
                    Params {
                        load,
                        reference_load: None,
                        pulses: n,
                        led_wh: weight.0,
                        min_span_s: span,
                    },
                    rig_time,
                ));
            }
        }
        if !influence {
            return Ok(out);
        }
        let mut inf = Vec::new();
        for pf in ["1", "0.5L"] {
            let unity = pf == "1";
            for (factor, ext) in [(0.9, false), (1.1, false), (0.8, true), (1.15, true)] {
                let row = match (ext, unity) {
                    (false, true) => class_b::VOLTAGE_PF1,
                    (false, false) => class_b::VOLTAGE_PF05,
                    (true, true) => class_b::VOLTAGE_EXT_PF1,
                    (true, false) => class_b::VOLTAGE_EXT_PF05,
                };
                inf.push((
                    format!("{}-voltage-{}un", pf_name(pf), factor),
                    format!("U = {factor} Un at Iref, PF {pf}: change of error"),
                    row,
                    point(r.iref, pf, r.un * factor, r.fn_default()),
                    point(r.iref, pf, r.un, r.fn_default()),
                ));
            }
            for factor in [0.98, 1.02] {
                let row = if unity {
                    class_b::FREQUENCY_PF1
                } else {
                    class_b::FREQUENCY_PF05
                };
                inf.push((
                    format!("{}-frequency-{}fn", pf_name(pf), factor),
                    format!("f = {factor} fn at Iref, PF {pf}: change of error"),
                    row,
                    point(r.iref, pf, r.un, r.fn_default() * factor),
                    point(r.iref, pf, r.un, r.fn_default()),
                ));
            }
        }
        for (id, title, row, load, reference) in inf {
            let rig_time = ctx.plan.settle * 2
                + spread_time(load.active_power(), weight, n, ctx.repetitions, span)
                + spread_time(reference.active_power(), weight, n, ctx.repetitions, span);
            out.push(planned(
                ctx,
                id,
                title,
                row,
                Params {
                    load,
                    reference_load: Some(reference),
                    pulses: n,
                    led_wh: weight.0,
                    min_span_s: span,
                },
                rig_time,
            ));
        }
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        let weight = harness::quantity::PulseWeight(p.led_wh);
        match p.reference_load {
            None => {
                let gate = Gate::led(p.pulses, weight);
                let run =
                    measure_errors(rig, io, point.position, p.load, gate, p.min_span_s).await?;
                let b = run.budget.clone();
                Ok(Measured::figure(
                    b,
                    details(
                        &p,
                        serde_json::json!({
                            "method": "pulse comparison on the LED, gated on meter pulses",
                            "min_span_s": p.min_span_s,
                            "type_a": run.type_a,
                            "sequential_bound": run.sequential_bound,
                        }),
                    ),
                    |b, limit| {
                        format!(
                            "error {:+.3} % ± {:.3} % (k = {:.2}) against ±{limit} %",
                            b.mean_pct, b.expanded_pct, b.coverage_factor
                        )
                    },
                ))
            }
            Some(reference) => {
                // The limit is on a change of error: no early stop (stats/sequential.rs).
                io.sequential = None;
                let gate = Gate::led(p.pulses, weight);
                let span = p.min_span_s;
                let base = measure_errors(rig, io, point.position, reference, gate, span).await?;
                let moved = measure_errors(rig, io, point.position, p.load, gate, span).await?;
                let delta = moved.budget.mean_pct - base.budget.mean_pct;
                let resolution = moved
                    .gates
                    .iter()
                    .chain(&base.gates)
                    .map(|g| g.resolution_pct)
                    .fold(0.0, f64::max);
                let mut comps = vec![
                    Component {
                        name: "repeatability at the influenced condition".into(),
                        standard_pct: moved.budget.type_a_pct,
                        dof: (moved.budget.n > 1).then(|| (moved.budget.n - 1) as f64),
                    },
                    Component {
                        name: "repeatability at the reference condition".into(),
                        standard_pct: base.budget.type_a_pct,
                        dof: (base.budget.n > 1).then(|| (base.budget.n - 1) as f64),
                    },
                    Component::rectangular(
                        "count resolution, both conditions",
                        resolution * std::f64::consts::SQRT_2,
                    ),
                ];
                // The reference standard's own offset cancels in a change of
                // error; its stability across the change does not.
                comps.push(Component::from_expanded(
                    "reference standard stability",
                    moved.reference_u_pct / 2.0,
                    2.0,
                ));
                let b = Budget::of(&[delta], comps);
                let (at_moved, at_base) = (moved.budget.mean_pct, base.budget.mean_pct);
                let load = p.load;
                Ok(Measured::figure(
                    b,
                    details(
                        &p,
                        serde_json::json!({
                            "reference_error_pct": base.budget.mean_pct,
                            "influenced_error_pct": moved.budget.mean_pct,
                        }),
                    ),
                    move |b, limit| {
                        format!(
                            "change of error {delta:+.3} % ± {:.3} % ({at_moved:+.3} % at {load}, {at_base:+.3} % at {reference}) against ±{limit} %",
                            b.expanded_pct
                        )
                    },
                ))
            }
        }
    }
}
