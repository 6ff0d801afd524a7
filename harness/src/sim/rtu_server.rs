//! The simulated meter as a Modbus RTU server on a pseudo-terminal.
//!
//! Its own framing rather than tokio-modbus's RTU server, because the
//! behaviours under test live below the PDU: a meter that answers frames with
//! a bad CRC, a frame cut short, a silence inside a frame, characters sent at
//! the wrong line settings. Frames are delimited by their function's length
//! (as libmodbus does) and, for functions of unknown length, by silence.
//!
//! On a paced line the receiver times every character as the wire would
//! (Modbus over Serial Line V1.02 §2.5.1.1): a silence over t1.5 inside a
//! frame makes it void, one of t3.5 ends it; the reply leaves t3.5 after the
//! request's last character and takes its own wire time. A pty delivers bytes
//! in bursts, so each byte's time is the instant the client wrote it, noted on
//! the simulated line beside the bytes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::line::SimLine;
use super::modbus_server::{Answer, MeterService};
use super::rs485_bus::Rs485Bus;
use crate::modbus::timing::{char_time, sleep_until_precise, t1_5, t3_5, wire_time};
use crate::modbus::{
    append_crc, crc_ok, decode_request, encode_exception, encode_response, rtu_request_len,
};
use crate::profile::LineSettings;

/// Silence that ends a frame whose length its function does not tell, on an
/// unpaced line.
pub const UNKNOWN_FRAME_SILENCE: Duration = Duration::from_millis(5);
/// A partial frame older than this is discarded (the line went quiet
/// mid-frame), on an unpaced line.
pub const STALE_PARTIAL: Duration = Duration::from_millis(50);

/// A complete frame and when its last character ended.
#[derive(Debug)]
struct Received {
    bytes: Vec<u8>,
    end: Instant,
}

/// Frame assembly, byte by byte.
#[derive(Debug, Default)]
struct Receiver {
    buf: Vec<u8>,
    /// A silence over t1.5 happened inside the frame.
    void: bool,
    last_end: Option<Instant>,
}

impl Receiver {
    /// Takes one byte written at `stamp`; `timers` is the meter's own line
    /// when the line is paced. Returns a frame once its length is complete.
    fn push(&mut self, byte: u8, stamp: Instant, timers: Option<LineSettings>) -> Option<Received> {
        let end = match timers {
            Some(line) => {
                let c = char_time(line);
                let end = self
                    .last_end
                    .map_or(stamp + c, |prev| (stamp + c).max(prev + c));
                if let Some(prev) = self.last_end
                    && !self.buf.is_empty()
                {
                    let silence = (end - c).saturating_duration_since(prev);
                    if silence >= t3_5(line) {
                        // The partial frame ended in silence: it is discarded.
                        self.buf.clear();
                        self.void = false;
                    } else if silence > t1_5(line) {
                        self.void = true;
                    }
                }
                end
            }
            None => stamp,
        };
        self.last_end = Some(end);
        self.buf.push(byte);
        if self.buf.len() > 256 {
            // No Modbus RTU frame is longer (V1.02 §2.5.1.1).
            self.buf.clear();
            self.void = false;
            return None;
        }
        match rtu_request_len(&self.buf) {
            Some(Ok(len)) if self.buf.len() >= len => {
                let bytes = std::mem::take(&mut self.buf);
                let void = std::mem::take(&mut self.void);
                (!void).then_some(Received { bytes, end })
            }
            _ => None,
        }
    }

    /// When the silence that ends (or voids) the frame in progress is over.
    fn silence_deadline(&self, timers: Option<LineSettings>) -> Option<Instant> {
        if self.buf.is_empty() {
            return None;
        }
        let last = self.last_end?;
        Some(match timers {
            Some(line) => last + t3_5(line),
            None if self.length_unknown() => last + UNKNOWN_FRAME_SILENCE,
            None => last + STALE_PARTIAL,
        })
    }

    fn length_unknown(&self) -> bool {
        matches!(rtu_request_len(&self.buf), Some(Err(())))
    }

    /// The silence came: a frame of unknown length ends here, a partial
    /// frame of known length is discarded.
    fn end_by_silence(&mut self) -> Option<Received> {
        let unknown = self.length_unknown();
        let bytes = std::mem::take(&mut self.buf);
        let void = std::mem::take(&mut self.void);
        let end = self.last_end?;
        (unknown && !void).then_some(Received { bytes, end })
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Serves the meters on `bus` on `port` (the master side of a pty, or a
/// TCP connection carrying RTU frames) until the port closes. `line`: the
/// simulated line's metadata, when the client announces it.
pub async fn serve_rtu<S: AsyncRead + AsyncWrite + Unpin>(
    mut port: S,
    bus: Arc<Rs485Bus>,
    line: Option<SimLine>,
) {
    let service = &*bus;
    let mut rx = Receiver::default();
    let mut chunk = [0u8; 512];
    loop {
        let timers = paced_timers(service, &line);
        let read = match rx.silence_deadline(timers) {
            None => port.read(&mut chunk).await,
            Some(deadline) => {
                match tokio::time::timeout_at(deadline.into(), port.read(&mut chunk)).await {
                    Ok(r) => r,
                    Err(_) => {
                        if let Some(frame) = rx.end_by_silence() {
                            respond(&mut port, service, &line, frame, timers).await;
                        }
                        continue;
                    }
                }
            }
        };
        let n = match read {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let now = Instant::now();
        let stamps = match &line {
            Some(meta) => lock(meta).take_stamps(n, now),
            None => vec![now; n],
        };
        for (&byte, stamp) in chunk[..n].iter().zip(stamps) {
            if let Some(frame) = rx.push(byte, stamp, timers) {
                respond(&mut port, service, &line, frame, timers).await;
            }
        }
    }
}

/// The meter's own line settings when the line is paced now.
fn paced_timers(bus: &Rs485Bus, line: &Option<SimLine>) -> Option<LineSettings> {
    let paced = line.as_ref().is_some_and(|m| lock(m).paced);
    if !paced {
        return None;
    }
    bus.line()
}

async fn respond<S: AsyncWrite + Unpin>(
    port: &mut S,
    bus: &Rs485Bus,
    line: &Option<SimLine>,
    frame: Received,
    timers: Option<LineSettings>,
) {
    let frame_bytes = frame.bytes;
    if frame_bytes.len() < 4 {
        return;
    }
    // The meter knows the frame has ended only after t3.5 of silence.
    let ready = match timers {
        Some(l) => frame.end + t3_5(l),
        None => Instant::now(),
    };
    sleep_until_precise(ready).await;
    if !crc_ok(&frame_bytes) && !bus.answers_bad_crc() {
        return;
    }
    let slave = frame_bytes[0];
    let pdu = &frame_bytes[1..frame_bytes.len() - 2];
    let client_line = line.as_ref().and_then(|m| lock(m).settings);
    let answered = match decode_request(pdu) {
        Ok(req) => bus.handle(slave, &req, client_line),
        Err(_) => {
            // A malformed request to this meter gets "illegal data value".
            let probe = tokio_modbus::Request::Custom(pdu[0], std::borrow::Cow::Borrowed(&[]));
            bus.handle(slave, &probe, client_line).map(|(_, d, m)| {
                (
                    Answer::Reply(Err(tokio_modbus::ExceptionCode::IllegalDataValue)),
                    d,
                    m,
                )
            })
        }
    };
    let Some((Answer::Reply(result), delay, service)) = answered else {
        return;
    };
    let mut out = vec![slave];
    match result {
        Ok(resp) => out.extend_from_slice(&encode_response(&resp)),
        Err(code) => out.extend_from_slice(&encode_exception(pdu[0], code)),
    }
    append_crc(&mut out);
    // The reply's last character leaves after the meter's turnaround and
    // the reply's own wire time.
    let on_wire = timers.map_or(Duration::ZERO, |l| wire_time(l, out.len()));
    sleep_until_precise(ready + delay + on_wire).await;
    if service.garbage_now() {
        // A glitch on the cable just before the reply.
        let _ = port.write_all(&[0xFF, 0x00, 0x55, 0xAA, 0x13]).await;
    }
    let _ = port.write_all(&out).await;
}

/// Serves RTU frames over TCP, as a transparent RS485-to-Ethernet gateway
/// in front of the meter would pass them; one connection at a time each.
pub async fn spawn_rtu_over_tcp(
    service: Arc<MeterService>,
    addr: std::net::SocketAddr,
) -> std::io::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let bus = Arc::new(Rs485Bus::from(service));
    let listener = super::accept::bind(addr).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut backoff =
            super::accept::Backoff::new(format!("simulated RTU-over-TCP gateway on {local}"));
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve_rtu(stream, bus.clone(), None));
                }
                // EMFILE and the like pass when connections close: wait, never give up.
                Err(e) => backoff.failed(&e).await,
            }
        }
    });
    Ok((local, task))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modbus::RtuFrame;
    use crate::profile::Framing;

    fn line() -> LineSettings {
        LineSettings {
            baud: 19200,
            framing: Framing::try_from("8E1".to_string()).expect("framing"),
        }
    }

    fn feed(rx: &mut Receiver, bytes: &[u8], at: Instant) -> Vec<Received> {
        bytes
            .iter()
            .filter_map(|b| rx.push(*b, at, Some(line())))
            .collect()
    }

    #[test]
    fn a_frame_written_at_once_is_received_whole() {
        let f = RtuFrame::new(5, &[0x03, 0x10, 0x00, 0x00, 0x02]);
        let mut rx = Receiver::default();
        let got = feed(&mut rx, f.bytes(), Instant::now());
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].bytes, f.bytes());
    }

    #[test]
    fn a_silence_between_t1_5_and_t3_5_voids_the_frame() {
        let f = RtuFrame::new(5, &[0x03, 0x10, 0x00, 0x00, 0x02]);
        let t0 = Instant::now();
        let mut rx = Receiver::default();
        assert!(feed(&mut rx, &f.bytes()[..3], t0).is_empty());
        // Three characters of silence after the third character.
        let later = t0 + char_time(line()) * 3 + char_time(line()) * 3;
        assert!(feed(&mut rx, &f.bytes()[3..], later).is_empty());
        // The next frame is received normally.
        let next = later + Duration::from_millis(10);
        assert_eq!(feed(&mut rx, f.bytes(), next).len(), 1);
    }

    #[test]
    fn a_silence_of_one_character_keeps_the_frame() {
        let f = RtuFrame::new(5, &[0x03, 0x10, 0x00, 0x00, 0x02]);
        let t0 = Instant::now();
        let mut rx = Receiver::default();
        feed(&mut rx, &f.bytes()[..3], t0);
        let later = t0 + char_time(line()) * 3 + char_time(line());
        assert_eq!(feed(&mut rx, &f.bytes()[3..], later).len(), 1);
    }
}
