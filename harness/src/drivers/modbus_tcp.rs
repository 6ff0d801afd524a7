//! A meter reached over the network: Modbus TCP (a meter or a gateway that
//! translates), or RTU frames through a transparent RS485-to-Ethernet gateway.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::ModbusMeterLink;
use crate::modbus::{LinkError, ModbusTransport, Port};
use crate::profile::MeterProfile;

pub fn open(
    addr: SocketAddr,
    unit: u8,
    timeout: Duration,
    profile: Arc<MeterProfile>,
) -> Result<ModbusMeterLink, LinkError> {
    open_port(Port::Tcp { addr }, unit, timeout, profile)
}

/// RTU over TCP: the gateway passes the RTU frames (CRC included) as they are.
pub fn open_rtu_over_tcp(
    addr: SocketAddr,
    unit: u8,
    timeout: Duration,
    profile: Arc<MeterProfile>,
) -> Result<ModbusMeterLink, LinkError> {
    open_port(Port::RtuOverTcp { addr }, unit, timeout, profile)
}

fn open_port(
    port: Port,
    unit: u8,
    timeout: Duration,
    profile: Arc<MeterProfile>,
) -> Result<ModbusMeterLink, LinkError> {
    let settle = profile
        .serial
        .as_ref()
        .map_or(timeout, |s| s.response_timeout * 2);
    Ok(ModbusMeterLink::new(
        ModbusTransport::new(port, unit, timeout, settle)?,
        profile,
    ))
}
