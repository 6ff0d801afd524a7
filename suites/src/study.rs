//! The reproducibility study (issue 15): one accuracy point set up K times
//! the way a run sets it up, whose set-ups' means give the rig's type A floor
//! (`[metrology] reproducibility`, arithmetic in `harness::stats::reproducibility`).
//!
//! Each set-up is what `accuracy-active` does for one point: source off and
//! a rest, the load applied and settled, the reference's figure read, then
//! `reps` LED gates of `gate_counts` reference counts whose starts are
//! spread over `min_span_s` of rig time (`error_point`'s spacing). The
//! simulated rig reseeds its meters per set-up as a run does per point, so a
//! set-up stands for a point of a run. Real measurement through the rig
//! traits: on a lab rig it is the same procedure (and then takes real time:
//! 20 set-ups of 60 s rest, 30 s settle and a 120 s span are over an hour;
//! ISO 5725-3's "time different" wants them spread over days, which a lab
//! does by running the study with fewer set-ups on several days and pooling).

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::measure::{EnergyKind, PulseComparison, pulse_comparison};
use harness::rig::Rig;
use harness::rig::pulse_input::PulseChannel;
use harness::run::SuiteError;
use serde::Serialize;

use crate::error_point::gate_pulses;

/// How the study sets up its point.
#[derive(Debug, Clone, Serialize)]
pub struct StudyPlan {
    /// Position index (0-based).
    pub position: usize,
    pub load: LoadPoint,
    /// Set-ups K (the floor's degrees of freedom are K − 1).
    pub setups: u32,
    /// Gates a set-up, as the plan's `repetitions`.
    pub reps: u32,
    /// Rig time the gates' starts are spread over, seconds.
    pub min_span_s: f64,
    /// Reference counts a gate (the plans' `gate_counts`).
    pub gate_counts: f64,
    /// Settling after the load is applied, seconds (the plan's `settle_s`).
    pub settle_s: f64,
    /// Source off between set-ups, seconds.
    pub rest_s: f64,
}

/// One set-up's gates and their mean error.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    /// 1-based.
    pub setup: u32,
    /// The reference's expanded uncertainty read at the set-up, percent (k = 2).
    pub reference_u_pct: f64,
    pub gates: Vec<PulseComparison>,
    /// Mean of the gates' errors, percent.
    pub mean_pct: f64,
}

/// Runs the study on `rig`, calling `each` after every set-up. The source is
/// left on: the caller switches it off on every path.
pub async fn reproducibility(
    rig: &mut Rig,
    plan: &StudyPlan,
    mut each: impl FnMut(&Setup),
) -> Result<Vec<Setup>, SuiteError> {
    let Some(pos) = rig.positions.get(plan.position) else {
        return Err(SuiteError::Plan(format!(
            "position {} does not exist (the rig has {})",
            plan.position + 1,
            rig.positions.len()
        )));
    };
    let weight = pos.profile.pulse.led_constant.weight();
    let pulses = gate_pulses(
        plan.gate_counts,
        Some(rig.config.reference.constant),
        weight,
    );
    let period = weight.0 * 3600.0 / plan.load.active_power().0.abs().max(1e-9);
    let timeout = Duration::from_secs_f64((period * 3.0 + 10.0).min(86_400.0));
    let spacing = if plan.reps > 1 {
        plan.min_span_s / f64::from(plan.reps - 1)
    } else {
        0.0
    };
    let mut out = Vec::new();
    for k in 1..=plan.setups {
        rig.off().await?;
        rig.dwell(Duration::from_secs_f64(plan.rest_s.max(0.0)))
            .await;
        rig.prepare_point(&format!("study/reproducibility/setup-{k}"));
        let reference_u_pct = crate::common::settle_with_reference(
            rig,
            Duration::from_secs_f64(plan.settle_s.max(0.0)),
            plan.load,
            harness::rig::reference_model::ReferenceQuantity::ActiveEnergy,
        )
        .await?;
        let mut gates: Vec<PulseComparison> = Vec::new();
        for _ in 0..plan.reps.max(1) {
            if let Some(last) = gates.last() {
                let wait = last.start_s + spacing - rig.now().secs_f64();
                if wait > 0.0 {
                    rig.dwell(Duration::from_secs_f64(wait)).await;
                }
            }
            let g = pulse_comparison(
                rig,
                plan.position,
                PulseChannel::Led,
                weight,
                EnergyKind::Active,
                pulses,
                timeout,
            )
            .await?;
            gates.push(g);
        }
        let mean_pct = gates.iter().map(|g| g.error_pct).sum::<f64>() / gates.len() as f64;
        let s = Setup {
            setup: k,
            reference_u_pct,
            gates,
            mean_pct,
        };
        each(&s);
        out.push(s);
    }
    Ok(out)
}

/// The study's figures (s of the set-ups' means, K − 1 dof) from its set-ups.
pub fn figures(
    setups: &[Setup],
) -> Result<
    harness::stats::reproducibility::StudyFigures,
    harness::stats::reproducibility::StudyError,
> {
    let means: Vec<f64> = setups.iter().map(|s| s.mean_pct).collect();
    harness::stats::reproducibility::StudyFigures::of(&means)
}
