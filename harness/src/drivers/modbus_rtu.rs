//! A meter on a real serial port (RS485 adapter): tokio-serial with the line
//! settings from the rig file, and the shared Modbus link.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::ModbusMeterLink;
use crate::modbus::{LineControl, LinkError, ModbusTransport, Port, SharedSerial};
use crate::profile::{LineSettings, MeterProfile};

/// `inter_frame`: the silence before each request after a reply; `None`
/// keeps the line's t3.5 (Modbus over Serial Line V1.02 §2.5.1.1).
pub fn open(
    device: &Path,
    line: LineSettings,
    address: u8,
    timeout: Duration,
    inter_frame: Option<Duration>,
    profile: Arc<MeterProfile>,
) -> Result<ModbusMeterLink, LinkError> {
    let transport = open_transport(device, line, address, timeout, inter_frame, &profile)?;
    Ok(ModbusMeterLink::new(transport, profile))
}

/// The port and its transport, for one meter or for every meter on the line.
pub fn open_transport(
    device: &Path,
    line: LineSettings,
    address: u8,
    timeout: Duration,
    inter_frame: Option<Duration>,
    profile: &MeterProfile,
) -> Result<ModbusTransport, LinkError> {
    let name = device.display().to_string();
    let stream =
        tokio_serial::SerialStream::open(&tokio_serial::new(&name, line.baud)).map_err(|e| {
            LinkError::Transport {
                message: format!("cannot open {name}: {e}"),
            }
        })?;
    let port = Port::Serial {
        stream: SharedSerial::new(stream),
        name,
        line,
        control: LineControl::Termios,
    };
    // Wait past the meter's promised response time before flushing.
    let settle = profile
        .serial
        .as_ref()
        .map_or(timeout, |s| s.response_timeout * 2);
    let mut transport = ModbusTransport::new(port, address, timeout, settle)?;
    transport.set_inter_frame(inter_frame);
    Ok(transport)
}
