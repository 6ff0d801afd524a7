//! A real climate sensor over Modbus TCP (or an RS485 sensor behind a
//! Modbus TCP gateway): temperature and relative humidity from two input
//! registers (function 04), each a signed 16-bit value times its scale, as
//! the rig file's `[climate]` says.

use async_trait::async_trait;
use tokio_modbus::{Request, Response};

use crate::modbus::{ModbusTransport, Port};
use crate::rig::climate::{Climate, ClimateSensor, ModbusClimateConfig};
use crate::rig::{Identity, RigError};

const WHO: &str = "climate sensor";

#[derive(Debug)]
pub struct ModbusClimate {
    config: ModbusClimateConfig,
    transport: ModbusTransport,
}

impl ModbusClimate {
    pub fn open(config: ModbusClimateConfig) -> Result<Self, RigError> {
        let transport = ModbusTransport::new(
            Port::Tcp {
                addr: config.address,
            },
            config.unit,
            config.timeout,
            config.timeout,
        )
        .map_err(|e| RigError::Link {
            instrument: WHO.into(),
            source: e,
        })?;
        Ok(Self { config, transport })
    }

    async fn register(&mut self, what: &str, address: u16, scale: f64) -> Result<f64, RigError> {
        let desc = format!("{WHO}: read {what} (function 04, 0x{address:04X})");
        match self
            .transport
            .call(Request::ReadInputRegisters(address, 1))
            .await
        {
            Err(e) => Err(RigError::Link {
                instrument: desc,
                source: e,
            }),
            Ok(Err(code)) => Err(RigError::instrument(desc, format!("exception {code:?}"))),
            Ok(Ok(Response::ReadInputRegisters(w))) if w.len() == 1 => {
                Ok(f64::from(w[0] as i16) * scale)
            }
            Ok(Ok(other)) => Err(RigError::instrument(
                desc,
                format!("unexpected answer {other:?}"),
            )),
        }
    }
}

#[async_trait]
impl ClimateSensor for ModbusClimate {
    fn identity(&self) -> Identity {
        Identity {
            role: "climate sensor".into(),
            maker: self.config.maker.clone(),
            model: self.config.model.clone(),
            serial: self.config.serial.clone(),
            firmware: None,
            calibration_due: self.config.calibration_due,
            simulated: false,
        }
    }

    async fn read(&mut self) -> Result<Climate, RigError> {
        let c = self.config.clone();
        let temperature_c = self
            .register("temperature", c.temperature_register, c.temperature_scale)
            .await?;
        let humidity_pct = self
            .register("humidity", c.humidity_register, c.humidity_scale)
            .await?;
        Climate {
            temperature_c,
            humidity_pct,
        }
        .checked(WHO)
    }
}
