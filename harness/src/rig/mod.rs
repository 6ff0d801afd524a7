//! The rig model: one source, one reference standard, one or more positions
//! (a meter, its Modbus link, its pulse inputs, its tariff output), and the
//! rig's clock. Instruments sit behind narrow async traits, one
//! implementation per file; the simulator is just another implementation.
//!
//! Owns: the instrument traits, [`Rig`], its description ([`RigConfig`]),
//! the clock, safety limits, lockstep, link retries, and the
//! [`SimulatedBench`] trait the simulator implements.
//! May import: `quantity`, `load_point`, `profile`, `modbus`, `stats`.
//! Never `sim`, `drivers` or `station`: those build on `rig`, and
//! `station` (the only layer that names them) opens a `Rig` from its file
//! (`harness/tests/layers.rs` checks this).

pub mod climate;
pub mod clock;
pub mod comparison;
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
pub mod simulated;
pub mod source;
pub mod tariff_output;

use std::sync::Arc;
use std::time::Duration;

pub use clock::{RigClock, RigInstant, WallClock};
pub use config::{RigConfig, RigKind};
pub use error::RigError;
pub use identity::Identity;
pub use simulated::{HeldBench, MeterSettings, SimulatedBench};

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
    /// The climate sensor, where the rig file declares one (`[climate]`).
    pub climate: Option<Box<dyn climate::ClimateSensor>>,
    /// Background tasks (simulated servers) that end with the rig.
    pub(crate) tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The simulated bench (`None` on a real rig): lockstep moves its time,
    /// and dropping the rig switches its source off without awaiting.
    pub(crate) bench: Option<Arc<dyn SimulatedBench>>,
    /// The simulated meters' identities (a real meter's comes over its link).
    pub(crate) meter_identities: Vec<Identity>,
    /// One position's view of a bench in lockstep (`lockstep::views`): it
    /// owns no instrument, so dropping it switches nothing off.
    pub(crate) view: bool,
}

impl Rig {
    /// A simulated meter's settings as its non-volatile memory holds them
    /// now (`None` on a real rig): what a test checks after a restore.
    pub fn simulated_settings(&self, position: usize) -> Option<MeterSettings> {
        self.bench.as_ref()?.settings(position)
    }

    /// The simulated source's output now (`None` on a real rig): what a test
    /// checks after a run ends, however it ended.
    pub fn simulated_source(&self) -> Option<source::SourceState> {
        Some(self.bench.as_ref()?.source())
    }

    /// A rig of the given instruments; `station` opens one from a rig file.
    #[allow(clippy::too_many_arguments)]
    pub fn assemble(
        config: RigConfig,
        clock: Arc<dyn RigClock>,
        source: Option<Box<dyn Source>>,
        reference: Option<Box<dyn ReferenceStandard>>,
        error_calculator: Option<Box<dyn error_calculator::ErrorCalculator>>,
        positions: Vec<Position>,
        tasks: Vec<tokio::task::JoinHandle<()>>,
        bench: Option<(Arc<dyn SimulatedBench>, Vec<Identity>)>,
    ) -> Rig {
        let (bench, meter_identities) = match bench {
            Some((b, ids)) => (Some(b), ids),
            None => (None, Vec::new()),
        };
        Rig {
            config: Arc::new(config),
            clock,
            source,
            reference,
            error_calculator,
            positions,
            climate: None,
            tasks,
            bench,
            meter_identities,
            view: false,
        }
    }

    pub fn is_simulated(&self) -> bool {
        self.bench.is_some()
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
        if let Some(bench) = &self.bench {
            bench.reseed(self.config.seed ^ fnv1a(key.as_bytes()));
        }
    }

    /// The reference standard's energy registers now; an instrument error
    /// on a rig without a reference standard.
    pub async fn reference_energy(&mut self) -> Result<reference::ReferenceEnergy, RigError> {
        self.reference
            .as_mut()
            .ok_or_else(|| RigError::instrument("reference", "this rig has no reference standard"))?
            .energy()
            .await
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
        if let Some(c) = &self.climate {
            ids.push(c.identity());
        }
        ids.extend(self.meter_identities.iter().cloned());
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
        if let Some(bench) = &self.bench {
            bench.switch_off_now();
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}
