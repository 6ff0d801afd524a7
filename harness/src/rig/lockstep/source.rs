//! A position's view of the one source on a bench in lockstep: a load
//! change waits until every position still measuring asks for it.

use std::sync::Arc;

use async_trait::async_trait;

use super::Lockstep;
use crate::load_point::LoadPoint;
use crate::rig::source::{Source, SourceState};
use crate::rig::{Identity, RigError};

#[derive(Debug)]
pub struct LockstepSource {
    bench: Arc<Lockstep>,
    me: usize,
    identity: Identity,
}

impl LockstepSource {
    pub fn new(bench: Arc<Lockstep>, me: usize, identity: Identity) -> Self {
        Self {
            bench,
            me,
            identity,
        }
    }
}

#[async_trait]
impl Source for LockstepSource {
    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    async fn apply(&mut self, point: LoadPoint) -> Result<(), RigError> {
        self.bench.set_source(self.me, SourceState::On(point)).await
    }

    async fn off(&mut self) -> Result<(), RigError> {
        self.bench.set_source(self.me, SourceState::Off).await
    }

    async fn state(&mut self) -> Result<SourceState, RigError> {
        self.bench.source_state().await
    }
}
