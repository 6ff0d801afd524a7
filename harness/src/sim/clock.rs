//! The simulated rig's clock: a dwell advances the world, not the wall.

use std::time::Duration;

use async_trait::async_trait;

use super::world::{SharedWorld, lock};
use crate::rig::{RigClock, RigInstant};

#[derive(Debug, Clone)]
pub struct SimClock {
    world: SharedWorld,
}

impl SimClock {
    pub fn new(world: SharedWorld) -> Self {
        Self { world }
    }
}

#[async_trait]
impl RigClock for SimClock {
    fn now(&self) -> RigInstant {
        lock(&self.world).now()
    }

    async fn dwell(&self, d: Duration) {
        lock(&self.world).advance(d);
    }

    fn is_simulated(&self) -> bool {
        true
    }
}
