//! The output that drives the meter's tariff input.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Identity, RigError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tariff {
    T1,
    T2,
}

#[async_trait]
pub trait TariffOutput: Send + Sync + std::fmt::Debug {
    fn identity(&self) -> Identity;
    /// Drives the input so the meter should count in `tariff`: T2 energises
    /// the input (12..24 V DC), T1 leaves it open.
    async fn select(&mut self, tariff: Tariff) -> Result<(), RigError>;
}
