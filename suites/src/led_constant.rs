//! `led-constant` — the metrological LED's constant (1 Wh/imp on the
//! 4 120 8x) against the reference: k measured = N / E_ref, judged on its
//! deviation from the declared constant at Iref, PF 1, against the class B
//! limit there.

use async_trait::async_trait;
use harness::load_point::LoadPoint;
use harness::measure::EnergyKind;
use harness::quantity::PulseWeight;
use harness::rig::Rig;
use harness::rig::pulse_input::PulseChannel;
use harness::run::{PlanContext, PointIo, PointOutcome, PointSpec, Suite, SuiteError};
use serde::{Deserialize, Serialize};

use crate::common::{judged, load, params, point};
use crate::error_point::{
    DEFAULT_GATE_COUNTS, gate_pulses, measure_errors, min_span_s, spread_time,
};
use crate::limits::class_b;

#[derive(Debug, Default)]
pub struct LedConstant;

#[derive(Debug, Serialize, Deserialize)]
struct Params {
    load: LoadPoint,
    pulses: usize,
    constant: f64,
    #[serde(default = "crate::error_point::serde_min_span")]
    min_span_s: f64,
}

#[async_trait]
impl Suite for LedConstant {
    fn id(&self) -> &'static str {
        "led-constant"
    }

    fn title(&self) -> &'static str {
        "LED constant against the reference"
    }

    fn points(&self, ctx: &PlanContext<'_>) -> Result<Vec<PointSpec>, SuiteError> {
        let span = min_span_s(ctx, ctx.repetitions)?;
        let mut out = Vec::new();
        for (position, profile) in &ctx.positions {
            let r = &profile.ratings;
            let l = load(r.un, r.iref, "1", r.fn_default());
            let weight = profile.pulse.led_constant.weight();
            let n = gate_pulses(DEFAULT_GATE_COUNTS, ctx.reference_constant, weight);
            let row = class_b::ITR_IMAX_PF1;
            let lim = ctx.limit(row.table, row.id, row.clause, row.confidence, row.limit_pct);
            out.push(point(
                "led-constant",
                *position,
                "iref-pf1",
                format!("{} imp/kWh declared, at {l}", profile.pulse.led_constant.0),
                vec![l],
                spread_time(l.active_power(), weight, n, ctx.repetitions, span),
                Some(lim),
                serde_json::to_value(Params {
                    load: l,
                    pulses: n,
                    constant: profile.pulse.led_constant.0,
                    min_span_s: span,
                })
                .unwrap_or_default(),
            ));
        }
        Ok(out)
    }

    async fn run(
        &self,
        point: &PointSpec,
        rig: &mut Rig,
        io: &mut PointIo<'_>,
    ) -> Result<PointOutcome, SuiteError> {
        let p: Params = params(point)?;
        let run = measure_errors(
            rig,
            io,
            point.position,
            p.load,
            p.pulses,
            PulseWeight(1000.0 / p.constant),
            PulseChannel::Led,
            EnergyKind::Active,
            p.min_span_s,
        )
        .await?;
        let b = run.budget;
        let measured = p.constant / (1.0 + b.mean_pct / 100.0);
        let limit = point.limit.as_ref().map_or(f64::NAN, |l| l.limit_pct);
        let verdict = io.decision_rule.decide(b.mean_pct, b.expanded_pct, limit);
        Ok(judged(
            verdict,
            limit,
            format!(
                "the LED gives {measured:.2} imp/kWh of reference energy against {} declared ({:+.3} % ± {:.3} %): {verdict}",
                p.constant, b.mean_pct, b.expanded_pct
            ),
            serde_json::json!({ "declared_imp_per_kwh": p.constant, "measured_imp_per_kwh": measured }),
            b,
        ))
    }
}
