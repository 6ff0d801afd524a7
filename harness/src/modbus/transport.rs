//! The transport under the meter link: tokio-modbus's client (over Modbus TCP
//! metrig's own, `tcp_client`, with the same frames and errors) with a request
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
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_modbus::client::{Client as _, Context};
use tokio_modbus::prelude::SlaveContext as _;
use tokio_modbus::{Request, Slave};

use super::frame_log::FrameLog;
use super::port::{LineControl, LineTiming, Port};
use super::rtu_frame::{RawReply, Transmission, rtu_response_len};
use super::tcp_client::TcpClient;
use super::timing::{sleep_precise, sleep_until_precise, t3_5, wire_time};
use super::traffic::Traffic;
use super::{FrameRecord, LinkError, RawOutcome, hex};
use crate::profile::LineSettings;

/// A timeout is silence only if nothing came: bytes that made no valid
/// frame are a protocol error, named by what was wrong with them.
fn silence_or_garbage(timeout: Duration, came: Vec<u8>) -> LinkError {
    let ms = timeout.as_millis() as u64;
    if came.is_empty() {
        return LinkError::Timeout { timeout_ms: ms };
    }
    let what = match super::rtu_frame::rtu_response_len(&came) {
        Some(len) if came.len() < len => {
            format!("a frame cut short ({} of {len} bytes)", came.len())
        }
        Some(len) if came.len() > len => {
            format!("{} bytes where the byte count says {len}", came.len())
        }
        _ => match super::rtu_frame::parse_reply(&came) {
            super::ReplyFrame::BadCrc { .. } => "a frame with a bad CRC".to_string(),
            super::ReplyFrame::Garbage { .. } => "bytes that are no Modbus frame".to_string(),
            other => format!("{} (not the answer to this request)", other.describe()),
        },
    };
    LinkError::Protocol {
        message: format!("no valid reply within {ms} ms: {what}: {}", hex(&came)),
    }
}

/// Opens a TCP connection within the link's timeout (at least 1 s).
async fn connect(addr: SocketAddr, timeout: Duration) -> Result<tokio::net::TcpStream, LinkError> {
    let limit = timeout.max(Duration::from_secs(1));
    match tokio::time::timeout(limit, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
        Ok(Err(e)) => Err(LinkError::Transport {
            message: format!("cannot connect to {addr}: {e}"),
        }),
        Err(_) => Err(LinkError::Transport {
            message: format!("no connection to {addr} within {} ms", limit.as_millis()),
        }),
    }
}

/// How long the line rests after a change of line settings before the
/// input is flushed: enough for a meter that switches after its reply.
pub const RETARGET_SETTLE: Duration = Duration::from_millis(20);

/// The client on the port: tokio-modbus's over a serial line or RTU over
/// TCP, metrig's own over Modbus TCP (`tcp_client`: without tokio-modbus's
/// framing, a fifth fewer user-space instructions a transaction).
enum Client {
    Modbus(Context),
    /// Boxed, as tokio-modbus boxes its context: every `Wire` that owns a
    /// transport would be 40 bytes larger.
    Tcp(Box<TcpClient>),
}

impl Client {
    async fn call(
        &mut self,
        unit: u8,
        request: Request<'static>,
    ) -> tokio_modbus::Result<tokio_modbus::Response> {
        match self {
            Client::Modbus(ctx) => ctx.call(request).await,
            Client::Tcp(c) => c.call(unit, &request).await,
        }
    }
}

pub struct ModbusTransport {
    port: Port,
    unit: u8,
    timeout: Duration,
    settle: Duration,
    ctx: Option<Client>,
    /// The line must rest until then, and its input be flushed, before the
    /// next request (after a timeout, an error, a change of line settings).
    rest_until: Option<Instant>,
    /// Boxed: the log's two buffers would make every `Wire` that owns a
    /// transport 40 bytes larger.
    log: Box<FrameLog>,
    opened: Instant,
    /// When the last reply ended: on a timed line the next request waits
    /// t3.5 after it (V1.02 §2.5.1.1), which tokio-modbus does not do.
    last_reply: Option<Instant>,
    /// The rig file's inter-frame delay, replacing t3.5 on a real port.
    inter_frame: Option<Duration>,
    /// A request was sent and its call dropped before the reply was read (a
    /// run cancelled mid-request): that reply may still come, and must not
    /// be taken for the next request's.
    in_flight: bool,
    traffic: Traffic,
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
            rest_until: None,
            log: Box::default(),
            opened: Instant::now(),
            last_reply: None,
            inter_frame: None,
            in_flight: false,
            traffic: Traffic::default(),
        };
        if let Port::Serial { line, .. } = &t.port {
            let line = *line;
            t.apply_line(line)?;
        }
        Ok(t)
    }

    /// Sets the silence before each request after a reply (0: none), in
    /// place of the line's t3.5.
    pub fn set_inter_frame(&mut self, d: Option<Duration>) {
        self.inter_frame = d;
    }

    /// After a call that never finished: drop the context, let a late
    /// reply pass and flush it, as after a timeout.
    fn recover_from_abandoned_call(&mut self) {
        if std::mem::take(&mut self.in_flight) {
            self.ctx = None;
            self.rest(self.settle);
        }
    }

    fn rest(&mut self, d: Duration) {
        let until = Instant::now() + d;
        self.rest_until = Some(self.rest_until.map_or(until, |u| u.max(until)));
    }

    pub fn describe(&self) -> String {
        format!("{}, address {}", self.port.describe(), self.unit)
    }

    /// The port alone, without the unit address: what meters sharing the
    /// line have in common.
    pub fn port_describe(&self) -> String {
        self.port.describe()
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
            Port::Tcp { .. } | Port::RtuOverTcp { .. } => None,
        }
    }

    pub fn take_log(&mut self) -> Vec<FrameRecord> {
        self.log.take()
    }

    /// Every request made since the transport was opened, counted as RTU frames.
    pub fn traffic(&self) -> Traffic {
        self.traffic
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
                LineControl::Announced(meta) => meta.announce(new),
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
        if let Some(Client::Modbus(ctx)) = &mut self.ctx {
            ctx.set_slave(Slave(unit));
        }
        if let Some(line) = line {
            self.ctx = None;
            self.apply_line(line)?;
            // Bytes caught mid-change are garbage: wait a moment, flush.
            self.rest(RETARGET_SETTLE);
        }
        Ok(())
    }

    async fn context(&mut self) -> Result<&mut Client, LinkError> {
        if let Some(until) = self.rest_until.take() {
            tokio::time::sleep_until(until.into()).await;
            if let Port::Serial { stream, .. } = &self.port {
                stream.flush_input().map_err(|e| LinkError::Transport {
                    message: format!("cannot flush the serial input: {e}"),
                })?;
            }
        }
        if self.ctx.is_none() {
            let ctx = match &self.port {
                Port::Serial { stream, .. } => Client::Modbus(
                    tokio_modbus::client::rtu::attach_slave(stream.clone(), Slave(self.unit)),
                ),
                Port::Tcp { addr } => Client::Tcp(Box::new(TcpClient::new(
                    connect(*addr, self.timeout).await?,
                ))),
                Port::RtuOverTcp { addr } => {
                    let stream = connect(*addr, self.timeout).await?;
                    Client::Modbus(tokio_modbus::client::rtu::attach_slave(
                        stream,
                        Slave(self.unit),
                    ))
                }
            };
            self.ctx = Some(ctx);
        }
        self.ctx.as_mut().ok_or_else(|| LinkError::Transport {
            message: "no client context".into(),
        })
    }

    /// The silence owed between a reply and the next request: t3.5 on a
    /// line timed as a wire; none on an unpaced pty or over TCP.
    fn inter_frame_gap(&self) -> Option<Duration> {
        if let Some(d) = self.inter_frame {
            return (!d.is_zero()).then_some(d);
        }
        match &self.port {
            Port::Serial { line, control, .. } => {
                let timed = match control {
                    LineControl::Termios => true,
                    LineControl::Fixed => false,
                    LineControl::Announced(meta) => meta.is_paced(),
                };
                timed.then(|| t3_5(*line))
            }
            _ => None,
        }
    }

    /// Asks the simulated line to pace (or stop pacing) its characters, as
    /// its pacing policy allows; says what timing the line has now.
    pub fn pace_line(&mut self, on: bool) -> LineTiming {
        match &self.port {
            Port::Tcp { .. } | Port::RtuOverTcp { .. } => LineTiming::NotSerial,
            Port::Serial { control, .. } => control.pace(on),
        }
    }

    /// How the line is controlled (`None` over TCP).
    pub fn line_control(&self) -> Option<LineControl> {
        match &self.port {
            Port::Serial { control, .. } => Some(control.clone()),
            Port::Tcp { .. } | Port::RtuOverTcp { .. } => None,
        }
    }

    /// Puts `tx` on the serial line byte for byte, silences included, and
    /// listens for `listen` for whatever comes back. Shares the stream with
    /// tokio-modbus: its context is dropped first (it may hold buffered
    /// bytes) and rebuilt on the next call.
    pub async fn raw_exchange(
        &mut self,
        tx: &Transmission,
        listen: Duration,
    ) -> Result<RawReply, LinkError> {
        let (stream, line) = match &self.port {
            Port::Serial { stream, line, .. } => (stream.clone(), *line),
            Port::Tcp { addr } | Port::RtuOverTcp { addr } => {
                return Err(LinkError::Unsupported {
                    message: format!(
                        "raw RTU frames need a serial line whose timing metrig controls; {addr} is a network link"
                    ),
                });
            }
        };
        self.recover_from_abandoned_call();
        self.ctx = None;
        if let Some(until) = self.rest_until.take() {
            tokio::time::sleep_until(until.into()).await;
        }
        self.in_flight = true;
        stream.flush_input().map_err(|e| LinkError::Transport {
            message: format!("cannot flush the serial input: {e}"),
        })?;
        let at_ms = self.opened.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let mut s = stream.clone();
        let io = |e: std::io::Error| LinkError::Transport {
            message: e.to_string(),
        };
        for (burst, gap) in &tx.bursts {
            s.write_all(burst).await.map_err(io)?;
            s.flush().await.map_err(io)?;
            if !gap.is_zero() {
                // The write returns once the bytes are queued; the silence
                // starts when the last of them has left on the wire.
                sleep_precise(wire_time(line, burst.len()) + *gap).await;
            }
        }
        let sent = Instant::now();
        // A reply ends when its function's length is reached, or after a
        // silence: t3.5 on a wire, more on a pty or a USB adapter.
        let quiet = (t3_5(line) * 2).max(Duration::from_millis(20));
        let mut bytes = Vec::new();
        let mut first = None;
        let mut last = None;
        let mut chunk = [0u8; 512];
        loop {
            let wait = if bytes.is_empty() {
                match listen.checked_sub(sent.elapsed()) {
                    Some(w) => w,
                    None => break,
                }
            } else {
                quiet
            };
            match tokio::time::timeout(wait, s.read(&mut chunk)).await {
                Err(_) => break,
                Ok(Err(e)) => return Err(io(e)),
                Ok(Ok(0)) => break,
                Ok(Ok(n)) => {
                    first.get_or_insert_with(|| sent.elapsed());
                    last = Some(sent.elapsed());
                    bytes.extend_from_slice(&chunk[..n]);
                    if rtu_response_len(&bytes).is_some_and(|len| bytes.len() >= len)
                        || bytes.len() > 256
                    {
                        break;
                    }
                }
            }
        }
        self.in_flight = false;
        if bytes.is_empty() {
            // Silence now may be a late reply later: let it pass first.
            self.rest(self.settle);
        }
        self.traffic.count(tx.bytes().len(), bytes.len());
        let reply = RawReply {
            bytes,
            first_byte_after: first,
            last_byte_after: last,
        };
        self.log.push(FrameRecord {
            at_ms,
            unit: tx.bytes().first().copied().unwrap_or(0),
            request: format!("raw {}", hex(&tx.bytes())),
            outcome: reply.frame().describe(),
            round_trip_us: started.elapsed().as_micros() as u64,
        });
        Ok(reply)
    }

    /// Sends one request and waits at most `timeout` for its answer.
    pub async fn call(&mut self, request: Request<'static>) -> RawOutcome {
        self.recover_from_abandoned_call();
        let logged = self.log.request(&request);
        if let (Some(end), Some(gap)) = (self.last_reply, self.inter_frame_gap()) {
            sleep_until_precise(end + gap).await;
        }
        let (timeout, unit) = (self.timeout, self.unit);
        // The clock is read once before and once after the exchange (and by
        // the timeout): each reading costs as much as decoding the reply.
        let started = Instant::now();
        let at_ms = started.duration_since(self.opened).as_secs_f64() * 1000.0;
        let tap = match &self.port {
            Port::Serial { stream, .. } => Some(stream.clone()),
            _ => None,
        };
        self.in_flight = true;
        let outcome = match self.context().await {
            Err(e) => Err(e),
            Ok(ctx) => match tokio::time::timeout(timeout, {
                if let Some(t) = &tap {
                    t.take_tap();
                }
                ctx.call(unit, request)
            })
            .await
            {
                Err(_) => Err(silence_or_garbage(
                    timeout,
                    tap.map(|t| t.take_tap()).unwrap_or_default(),
                )),
                Ok(Err(tokio_modbus::Error::Transport(e))) => Err(LinkError::Transport {
                    message: e.to_string(),
                }),
                Ok(Err(tokio_modbus::Error::Protocol(e))) => Err(LinkError::Protocol {
                    message: e.to_string(),
                }),
                Ok(Ok(answer)) => Ok(answer),
            },
        };
        self.in_flight = false;
        let ended = Instant::now();
        self.last_reply = Some(ended);
        if outcome.is_err() {
            // Never reuse a context that may hold half a frame, and never
            // send again before a late reply has had time to arrive.
            self.ctx = None;
            self.rest(self.settle);
        }
        let request_len = logged.len();
        let round_trip_us = ended.duration_since(started).as_micros() as u64;
        let reply_pdu = self
            .log
            .outcome(logged, at_ms, self.unit, &outcome, round_trip_us);
        // Address + PDU + CRC, as the frames are on RS485.
        let reply_len = if outcome.is_ok() { reply_pdu + 3 } else { 0 };
        self.traffic.count(request_len + 3, reply_len);
        outcome
    }
}
