//! The reference standard meter: the truth every error is measured against.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Identity, RigError, RigInstant};
use crate::quantity::{
    Amps, Hertz, MeterConstant, Percent, PowerFactor, VarHours, Vars, VoltAmps, Volts, WattHours,
    Watts,
};

/// One instantaneous reading of the reference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReferenceReading {
    pub voltage: Volts,
    pub current: Amps,
    pub frequency: Hertz,
    pub active_power: Watts,
    pub reactive_power: Vars,
    pub apparent_power: VoltAmps,
    pub power_factor: PowerFactor,
    /// Expanded uncertainty (k = 2) of the energy and power figures at this
    /// point, as the calibration certificate states it.
    pub uncertainty: Percent,
    pub at: RigInstant,
}

/// The reference's energy registers at an instant: errors come from the
/// difference of two such readings (register method) or from its pulses.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReferenceEnergy {
    pub active: WattHours,
    pub reactive: VarHours,
    pub at: RigInstant,
}

#[async_trait]
pub trait ReferenceStandard: Send + Sync + std::fmt::Debug {
    fn identity(&self) -> Identity;
    /// The reference's own pulse constant.
    fn constant(&self) -> MeterConstant;
    async fn measure(&mut self) -> Result<ReferenceReading, RigError>;
    async fn energy(&mut self) -> Result<ReferenceEnergy, RigError>;
}
