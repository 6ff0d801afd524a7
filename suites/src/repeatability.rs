//! `repeatability` — the standard deviation of repeated error results at a
//! point must stay below 1/10 of the MPE (shared/standards.md: verified for
//! class D, applied here as the rule). Judged on the χ² interval of σ from n
//! results (`stats::chi_square`), not the normal approximation s/√(2(n−1)),
//! and never stopped early: its limit is on s, which needs every result.

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::run::{Measured, Param, PlanContext};

use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use serde::{Deserialize, Serialize};

use crate::common::load;
use crate::error_point::{
    DEFAULT_GATE_COUNTS, GATE_COUNTS, Gate, MIN_SPAN, gate_pulses, measure_errors, min_span_s,
    spread_time,
};
use crate::limits::rules;

#[derive(Debug, Default)]
pub struct Repeatability;

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    load: LoadPoint,
    pulses: usize,
    led_wh: f64,
    n: u32,
    /// Rig time the gates are spread over (`stats::type_a`).
    #[serde(default = "crate::error_point::serde_min_span")]
    min_span_s: f64,
}

/// `results`: how many results the spread is taken over.
const RESULTS: Param = Param::whole("results", 3.0, 1000.0, "results");

impl Declares for Repeatability {
    const TITLE: &'static str = "Repeatability: standard deviation below 1/10 of the MPE";
    const PARAMS: &'static [Param] = &[MIN_SPAN, GATE_COUNTS, RESULTS];
    type Params = Params;

    /// Any order: each point sets its own load and gates on pulses: none needs what another left (issue 20).
    fn any_order(&self) -> bool {
        true
    }

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let counts = ctx.number_of(&GATE_COUNTS, DEFAULT_GATE_COUNTS)?;
        let n = ctx.number_of(&RESULTS, 10.0)? as u32;
        let span = min_span_s(ctx, n)?;
        let mut out = Vec::new();
        let r = &profile.ratings;
        let weight = profile.pulse.led_constant.weight();
        let pulses = gate_pulses(counts, ctx.reference_constant, weight);
        for (id, l) in [
            ("iref-pf1", load(r.un, r.iref, "1", r.fn_default())),
            ("itr-pf0.5L", load(r.un, r.itr, "0.5L", r.fn_default())),
        ] {
            let row = rules::REPEATABILITY;
            let limit = Limit::of(row);
            let rig_time = ctx.plan.settle + spread_time(l.active_power(), weight, pulses, n, span);
            out.push(
                Planned::new(
                    id,
                    format!("{n} results at {l}"),
                    vec![l],
                    rig_time,
                    Params {
                        load: l,
                        pulses,
                        led_wh: weight.0,
                        n,
                        min_span_s: span,
                    },
                )
                .judged_by(limit)
                // What one result's ±1 reference count adds to the spread the
                // χ² interval judges: the reference's offset cancels in s.
                .sized(crate::common::expected_u(
                    ctx,
                    row,
                    format!("{n} results of {pulses} LED pulses (±1 reference count each)"),
                    0.0,
                    &[100.0
                        / (pulses as f64 * weight.0 / 1000.0
                            * ctx.reference_constant.map_or(1_000_000.0, |c| c.0))
                        .max(1.0)],
                )),
            );
        }
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        io.repetitions = p.n;
        // Never stop early: the limit is on s, and sequential looks test a mean.
        io.sequential = None;
        let run = measure_errors(
            rig,
            io,
            point.position,
            p.load,
            Gate::led(p.pulses, harness::quantity::PulseWeight(p.led_wh)),
            p.min_span_s,
        )
        .await?;
        // The framework judges the spread on the χ² interval of σ
        // (`Measured::Spread`): an upper limit on σ, not a budget on s.
        Ok(Measured::Spread {
            std_dev_pct: run.budget.std_dev_pct,
            results: run.budget.n,
            mean_pct: run.budget.mean_pct,
            details: serde_json::json!({ "histograms": [{ "title": "error of each result", "unit": "%", "values": run.gates.iter().map(|g| g.error_pct).collect::<Vec<_>>() }] }),
        })
    }
}
