//! What an instrument says it is. Every record carries one per instrument, so a
//! notified body can trace each figure to a calibrated device. The meter's own
//! answer about itself (`MeterSelf`) sits beside it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The instrument's role on the rig: "source", "reference", "meter 1", ...
    pub role: String,
    pub maker: String,
    pub model: String,
    pub serial: String,
    pub firmware: Option<String>,
    /// Calibration due date, for instruments that are calibrated.
    pub calibration_due: Option<NaiveDate>,
    /// True for a simulated instrument: reports must say so.
    pub simulated: bool,
}

impl Identity {
    /// A real device with no firmware to report and no calibration of its
    /// own (a GPIO line, a relay module, a debug probe).
    pub fn device(
        role: impl Into<String>,
        maker: impl Into<String>,
        model: impl Into<String>,
        serial: impl Into<String>,
    ) -> Self {
        Self {
            role: role.into(),
            maker: maker.into(),
            model: model.into(),
            serial: serial.into(),
            firmware: None,
            calibration_due: None,
            simulated: false,
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} {} s/n {}",
            self.role, self.maker, self.model, self.serial
        )?;
        if let Some(fw) = &self.firmware {
            write!(f, ", firmware {fw}")?;
        }
        if let Some(due) = self.calibration_due {
            write!(f, ", calibration due {due}")?;
        }
        if self.simulated {
            f.write_str(" (simulated)")?;
        }
        Ok(())
    }
}

/// What the meter says of itself over Modbus.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeterSelf {
    pub model_id: Option<String>,
    pub serial_number: Option<String>,
    pub firmware: Option<String>,
}
