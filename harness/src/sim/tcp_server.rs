//! The simulated meter as a Modbus TCP server on loopback.
//!
//! Each connection is served by a plain loop over the socket: read until an
//! MBAP frame is whole (MODBUS Messaging on TCP/IP Implementation Guide
//! V1.0b §3.1.3: transaction id, protocol id 0, length, unit id, then the
//! PDU), answer it from [`MeterService`], write the reply in one call.
//! tokio-modbus's server did the same through `Framed`, a codec and a boxed
//! service future per request: about 3 000 of the server's 7 200 user-space
//! instructions a transaction (libmodbus's server: 640; issue 20,
//! `benches/peers/run.sh`), for nothing the simulated meter needs. The frames
//! are the same: PDUs are decoded and encoded by [`crate::modbus`]'s `pdu`
//! functions, which the RTU server uses too.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_modbus::Response;

use super::modbus_server::{Answer, MeterService};
use crate::modbus::{decode_request, encode_exception_into, encode_response_into};

/// The MBAP header: transaction id, protocol id, length, unit id (§3.1.3).
const HEADER: usize = 7;
/// The longest PDU a Modbus frame carries (Modbus Application Protocol
/// V1.1b3 §4.1: 253 bytes; one more for a server that sends 254).
const MOST_PDU: usize = 254;

/// One MBAP frame's header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mbap {
    transaction: u16,
    unit: u8,
    /// Length of the PDU after the header.
    pdu_len: usize,
}

/// The header at the start of `buf`, once all of it is there; an error for a
/// header no Modbus client sends (the connection is then closed, as
/// tokio-modbus's server did).
fn header(buf: &[u8]) -> io::Result<Option<Mbap>> {
    if buf.len() < HEADER {
        return Ok(None);
    }
    let be = |i: usize| u16::from_be_bytes([buf[i], buf[i + 1]]);
    let (protocol, length) = (be(2), usize::from(be(4)));
    let bad = |message: String| io::Error::new(io::ErrorKind::InvalidData, message);
    if protocol != 0 {
        return Err(bad(format!(
            "protocol identifier {protocol}: Modbus is 0 (MBAP header, §3.1.3)"
        )));
    }
    if length == 0 || length - 1 > MOST_PDU {
        return Err(bad(format!(
            "MBAP length {length}: a unit id and a PDU of 1 to {MOST_PDU} bytes is 2 to {}",
            MOST_PDU + 1
        )));
    }
    Ok(Some(Mbap {
        transaction: be(0),
        unit: buf[6],
        pdu_len: length - 1,
    }))
}

/// Appends the reply frame to request `hdr` with `pdu` written by `write`.
fn reply(out: &mut Vec<u8>, hdr: Mbap, write: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&hdr.transaction.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, hdr.unit]);
    write(out);
    let length = (out.len() - start - HEADER + 1) as u16;
    out[start + 4..start + 6].copy_from_slice(&length.to_be_bytes());
}

/// Serves one client until it closes the connection or sends what is not
/// a Modbus TCP frame.
async fn serve_connection(mut stream: TcpStream, service: Arc<MeterService>) -> io::Result<()> {
    let mut buf = [0u8; 2 * (HEADER + MOST_PDU)];
    let mut have = 0;
    let mut out = Vec::with_capacity(HEADER + MOST_PDU);
    loop {
        // Every whole frame in the buffer, in order: a client may send
        // several requests before reading the replies.
        let mut at = 0;
        while let Some(hdr) = header(&buf[at..have])? {
            let end = at + HEADER + hdr.pdu_len;
            if end > have {
                break;
            }
            let pdu = &buf[at + HEADER..end];
            let function = pdu.first().copied().unwrap_or(0);
            let request = decode_request(pdu)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            at = end;
            let (answer, delay) = service.handle(hdr.unit, &request, None);
            let answer: Result<Response, _> = match answer {
                // A broadcast, another unit's request, a dropped reply.
                Answer::Silent => continue,
                Answer::Reply(a) => a,
            };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            out.clear();
            reply(&mut out, hdr, |out| match &answer {
                Ok(response) => encode_response_into(response, out),
                Err(code) => encode_exception_into(function, *code, out),
            });
            stream.write_all(&out).await?;
        }
        buf.copy_within(at..have, 0);
        have -= at;
        let n = stream.read(&mut buf[have..]).await?;
        if n == 0 {
            return Ok(());
        }
        have += n;
    }
}

/// Binds `addr` and serves the meter until the task is dropped (which
/// ends every connection's task too). Returns the bound address (port 0
/// picks a free one).
pub async fn spawn_tcp(
    service: Arc<MeterService>,
    addr: SocketAddr,
) -> io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = super::accept::bind(addr).await?;
    let local = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        // Dropped with this task: the connections end with the server.
        let mut connections = tokio::task::JoinSet::new();
        // A failed accept (EMFILE after a burst of connections) passes when
        // some close: the listener is still open, so accept again.
        let mut backoff =
            super::accept::Backoff::new(format!("simulated meter TCP server on {local}"));
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    while connections.try_join_next().is_some() {}
                    let service = service.clone();
                    connections.spawn(async move {
                        if let Err(e) = serve_connection(stream, service).await {
                            tracing::warn!("simulated meter TCP connection: {e}");
                        }
                    });
                }
                Err(e) => backoff.failed(&e).await,
            }
        }
    });
    Ok((local, handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_is_read_once_whole_and_refused_when_no_client_sends_it() {
        let frame = [0x12, 0x34, 0, 0, 0, 6, 5, 0x03, 0x10, 0x00, 0x00, 0x04];
        assert_eq!(header(&frame[..6]).expect("valid so far"), None);
        assert_eq!(
            header(&frame).expect("valid"),
            Some(Mbap {
                transaction: 0x1234,
                unit: 5,
                pdu_len: 5
            })
        );
        let mut other_protocol = frame;
        other_protocol[3] = 1;
        let e = header(&other_protocol).expect_err("not Modbus");
        assert!(e.to_string().contains("protocol identifier 1"), "{e}");
        for length in [0u16, 256] {
            let mut f = frame;
            f[4..6].copy_from_slice(&length.to_be_bytes());
            let e = header(&f).expect_err("no such frame");
            assert!(e.to_string().contains(&format!("length {length}")), "{e}");
        }
    }

    #[test]
    fn a_reply_carries_the_requests_transaction_unit_and_its_own_length() {
        let hdr = Mbap {
            transaction: 0xBEEF,
            unit: 7,
            pdu_len: 5,
        };
        let mut out = vec![0xAA];
        reply(&mut out, hdr, |o| {
            encode_response_into(&Response::ReadHoldingRegisters(vec![3, 0x8270]), o)
        });
        assert_eq!(
            out,
            [0xAA, 0xBE, 0xEF, 0, 0, 0, 7, 7, 0x03, 4, 0, 3, 0x82, 0x70]
        );
    }
}
