//! `repeatability` — the standard deviation of repeated error results at a
//! point must stay below 1/10 of the MPE (shared/standards.md: verified for
//! class D, applied here as the rule). Judged on s with the uncertainty of a
//! standard deviation from n results, s/√(2(n−1)).

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::run::{Measured, PlanContext, SuiteError};

use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use harness::stats::{Budget, Component, student_t_975};
use serde::{Deserialize, Serialize};

use crate::common::load;
use crate::error_point::{DEFAULT_GATE_COUNTS, Gate, gate_pulses, gate_time, measure_errors};
use crate::limits::rules;

#[derive(Debug, Default)]
pub struct Repeatability;

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    load: LoadPoint,
    pulses: usize,
    led_wh: f64,
    n: u32,
}

impl Declares for Repeatability {
    const TITLE: &'static str = "Repeatability: standard deviation below 1/10 of the MPE";
    type Params = Params;

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let counts = ctx.number("gate_counts", DEFAULT_GATE_COUNTS)?;
        let n = ctx.number("results", 10.0)? as u32;
        if !(3..=1000).contains(&n) {
            return Err(SuiteError::Plan(format!("results = {n}: within 3..=1000")));
        }
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
            let rig_time = ctx.plan.settle + gate_time(l.active_power(), weight, pulses, n);
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
                    },
                )
                .judged_by(limit),
            );
        }
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        io.repetitions = p.n;
        let run = measure_errors(
            rig,
            io,
            point.position,
            p.load,
            Gate::led(p.pulses, harness::quantity::PulseWeight(p.led_wh)),
        )
        .await?;
        let s = run.budget.std_dev_pct;
        let n = run.budget.n as f64;
        // Uncertainty of a standard deviation from n normal results.
        let u_s = s / (2.0 * (n - 1.0)).sqrt();
        let b = Budget::of(
            &[s],
            vec![Component {
                name: "standard deviation of s".into(),
                standard_pct: u_s,
                dof: Some(n - 1.0),
            }],
        );
        let k = student_t_975(Some(n - 1.0));
        Ok(Measured::figure(
            b,
            serde_json::json!({ "std_dev_pct": s, "mean_pct": run.budget.mean_pct, "results": run.budget.n, "histograms": [{ "title": "error of each result", "unit": "%", "values": run.gates.iter().map(|g| g.error_pct).collect::<Vec<_>>() }] }),
            move |b, limit| {
                format!(
                    "s = {s:.4} % from {} results (mean {:+.4} %), U(s) = {:.4} % (k = {k:.2}), limit {limit} %",
                    run.budget.n, run.budget.mean_pct, b.expanded_pct
                )
            },
        ))
    }
}
