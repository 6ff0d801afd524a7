//! The bench as every layer above the instruments sees it: its name, seed,
//! the source's safety limits, the reference's uncertainty, and each
//! position's meter profile, link and retry policy. What only one kind of
//! bench needs (a simulated meter's faults, a SCPI dialect, GPIO lines) is
//! not here: `station` reads it from the rig file and hands it to `sim` or
//! `drivers` when it opens the rig.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::safety::SourceLimits;
use crate::profile::{LineSettings, MeterProfile};
use crate::quantity::{MeterConstant, Percent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RigKind {
    /// The built-in simulated rig.
    Sim,
    /// Real instruments.
    Lab,
}

/// What the rig is, in words ("simulated", "lab").
impl std::fmt::Display for RigKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RigKind::Sim => "simulated",
            RigKind::Lab => "lab",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstrumentKind {
    Sim,
    /// A real instrument spoken to in SCPI (`[source.scpi]`, `[reference.scpi]`).
    Scpi,
    /// No controllable instrument (a meter energised by hand, read only).
    None,
}

#[derive(Debug, Clone)]
pub struct RigConfig {
    pub file: PathBuf,
    pub name: String,
    pub kind: RigKind,
    pub seed: u64,
    /// Whether `--load` may energise a real rig from the command line.
    pub manual_energising: bool,
    pub source: SourceConfig,
    pub reference: ReferenceConfig,
    pub positions: Vec<PositionConfig>,
    /// `[metrology]`: the reference model per quantity and the type A floor.
    pub metrology: super::reference_model::RigMetrology,
}

impl RigConfig {
    /// The bench's declared reproducibility of a point's mean (type A floor).
    pub fn reproducibility(&self) -> Option<crate::stats::Reproducibility> {
        self.metrology
            .reproducibility
            .as_ref()
            .map(super::reference_model::DeclaredReproducibility::floor)
    }

    /// The reference's uncertainty model per quantity: the declared one, or
    /// the one the two `[reference]` figures imply.
    pub fn reference_model(&self) -> super::reference_model::ReferenceModel {
        self.metrology.reference.unwrap_or_else(|| {
            super::reference_model::ReferenceModel::from_two_figures(
                self.reference.uncertainty_pf1.0,
                self.reference.uncertainty_low_pf.0,
            )
        })
    }
}

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub kind: InstrumentKind,
    pub limits: SourceLimits,
}

#[derive(Debug, Clone)]
pub struct ReferenceConfig {
    pub kind: InstrumentKind,
    pub uncertainty_pf1: Percent,
    pub uncertainty_low_pf: Percent,
    pub constant: MeterConstant,
    /// `[reference.certificate]`: its calibration certificate (17025 §6.5).
    pub certificate: Option<model::lab::Certificate>,
}

#[derive(Debug, Clone)]
pub struct PositionConfig {
    pub index: usize,
    pub meter_file: PathBuf,
    pub profile: Arc<MeterProfile>,
    pub link: LinkConfig,
    /// Modbus address override (else the profile's default).
    pub address: Option<u8>,
    /// Per-request timeout (else the profile's response time + 50 %).
    pub timeout: Duration,
    pub retry: super::retry::RetryPolicy,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LinkConfig {
    None,
    /// The simulated meter on RS485: alone on its own line, or on the line
    /// named `bus` with every other position that names it.
    SimRtu {
        bus: Option<String>,
    },
    SimTcp,
    Rtu {
        device: PathBuf,
        line: Option<LineSettings>,
        /// Silence before each request after a reply (default t3.5 of the line).
        inter_frame: Option<Duration>,
    },
    Tcp {
        address: SocketAddr,
    },
    /// RTU frames through a transparent RS485-to-Ethernet gateway.
    RtuOverTcp {
        address: SocketAddr,
    },
}

impl PositionConfig {
    /// The RS485 line this position's meter shares with others, if any: a
    /// named simulated bus, or a lab serial device.
    pub fn shared_line(&self) -> Option<String> {
        match &self.link {
            LinkConfig::SimRtu { bus: Some(b) } => Some(format!("bus \"{b}\"")),
            LinkConfig::Rtu { device, .. } => Some(device.display().to_string()),
            _ => None,
        }
    }

    /// The Modbus address the meter is reached at.
    pub fn unit(&self) -> u8 {
        self.address.unwrap_or_else(|| {
            self.profile
                .serial
                .as_ref()
                .map_or(1, |s| s.address_default)
        })
    }
}
