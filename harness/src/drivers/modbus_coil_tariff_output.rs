//! The tariff input driven by a coil of a Modbus digital-output module (a
//! DIN-rail relay module on the bench's network): coil on selects T2. The
//! coil is read back after every write, so a module that ignored the write
//! stops the run instead of leaving the meter on the wrong tariff.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use tokio_modbus::client::{Context, Reader as _, Writer as _};
use tokio_modbus::prelude::Slave;

use crate::rig::tariff_output::{Tariff, TariffOutput};
use crate::rig::{Identity, RigError};

pub struct ModbusCoilTariffOutput {
    position: usize,
    address: SocketAddr,
    unit: u8,
    coil: u16,
    timeout: Duration,
    /// tokio-modbus's context is Send, not Sync; outputs are shared as Sync.
    ctx: tokio::sync::Mutex<Option<Context>>,
}

impl std::fmt::Debug for ModbusCoilTariffOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModbusCoilTariffOutput")
            .field("address", &self.address)
            .field("unit", &self.unit)
            .field("coil", &self.coil)
            .finish()
    }
}

impl ModbusCoilTariffOutput {
    pub fn new(
        position: usize,
        address: SocketAddr,
        unit: u8,
        coil: u16,
        timeout: Duration,
    ) -> Self {
        Self {
            position,
            address,
            unit,
            coil,
            timeout,
            ctx: tokio::sync::Mutex::new(None),
        }
    }

    fn err(&self, m: String) -> RigError {
        RigError::instrument(format!("tariff output {}", self.position + 1), m)
    }

    async fn connect(&self) -> Result<Context, String> {
        tokio::time::timeout(
            self.timeout,
            tokio_modbus::client::tcp::connect_slave(self.address, Slave(self.unit)),
        )
        .await
        .map_err(|_| {
            format!(
                "no connection to {} within {} ms",
                self.address,
                self.timeout.as_millis()
            )
        })?
        .map_err(|e| format!("cannot connect to {}: {e}", self.address))
    }

    async fn write_and_check(&mut self, on: bool) -> Result<(), String> {
        let (coil, timeout) = (self.coil, self.timeout);
        let mut guard = self.ctx.lock().await;
        if guard.is_none() {
            *guard = Some(self.connect().await?);
        }
        let Some(ctx) = guard.as_mut() else {
            return Err("no connection".into());
        };
        match tokio::time::timeout(timeout, ctx.write_single_coil(coil, on)).await {
            Err(_) => {
                return Err(format!(
                    "coil {coil}: no reply within {} ms",
                    timeout.as_millis()
                ));
            }
            Ok(Err(e)) => return Err(format!("coil {coil}: {e}")),
            Ok(Ok(Err(code))) => return Err(format!("coil {coil}: exception {code}")),
            Ok(Ok(Ok(()))) => {}
        }
        match tokio::time::timeout(timeout, ctx.read_coils(coil, 1)).await {
            Ok(Ok(Ok(v))) if v.first() == Some(&on) => Ok(()),
            Ok(Ok(Ok(v))) => Err(format!("coil {coil} reads {v:?} after writing {on}")),
            Ok(Ok(Err(code))) => Err(format!("reading coil {coil} back: exception {code}")),
            Ok(Err(e)) => Err(format!("reading coil {coil} back: {e}")),
            Err(_) => Err(format!("reading coil {coil} back: no reply")),
        }
    }
}

#[async_trait]
impl TariffOutput for ModbusCoilTariffOutput {
    fn identity(&self) -> Identity {
        Identity::device(
            format!("tariff output {}", self.position + 1),
            "Modbus digital output",
            format!("{} unit {}", self.address, self.unit),
            format!("coil {}", self.coil),
        )
    }

    async fn select(&mut self, tariff: Tariff) -> Result<(), RigError> {
        let on = tariff == Tariff::T2;
        match self.write_and_check(on).await {
            Ok(()) => Ok(()),
            Err(m) => {
                // Never reuse a connection that failed mid-exchange.
                *self.ctx.lock().await = None;
                Err(self.err(m))
            }
        }
    }
}
