//! A real climate sensor over Modbus TCP (or an RS485 sensor behind a
//! Modbus TCP gateway): temperature and relative humidity from two input
//! registers (function 04), each a signed 16-bit value times its scale, as
//! the rig file's `[climate]` says.

use async_trait::async_trait;
use tokio_modbus::{Request, Response};

use crate::modbus::{ModbusTransport, Port};
use crate::rig::climate::{Climate, ClimateSensor};
use crate::rig::{Identity, RigError};

const WHO: &str = "climate sensor";

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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A Modbus TCP climate sensor: input register 0x0010 = temperature in
    /// 0.1 °C, 0x0011 = humidity in 0.1 %, as signed 16-bit values.
    async fn sensor(temperature: i16, humidity: i16) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let mut req = [0u8; 12];
            while s.read_exact(&mut req).await.is_ok() {
                // MBAP (transaction, protocol, length, unit), then function 04, address, count.
                let address = u16::from_be_bytes([req[8], req[9]]);
                let reply = if req[7] != 4 {
                    vec![req[6], req[7] | 0x80, 1]
                } else {
                    let v = match address {
                        0x0010 => temperature,
                        0x0011 => humidity,
                        _ => {
                            let pdu = [req[6], 0x84, 2];
                            let mut out = vec![req[0], req[1], 0, 0, 0, 3];
                            out.extend_from_slice(&pdu);
                            let _ = s.write_all(&out).await;
                            continue;
                        }
                    };
                    let [hi, lo] = v.to_be_bytes();
                    vec![req[6], 4, 2, hi, lo]
                };
                let mut out = vec![req[0], req[1], 0, 0, 0, reply.len() as u8];
                out.extend_from_slice(&reply);
                if s.write_all(&out).await.is_err() {
                    return;
                }
            }
        });
        addr
    }

    fn config(address: std::net::SocketAddr, humidity_register: u16) -> ModbusClimateConfig {
        ModbusClimateConfig {
            address,
            unit: 1,
            temperature_register: 0x0010,
            temperature_scale: 0.1,
            humidity_register,
            humidity_scale: 0.1,
            timeout: Duration::from_millis(500),
            maker: "Example".into(),
            model: "TH-485".into(),
            serial: "42".into(),
            calibration_due: None,
        }
    }

    #[tokio::test]
    async fn reads_both_registers_with_their_scale_and_sign() {
        let addr = sensor(-52, 455).await;
        let mut s = ModbusClimate::open(config(addr, 0x0011)).expect("opens");
        let c = s.read().await.expect("reads");
        assert!((c.temperature_c - -5.2).abs() < 1e-9, "{c:?}");
        assert!((c.humidity_pct - 45.5).abs() < 1e-9, "{c:?}");
        assert_eq!(s.identity().role, "climate sensor");
        assert!(!s.identity().simulated);
    }

    #[tokio::test]
    async fn an_exception_names_the_register() {
        let addr = sensor(231, 455).await;
        let mut s = ModbusClimate::open(config(addr, 0x0099)).expect("opens");
        let e = s.read().await.expect_err("no such register").to_string();
        assert!(e.contains("humidity") && e.contains("0x0099"), "{e}");
    }
}
