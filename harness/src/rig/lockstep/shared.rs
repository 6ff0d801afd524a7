//! Instruments every position reads on a bench in lockstep: the reference
//! standard and the error calculator, one at a time.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Mutex;

use crate::quantity::{MeterConstant, PulseWeight};
use crate::rig::comparison::{EnergyKind, PulseComparison};
use crate::rig::error_calculator::ErrorCalculator;
use crate::rig::reference::{ReferenceEnergy, ReferenceReading, ReferenceStandard};
use crate::rig::{Identity, RigError};

#[derive(Debug, Clone)]
pub struct SharedReference {
    inner: Arc<Mutex<Box<dyn ReferenceStandard>>>,
    identity: Identity,
    constant: MeterConstant,
}

impl SharedReference {
    /// Lends the rig's reference to every view (clone this for each).
    pub fn lend(inner: Box<dyn ReferenceStandard>) -> Self {
        Self {
            identity: inner.identity(),
            constant: inner.constant(),
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    /// The reference back, once every clone is gone.
    pub fn take_back(self) -> Option<Box<dyn ReferenceStandard>> {
        Arc::try_unwrap(self.inner).ok().map(Mutex::into_inner)
    }
}

#[async_trait]
impl ReferenceStandard for SharedReference {
    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    fn constant(&self) -> MeterConstant {
        self.constant
    }

    async fn measure(&mut self) -> Result<ReferenceReading, RigError> {
        self.inner.lock().await.measure().await
    }

    async fn energy(&mut self) -> Result<ReferenceEnergy, RigError> {
        self.inner.lock().await.energy().await
    }
}

/// One gate at a time: the trait's gate is a whole measurement, so a
/// multi-head error calculator's positions are gated in turn, not together.
#[derive(Debug, Clone)]
pub struct SharedErrorCalculator {
    inner: Arc<Mutex<Box<dyn ErrorCalculator>>>,
    identity: Identity,
}

impl SharedErrorCalculator {
    pub fn lend(inner: Box<dyn ErrorCalculator>) -> Self {
        Self {
            identity: inner.identity(),
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    pub fn take_back(self) -> Option<Box<dyn ErrorCalculator>> {
        Arc::try_unwrap(self.inner).ok().map(Mutex::into_inner)
    }
}

#[async_trait]
impl ErrorCalculator for SharedErrorCalculator {
    fn identity(&self) -> Identity {
        self.identity.clone()
    }

    async fn gate(
        &mut self,
        position: usize,
        kind: EnergyKind,
        weight: PulseWeight,
        pulses: usize,
        timeout: Duration,
    ) -> Result<PulseComparison, RigError> {
        self.inner
            .lock()
            .await
            .gate(position, kind, weight, pulses, timeout)
            .await
    }
}
