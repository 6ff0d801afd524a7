//! What the run engine, lockstep and tests need from a simulated bench, as
//! one more implementation behind a trait (as probe-rs treats its fake
//! probe): the simulator implements it, `rig` never names the simulator.
//!
//! On a simulated bench time is simulated: it moves only when every position
//! waits, and then exactly to the next instant one of them waits for
//! (`rig::lockstep`). Real rigs have no [`SimulatedBench`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::RigInstant;
use super::pulse_input::PulseChannel;
use super::source::SourceState;
use crate::profile::{LineSettings, MeterProfile};

/// A meter's settings as its non-volatile memory holds them: what a test
/// checks after a run restored them (datasheet §8, installer settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeterSettings {
    pub address: u8,
    pub line: Option<LineSettings>,
    pub s0_weight_wh: f64,
    pub s0_duration: Duration,
    pub average_window: Duration,
    pub hour_meter_threshold_w: f64,
}

impl MeterSettings {
    /// The settings a meter leaves the factory with (its profile's defaults).
    pub fn factory(profile: &MeterProfile) -> Self {
        let s0 = profile.pulse.s0.as_ref();
        Self {
            address: profile.serial.as_ref().map_or(1, |s| s.address_default),
            line: profile.serial.as_ref().map(|s| s.factory_line()),
            s0_weight_wh: s0.map_or(10.0, |s| s.weight_default.0),
            s0_duration: s0.map_or(Duration::from_millis(100), |s| s.duration_default),
            average_window: Duration::from_secs(15 * 60),
            hour_meter_threshold_w: 0.0,
        }
    }
}

/// The simulated bench, held still: nobody else moves its time or its
/// source while a [`HeldBench`] is in hand.
pub trait HeldBench {
    fn now(&self) -> RigInstant;
    /// Whether `position` has captured `rising` rising edges on `channel`,
    /// and the instant (before `deadline`) its next edge comes; `None` for a
    /// position the bench does not have.
    fn pulses(
        &self,
        position: usize,
        channel: PulseChannel,
        rising: usize,
        deadline: RigInstant,
    ) -> Option<(bool, RigInstant)>;
    /// Moves every meter and the true energy forward to `t`.
    fn advance_to(&mut self, t: RigInstant);
}

/// A bench whose time, noise and meters are simulated.
pub trait SimulatedBench: Send + Sync + std::fmt::Debug {
    /// Runs `f` with the bench held still.
    fn hold(&self, f: &mut dyn FnMut(&mut dyn HeldBench));
    /// Reseeds every meter's noise (position i from `seed + i`).
    fn reseed(&self, seed: u64);
    /// The source's output now.
    fn source(&self) -> SourceState;
    /// Switches the source off without awaiting: for drop guards and panic
    /// paths (every exit path switches the source off).
    fn switch_off_now(&self);
    /// `position`'s meter settings as its memory holds them now.
    fn settings(&self, position: usize) -> Option<MeterSettings>;
}
