//! The rig model: one source, one reference standard, one or more positions
//! (a meter, its Modbus link, its pulse inputs, its tariff output), and the
//! rig's clock. Instruments sit behind narrow async traits, one
//! implementation per file; the simulator is just another implementation.

pub mod clock;
pub mod config;
mod error;
pub mod error_calculator;
pub mod flasher;
mod identity;
pub mod lockstep;
pub mod meter_link;
pub mod pulse_input;
pub mod reference;
pub mod reference_model;
pub mod retry;
pub mod safety;
pub mod scpi_config;
pub mod source;
pub mod tariff_output;

use std::sync::Arc;
use std::time::Duration;

pub use clock::{RigClock, RigInstant, WallClock};
pub use config::{RigConfig, RigKind, load_rig, parse_rig};
pub use error::RigError;
pub use identity::Identity;

use crate::load_point::LoadPoint;
use crate::profile::MeterProfile;
use meter_link::MeterLink;
use pulse_input::PulseInput;
use reference::ReferenceStandard;
use source::Source;
use tariff_output::TariffOutput;

/// One meter's place on the bench.
#[derive(Debug)]
pub struct Position {
    pub index: usize,
    pub profile: Arc<MeterProfile>,
    pub link: Option<Box<dyn MeterLink>>,
    pub pulses: Option<Box<dyn PulseInput>>,
    pub tariff: Option<Box<dyn TariffOutput>>,
}

impl Position {
    /// "position 1 (legrand-412083)".
    pub fn name(&self) -> String {
        format!("position {} ({})", self.index + 1, self.profile.id)
    }
}

#[derive(Debug)]
pub struct Rig {
    pub config: Arc<RigConfig>,
    pub clock: Arc<dyn RigClock>,
    pub source: Option<Box<dyn Source>>,
    pub reference: Option<Box<dyn ReferenceStandard>>,
    /// The reference's error calculator, where the rig has one.
    pub error_calculator: Option<Box<dyn error_calculator::ErrorCalculator>>,
    pub positions: Vec<Position>,
    /// Background tasks (simulated servers) that end with the rig.
    pub(crate) tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The simulated world, for switching off without awaiting on drop.
    pub(crate) sim: Option<crate::sim::world::SharedWorld>,
    /// One position's view of a bench in lockstep (`lockstep::views`): it
    /// owns no instrument, so dropping it switches nothing off.
    pub(crate) view: bool,
}

impl Rig {
    /// A simulated meter's settings as its non-volatile memory holds them
    /// now (`None` on a real rig): what a test checks after a restore.
    pub fn simulated_settings(
        &self,
        position: usize,
    ) -> Option<crate::sim::meter_model::MeterSettings> {
        let world = self.sim.as_ref()?;
        let meter = crate::sim::world::lock(world).meter(position)?.clone();
        let settings = crate::sim::world::lock(&meter).settings().clone();
        Some(settings)
    }

    /// The simulated source's output now (`None` on a real rig): what a test
    /// checks after a run ends, however it ended.
    pub fn simulated_source(&self) -> Option<source::SourceState> {
        Some(crate::sim::world::lock(self.sim.as_ref()?).source())
    }

    /// Opens every instrument the rig file names.
    pub async fn open(config: RigConfig) -> Result<Rig, RigError> {
        match config.kind {
            RigKind::Sim => crate::sim::open_sim_rig(config).await,
            RigKind::Lab => crate::drivers::open_lab_rig(config).await,
        }
    }

    pub fn is_simulated(&self) -> bool {
        self.sim.is_some()
    }

    /// Checks `point` against every meter's ratings and the source's limits,
    /// then applies it. Nothing is energised if any check fails.
    pub async fn energise(&mut self, point: LoadPoint) -> Result<(), RigError> {
        let limits = self.config.source.limits;
        for p in &self.positions {
            safety::check_load_point(&point, &p.profile.ratings, &p.name(), &limits)?;
        }
        let source = self
            .source
            .as_mut()
            .ok_or_else(|| RigError::instrument("source", "this rig has no controllable source"))?;
        source.apply(point).await
    }

    /// Switches the source output off (a no-op for a rig without a source).
    pub async fn off(&mut self) -> Result<(), RigError> {
        match self.source.as_mut() {
            Some(s) => s.off().await,
            None => Ok(()),
        }
    }

    /// Before each point: on the simulated rig, reseeds every meter's noise
    /// from the rig seed and the point's key, so that a point measures the
    /// same whatever ran before it (a resumed run gives the same figures).
    /// A real rig has nothing to do.
    pub fn prepare_point(&mut self, key: &str) {
        if self.view {
            return;
        }
        if let Some(world) = &self.sim {
            let seed = self.config.seed ^ fnv1a(key.as_bytes());
            crate::sim::world::lock(world).reseed(seed);
        }
    }

    pub async fn dwell(&mut self, d: Duration) {
        self.clock.dwell(d).await;
    }

    pub fn now(&self) -> RigInstant {
        self.clock.now()
    }

    /// Every instrument's identity, for the record.
    pub fn identities(&self) -> Vec<Identity> {
        let mut ids = Vec::new();
        if let Some(s) = &self.source {
            ids.push(s.identity());
        }
        if let Some(r) = &self.reference {
            ids.push(r.identity());
        }
        if let Some(e) = &self.error_calculator {
            ids.push(e.identity());
        }
        for pc in self.config.positions.iter() {
            if let Some(sim) = &pc.sim {
                ids.push(Identity {
                    role: format!("meter {}", pc.index + 1),
                    maker: pc.profile.maker.clone(),
                    model: pc.profile.model.clone(),
                    serial: sim.identity.serial_number.to_string(),
                    firmware: Some(sim.identity.firmware.clone()),
                    calibration_due: None,
                    simulated: true,
                });
            }
        }
        for p in &self.positions {
            if let Some(pi) = &p.pulses {
                ids.push(pi.identity());
            }
            if let Some(t) = &p.tariff {
                ids.push(t.identity());
            }
        }
        ids
    }
}

/// A stable 64-bit hash (FNV-1a): the same key gives the same seed in every
/// build, unlike `DefaultHasher`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Drop for Rig {
    fn drop(&mut self) {
        if self.view {
            return;
        }
        if let Some(world) = &self.sim {
            crate::sim::source::SimSource::off_now(world);
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}
