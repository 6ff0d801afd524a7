//! The climate sensor: ambient temperature and relative humidity at the
//! bench, read as every point starts so that the record states the
//! environmental conditions of each result (ISO/IEC 17025 §7.8.2.1, EN
//! 50470-3 §8 reference conditions). One implementation per file: the
//! simulated one in `sim::climate`, a Modbus one in
//! `drivers::modbus_climate`; `station` reads the rig file's `[climate]`
//! and opens one of them.

use async_trait::async_trait;

use super::{Identity, RigError};

/// One reading: °C and % RH.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Climate {
    pub temperature_c: f64,
    pub humidity_pct: f64,
}

#[async_trait]
pub trait ClimateSensor: Send + std::fmt::Debug {
    fn identity(&self) -> Identity;
    /// The ambient conditions now. A reading that is not a finite number is
    /// an error, never a value.
    async fn read(&mut self) -> Result<Climate, RigError>;
}

impl Climate {
    /// The reading if both figures are finite, else the error naming `who`.
    pub fn checked(self, who: &str) -> Result<Climate, RigError> {
        if self.temperature_c.is_finite() && self.humidity_pct.is_finite() {
            Ok(self)
        } else {
            Err(RigError::instrument(
                who,
                format!(
                    "reading is not a number (temperature {} °C, humidity {} %)",
                    self.temperature_c, self.humidity_pct
                ),
            ))
        }
    }
}
