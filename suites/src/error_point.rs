//! Measuring a point's error n times by pulse comparison, and its budget.

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::measure::{EnergyKind, PulseComparison, pulse_comparison, pulses_for_counts};
use harness::quantity::{MeterConstant, PulseWeight, Watts};
use harness::rig::Rig;
use harness::rig::pulse_input::PulseChannel;
use harness::run::{PointIo, SuiteError};
use harness::stats::{Budget, Component};

/// Reference counts per gate when the plan does not say: ±1 count is then
/// 0.01 %, a hundredth of the tightest class B limit (shared/standards.md).
pub const DEFAULT_GATE_COUNTS: f64 = 10_000.0;

/// The pulses per gate for a meter output of `weight` against the reference.
pub fn gate_pulses(counts: f64, reference: Option<MeterConstant>, weight: PulseWeight) -> usize {
    pulses_for_counts(
        counts,
        reference.unwrap_or(MeterConstant(1_000_000.0)),
        weight,
    )
}

/// Real-rig time of `reps` gates of `n` pulses of `weight` at power `p`.
pub fn gate_time(p: Watts, weight: PulseWeight, n: usize, reps: u32) -> Duration {
    let period = weight.0 * 3600.0 / p.0.abs().max(1e-9);
    Duration::from_secs_f64(period * (n as f64 + 1.0) * reps as f64)
}

#[derive(Debug, Clone)]
pub struct ErrorRun {
    pub gates: Vec<PulseComparison>,
    pub budget: Budget,
    pub reference_u_pct: f64,
}

/// How a gate is counted: `pulses` meter pulses of `weight` on `channel`,
/// for energy of `kind`.
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    pub pulses: usize,
    pub weight: PulseWeight,
    pub channel: PulseChannel,
    pub kind: EnergyKind,
}

impl Gate {
    /// Active energy gated on the LED, the type test's method (EN 50470-3 §8.1).
    pub fn led(pulses: usize, weight: PulseWeight) -> Self {
        Self {
            pulses,
            weight,
            channel: PulseChannel::Led,
            kind: EnergyKind::Active,
        }
    }
}

/// Applies `load`, settles, and measures the plan's repetitions of `gate`.
pub async fn measure_errors(
    rig: &mut Rig,
    io: &mut PointIo<'_>,
    position: usize,
    load: LoadPoint,
    gate: Gate,
) -> Result<ErrorRun, SuiteError> {
    let Gate {
        pulses: n,
        weight,
        channel,
        kind,
    } = gate;
    let reference_u_pct = crate::common::settle_with_reference(rig, io.settle, load).await?;
    let power = match kind {
        EnergyKind::Active => load.active_power().0,
        EnergyKind::Reactive => load.reactive_power().0,
    };
    let period = weight.0 * 3600.0 / power.abs().max(1e-9);
    let timeout = Duration::from_secs_f64((period * 3.0 + 10.0).min(86_400.0));
    let components = |gates: &[PulseComparison]| {
        let resolution = gates.iter().map(|g| g.resolution_pct).fold(0.0, f64::max);
        vec![
            Component::from_expanded(
                "reference standard (certificate, k = 2)",
                reference_u_pct,
                2.0,
            ),
            Component::rectangular("count resolution (±1 reference count)", resolution),
        ]
    };
    let mut gates = Vec::new();
    for _ in 0..io.repetitions.max(1) {
        let g = pulse_comparison(rig, position, channel, weight, kind, n, timeout).await?;
        let at = rig.now();
        io.sample_of(at, g.error_pct, "%", &g)?;
        gates.push(g);
        let errors: Vec<f64> = gates.iter().map(|g| g.error_pct).collect();
        if io.decided(&errors, &components(&gates)) {
            break;
        }
    }
    let errors: Vec<f64> = gates.iter().map(|g| g.error_pct).collect();
    let budget = Budget::of(&errors, components(&gates));
    Ok(ErrorRun {
        gates,
        budget,
        reference_u_pct,
    })
}
