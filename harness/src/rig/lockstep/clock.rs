//! A position's view of the rig clock on a bench in lockstep.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::Lockstep;
use crate::rig::{RigClock, RigInstant};

#[derive(Debug)]
pub struct LockstepClock {
    pub(super) bench: Arc<Lockstep>,
    pub(super) me: usize,
}

impl LockstepClock {
    pub fn new(bench: Arc<Lockstep>, me: usize) -> Self {
        Self { bench, me }
    }
}

#[async_trait]
impl RigClock for LockstepClock {
    fn now(&self) -> RigInstant {
        self.bench.now()
    }

    async fn dwell(&self, d: Duration) {
        self.bench.dwell(self.me, d).await;
    }

    fn is_simulated(&self) -> bool {
        self.bench.is_simulated()
    }
}
