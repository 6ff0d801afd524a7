//! The transport under the meter link: tokio-modbus's client with a request
//! timeout, and after a timeout a wait past the meter's slowest reply and an
//! input flush.
//!
//! tokio-modbus's async RTU client has no timeout, and it clears only its own
//! buffer before a request: a late reply still in the kernel's buffer would be
//! taken as the answer to the next request (measured 3 times out of 3,
//! rust-notes.md). So after any timeout or transport error the client context
//! is dropped, the transport waits `settle`, flushes the line's input (serial)
//! or opens a new connection (TCP), and only then sends again.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_modbus::client::{Client as _, Context};
use tokio_modbus::prelude::SlaveContext as _;
use tokio_modbus::{Request, Slave};
use tokio_serial::{SerialPort, SerialStream};

use super::{FrameRecord, LinkError, encode_request, encode_response, hex};
use crate::profile::{LineSettings, Parity};
use crate::rig::meter_link::RawOutcome;

/// A serial stream that the transport can keep a handle on while a
/// tokio-modbus context owns a clone, to flush it or reconfigure it.
#[derive(Debug, Clone)]
pub struct SharedSerial(Arc<Mutex<SerialStream>>);

impl SharedSerial {
    pub fn new(stream: SerialStream) -> Self {
        Self(Arc::new(Mutex::new(stream)))
    }

    fn lock(&self) -> MutexGuard<'_, SerialStream> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
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

    fn configure(&self, line: LineSettings) -> std::io::Result<()> {
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
        let mut s = self.lock();
        Pin::new(&mut *s).poll_read(cx, buf)
    }
}

impl AsyncWrite for SharedSerial {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut s = self.lock();
        Pin::new(&mut *s).poll_write(cx, buf)
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

/// How line settings reach the line.
#[derive(Debug, Clone)]
pub enum LineControl {
    /// A real serial port: baud, parity and stop bits through termios.
    Termios,
    /// A pseudo-terminal to the simulated meter. Ptys refuse even parity
    /// (rust-notes.md), so the settings travel as the simulated line's own
    /// metadata, which the simulated meter compares with its own settings.
    Announced(Arc<Mutex<Option<LineSettings>>>),
    /// A port whose settings belong to someone else (a third-party pty).
    Fixed,
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
}

impl Port {
    pub fn describe(&self) -> String {
        match self {
            Port::Serial { name, line, .. } => format!("RTU {name} {line}"),
            Port::Tcp { addr } => format!("TCP {addr}"),
        }
    }
}

pub struct ModbusTransport {
    port: Port,
    unit: u8,
    timeout: Duration,
    settle: Duration,
    ctx: Option<Context>,
    dirty_since: Option<Instant>,
    log: Vec<FrameRecord>,
    opened: Instant,
}

impl std::fmt::Debug for ModbusTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModbusTransport")
            .field("port", &self.port)
            .field("unit", &self.unit)
            .field("timeout", &self.timeout)
            .field("connected", &self.ctx.is_some())
            .finish()
    }
}

impl ModbusTransport {
    /// `timeout` bounds each request; `settle` is how long after a timeout
    /// the line must stay untouched before the input is flushed (longer than
    /// the meter's slowest reply).
    pub fn new(
        port: Port,
        unit: u8,
        timeout: Duration,
        settle: Duration,
    ) -> Result<Self, LinkError> {
        let mut t = Self {
            port,
            unit,
            timeout,
            settle,
            ctx: None,
            dirty_since: None,
            log: Vec::new(),
            opened: Instant::now(),
        };
        if let Port::Serial { line, .. } = &t.port {
            let line = *line;
            t.apply_line(line)?;
        }
        Ok(t)
    }

    pub fn describe(&self) -> String {
        format!("{}, address {}", self.port.describe(), self.unit)
    }

    pub fn unit(&self) -> u8 {
        self.unit
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn line(&self) -> Option<LineSettings> {
        match &self.port {
            Port::Serial { line, .. } => Some(*line),
            Port::Tcp { .. } => None,
        }
    }

    pub fn take_log(&mut self) -> Vec<FrameRecord> {
        std::mem::take(&mut self.log)
    }

    fn apply_line(&mut self, new: LineSettings) -> Result<(), LinkError> {
        if let Port::Serial {
            stream,
            line,
            control,
            ..
        } = &mut self.port
        {
            match control {
                LineControl::Termios => {
                    stream.configure(new).map_err(|e| LinkError::Transport {
                        message: format!("cannot set {new} on the serial port: {e}"),
                    })?
                }
                LineControl::Announced(meta) => {
                    *meta.lock().unwrap_or_else(|e| e.into_inner()) = Some(new);
                }
                LineControl::Fixed => {}
            }
            *line = new;
        }
        Ok(())
    }

    /// Talks to another unit and/or with other line settings from now on.
    pub async fn retarget(
        &mut self,
        unit: u8,
        line: Option<LineSettings>,
    ) -> Result<(), LinkError> {
        self.unit = unit;
        if let Some(ctx) = &mut self.ctx {
            ctx.set_slave(Slave(unit));
        }
        if let Some(line) = line {
            self.ctx = None;
            self.apply_line(line)?;
            self.dirty_since = Some(Instant::now());
        }
        Ok(())
    }

    async fn context(&mut self) -> Result<&mut Context, LinkError> {
        if let Some(since) = self.dirty_since.take() {
            let wait = self.settle.saturating_sub(since.elapsed());
            tokio::time::sleep(wait).await;
            if let Port::Serial { stream, .. } = &self.port {
                stream.flush_input().map_err(|e| LinkError::Transport {
                    message: format!("cannot flush the serial input: {e}"),
                })?;
            }
        }
        if self.ctx.is_none() {
            let ctx = match &self.port {
                Port::Serial { stream, .. } => {
                    tokio_modbus::client::rtu::attach_slave(stream.clone(), Slave(self.unit))
                }
                Port::Tcp { addr } => {
                    match tokio::time::timeout(
                        self.timeout.max(Duration::from_secs(1)),
                        tokio_modbus::client::tcp::connect_slave(*addr, Slave(self.unit)),
                    )
                    .await
                    {
                        Ok(Ok(ctx)) => ctx,
                        Ok(Err(e)) => {
                            return Err(LinkError::Transport {
                                message: format!("cannot connect to {addr}: {e}"),
                            });
                        }
                        Err(_) => {
                            return Err(LinkError::Transport {
                                message: format!(
                                    "no connection to {addr} within {} ms",
                                    self.timeout.max(Duration::from_secs(1)).as_millis()
                                ),
                            });
                        }
                    }
                }
            };
            self.ctx = Some(ctx);
        }
        self.ctx.as_mut().ok_or_else(|| LinkError::Transport {
            message: "no client context".into(),
        })
    }

    /// Sends one request and waits at most `timeout` for its answer.
    pub async fn call(&mut self, request: Request<'static>) -> RawOutcome {
        let request_hex = hex(&encode_request(&request));
        let timeout = self.timeout;
        let started = Instant::now();
        let at_ms = self.opened.elapsed().as_secs_f64() * 1000.0;
        let outcome = match self.context().await {
            Err(e) => Err(e),
            Ok(ctx) => match tokio::time::timeout(timeout, ctx.call(request)).await {
                Err(_) => Err(LinkError::Timeout {
                    timeout_ms: timeout.as_millis() as u64,
                }),
                Ok(Err(tokio_modbus::Error::Transport(e))) => Err(LinkError::Transport {
                    message: e.to_string(),
                }),
                Ok(Err(tokio_modbus::Error::Protocol(e))) => Err(LinkError::Protocol {
                    message: e.to_string(),
                }),
                Ok(Ok(answer)) => Ok(answer),
            },
        };
        if outcome.is_err() {
            // Never reuse a context that may hold half a frame, and never
            // send again before a late reply has had time to arrive.
            self.ctx = None;
            self.dirty_since = Some(Instant::now());
        }
        self.log.push(FrameRecord {
            at_ms,
            unit: self.unit,
            request: request_hex,
            outcome: match &outcome {
                Ok(Ok(resp)) => format!("ok {}", hex(&encode_response(resp))),
                Ok(Err(code)) => format!("exception {:02X}", u8::from(*code)),
                Err(e) => e.to_string(),
            },
            round_trip_us: started.elapsed().as_micros() as u64,
        });
        if self.log.len() > 100_000 {
            // A listener that never drains the log must not grow memory forever.
            self.log.drain(..50_000);
        }
        outcome
    }
}
