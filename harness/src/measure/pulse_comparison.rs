//! Pulse comparison, gated on the meter's own pulses.
//!
//! The gate opens on a rising edge of the meter's test output and closes N
//! rising edges later; the reference's energy over the gate is counted in
//! its own pulses (±1 count). On the simulated rig the pulse input stops
//! rig time exactly at each edge, so the gate is exact. On a real rig the
//! gating belongs to an error calculator in hardware (rig drivers); with a
//! software-gated pulse input the reference reading lags the edge by the
//! input's latency, which the record's resolution does not include.

use std::time::Duration;

use crate::quantity::{MeterConstant, PulseWeight};
pub use crate::rig::comparison::{EnergyKind, PulseComparison};
use crate::rig::pulse_input::PulseChannel;
use crate::rig::{Rig, RigError};

/// Meter pulses per gate so that the reference counts at least `counts`.
pub fn pulses_for_counts(counts: f64, reference: MeterConstant, weight: PulseWeight) -> usize {
    let counts_per_pulse = reference.0 * weight.0 / 1000.0;
    ((counts / counts_per_pulse).ceil() as usize).max(2)
}

/// Measures one gate of `n` meter pulses on `channel` of `position`.
pub async fn pulse_comparison(
    rig: &mut Rig,
    position: usize,
    channel: PulseChannel,
    weight: PulseWeight,
    kind: EnergyKind,
    n: usize,
    timeout: Duration,
) -> Result<PulseComparison, RigError> {
    let name = format!("position {}", position + 1);
    if let Some(ecal) = rig.error_calculator.as_mut() {
        if channel != PulseChannel::Led {
            return Err(RigError::instrument(
                "error calculator",
                format!("its scanning head reads the LED, not {channel:?}"),
            ));
        }
        return ecal
            .gate(position, kind, weight, n, timeout * n as u32)
            .await;
    }
    let constant = rig
        .reference
        .as_ref()
        .ok_or_else(|| RigError::instrument("reference", "this rig has no reference standard"))?
        .constant();
    let pulses = rig
        .positions
        .get_mut(position)
        .and_then(|p| p.pulses.as_mut())
        .ok_or_else(|| RigError::instrument(&name, "no pulse input"))?;
    pulses.start_capture(channel).await?;
    let sync = pulses.wait_pulses(channel, 1, timeout).await?;
    let Some(start) = sync.rising().next() else {
        return Err(RigError::instrument(
            &name,
            format!("no {channel:?} pulse within {} s", timeout.as_secs()),
        ));
    };
    let e0 = rig.reference_energy().await?;
    let pulses = rig.positions[position]
        .pulses
        .as_mut()
        .ok_or_else(|| RigError::instrument(&name, "no pulse input"))?;
    let train = pulses.wait_pulses(channel, n, timeout * n as u32).await?;
    let got = train.pulse_count();
    let end = train.rising().last();
    let (Some(end), true) = (end, got >= n) else {
        return Err(RigError::instrument(
            &name,
            format!("{got} of {n} {channel:?} pulses came within the gate's timeout"),
        ));
    };
    let e1 = rig.reference_energy().await?;
    let delta = match kind {
        EnergyKind::Active => e1.active.0 - e0.active.0,
        EnergyKind::Reactive => e1.reactive.0 - e0.reactive.0,
    }
    .abs();
    let counts = (delta * constant.0 / 1000.0).round().max(1.0) as u64;
    let reference_energy = counts as f64 * 1000.0 / constant.0;
    let meter_energy = n as f64 * weight.0;
    Ok(PulseComparison {
        meter_pulses: n,
        meter_energy,
        reference_counts: counts,
        reference_energy,
        error_pct: (meter_energy - reference_energy) / reference_energy * 100.0,
        resolution_pct: 100.0 / counts as f64,
        gate_s: end.since(start).as_secs_f64(),
        start_s: start.secs_f64(),
        end_s: end.secs_f64(),
    })
}
