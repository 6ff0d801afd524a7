//! An error calculator: the reference standard's own pulse comparison in
//! hardware. A scanning head on the meter's test output gates the
//! reference's energy, so the gate has no software latency (EN 50470-3
//! §8: the test-output method). Where a rig has one, the pulse comparison
//! goes through it instead of the rig's pulse inputs.

use std::time::Duration;

use async_trait::async_trait;

use super::comparison::{EnergyKind, PulseComparison};
use super::{Identity, RigError};
use crate::quantity::PulseWeight;

#[async_trait]
pub trait ErrorCalculator: Send + Sync + std::fmt::Debug {
    fn identity(&self) -> Identity;
    /// One gate of `pulses` meter pulses of `weight` on `position`'s
    /// scanning head, against the reference's `kind` energy.
    async fn gate(
        &mut self,
        position: usize,
        kind: EnergyKind,
        weight: PulseWeight,
        pulses: usize,
        timeout: Duration,
    ) -> Result<PulseComparison, RigError>;
}
