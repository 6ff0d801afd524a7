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

/// Reads `quantity` and the reference, dwells, reads both again.
pub async fn register_dial(
    rig: &mut Rig,
    position: usize,
    quantity: MeterQuantity,
    kind: EnergyKind,
    dwell: Duration,
) -> Result<RegisterDial, DialError> {
    let name = format!("position {}", position + 1);
    let place = rig.positions[position]
        .profile
        .register(quantity)
        .map(|r| r.place.clone())
        .ok_or_else(|| {
            RigError::instrument(&name, format!("the profile has no `{quantity}` register"))
        })?;
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
