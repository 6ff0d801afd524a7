//! The Modbus TCP client under the transport: one request frame written in
//! one call, the reply read until its MBAP header's length is there, no more.
//!
//! tokio-modbus's client took a `Framed` codec, a growable buffer split per
//! frame and a boxed future per call to do this: with them the transport
//! spent 6 300 user-space instructions a transaction, 5 000 without, against
//! libmodbus's 940 (issue 20, `benches/peers/run.sh`). The frames and the answers are the same as
//! tokio-modbus's: the request PDU is [`encode_request_into`]'s, the reply is
//! decoded by tokio-modbus's own `Response`/`ExceptionResponse` conversions
//! (a plain register read excepted, decoded here the way they decode it),
//! and a reply with another transaction, unit or function is refused with
//! tokio-modbus's own [`ProtocolError`]s (MODBUS Messaging on TCP/IP
//! Implementation Guide V1.0b §3.1.3, Modbus Application Protocol V1.1b3 §7).

use std::io;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_modbus::bytes::Bytes;
use tokio_modbus::{ExceptionResponse, ProtocolError, Request, Response, Result as ModbusResult};

use super::pdu::encode_request_into;

/// The MBAP header: transaction id, protocol id, length, unit id.
const HEADER: usize = 7;
/// The longest PDU a length field can announce (a unit id and 65 534 bytes):
/// a server that sends more than 253 is wrong, but its frame is read whole
/// before it is judged, as tokio-modbus did.
const MOST_PDU: usize = u16::MAX as usize - 1;

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

#[derive(Debug)]
pub(crate) struct TcpClient {
    stream: TcpStream,
    /// The next request's transaction id; the first is 0, as tokio-modbus's.
    transaction: u16,
    /// The request frame going out, then the reply coming in.
    buf: Vec<u8>,
}

impl TcpClient {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            transaction: 0,
            buf: Vec::with_capacity(HEADER + 256),
        }
    }

    /// Sends `request` to `unit` and reads its answer: the response or the
    /// exception, or why there was none (an I/O error, as tokio-modbus's
    /// transport errors; a reply that is not this request's, as its
    /// protocol errors).
    pub(crate) async fn call(&mut self, unit: u8, request: &Request<'_>) -> ModbusResult<Response> {
        let transaction = self.transaction;
        self.transaction = transaction.wrapping_add(1);
        let buf = &mut self.buf;
        buf.clear();
        buf.extend_from_slice(&transaction.to_be_bytes());
        buf.extend_from_slice(&[0, 0, 0, 0, unit]);
        encode_request_into(request, buf);
        let length = (buf.len() - HEADER + 1) as u16;
        buf[4..6].copy_from_slice(&length.to_be_bytes());
        self.stream.write_all(buf).await?;

        // The reply: header first, then as much as its length says.
        buf.clear();
        let mut need = HEADER;
        while buf.len() < need {
            let have = buf.len();
            buf.resize(need.max(HEADER + 256), 0);
            let n = self.stream.read(&mut buf[have..]).await;
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    buf.truncate(have);
                    return Err(e.into());
                }
            };
            buf.truncate(have + n);
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection before its reply was whole",
                )
                .into());
            }
            if buf.len() >= HEADER && need == HEADER {
                let length = usize::from(u16::from_be_bytes([buf[4], buf[5]]));
                if length == 0 || length - 1 > MOST_PDU {
                    return Err(invalid(format!("Invalid data length: {length}")).into());
                }
                need = HEADER + length - 1;
            }
        }
        let protocol = u16::from_be_bytes([buf[2], buf[3]]);
        if protocol != 0 {
            return Err(invalid(format!(
                "Invalid protocol identifier: expected = 0, actual = {protocol}"
            ))
            .into());
        }
        let (reply_transaction, reply_unit) = (u16::from_be_bytes([buf[0], buf[1]]), buf[6]);
        let result = decode(&buf[HEADER..need])?;
        if (reply_transaction, reply_unit) != (transaction, unit) {
            let message = format!(
                "expected/request = Header {{ transaction_id: {transaction}, unit_id: {unit} }}, \
                 actual/response = Header {{ transaction_id: {reply_transaction}, unit_id: {reply_unit} }}"
            );
            return Err(ProtocolError::HeaderMismatch { message, result }.into());
        }
        let function = match &result {
            Ok(response) => response.function_code(),
            Err(e) => e.function,
        };
        if function != request.function_code() {
            return Err(ProtocolError::FunctionCodeMismatch {
                request: request.function_code(),
                result,
            }
            .into());
        }
        Ok(result.map_err(|e| e.exception))
    }
}

/// A reply PDU as tokio-modbus decodes it. A read of holding or input
/// registers whose byte count is that of its data is decoded here, without the copy into
/// `Bytes` their conversion needs; everything else goes through it.
fn decode(pdu: &[u8]) -> io::Result<Result<Response, ExceptionResponse>> {
    if let [f @ (0x03 | 0x04), count, data @ ..] = pdu
        && count % 2 == 0
        && data.len() == usize::from(*count)
    {
        let words = data
            .chunks_exact(2)
            .map(|w| u16::from_be_bytes([w[0], w[1]]))
            .collect();
        return Ok(Ok(if *f == 0x03 {
            Response::ReadHoldingRegisters(words)
        } else {
            Response::ReadInputRegisters(words)
        }));
    }
    let bytes = Bytes::copy_from_slice(pdu);
    match pdu.first() {
        Some(f) if *f >= 0x80 => Ok(Err(ExceptionResponse::try_from(bytes)?)),
        _ => Ok(Ok(Response::try_from(bytes)?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;
    use tokio_modbus::ExceptionCode;

    /// A server that answers each request frame with `reply(request)`.
    async fn server(reply: fn(&[u8]) -> Vec<u8>) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 260];
            loop {
                let n = match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let out = reply(&buf[..n]);
                if out.is_empty() {
                    return;
                }
                // Byte by byte: the client must gather a reply cut short.
                for b in out {
                    s.write_all(&[b]).await.expect("write");
                }
            }
        });
        addr
    }

    async fn client(addr: std::net::SocketAddr) -> TcpClient {
        TcpClient::new(TcpStream::connect(addr).await.expect("connect"))
    }

    /// One read of two holding registers at 0x1000 from a server that
    /// answers with `reply(request)`.
    async fn read_once(
        reply: fn(&[u8]) -> Vec<u8>,
    ) -> Result<Result<Response, ExceptionCode>, tokio_modbus::Error> {
        let addr = server(reply).await;
        client(addr)
            .await
            .call(5, &Request::ReadHoldingRegisters(0x1000, 2))
            .await
    }

    #[tokio::test]
    async fn a_reply_in_pieces_is_read_whole_and_decoded() {
        let addr = server(|req| {
            let mut out = req[..4].to_vec();
            out.extend_from_slice(&[0, 7, req[6], 0x03, 4, 0, 3, 0x82, 0x70]);
            out
        })
        .await;
        let mut c = client(addr).await;
        for _ in 0..3 {
            let r = c
                .call(5, &Request::ReadHoldingRegisters(0x1000, 2))
                .await
                .expect("answer");
            assert_eq!(r, Ok(Response::ReadHoldingRegisters(vec![3, 0x8270])));
        }
        assert_eq!(c.transaction, 3);
    }

    #[tokio::test]
    async fn an_exception_is_an_answer() {
        let addr = server(|req| {
            let mut out = req[..4].to_vec();
            out.extend_from_slice(&[0, 3, req[6], 0x83, 0x02]);
            out
        })
        .await;
        let r = client(addr)
            .await
            .call(5, &Request::ReadHoldingRegisters(0xFFF0, 2))
            .await
            .expect("answer");
        assert_eq!(r, Err(ExceptionCode::IllegalDataAddress));
    }

    #[tokio::test]
    async fn another_transaction_or_function_is_a_protocol_error() {
        let e = read_once(|req| {
            let mut out = vec![req[0], req[1].wrapping_add(1), 0, 0];
            out.extend_from_slice(&[0, 7, req[6], 0x03, 4, 0, 3, 0x82, 0x70]);
            out
        })
        .await
        .expect_err("not this request's reply");
        assert!(
            matches!(
                e,
                tokio_modbus::Error::Protocol(ProtocolError::HeaderMismatch { .. })
            ),
            "{e}"
        );
        let e = read_once(|req| {
            let mut out = req[..4].to_vec();
            out.extend_from_slice(&[0, 7, req[6], 0x04, 4, 0, 3, 0x82, 0x70]);
            out
        })
        .await
        .expect_err("another function's reply");
        assert!(
            matches!(
                e,
                tokio_modbus::Error::Protocol(ProtocolError::FunctionCodeMismatch { .. })
            ),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_closed_connection_or_a_foreign_protocol_is_a_transport_error() {
        let e = read_once(|_| Vec::new()).await.expect_err("closed");
        assert!(matches!(e, tokio_modbus::Error::Transport(_)), "{e}");
        let e = read_once(|req| {
            let mut out = req[..2].to_vec();
            out.extend_from_slice(&[0, 1, 0, 3, req[6], 0x83, 0x02]);
            out
        })
        .await
        .expect_err("not Modbus");
        assert!(e.to_string().contains("protocol identifier"), "{e}");
    }

    #[test]
    fn replies_decode_as_tokio_modbus_decodes_them() {
        for pdu in [
            &[0x03, 4, 0, 3, 0x82, 0x70][..],
            &[0x04, 2, 0, 9],
            &[0x03, 4, 0, 3, 0x82, 0x70, 0xFF],
            &[0x06, 0x20, 0x01, 0, 7],
            &[0x10, 0x20, 0x00, 0, 2],
            &[0x01, 1, 0b101],
            &[0x83, 0x02],
        ] {
            let ours = decode(pdu).map_err(|e| e.to_string());
            let bytes = Bytes::copy_from_slice(pdu);
            let theirs = if pdu[0] >= 0x80 {
                ExceptionResponse::try_from(bytes).map(Err)
            } else {
                Response::try_from(bytes).map(Ok)
            }
            .map_err(|e| e.to_string());
            assert_eq!(ours, theirs, "{pdu:02X?}");
        }
        assert!(decode(&[0x03, 3, 0, 1, 2]).is_err(), "odd byte count");
        assert!(decode(&[0x03, 4, 0, 1]).is_err(), "short of its count");
    }
}
