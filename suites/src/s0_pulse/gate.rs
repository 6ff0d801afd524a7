//! `s0-pulse/gated-no-lost-pulse` — the S0 output counted on the LED's
//! edges (issue 15, item 10): a rare dropped pulse cannot show in a
//! 20-pulse comparison, nor in an energy total whose residues at both ends
//! are each worth a pulse. Here the gate opens on one LED edge and closes on
//! another, so the only quantisation left is the phase between the two
//! outputs' accumulators: the S0 count must equal the LED's energy over the
//! S0 weight to ±1 pulse.
//!
//! The dwell is sized from the loss rate the plan claims to detect. With at
//! most one pulse short (the ±1 the gate allows) in N pulses, the one-sided
//! 95 % upper bound on a Poisson loss rate is ½·χ²₀.₉₅(4)/N = 4.744/N (the
//! "rule of three", 2.996/N, is the same bound for zero lost). N is chosen so
//! that this bound is the claimed rate; a meter that loses pulses at that
//! rate then drops about 4.7 pulses in the gate, several times the
//! tolerance. The claimed rate and the bound the dwell achieved are both in
//! the point's record.

use std::time::Duration;

use harness::rig::pulse_input::{PulseChannel, PulseTrain};
use harness::rig::{Rig, RigInstant};
use harness::run::{Measured, PointIo, SuiteError};
use serde::{Deserialize, Serialize};

use crate::common::load;
use crate::framework::Measure;
use harness::quantity::Amps;

/// ½·χ²₀.₉₅ with 2(k + 1) = 4 degrees of freedom: the 95 % upper bound on a
/// Poisson mean when at most k = 1 event was seen (any χ² table).
pub const POISSON_UPPER_95_ONE: f64 = 4.744;

/// The loss rate a plan claims to detect unless its `s0-pulse` entry sets
/// `claimed_loss_rate`: one pulse in a thousand, the order of a counter
/// that drops an edge on each of its internal roll-overs.
pub const DEFAULT_CLAIMED_LOSS_RATE: f64 = 1e-3;

/// The gated point's own settings, kept in its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    /// Smallest loss rate (lost pulses per pulse) the point claims to detect.
    pub claimed_loss_rate: f64,
    /// S0 pulses the gate spans: 4.744 / `claimed_loss_rate`, rounded up.
    pub s0_pulses: usize,
}

impl Gate {
    pub fn for_rate(claimed_loss_rate: f64) -> Self {
        Self {
            claimed_loss_rate,
            s0_pulses: (POISSON_UPPER_95_ONE / claimed_loss_rate).ceil() as usize,
        }
    }
}

/// One output counted between the first and last rising edges of the other.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GatedCount {
    /// LED periods inside the gate (its rising edges less one).
    pub led_periods: usize,
    /// S0 rising edges at or after the gate opens and before it closes.
    pub s0_in_gate: usize,
    /// S0 pulses the LED's energy in the gate is worth.
    pub expected: f64,
    /// Counted less expected, in pulses (negative: pulses lost).
    pub difference: f64,
}

/// Counts `s0` on the gate `led`'s first to last rising edge, or `None`
/// when the LED gave fewer than two edges (no gate).
pub fn gated_count(
    s0: &PulseTrain,
    led: &PulseTrain,
    led_wh: f64,
    s0_wh: f64,
) -> Option<GatedCount> {
    let edges: Vec<RigInstant> = led.rising().collect();
    let (open, close) = (*edges.first()?, *edges.last()?);
    if edges.len() < 2 {
        return None;
    }
    let led_periods = edges.len() - 1;
    let s0_in_gate = s0.rising().filter(|t| *t >= open && *t < close).count();
    let expected = led_periods as f64 * led_wh / s0_wh;
    Some(GatedCount {
        led_periods,
        s0_in_gate,
        expected,
        difference: s0_in_gate as f64 - expected,
    })
}

/// Whether a gated count shows no pulse lost: within one pulse of the
/// LED's energy, either way (the accumulators' phase).
pub fn no_pulse_lost(c: &GatedCount) -> bool {
    c.difference.abs() <= 1.0 + 1e-9
}

/// Runs the load until the LED has closed a gate worth `gate.s0_pulses` S0
/// pulses, then judges the S0 count inside it. The S0 setting is already
/// written by the caller.
pub async fn measure(
    rig: &mut Rig,
    io: &mut PointIo<'_>,
    position: usize,
    at: harness::load_point::LoadPoint,
    s0_wh: f64,
    gate: Gate,
) -> Measure {
    let r = rig.positions[position].profile.ratings.clone();
    let led_wh = rig.positions[position]
        .profile
        .pulse
        .led_constant
        .weight()
        .0;
    let led_pulses = (gate.s0_pulses as f64 * s0_wh / led_wh).ceil() as usize + 1;
    let led_period_s = led_wh * 3600.0 / at.active_power().0;
    let timeout = Duration::from_secs_f64(led_period_s * led_pulses as f64 * 1.5 + 60.0);
    let no_input = || SuiteError::Measure("no pulse input".into());
    let pi = rig.positions[position]
        .pulses
        .as_mut()
        .ok_or_else(no_input)?;
    pi.start_capture(PulseChannel::S0).await?;
    pi.start_capture(PulseChannel::Led).await?;
    rig.energise(at).await?;
    let pi = rig.positions[position]
        .pulses
        .as_mut()
        .ok_or_else(no_input)?;
    let mut led = pi
        .wait_pulses(PulseChannel::Led, led_pulses, timeout)
        .await?;
    led.edges.extend(pi.take(PulseChannel::Led).await?.edges);
    let s0 = pi.take(PulseChannel::S0).await?;
    rig.energise(load(r.un, Amps(0.0), "1", r.fn_default()))
        .await?;
    let Some(c) = gated_count(&s0, &led, led_wh, s0_wh) else {
        return Ok(Measured::check(
            false,
            format!(
                "the LED gave {} pulse(s) where {led_pulses} were awaited: no gate to count S0 on",
                led.pulse_count()
            ),
            serde_json::json!({ "claimed_loss_rate": gate.claimed_loss_rate }),
        ));
    };
    io.sample(
        rig.now(),
        c.difference,
        "pulses",
        serde_json::json!({
            "s0_in_gate": c.s0_in_gate, "led_periods": c.led_periods,
            "led_wh": led_wh, "s0_wh": s0_wh,
        }),
    );
    // The smallest loss rate this gate detects: at most one short in `expected`.
    let detectable = POISSON_UPPER_95_ONE / c.expected.max(1.0);
    let complete = c.led_periods + 1 >= led_pulses;
    let ok = no_pulse_lost(&c) && complete;
    let head = format!(
        "{} S0 pulses between LED edges {} periods apart, {:.1} expected ({:+.1}, allowed ±1)",
        c.s0_in_gate, c.led_periods, c.expected, c.difference
    );
    let summary = if !complete {
        format!("{head}: the LED stopped before the gate closed ({led_pulses} edges awaited)")
    } else if ok {
        format!(
            "{head}: no pulse lost, loss rate < {detectable:.2e} at 95 % (claimed {:.0e})",
            gate.claimed_loss_rate
        )
    } else {
        format!(
            "{head}: pulses lost, about {:.1e} of them (the point detects {:.0e})",
            -c.difference / c.expected,
            gate.claimed_loss_rate
        )
    };
    Ok(Measured::check(
        ok,
        summary,
        serde_json::json!({
            "weight_wh": s0_wh, "led_wh": led_wh,
            "s0_in_gate": c.s0_in_gate, "led_periods": c.led_periods,
            "expected": c.expected, "difference": c.difference,
            "claimed_loss_rate": gate.claimed_loss_rate,
            "detectable_loss_rate": detectable,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::rig::pulse_input::Edge;

    /// Pulses at `period_ms` from `phase_ms`, each 50 ms on, less every
    /// `drop_every`-th (0 = none).
    fn train(n: usize, period_ms: u64, phase_ms: u64, drop_every: usize) -> PulseTrain {
        let mut t = PulseTrain::default();
        for i in 0..n {
            if drop_every > 0 && (i + 1) % drop_every == 0 {
                continue;
            }
            let at = Duration::from_millis(phase_ms + i as u64 * period_ms);
            t.edges.push(Edge {
                at: RigInstant(at),
                rising: true,
            });
            t.edges.push(Edge {
                at: RigInstant(at + Duration::from_millis(50)),
                rising: false,
            });
        }
        t
    }

    #[test]
    fn the_dwell_claims_the_rate_by_the_poisson_bound() {
        assert_eq!(Gate::for_rate(1e-3).s0_pulses, 4744);
        assert_eq!(Gate::for_rate(1e-2).s0_pulses, 475);
    }

    #[test]
    fn equal_weights_in_any_phase_count_within_one() {
        let led = train(1001, 250, 0, 0);
        for phase in [0, 1, 120, 249] {
            let c = gated_count(&train(1002, 250, phase, 0), &led, 1.0, 1.0).expect("gate");
            assert_eq!(c.led_periods, 1000);
            assert!(no_pulse_lost(&c), "phase {phase}: {c:?}");
        }
    }

    #[test]
    fn a_heavier_s0_weight_is_scaled() {
        // S0 at 10 Wh beside a 1 Wh LED: 100 LED periods are 10 S0 pulses.
        let c =
            gated_count(&train(12, 2500, 100, 0), &train(101, 250, 0, 0), 1.0, 10.0).expect("gate");
        assert_eq!(c.expected, 10.0);
        assert!(no_pulse_lost(&c), "{c:?}");
    }

    #[test]
    fn two_lost_pulses_are_caught_one_is_within_the_phase_allowance() {
        let led = train(1001, 250, 0, 0);
        let c = gated_count(&train(1000, 250, 10, 500), &led, 1.0, 1.0).expect("gate");
        assert_eq!(c.difference, -2.0);
        assert!(!no_pulse_lost(&c));
        let c = gated_count(&train(1000, 250, 10, 600), &led, 1.0, 1.0).expect("gate");
        assert!(no_pulse_lost(&c), "{c:?}");
    }

    #[test]
    fn fewer_than_two_led_edges_is_no_gate() {
        assert_eq!(
            gated_count(&train(5, 250, 0, 0), &train(1, 250, 0, 0), 1.0, 1.0),
            None
        );
    }
}
