//! Firmware flashing, for the release regression gate.

use std::path::Path;

use async_trait::async_trait;

use super::{Identity, RigError};

#[async_trait]
pub trait Flasher: Send + Sync + std::fmt::Debug {
    fn identity(&self) -> Identity;
    /// Writes and verifies an ELF image.
    async fn flash(&mut self, elf: &Path) -> Result<(), RigError>;
}
