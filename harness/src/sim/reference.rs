//! The simulated reference standard: true values with a systematic error
//! inside its stated uncertainty, fixed for the life of the rig (as a real
//! standard's calibration offset is).

use async_trait::async_trait;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

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
        seed: u64,
    ) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x4EF5_7A4D);
        // U is expanded (k = 2): the standard uncertainty is U/2.
        let sd = uncertainty_pf1.0 / 2.0 / 100.0;
        let offset = Normal::new(0.0, sd.max(1e-12))
            .map(|n| n.sample(&mut rng))
            .unwrap_or(0.0)
            .clamp(-2.0 * sd, 2.0 * sd);
        Self {
            world,
            uncertainty_pf1,
            uncertainty_low_pf,
            constant,
            offset,
        }
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
