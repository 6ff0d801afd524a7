//! The station: a rig file (`fixtures/rigs/*.toml`) read, checked and
//! opened as a [`Rig`]. A lab runs the same plan on its own bench by
//! swapping this file.
//!
//! Owns: the rig-file schema ([`RigFile`], [`ClimateConfig`]), its
//! section-by-section checks (`load`), and [`Rig::open`]. It is the one
//! layer that names both the simulator and the drivers: the layers below
//! (`rig`) see only the bench's description, the layers above (`run`, the
//! command line) only a `Rig`.
//! May import: `rig`, `sim`, `drivers`, `profile`, `modbus`, `quantity`,
//! `files`. Nothing imports it but the command line, tests and benches.

mod load;

use std::path::Path;

use crate::drivers::modbus_climate::ModbusClimateConfig;
use crate::drivers::{LabInstruments, LabPosition};
use crate::files::FileError;
use crate::rig::{Rig, RigConfig, RigError, RigKind};
use crate::sim::LinePacing;
use crate::sim::SimMeterConfig;

/// A rig file's refusal: the one input-file error (`crate::files`), kept
/// apart from the instruments' own errors (`rig::RigError`).
pub type RigFileError = FileError;

/// Everything a rig file says: the bench as every layer sees it, and what
/// only the simulator or the drivers need to open it.
#[derive(Debug, Clone)]
pub struct RigFile {
    pub config: RigConfig,
    /// When the simulated RTU lines pace characters at their baud
    /// (`[rig] line_pacing`, simulated rigs only).
    pub line_pacing: LinePacing,
    /// Each position's simulated meter, in order (simulated rigs only).
    pub sims: Vec<SimMeterConfig>,
    /// The SCPI instruments, pulse inputs and tariff outputs (lab rigs only).
    pub lab: LabInstruments,
    /// `[climate]`: the climate sensor, if the bench has one.
    pub climate: Option<ClimateConfig>,
}

/// `[climate]` of a rig file: which sensor, and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub enum ClimateConfig {
    /// The simulated room: a start value and a linear drift per simulated hour.
    Sim {
        temperature_c: f64,
        humidity_pct: f64,
        temperature_drift_k_per_h: f64,
        humidity_drift_pct_per_h: f64,
    },
    /// A Modbus TCP or RTU-over-TCP sensor's input registers, each with a scale.
    Modbus(ModbusClimateConfig),
}

impl RigFile {
    /// Position `index`'s simulated meter, if the rig is simulated.
    pub fn sim(&self, index: usize) -> Option<&SimMeterConfig> {
        self.sims.get(index)
    }

    /// Position `index`'s pulse capture and tariff output on a lab rig.
    pub fn lab_position(&self, index: usize) -> Option<&LabPosition> {
        self.lab.positions.get(index)
    }
}

/// Loads a rig file and every meter profile it names.
pub fn load_rig(path: &Path) -> Result<RigFile, RigFileError> {
    let text = crate::files::read_bounded(path, "rig file")?;
    parse_rig(&text, path)
}

/// Validates a rig file's text; `path` names it in errors and anchors the
/// meter paths, which are relative to the rig file.
pub fn parse_rig(text: &str, path: &Path) -> Result<RigFile, RigFileError> {
    load::parse(text, path)
}

impl Rig {
    /// Opens every instrument the rig file names: the simulated bench, or
    /// the lab's drivers.
    pub async fn open(file: RigFile) -> Result<Rig, RigError> {
        let RigFile {
            config,
            line_pacing,
            sims,
            lab,
            climate,
        } = file;
        let mut rig = match config.kind {
            RigKind::Sim => crate::sim::open_sim_rig(config, sims, line_pacing).await,
            RigKind::Lab => crate::drivers::open_lab_rig(config, lab).await,
        }?;
        rig.climate = match climate {
            None => None,
            Some(ClimateConfig::Sim {
                temperature_c,
                humidity_pct,
                temperature_drift_k_per_h,
                humidity_drift_pct_per_h,
            }) => Some(Box::new(crate::sim::climate::SimClimate::new(
                rig.clock.clone(),
                crate::rig::climate::Climate {
                    temperature_c,
                    humidity_pct,
                },
                temperature_drift_k_per_h,
                humidity_drift_pct_per_h,
            ))),
            Some(ClimateConfig::Modbus(m)) => Some(Box::new(
                crate::drivers::modbus_climate::ModbusClimate::open(m)?,
            )),
        };
        Ok(rig)
    }
}
