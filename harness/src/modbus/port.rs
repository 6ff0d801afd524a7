//! The port under the transport: a serial stream shared with tokio-modbus
//! ([`SharedSerial`]), how line settings reach the line ([`LineControl`]),
//! and where the meter is ([`Port`]). A simulated line is one more
//! [`SimulatedLine`], implemented by `sim`; this module never names it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context as TaskContext, Poll};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_serial::{SerialPort, SerialStream};

use crate::profile::{LineSettings, Parity};

/// A simulated line: the settings, pacing and write instants that travel
/// beside the bytes, because a pseudo-terminal keeps none of them
/// (ptys refuse even parity and deliver bytes in bursts, rust-notes.md).
pub trait SimulatedLine: Send + Sync + std::fmt::Debug {
    /// Runs `write` with the line held, noting when the bytes it wrote left
    /// the client, so the meter never sees bytes without their instants.
    fn stamped_write(
        &self,
        write: &mut dyn FnMut() -> Poll<std::io::Result<usize>>,
    ) -> Poll<std::io::Result<usize>>;
    /// The client's line settings now.
    fn announce(&self, settings: LineSettings);
    /// Whether characters are paced as on a wire now.
    fn is_paced(&self) -> bool;
    /// Asks the line to pace (or stop pacing), as its policy allows.
    fn pace(&self, on: bool) -> LineTiming;
}

/// A serial stream that the transport can keep a handle on while a
/// tokio-modbus context owns a clone, to flush it or reconfigure it.
#[derive(Debug, Clone)]
pub struct SharedSerial {
    stream: Arc<Mutex<SerialStream>>,
    /// On a simulated line: where each write's instant is noted, since a pty
    /// delivers bytes in bursts and loses the timing a wire would keep.
    stamps: Option<Arc<dyn SimulatedLine>>,
    /// Every byte read since the last request: when no valid reply came,
    /// what did come says why (a bad CRC, a frame cut short).
    tap: Arc<Mutex<Vec<u8>>>,
}

/// The most bytes the tap keeps (a Modbus RTU frame is at most 256).
const TAP_LIMIT: usize = 512;

impl SharedSerial {
    pub fn new(stream: SerialStream) -> Self {
        Self {
            stream: Arc::new(Mutex::new(stream)),
            stamps: None,
            tap: Arc::default(),
        }
    }

    /// A stream to the simulated meter that notes when each byte was written.
    pub fn stamped(stream: SerialStream, line: Arc<dyn SimulatedLine>) -> Self {
        Self {
            stream: Arc::new(Mutex::new(stream)),
            stamps: Some(line),
            tap: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SerialStream> {
        self.stream.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Discards every byte waiting in the input buffer.
    pub fn flush_input(&self) -> std::io::Result<()> {
        self.lock()
            .clear(tokio_serial::ClearBuffer::Input)
            .map_err(std::io::Error::other)
    }

    pub fn name(&self) -> Option<String> {
        self.lock().name()
    }

    /// The bytes read since the last call, and a fresh start.
    pub fn take_tap(&self) -> Vec<u8> {
        std::mem::take(&mut *self.tap.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn configure(&self, line: LineSettings) -> std::io::Result<()> {
        let mut s = self.lock();
        s.set_baud_rate(line.baud).map_err(std::io::Error::other)?;
        s.set_data_bits(if line.framing.data_bits == 7 {
            tokio_serial::DataBits::Seven
        } else {
            tokio_serial::DataBits::Eight
        })
        .map_err(std::io::Error::other)?;
        s.set_parity(match line.framing.parity {
            Parity::None => tokio_serial::Parity::None,
            Parity::Even => tokio_serial::Parity::Even,
            Parity::Odd => tokio_serial::Parity::Odd,
        })
        .map_err(std::io::Error::other)?;
        s.set_stop_bits(if line.framing.stop_bits == 2 {
            tokio_serial::StopBits::Two
        } else {
            tokio_serial::StopBits::One
        })
        .map_err(std::io::Error::other)
    }
}

impl AsyncRead for SharedSerial {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = {
            let mut s = self.lock();
            Pin::new(&mut *s).poll_read(cx, buf)
        };
        if let Poll::Ready(Ok(())) = &polled {
            let mut tap = self.tap.lock().unwrap_or_else(|e| e.into_inner());
            if tap.len() < TAP_LIMIT {
                tap.extend_from_slice(&buf.filled()[before..]);
            }
        }
        polled
    }
}

impl AsyncWrite for SharedSerial {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let Some(line) = &self.stamps else {
            let mut s = self.lock();
            return Pin::new(&mut *s).poll_write(cx, buf);
        };
        line.stamped_write(&mut || {
            let mut s = self.lock();
            Pin::new(&mut *s).poll_write(cx, buf)
        })
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        let mut s = self.lock();
        Pin::new(&mut *s).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        let mut s = self.lock();
        Pin::new(&mut *s).poll_shutdown(cx)
    }
}

/// Whether character timing on a link is as on a wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineTiming {
    /// A real serial line: the wire times every character.
    Wire,
    /// The simulated line, paced at its baud.
    Paced,
    /// The simulated line, unpaced: bytes arrive in bursts, no timing.
    Unpaced,
    /// Not a serial line (Modbus TCP).
    NotSerial,
}

impl LineTiming {
    pub fn is_timed(self) -> bool {
        matches!(self, LineTiming::Wire | LineTiming::Paced)
    }
}

/// How line settings reach the line.
#[derive(Debug, Clone)]
pub enum LineControl {
    /// A real serial port: baud, parity and stop bits through termios.
    Termios,
    /// A pseudo-terminal to the simulated meter. Ptys refuse even parity
    /// (rust-notes.md), so the settings travel as the simulated line's own
    /// metadata, which the simulated meter compares with its own settings.
    Announced(Arc<dyn SimulatedLine>),
    /// A port whose settings belong to someone else (a third-party pty).
    Fixed,
}

impl LineControl {
    /// Asks the simulated line to pace (or stop pacing) its characters, as
    /// its pacing policy allows; says what timing the line has now.
    pub fn pace(&self, on: bool) -> LineTiming {
        match self {
            LineControl::Termios => LineTiming::Wire,
            LineControl::Fixed => LineTiming::Unpaced,
            LineControl::Announced(line) => line.pace(on),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Port {
    Serial {
        stream: SharedSerial,
        name: String,
        line: LineSettings,
        control: LineControl,
    },
    Tcp {
        addr: SocketAddr,
    },
    /// RTU frames through an RS485-to-Ethernet gateway in transparent mode:
    /// the line settings live in the gateway.
    RtuOverTcp {
        addr: SocketAddr,
    },
}

impl Port {
    pub fn describe(&self) -> String {
        match self {
            Port::Serial { name, line, .. } => format!("RTU {name} {line}"),
            Port::Tcp { addr } => format!("TCP {addr}"),
            Port::RtuOverTcp { addr } => format!("RTU over TCP {addr}"),
        }
    }
}
