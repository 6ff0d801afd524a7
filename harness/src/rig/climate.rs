//! The climate sensor: ambient temperature and relative humidity at the
//! bench, read as every point starts so that the record states the
//! environmental conditions of each result (ISO/IEC 17025 §7.8.2.1, EN
//! 50470-3 §8 reference conditions). One implementation per file: the
//! simulated one in `sim::climate`, a Modbus one in
//! `drivers::modbus_climate`.

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

/// `[climate]` of a rig file: which sensor, and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub enum ClimateConfig {
    /// The simulated room: a start value and a linear drift per simulated hour.
    Sim {
        temperature_c: f64,
        humidity_pct: f64,
        temperature_drift_k_per_h: f64,
        humidity_drift_pct_per_h: f64,
    },
    /// A Modbus TCP or RTU-over-TCP sensor's input registers, each with a scale.
    Modbus(ModbusClimateConfig),
}

/// A real sensor over Modbus TCP: two input registers (function 04), each a
/// signed 16-bit value times `scale` (a typical sensor reports 0.1 °C and
/// 0.1 % RH steps, `scale = 0.1`).
#[derive(Debug, Clone, PartialEq)]
pub struct ModbusClimateConfig {
    pub address: std::net::SocketAddr,
    pub unit: u8,
    pub temperature_register: u16,
    pub temperature_scale: f64,
    pub humidity_register: u16,
    pub humidity_scale: f64,
    pub timeout: std::time::Duration,
    pub maker: String,
    pub model: String,
    pub serial: String,
    pub calibration_due: Option<chrono::NaiveDate>,
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
