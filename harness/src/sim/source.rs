//! The simulated reference power source.

use async_trait::async_trait;

use super::world::{SharedWorld, lock};
use crate::load_point::LoadPoint;
use crate::rig::safety::SourceLimits;
use crate::rig::source::{Source, SourceState};
use crate::rig::{Identity, RigError};

#[derive(Debug)]
pub struct SimSource {
    world: SharedWorld,
    limits: SourceLimits,
}

impl SimSource {
    pub fn new(world: SharedWorld, limits: SourceLimits) -> Self {
        Self { world, limits }
    }

    /// Switches off without awaiting: for drop guards and panic paths.
    pub fn off_now(world: &SharedWorld) {
        lock(world).set_source(SourceState::Off);
    }
}

#[async_trait]
impl Source for SimSource {
    fn identity(&self) -> Identity {
        Identity {
            role: "source".into(),
            maker: "metrig".into(),
            model: "simulated power source".into(),
            serial: "SIM-SRC".into(),
            firmware: Some(env!("CARGO_PKG_VERSION").into()),
            calibration_due: None,
            simulated: true,
        }
    }

    async fn apply(&mut self, point: LoadPoint) -> Result<(), RigError> {
        let l = &self.limits;
        if point.voltage.0 > l.max_voltage.0
            || point.current.0 > l.max_current.0
            || point.frequency.0 < l.frequency.0.0
            || point.frequency.0 > l.frequency.1.0
        {
            return Err(RigError::instrument(
                "source",
                format!("{point} is outside the source's ranges"),
            ));
        }
        lock(&self.world).set_source(SourceState::On(point));
        Ok(())
    }

    async fn off(&mut self) -> Result<(), RigError> {
        lock(&self.world).set_source(SourceState::Off);
        Ok(())
    }

    async fn state(&mut self) -> Result<SourceState, RigError> {
        Ok(lock(&self.world).source())
    }
}
