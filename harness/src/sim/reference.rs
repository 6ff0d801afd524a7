//! The simulated reference standard: true values, by default with no
//! systematic error, so that a perfect simulated meter reads 0.000 %.
//!
//! It used to draw a calibration offset from N(0, U/2) per rig seed: on the
//! default rig (seed 20261125) that offset was +0.01 %, one reference count in
//! 10 000, so every pulse-comparison point of a perfect meter read −0.010 %
//! (issue 15, item 5). The gating and counting were exact; the "bias" was the
//! reference's own error, hidden behind the seed. A test or a bench that wants
//! a reference off by a known amount says so with [`SimReference::with_offset`].

use async_trait::async_trait;

use super::world::{SharedWorld, lock};
use crate::quantity::{
    Amps, Hertz, MeterConstant, Percent, PowerFactor, VarHours, Vars, VoltAmps, Volts, WattHours,
    Watts,
};
use crate::rig::reference::{ReferenceEnergy, ReferenceReading, ReferenceStandard};
use crate::rig::source::SourceState;
use crate::rig::{Identity, RigError};

#[derive(Debug)]
pub struct SimReference {
    world: SharedWorld,
    uncertainty_pf1: Percent,
    uncertainty_low_pf: Percent,
    constant: MeterConstant,
    /// Relative systematic error (a fraction, not percent).
    offset: f64,
}

impl SimReference {
    pub fn new(
        world: SharedWorld,
        uncertainty_pf1: Percent,
        uncertainty_low_pf: Percent,
        constant: MeterConstant,
        // The rig seed drew the old offset; kept so the station's call stays as it is.
        _seed: u64,
    ) -> Self {
        Self {
            world,
            uncertainty_pf1,
            uncertainty_low_pf,
            constant,
            offset: 0.0,
        }
    }

    /// A reference off by `offset_pct` (a calibration offset within its
    /// certificate's U, for tests of the budget's reference component).
    pub fn with_offset(mut self, offset_pct: f64) -> Self {
        self.offset = offset_pct / 100.0;
        self
    }

    /// The reference's systematic error, percent.
    pub fn offset_pct(&self) -> f64 {
        self.offset * 100.0
    }
}

#[async_trait]
impl ReferenceStandard for SimReference {
    fn identity(&self) -> Identity {
        Identity {
            role: "reference".into(),
            maker: "metrig".into(),
            model: "simulated reference standard".into(),
            serial: "SIM-REF".into(),
            firmware: Some(env!("CARGO_PKG_VERSION").into()),
            calibration_due: None,
            simulated: true,
        }
    }

    fn constant(&self) -> MeterConstant {
        self.constant
    }

    async fn measure(&mut self) -> Result<ReferenceReading, RigError> {
        let w = lock(&self.world);
        let k = 1.0 + self.offset;
        let at = w.now();
        Ok(match w.source() {
            SourceState::Off => ReferenceReading {
                voltage: Volts(0.0),
                current: Amps(0.0),
                frequency: Hertz(0.0),
                active_power: Watts(0.0),
                reactive_power: Vars(0.0),
                apparent_power: VoltAmps(0.0),
                power_factor: PowerFactor::UNITY,
                uncertainty: self.uncertainty_pf1,
                at,
            },
            SourceState::On(lp) => {
                let pf = lp.power_factor();
                ReferenceReading {
                    voltage: lp.voltage,
                    current: lp.current,
                    frequency: lp.frequency,
                    active_power: lp.active_power() * k,
                    reactive_power: lp.reactive_power() * k,
                    apparent_power: lp.apparent_power() * k,
                    power_factor: pf,
                    uncertainty: if pf.magnitude >= 0.9 {
                        self.uncertainty_pf1
                    } else {
                        self.uncertainty_low_pf
                    },
                    at,
                }
            }
        })
    }

    async fn energy(&mut self) -> Result<ReferenceEnergy, RigError> {
        let w = lock(&self.world);
        let t = w.truth();
        let k = 1.0 + self.offset;
        Ok(ReferenceEnergy {
            active: WattHours(t.active_wh * k),
            reactive: VarHours(t.reactive_varh * k),
            at: w.now(),
        })
    }
}
