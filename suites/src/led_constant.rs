//! `led-constant` — the metrological LED's constant (1 Wh/imp on the
//! 4 120 8x) against the reference: k measured = N / E_ref, judged on its
//! deviation from the declared constant at Iref, PF 1, against the class B
//! limit there.

use harness::load_point::LoadPoint;
use harness::profile::MeterProfile;
use harness::quantity::PulseWeight;
use harness::run::dwell::{DwellUse, Resource};
use harness::run::{Measured, Param, PlanContext, PointSpec};

use crate::framework::{Bench, Declares, Limit, Measure, Planned, Plans};
use serde::{Deserialize, Serialize};

use crate::common::load;
use crate::error_point::{
    DEFAULT_GATE_COUNTS, Gate, MIN_SPAN, gate_pulses, measure_errors, min_span_s, spread_time,
};
use crate::limits::class_b;

#[derive(Debug, Default)]
pub struct LedConstant;

#[derive(Debug, Serialize, Deserialize)]
pub struct Params {
    load: LoadPoint,
    pulses: usize,
    constant: f64,
    /// Rig time the gates are spread over (`stats::type_a`).
    #[serde(default = "crate::error_point::serde_min_span")]
    min_span_s: f64,
}

impl Declares for LedConstant {
    const TITLE: &'static str = "LED constant against the reference";
    const PARAMS: &'static [Param] = &[MIN_SPAN];
    type Params = Params;

    /// It captures the LED and reads the reference, nothing else: it can
    /// share a dwell at Iref with points that do not use the pulse input
    /// (issue 20).
    fn dwell_use(&self, _point: &PointSpec) -> Option<DwellUse> {
        Some(DwellUse::default().drives(Resource::PulseInput))
    }

    fn any_order(&self) -> bool {
        true
    }

    fn plan(&self, ctx: &PlanContext<'_>, profile: &MeterProfile) -> Plans<Params> {
        let span = min_span_s(ctx, ctx.repetitions)?;
        let mut out = Vec::new();
        let r = &profile.ratings;
        let l = load(r.un, r.iref, "1", r.fn_default());
        let weight = profile.pulse.led_constant.weight();
        let n = gate_pulses(DEFAULT_GATE_COUNTS, ctx.reference_constant, weight);
        let row = class_b::ITR_IMAX_PF1;
        let lim = Limit::of(row);
        out.push(
            Planned::new(
                "iref-pf1",
                format!("{} imp/kWh declared, at {l}", profile.pulse.led_constant.0),
                vec![l],
                spread_time(l.active_power(), weight, n, ctx.repetitions, span),
                Params {
                    load: l,
                    pulses: n,
                    constant: profile.pulse.led_constant.0,
                    min_span_s: span,
                },
            )
            .judged_by(lim)
            .sized(crate::common::expected_u(
                ctx,
                row,
                format!("gates of {n} LED pulses against the reference"),
                ctx.reference_u(
                    harness::rig::reference_model::ReferenceQuantity::ActiveEnergy,
                    0.0,
                ),
                &[100.0
                    / (n as f64 * weight.0 / 1000.0
                        * ctx.reference_constant.map_or(1_000_000.0, |c| c.0))
                    .max(1.0)],
            )),
        );
        Ok(out)
    }

    async fn measure(&self, p: Params, at: Bench<'_, '_>) -> Measure {
        let Bench { point, rig, io } = at;
        let run = measure_errors(
            rig,
            io,
            point.position,
            p.load,
            Gate::led(p.pulses, PulseWeight(1000.0 / p.constant)),
            p.min_span_s,
        )
        .await?;
        let b = run.budget;
        let measured = p.constant / (1.0 + b.mean_pct / 100.0);
        Ok(Measured::figure(
            b,
            serde_json::json!({ "declared_imp_per_kwh": p.constant, "measured_imp_per_kwh": measured, "min_span_s": p.min_span_s, "type_a": run.type_a, "sequential_bound": run.sequential_bound }),
            move |b, _limit| {
                format!(
                    "the LED gives {measured:.2} imp/kWh of reference energy against {} declared ({:+.3} % ± {:.3} %)",
                    p.constant, b.mean_pct, b.expanded_pct
                )
            },
        ))
    }
}
