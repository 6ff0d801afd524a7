//! The register method (dial test): a meter register's advance over a dwell
//! against the reference's energy over the same dwell. Its resolution is the
//! register's step (0.01 kWh on the 4 120 83), so dwells must be long: the
//! simulated rig makes them free, a real rig pays them in hours.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::pulse_comparison::EnergyKind;
use crate::modbus::LinkError;
use crate::profile::MeterQuantity;
use crate::rig::{Rig, RigError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterDial {
    pub quantity: MeterQuantity,
    pub before: f64,
    pub after: f64,
    /// after − before, Wh (varh), with roll-over undone.
    pub meter_energy: f64,
    pub reference_energy: f64,
    pub error_pct: f64,
    /// One register step as a share of the advance, percent (±1 step: the
    /// register shows completed steps at both ends).
    pub resolution_pct: f64,
    pub dwell_s: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error(transparent)]
    Rig(#[from] RigError),
    #[error(transparent)]
    Link(#[from] LinkError),
}

/// Where the profile puts `quantity` (its step is the dial's resolution).
fn register_place(
    rig: &Rig,
    position: usize,
    quantity: MeterQuantity,
) -> Result<crate::profile::Placement, DialError> {
    rig.positions[position]
        .profile
        .register(quantity)
        .map(|r| r.place.clone())
        .ok_or_else(|| {
            RigError::instrument(
                format!("position {}", position + 1),
                format!("the profile has no `{quantity}` register"),
            )
            .into()
        })
}

/// Reads `quantity` and the reference, dwells, reads both again.
pub async fn register_dial(
    rig: &mut Rig,
    position: usize,
    quantity: MeterQuantity,
    kind: EnergyKind,
    dwell: Duration,
) -> Result<RegisterDial, DialError> {
    let name = format!("position {}", position + 1);
    let place = register_place(rig, position, quantity)?;
    let link = rig.positions[position]
        .link
        .as_mut()
        .ok_or_else(|| RigError::instrument(&name, "no Modbus link"))?;
    let before = link.read(quantity).await?.canonical();
    let reference = rig
        .reference
        .as_mut()
        .ok_or_else(|| RigError::instrument("reference", "none"))?;
    let e0 = reference.energy().await?;
    rig.dwell(dwell).await;
    let link = rig.positions[position]
        .link
        .as_mut()
        .ok_or_else(|| RigError::instrument(&name, "no Modbus link"))?;
    let after = link.read(quantity).await?.canonical();
    let reference = rig
        .reference
        .as_mut()
        .ok_or_else(|| RigError::instrument("reference", "none"))?;
    let e1 = reference.energy().await?;
    let step = place.step();
    let rollover = rig.positions[position].profile.ratings.energy_rollover_wh;
    let mut meter_energy = after - before;
    if let (true, Some(r)) = (meter_energy < 0.0, rollover) {
        meter_energy += r;
    }
    let reference_energy = match kind {
        EnergyKind::Active => e1.active.0 - e0.active.0,
        EnergyKind::Reactive => e1.reactive.0 - e0.reactive.0,
    }
    .abs();
    Ok(RegisterDial {
        quantity,
        before,
        after,
        meter_energy,
        reference_energy,
        error_pct: (meter_energy - reference_energy) / reference_energy * 100.0,
        resolution_pct: step / reference_energy * 100.0,
        dwell_s: dwell.as_secs_f64(),
    })
}

/// The register method started and stopped on the register's own steps
/// (a "flying" dial test, issue 20): the register is polled every `poll`
/// until it steps, the reference's energy is read at once, and again when
/// the register has advanced `steps` whole steps. The meter's energy is then
/// exactly `steps` steps, and what is left uncertain is when within a poll
/// each step came: at most one poll's energy at each end, rectangular,
/// instead of a whole step. At 115 var and a 1 s poll that is 0.03 varh
/// against the 4 120 83's 10 varh step, so a dial of a few steps reaches
/// what the plain dial needs hundreds for.
///
/// `dwell_hint`: the expected time for `steps` steps, dwelt in one piece
/// (less 2 %) before polling for the last one. Gives up after `timeout`
/// waiting for a step (a meter that does not register).
pub async fn register_dial_on_steps(
    rig: &mut Rig,
    position: usize,
    quantity: MeterQuantity,
    kind: EnergyKind,
    steps: u32,
    poll: Duration,
    dwell_hint: Duration,
) -> Result<RegisterDial, DialError> {
    let name = format!("position {}", position + 1);
    let place = register_place(rig, position, quantity)?;
    let step = place.step();
    let steps = steps.max(1);
    // No step within twice the expected time of one (and an hour's grace) is a meter that stopped.
    let per_step = dwell_hint / steps;
    let patience = per_step * 2 + Duration::from_secs(3600);
    async fn read(rig: &mut Rig, position: usize, q: MeterQuantity) -> Result<f64, DialError> {
        let link = rig.positions[position].link.as_mut().ok_or_else(|| {
            RigError::instrument(format!("position {}", position + 1), "no Modbus link")
        })?;
        Ok(link.read(q).await?.canonical())
    }
    async fn energy(rig: &mut Rig, kind: EnergyKind) -> Result<f64, DialError> {
        let reference = rig
            .reference
            .as_mut()
            .ok_or_else(|| RigError::instrument("reference", "none"))?;
        let e = reference.energy().await?;
        Ok(match kind {
            EnergyKind::Active => e.active.0,
            EnergyKind::Reactive => e.reactive.0,
        })
    }
    let stepped = |a: f64, b: f64| (b - a).abs() >= step * 0.5;
    // Start: the first step after now.
    let first = read(rig, position, quantity).await?;
    let t0 = rig.now();
    let mut before = first;
    while !stepped(first, before) {
        if rig.now().secs_f64() - t0.secs_f64() > patience.as_secs_f64() {
            return Err(RigError::instrument(
                &name,
                format!(
                    "`{quantity}` did not step within {:.0} s",
                    patience.as_secs_f64()
                ),
            )
            .into());
        }
        rig.dwell(poll).await;
        before = read(rig, position, quantity).await?;
    }
    let e0 = energy(rig, kind).await?;
    let started = rig.now();
    let target = before + steps as f64 * step;
    rig.dwell(dwell_hint.mul_f64(0.98)).await;
    let mut after = read(rig, position, quantity).await?;
    let t1 = rig.now();
    while after < target - step * 0.5 {
        if rig.now().secs_f64() - t1.secs_f64() > patience.as_secs_f64() {
            return Err(RigError::instrument(
                &name,
                format!("`{quantity}` did not reach {target} within the dial"),
            )
            .into());
        }
        rig.dwell(poll).await;
        after = read(rig, position, quantity).await?;
    }
    let e1 = energy(rig, kind).await?;
    let mut meter_energy = after - before;
    let rollover = rig.positions[position].profile.ratings.energy_rollover_wh;
    if let (true, Some(r)) = (meter_energy < 0.0, rollover) {
        meter_energy += r;
    }
    let reference_energy = (e1 - e0).abs();
    let elapsed = (rig.now().secs_f64() - started.secs_f64()).max(poll.as_secs_f64());
    // One poll's energy at each end: the step came somewhere within it.
    let per_poll = reference_energy / elapsed * poll.as_secs_f64();
    Ok(RegisterDial {
        quantity,
        before,
        after,
        meter_energy,
        reference_energy,
        error_pct: (meter_energy - reference_energy) / reference_energy * 100.0,
        resolution_pct: per_poll / reference_energy * 100.0,
        dwell_s: elapsed,
    })
}
