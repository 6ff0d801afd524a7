//! A meter reached over Modbus TCP (a meter or a gateway on the network).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::modbus::{LinkError, ModbusMeterLink, ModbusTransport, Port};
use crate::profile::MeterProfile;

pub fn open(
    addr: SocketAddr,
    unit: u8,
    timeout: Duration,
    profile: Arc<MeterProfile>,
) -> Result<ModbusMeterLink, LinkError> {
    let settle = profile
        .serial
        .as_ref()
        .map_or(timeout, |s| s.response_timeout * 2);
    Ok(ModbusMeterLink::new(
        ModbusTransport::new(Port::Tcp { addr }, unit, timeout, settle)?,
        profile,
    ))
}
