//! `repeatability` — the standard deviation of repeated error results at a
//! point must stay below 1/10 of the MPE (shared/standards.md: verified for
//! class D, applied here as the rule). Judged on the χ² interval of σ from n
//! results (`stats::chi_square`), not the normal approximation s/√(2(n−1)),
//! and never stopped early: its limit is on s, which needs every result.

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::run::{Measured, PlanContext, PointOutcome, SuiteError};

use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use harness::stats::{Budget, Component, SigmaInterval, Verdict};
use serde::{Deserialize, Serialize};

use crate::common::load;
use crate::error_point::{
    DEFAULT_GATE_COUNTS, Gate, gate_pulses, measure_errors, min_span_s, spread_time,
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

impl Declares for Repeatability {
    const TITLE: &'static str = "Repeatability: standard deviation below 1/10 of the MPE";
    type Params = Params;

    /// Any order: each point sets its own load and gates on pulses: none needs what another left (issue 20).
    fn any_order(&self) -> bool {
        true
    }

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let counts = ctx.number("gate_counts", DEFAULT_GATE_COUNTS)?;
        let n = ctx.number("results", 10.0)? as u32;
        if !(3..=1000).contains(&n) {
            return Err(SuiteError::Plan(format!("results = {n}: within 3..=1000")));
        }
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
        let s = run.budget.std_dev_pct;
        let n = run.budget.n;
        let Some(limit) = point.limit.as_ref().map(|l| l.limit_pct) else {
            return Ok(Measured::Judged(PointOutcome {
                verdict: Verdict::Error,
                mean_error_pct: Some(s),
                expanded_uncertainty_pct: None,
                limit_pct: None,
                summary: format!(
                    "s = {s:.4} % from {n} results, but the point has no limit row to judge it against: {}",
                    Verdict::Error
                ),
                details: serde_json::json!({ "std_dev_pct": s, "results": n }),
                budget: None,
            }));
        };
        // Judged by the suite, not the framework: an upper limit on σ takes
        // the χ² interval (ISO 3534-1), not a symmetric budget on s.
        let interval = SigmaInterval::of(s, n);
        let verdict = interval.map_or(Verdict::Error, |i| i.decide(io.decision_rule, limit));
        let (upper, lower) = interval.map_or((f64::NAN, f64::NAN), |i| (i.upper, i.lower));
        // The record's "U" of an upper limit on σ: how far the χ² bound lies above s.
        let margin = upper - s;
        let b = Budget {
            n: 1,
            mean_pct: s,
            std_dev_pct: 0.0,
            type_a_pct: 0.0,
            components: vec![Component {
                name: format!(
                    "χ² interval of σ from {n} results ({} dof): {lower:.4} % … {upper:.4} %",
                    n.saturating_sub(1)
                ),
                standard_pct: margin / 2.0,
                dof: Some(n.saturating_sub(1) as f64),
            }],
            combined_pct: margin / 2.0,
            effective_dof: Some(n.saturating_sub(1) as f64),
            coverage_factor: 2.0,
            expanded_pct: margin,
        };
        Ok(Measured::Judged(PointOutcome {
            verdict,
            mean_error_pct: Some(s),
            expanded_uncertainty_pct: Some(margin),
            limit_pct: Some(limit),
            summary: format!(
                "s = {s:.4} % from {n} results (mean {:+.4} %), 95 % χ² interval of σ {lower:.4} … {upper:.4} %, limit {limit} %: {verdict}",
                run.budget.mean_pct
            ),
            details: serde_json::json!({ "std_dev_pct": s, "sigma_lower_pct": lower, "sigma_upper_pct": upper, "interval": "chi-square 95 % two-sided (ISO 3534-1)", "mean_pct": run.budget.mean_pct, "results": run.budget.n, "histograms": [{ "title": "error of each result", "unit": "%", "values": run.gates.iter().map(|g| g.error_pct).collect::<Vec<_>>() }] }),
            budget: Some(b),
        }))
    }
}
