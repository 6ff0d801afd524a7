//! The tariff input driven from a GPIO line (through a relay or an
//! optocoupler switching the 12..24 V DC): active selects T2.

use std::path::PathBuf;

use async_trait::async_trait;
use gpiocdev::line::{Offset, Value};

use crate::rig::tariff_output::{Tariff, TariffOutput};
use crate::rig::{Identity, RigError};

#[derive(Debug)]
pub struct GpioTariffOutput {
    position: usize,
    chip: PathBuf,
    line: Offset,
    request: gpiocdev::Request,
}

impl GpioTariffOutput {
    /// Requests the line as an output, inactive (T1).
    pub fn open(
        position: usize,
        chip: PathBuf,
        line: Offset,
        active_low: bool,
    ) -> Result<Self, RigError> {
        let mut builder = gpiocdev::Request::builder();
        builder
            .on_chip(&chip)
            .with_consumer("metrig-tariff")
            .with_line(line)
            .as_output(Value::Inactive);
        if active_low {
            builder.as_active_low();
        }
        let request = builder.request().map_err(|e| {
            RigError::instrument(
                format!("tariff output {}", position + 1),
                format!("cannot request line {line} on {}: {e}", chip.display()),
            )
        })?;
        Ok(Self {
            position,
            chip,
            line,
            request,
        })
    }
}

#[async_trait]
impl TariffOutput for GpioTariffOutput {
    fn identity(&self) -> Identity {
        Identity::device(
            format!("tariff output {}", self.position + 1),
            "Linux GPIO",
            self.chip.display().to_string(),
            format!("line {}", self.line),
        )
    }

    async fn select(&mut self, tariff: Tariff) -> Result<(), RigError> {
        let value = match tariff {
            Tariff::T1 => Value::Inactive,
            Tariff::T2 => Value::Active,
        };
        self.request.set_lone_value(value).map_err(|e| {
            RigError::instrument(
                format!("tariff output {}", self.position + 1),
                format!("setting line {} to {value:?}: {e}", self.line),
            )
        })
    }
}
