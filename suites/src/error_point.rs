//! Measuring a point's error n times by pulse comparison, and its budget.

use std::time::Duration;

use harness::load_point::LoadPoint;
use harness::measure::{EnergyKind, PulseComparison, pulse_comparison, pulses_for_counts};
use harness::quantity::{MeterConstant, PulseWeight, Watts};
use harness::rig::Rig;
use harness::rig::pulse_input::PulseChannel;
use harness::rig::reference_model::ReferenceQuantity;
use harness::run::{Param, PointIo, SuiteError};
use harness::stats::type_a::{DEFAULT_MIN_SPAN_S, default_min_span_s};
use harness::stats::{Budget, Component, TypeA};

/// Reference counts per gate when the plan does not say: ±1 count is then
/// 0.01 %, a hundredth of the tightest class B limit (shared/standards.md).
pub const DEFAULT_GATE_COUNTS: f64 = 10_000.0;

/// `gate_counts`: reference counts per gate.
pub const GATE_COUNTS: Param = Param::number(
    "gate_counts",
    100.0,
    10_000_000.0,
    "reference counts per gate",
);

/// `min_span_s` (issue 15): the rig time one point's gates are spread over
/// (`stats::type_a`).
pub const MIN_SPAN: Param = Param::number("min_span_s", 0.0, 3600.0, "s of rig time");

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

/// The plan's `min_span_s` for a suite whose points take `reps` gates: the
/// rig time one point's gates are spread over (`stats::type_a`), within
/// 0 ..= 3600 s; by default max(120 s, 30 s × (reps − 1)).
pub fn min_span_s(ctx: &harness::run::PlanContext<'_>, reps: u32) -> Result<f64, SuiteError> {
    ctx.number_of(&MIN_SPAN, default_min_span_s(reps))
}

/// Serde default for a point's `min_span_s` (points recorded before it existed).
pub fn serde_min_span() -> f64 {
    DEFAULT_MIN_SPAN_S
}

/// Real-rig time of a point's `reps` gates spread over `min_span_s`.
pub fn spread_time(
    p: Watts,
    weight: PulseWeight,
    n: usize,
    reps: u32,
    min_span_s: f64,
) -> Duration {
    gate_time(p, weight, n, reps)
        .max(Duration::from_secs_f64(min_span_s) + gate_time(p, weight, n, 1))
}

#[derive(Debug, Clone)]
pub struct ErrorRun {
    pub gates: Vec<PulseComparison>,
    pub budget: Budget,
    pub reference_u_pct: f64,
    /// The type A behind the budget: which figure governed.
    pub type_a: TypeA,
    /// The sequential rule's risk statement, when the point was judged by it.
    pub sequential_bound: Option<String>,
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

/// Applies `load`, settles, and measures `io.repetitions` gates of
/// `gate`, their starts spread over `min_span_s` of rig time. Under
/// sequential stopping (`io.sequential`) each look's budget, the final one
/// too, is at the rule's widened coverage, and no early decision comes
/// before half the span has passed.
pub async fn measure_errors(
    rig: &mut Rig,
    io: &mut PointIo<'_>,
    position: usize,
    load: LoadPoint,
    gate: Gate,
    min_span_s: f64,
) -> Result<ErrorRun, SuiteError> {
    let Gate {
        pulses: n,
        weight,
        channel,
        kind,
    } = gate;
    let quantity = match kind {
        EnergyKind::Active => ReferenceQuantity::ActiveEnergy,
        EnergyKind::Reactive => ReferenceQuantity::ReactiveEnergy,
    };
    let reference_u_pct =
        crate::common::settle_with_reference(rig, io.settle, load, quantity).await?;
    let floor = rig.config.reproducibility();
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
    let reps = io.repetitions.max(1);
    let sequential = io
        .sequential
        .map(|(rule, limit)| (rule.with_min_span(min_span_s / 2.0), limit));
    let budget_of = |gates: &[PulseComparison]| {
        let errors: Vec<f64> = gates.iter().map(|g| g.error_pct).collect();
        let a = TypeA::of(&errors, floor);
        let b = a.judged_budget(components(gates), sequential.as_ref().map(|(r, _)| r));
        (a, b)
    };
    // Gate starts at least this far apart, so the fixed count spans min_span_s.
    let spacing = if reps > 1 {
        Duration::from_secs_f64(min_span_s / f64::from(reps - 1))
    } else {
        Duration::ZERO
    };
    let mut gates: Vec<PulseComparison> = Vec::new();
    for i in 0..reps {
        if let Some(last) = gates.last() {
            let next = last.start_s + spacing.as_secs_f64();
            let wait = next - rig.now().secs_f64();
            if wait > 0.0 {
                rig.dwell(Duration::from_secs_f64(wait)).await;
            }
        }
        let g = pulse_comparison(rig, position, channel, weight, kind, n, timeout).await?;
        let at = rig.now();
        io.sample_of(at, g.error_pct, "%", &g)?;
        gates.push(g);
        if let Some((rule, limit)) = sequential
            && i + 1 < reps
        {
            let span = gates.last().map_or(0.0, |l| l.end_s) - gates[0].start_s;
            let (_, b) = budget_of(&gates);
            if rule.look(&b, span, limit, io.decision_rule).is_some() {
                break;
            }
        }
    }
    let (type_a, budget) = budget_of(&gates);
    Ok(ErrorRun {
        gates,
        budget,
        reference_u_pct,
        type_a,
        sequential_bound: sequential.map(|(rule, _)| rule.bound()),
    })
}
