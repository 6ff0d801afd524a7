//! The reference power source: applies load points to every position at once.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Identity, RigError};
use crate::load_point::LoadPoint;

/// What the source is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum SourceState {
    Off,
    On(LoadPoint),
}

/// "off", or the load point in lab notation ("on at 230V 5A 1 50Hz").
impl std::fmt::Display for SourceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceState::Off => f.write_str("off"),
            SourceState::On(point) => write!(f, "on at {point}"),
        }
    }
}

impl SourceState {
    pub fn is_off(&self) -> bool {
        matches!(self, SourceState::Off)
    }
}

#[async_trait]
pub trait Source: Send + Sync + std::fmt::Debug {
    fn identity(&self) -> Identity;
    /// Applies a load point. Callers check it against the rig's and meter's
    /// limits first (`rig::safety`); the source checks its own ranges again.
    async fn apply(&mut self, point: LoadPoint) -> Result<(), RigError>;
    /// Switches the output off. Must succeed whenever the source answers at all.
    async fn off(&mut self) -> Result<(), RigError>;
    async fn state(&mut self) -> Result<SourceState, RigError>;
}
