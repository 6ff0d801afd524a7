//! The simulated tariff output: drives the meter model's tariff input.

use async_trait::async_trait;

use super::world::{SharedWorld, lock};
use crate::rig::tariff_output::{Tariff, TariffOutput};
use crate::rig::{Identity, RigError};

#[derive(Debug)]
pub struct SimTariffOutput {
    world: SharedWorld,
    position: usize,
}

impl SimTariffOutput {
    pub fn new(world: SharedWorld, position: usize) -> Self {
        Self { world, position }
    }
}

#[async_trait]
impl TariffOutput for SimTariffOutput {
    fn identity(&self) -> Identity {
        Identity {
            role: format!("tariff output {}", self.position + 1),
            maker: "metrig".into(),
            model: "simulated tariff output".into(),
            serial: format!("SIM-TARIFF-{}", self.position + 1),
            firmware: None,
            calibration_due: None,
            simulated: true,
        }
    }

    async fn select(&mut self, tariff: Tariff) -> Result<(), RigError> {
        let w = lock(&self.world);
        if let Some(m) = w.meter(self.position) {
            lock(m).set_tariff_input(tariff);
        }
        Ok(())
    }
}
