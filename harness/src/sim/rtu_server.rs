//! The simulated meter as a Modbus RTU server on a pseudo-terminal.
//!
//! Its own framing rather than tokio-modbus's RTU server, because the
//! behaviours under test live below the PDU: a meter that answers frames with
//! a bad CRC, a frame cut short, characters sent at the wrong line settings.
//! Frames are delimited by their function's length (as libmodbus does) and,
//! for functions of unknown length, by a silence of `UNKNOWN_FRAME_SILENCE`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_serial::SerialStream;

use super::modbus_server::{Answer, MeterService};
use crate::modbus::{
    append_crc, crc_ok, decode_request, encode_exception, encode_response, rtu_request_len,
};
use crate::profile::LineSettings;

/// Silence that ends a frame whose length its function does not tell.
pub const UNKNOWN_FRAME_SILENCE: Duration = Duration::from_millis(5);
/// A partial frame older than this is discarded (the line went quiet mid-frame).
pub const STALE_PARTIAL: Duration = Duration::from_millis(50);

/// The line settings a client announces on a simulated line.
pub type LineMeta = Arc<Mutex<Option<LineSettings>>>;

/// Serves `service` on `port` (the master side of a pty) until the port closes.
pub async fn serve_rtu(mut port: SerialStream, service: Arc<MeterService>, line: Option<LineMeta>) {
    let mut buf: Vec<u8> = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    loop {
        let read = if buf.is_empty() {
            port.read(&mut chunk).await
        } else {
            let wait = match rtu_request_len(&buf) {
                Some(Err(())) => UNKNOWN_FRAME_SILENCE,
                _ => STALE_PARTIAL,
            };
            match tokio::time::timeout(wait, port.read(&mut chunk)).await {
                Ok(r) => r,
                Err(_) => {
                    // Silence: an unknown-length frame ends here; a partial
                    // frame of known length is discarded.
                    if matches!(rtu_request_len(&buf), Some(Err(()))) {
                        let frame = std::mem::take(&mut buf);
                        respond(&mut port, &service, &line, &frame).await;
                    } else {
                        buf.clear();
                    }
                    continue;
                }
            }
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        while let Some(Ok(len)) = rtu_request_len(&buf) {
            if buf.len() < len {
                break;
            }
            let frame: Vec<u8> = buf.drain(..len).collect();
            respond(&mut port, &service, &line, &frame).await;
        }
        if buf.len() > 256 {
            // No Modbus RTU frame is longer (V1.02 §2.5.1.1).
            buf.clear();
        }
    }
}

async fn respond(
    port: &mut SerialStream,
    service: &MeterService,
    line: &Option<LineMeta>,
    frame: &[u8],
) {
    if frame.len() < 4 {
        return;
    }
    let answers_bad_crc = service
        .meter()
        .lock()
        .map(|m| m.faults().answers_bad_crc)
        .unwrap_or(false);
    if !crc_ok(frame) && !answers_bad_crc {
        return;
    }
    let slave = frame[0];
    let pdu = &frame[1..frame.len() - 2];
    let client_line = line
        .as_ref()
        .and_then(|m| *m.lock().unwrap_or_else(|e| e.into_inner()));
    let (answer, delay) = match decode_request(pdu) {
        Ok(req) => service.handle(slave, &req, client_line),
        Err(_) => {
            // A malformed request to this meter gets "illegal data value".
            let probe = tokio_modbus::Request::Custom(pdu[0], std::borrow::Cow::Borrowed(&[]));
            match service.handle(slave, &probe, client_line) {
                (Answer::Silent, d) => (Answer::Silent, d),
                (Answer::Reply(_), d) => (
                    Answer::Reply(Err(tokio_modbus::ExceptionCode::IllegalDataValue)),
                    d,
                ),
            }
        }
    };
    let Answer::Reply(result) = answer else {
        return;
    };
    let mut out = vec![slave];
    match result {
        Ok(resp) => out.extend_from_slice(&encode_response(&resp)),
        Err(code) => out.extend_from_slice(&encode_exception(pdu[0], code)),
    }
    append_crc(&mut out);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let _ = port.write_all(&out).await;
}
