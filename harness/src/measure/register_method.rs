//! The register method (dial test): a meter register's advance over a dwell
//! against the reference's energy over the same dwell. Its resolution is the
//! register's step (0.01 kWh on the 4 120 83), so dwells must be long: the
//! simulated rig makes them free, a real rig pays them in hours — unless the
//! profile declares a finer register of the counter or a test mode that shows
//! one (issue 20), which the dial then reads ([`DialRegister`]).
//!
//! The step is the register's real resolution at the counts read
//! (`Placement::step_at`): one scale step for an integer register, the f32's
//! last place for a FLOAT32 one (SDM120), which grows with the count.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::finer_register::{
    DialRegister, dial_place, enter_test_mode, leave_test_mode, read_place,
};
use super::pulse_comparison::EnergyKind;
use crate::modbus::LinkError;
use crate::profile::{MeterQuantity, Placement, RegisterKind};
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
    /// Which register of the counter was read (absent: its own).
    #[serde(default, skip_serializing_if = "DialRegister::is_normal")]
    pub via: DialRegister,
    /// The register's resolution at the counts read, Wh (varh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<f64>,
    /// How that resolution was found: a fixed scale step, or an f32's last
    /// place at the count read, which grows with the count.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub step_basis: String,
}

/// The register's resolution at the larger of the two counts, and the
/// sentence the record carries about it.
fn resolution(place: &Placement, before: f64, after: f64) -> (f64, String) {
    let count = before.abs().max(after.abs());
    let step = place.step_at(count);
    let basis = match place.coding.kind {
        RegisterKind::F32 => format!(
            "FLOAT32 register: the f32's last place at the count read ({} {}), {} {}; it grows with the count (doubles with each power of two)",
            crate::quantity::trim_float(count / place.unit_factor),
            place.unit,
            crate::quantity::trim_float(step / place.unit_factor),
            place.unit
        ),
        kind => format!(
            "{kind} register: one count of {} {}",
            crate::quantity::trim_float(place.scale),
            place.unit
        ),
    };
    (step, basis)
}

#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error(transparent)]
    Rig(#[from] RigError),
    #[error(transparent)]
    Link(#[from] LinkError),
}

/// Where the profile puts `quantity` as `via` reads it (its step is the
/// dial's resolution).
fn register_place(
    rig: &Rig,
    position: usize,
    quantity: MeterQuantity,
    via: DialRegister,
) -> Result<Placement, DialError> {
    dial_place(&rig.positions[position].profile, quantity, via)
        .cloned()
        .ok_or_else(|| {
            RigError::instrument(
                format!("position {}", position + 1),
                format!(
                    "the profile has no `{quantity}` register for {}",
                    via.describe()
                ),
            )
            .into()
        })
}

/// Reads the counter as `via` says.
async fn read_counter(
    rig: &mut Rig,
    position: usize,
    quantity: MeterQuantity,
    via: DialRegister,
    place: &Placement,
) -> Result<f64, DialError> {
    let link = rig.positions[position].link.as_mut().ok_or_else(|| {
        RigError::instrument(format!("position {}", position + 1), "no Modbus link")
    })?;
    Ok(match via {
        DialRegister::Normal => link.read(quantity).await?.canonical(),
        _ => {
            read_place(
                link.as_mut(),
                &format!("{quantity} ({})", via.describe()),
                place,
            )
            .await?
        }
    })
}

/// Enters the meter's test mode when `via` reads the mode's register.
async fn enter_if(rig: &mut Rig, position: usize, via: DialRegister) -> Result<(), DialError> {
    if via != DialRegister::TestMode {
        return Ok(());
    }
    let link = rig.positions[position].link.as_mut().ok_or_else(|| {
        RigError::instrument(format!("position {}", position + 1), "no Modbus link")
    })?;
    enter_test_mode(link.as_mut()).await?;
    Ok(())
}

/// Leaves the test mode after a dial in it, whatever the dial's outcome (a
/// dial dropped by Ctrl-C is covered by the run's end, which leaves it too:
/// `run::restore`). The dial's own error comes first.
async fn leave_after(
    rig: &mut Rig,
    position: usize,
    via: DialRegister,
    dial: Result<RegisterDial, DialError>,
) -> Result<RegisterDial, DialError> {
    if via != DialRegister::TestMode {
        return dial;
    }
    let left = match rig.positions[position].link.as_mut() {
        Some(l) => leave_test_mode(l.as_mut()).await,
        None => Ok(()),
    };
    let d = dial?;
    left?;
    Ok(d)
}

/// The dial must end before the meter leaves its test mode by itself.
fn fits_mode(
    rig: &Rig,
    position: usize,
    via: DialRegister,
    dwell: Duration,
) -> Result<(), DialError> {
    let lasts = rig.positions[position]
        .profile
        .test_mode
        .as_ref()
        .map(|t| t.lasts);
    match (via, lasts) {
        (DialRegister::TestMode, Some(lasts)) if dwell >= lasts => Err(RigError::instrument(
            format!("position {}", position + 1),
            format!(
                "a dial of {:.0} s does not fit the test mode, which lasts {:.0} s",
                dwell.as_secs_f64(),
                lasts.as_secs_f64()
            ),
        )
        .into()),
        _ => Ok(()),
    }
}

/// Reads `quantity` and the reference, dwells, reads both again.
/// `via`: which register of the counter (its own, a finer one, the test
/// mode's, the mode entered before and left after).
pub async fn register_dial(
    rig: &mut Rig,
    position: usize,
    quantity: MeterQuantity,
    kind: EnergyKind,
    dwell: Duration,
    via: DialRegister,
) -> Result<RegisterDial, DialError> {
    let place = register_place(rig, position, quantity, via)?;
    fits_mode(rig, position, via, dwell)?;
    enter_if(rig, position, via).await?;
    let dial = plain_dial(rig, position, quantity, kind, dwell, via, &place).await;
    leave_after(rig, position, via, dial).await
}

async fn plain_dial(
    rig: &mut Rig,
    position: usize,
    quantity: MeterQuantity,
    kind: EnergyKind,
    dwell: Duration,
    via: DialRegister,
    place: &Placement,
) -> Result<RegisterDial, DialError> {
    let before = read_counter(rig, position, quantity, via, place).await?;
    let e0 = rig.reference_energy().await?;
    rig.dwell(dwell).await;
    let after = read_counter(rig, position, quantity, via, place).await?;
    let e1 = rig.reference_energy().await?;
    let (step, step_basis) = resolution(place, before, after);
    // The declared roll-over is the counter's own register's; a finer
    // register's is not declared, so a dial across it shows as a fault.
    let rollover = via
        .is_normal()
        .then_some(rig.positions[position].profile.ratings.energy_rollover_wh)
        .flatten();
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
        via,
        step: Some(step),
        step_basis,
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
#[allow(clippy::too_many_arguments)]
pub async fn register_dial_on_steps(
    rig: &mut Rig,
    position: usize,
    quantity: MeterQuantity,
    kind: EnergyKind,
    steps: u32,
    poll: Duration,
    dwell_hint: Duration,
    via: DialRegister,
) -> Result<RegisterDial, DialError> {
    let place = register_place(rig, position, quantity, via)?;
    fits_mode(rig, position, via, dwell_hint)?;
    enter_if(rig, position, via).await?;
    let dial = flown_dial(
        rig, position, quantity, kind, steps, poll, dwell_hint, via, &place,
    )
    .await;
    leave_after(rig, position, via, dial).await
}

#[allow(clippy::too_many_arguments)]
async fn flown_dial(
    rig: &mut Rig,
    position: usize,
    quantity: MeterQuantity,
    kind: EnergyKind,
    steps: u32,
    poll: Duration,
    dwell_hint: Duration,
    via: DialRegister,
    place: &Placement,
) -> Result<RegisterDial, DialError> {
    let name = format!("position {}", position + 1);
    let step = place.step_planned(rig.positions[position].profile.ratings.energy_rollover_wh);
    let steps = steps.max(1);
    // No step within twice the expected time of one (and an hour's grace) is a meter that stopped.
    let per_step = dwell_hint / steps;
    let patience = per_step * 2 + Duration::from_secs(3600);
    async fn energy(rig: &mut Rig, kind: EnergyKind) -> Result<f64, DialError> {
        let e = rig.reference_energy().await?;
        Ok(match kind {
            EnergyKind::Active => e.active.0,
            EnergyKind::Reactive => e.reactive.0,
        })
    }
    let stepped = |a: f64, b: f64| (b - a).abs() >= step * 0.5;
    // Start: the first step after now.
    let first = read_counter(rig, position, quantity, via, place).await?;
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
        before = read_counter(rig, position, quantity, via, place).await?;
    }
    let e0 = energy(rig, kind).await?;
    let started = rig.now();
    let target = before + steps as f64 * step;
    rig.dwell(dwell_hint.mul_f64(0.98)).await;
    let mut after = read_counter(rig, position, quantity, via, place).await?;
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
        after = read_counter(rig, position, quantity, via, place).await?;
    }
    let e1 = energy(rig, kind).await?;
    let mut meter_energy = after - before;
    // The declared roll-over is the counter's own register's; a finer
    // register's is not declared, so a dial across it shows as a fault.
    let rollover = via
        .is_normal()
        .then_some(rig.positions[position].profile.ratings.energy_rollover_wh)
        .flatten();
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
        via,
        step: Some(step),
        step_basis: format!(
            "started and stopped on the register's steps of {} {}: one poll's energy at each end",
            crate::quantity::trim_float(step / place.unit_factor),
            place.unit
        ),
    })
}
