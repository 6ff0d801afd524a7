//! The simulated rig's clock: a dwell advances the world, not the wall.

use std::time::Duration;

use async_trait::async_trait;

use super::world::{SharedWorld, lock};
use crate::rig::{RigClock, RigInstant};

/// The rig time a simulated wait advances before it yields: an hour (about
/// 0.25 s of a debug build at Imax), so a stop request ends a dwell of years
/// at once.
pub const SLICE: Duration = Duration::from_secs(3_600);

/// The same for a pulse wait, which steps edge by edge (far slower per rig
/// second: about 0.7 s of a debug build per rig minute at Imax).
pub const PULSE_SLICE: Duration = Duration::from_secs(60);

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

    /// Advances in slices of `SLICE` of rig time, yielding between them: a
    /// dwell of years (a plan value that passed validation) neither holds
    /// the world's lock for its whole length nor keeps a Ctrl-C or SIGTERM
    /// from stopping the run (the runner's stop request is seen at a yield).
    async fn dwell(&self, d: Duration) {
        let end = {
            let w = lock(&self.world);
            RigInstant(w.now().0.saturating_add(d))
        };
        loop {
            {
                let mut w = lock(&self.world);
                let now = w.now();
                if now >= end {
                    return;
                }
                w.advance_to(RigInstant(now.0.saturating_add(SLICE)).min(end));
            }
            tokio::task::yield_now().await;
        }
    }

    fn is_simulated(&self) -> bool {
        true
    }
}
