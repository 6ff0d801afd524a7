//! Modbus PDUs as bytes (Modbus Application Protocol V1.1b3 §6).
//!
//! tokio-modbus keeps its codec private; the simulated meter's RTU server and
//! the raw frame layer need to see and build PDUs byte by byte (bad CRCs,
//! truncation, unknown functions), so both directions live here.

use std::borrow::Cow;

use tokio_modbus::{ExceptionCode, Request, Response};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PduError {
    #[error("empty PDU")]
    Empty,
    #[error("function {function:02X}: {message}")]
    Malformed { function: u8, message: String },
}

fn be(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

/// Total RTU ADU length (address + PDU + CRC) of a request whose first bytes
/// are in `buf`, once enough of it is there to tell; `None` for a function
/// whose length only silence can tell.
pub fn rtu_request_len(buf: &[u8]) -> Option<Result<usize, ()>> {
    let function = *buf.get(1)?;
    match function {
        0x01..=0x06 => Some(Ok(8)),
        0x0F | 0x10 => buf.get(6).map(|count| Ok(9 + *count as usize)),
        _ => Some(Err(())),
    }
}

pub fn decode_request(pdu: &[u8]) -> Result<Request<'static>, PduError> {
    let (&function, data) = pdu.split_first().ok_or(PduError::Empty)?;
    let bad = |message: &str| PduError::Malformed {
        function,
        message: message.to_string(),
    };
    let need = |n: usize| {
        if data.len() < n {
            Err(bad("too short"))
        } else {
            Ok(())
        }
    };
    Ok(match function {
        0x01..=0x04 => {
            need(4)?;
            let (addr, qty) = (be(data, 0), be(data, 2));
            match function {
                0x01 => Request::ReadCoils(addr, qty),
                0x02 => Request::ReadDiscreteInputs(addr, qty),
                0x03 => Request::ReadHoldingRegisters(addr, qty),
                _ => Request::ReadInputRegisters(addr, qty),
            }
        }
        0x05 => {
            need(4)?;
            let v = be(data, 2);
            if v != 0xFF00 && v != 0x0000 {
                return Err(bad("coil value must be FF00 or 0000"));
            }
            Request::WriteSingleCoil(be(data, 0), v == 0xFF00)
        }
        0x06 => {
            need(4)?;
            Request::WriteSingleRegister(be(data, 0), be(data, 2))
        }
        0x0F => {
            need(5)?;
            let (addr, qty, count) = (be(data, 0), be(data, 2) as usize, data[4] as usize);
            if count != qty.div_ceil(8) || data.len() < 5 + count {
                return Err(bad("byte count does not match quantity"));
            }
            let coils = (0..qty)
                .map(|i| data[5 + i / 8] >> (i % 8) & 1 == 1)
                .collect::<Vec<_>>();
            Request::WriteMultipleCoils(addr, Cow::Owned(coils))
        }
        0x10 => {
            need(5)?;
            let (addr, qty, count) = (be(data, 0), be(data, 2) as usize, data[4] as usize);
            if count != qty * 2 || data.len() < 5 + count {
                return Err(bad("byte count does not match quantity"));
            }
            let words = (0..qty).map(|i| be(data, 5 + 2 * i)).collect::<Vec<_>>();
            Request::WriteMultipleRegisters(addr, Cow::Owned(words))
        }
        other => Request::Custom(other, Cow::Owned(data.to_vec())),
    })
}

pub fn encode_request(req: &Request<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    encode_request_into(req, &mut out);
    out
}

/// [`encode_request`] appended to `out`: the transport's frame log reuses
/// one buffer instead of allocating per request.
pub fn encode_request_into(req: &Request<'_>, out: &mut Vec<u8>) {
    let push16 = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_be_bytes());
    match req {
        Request::ReadCoils(a, q)
        | Request::ReadDiscreteInputs(a, q)
        | Request::ReadHoldingRegisters(a, q)
        | Request::ReadInputRegisters(a, q) => {
            out.push(req.function_code().value());
            push16(out, *a);
            push16(out, *q);
        }
        Request::WriteSingleCoil(a, v) => {
            out.push(0x05);
            push16(out, *a);
            push16(out, if *v { 0xFF00 } else { 0 });
        }
        Request::WriteSingleRegister(a, v) => {
            out.push(0x06);
            push16(out, *a);
            push16(out, *v);
        }
        Request::WriteMultipleCoils(a, coils) => {
            out.push(0x0F);
            push16(out, *a);
            push16(out, coils.len() as u16);
            let n = coils.len().div_ceil(8);
            out.push(n as u8);
            let mut bytes = vec![0u8; n];
            for (i, c) in coils.iter().enumerate() {
                if *c {
                    bytes[i / 8] |= 1 << (i % 8);
                }
            }
            out.extend_from_slice(&bytes);
        }
        Request::WriteMultipleRegisters(a, words) => {
            out.push(0x10);
            push16(out, *a);
            push16(out, words.len() as u16);
            out.push((words.len() * 2) as u8);
            for w in words.iter() {
                push16(out, *w);
            }
        }
        Request::Custom(f, data) => {
            out.push(*f);
            out.extend_from_slice(data);
        }
        other => {
            // Functions the harness never sends; keep the code for the log.
            out.push(other.function_code().value());
        }
    }
}

pub fn exception_code_u8(code: ExceptionCode) -> u8 {
    u8::from(code)
}

pub fn encode_exception(function: u8, code: ExceptionCode) -> Vec<u8> {
    let mut out = Vec::with_capacity(2);
    encode_exception_into(function, code, &mut out);
    out
}

/// [`encode_exception`] appended to `out`: the TCP server writes the whole
/// reply frame into one buffer.
pub fn encode_exception_into(function: u8, code: ExceptionCode, out: &mut Vec<u8>) {
    out.extend_from_slice(&[function | 0x80, u8::from(code)]);
}

pub fn encode_response(resp: &Response) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    encode_response_into(resp, &mut out);
    out
}

/// [`encode_response`] appended to `out`.
pub fn encode_response_into(resp: &Response, out: &mut Vec<u8>) {
    out.push(resp.function_code().value());
    match resp {
        Response::ReadHoldingRegisters(words) | Response::ReadInputRegisters(words) => {
            out.push((words.len() * 2) as u8);
            for w in words {
                out.extend_from_slice(&w.to_be_bytes());
            }
        }
        Response::ReadCoils(bits) | Response::ReadDiscreteInputs(bits) => {
            let n = bits.len().div_ceil(8);
            out.push(n as u8);
            let mut bytes = vec![0u8; n];
            for (i, c) in bits.iter().enumerate() {
                if *c {
                    bytes[i / 8] |= 1 << (i % 8);
                }
            }
            out.extend_from_slice(&bytes);
        }
        Response::WriteSingleRegister(a, v) => {
            out.extend_from_slice(&a.to_be_bytes());
            out.extend_from_slice(&v.to_be_bytes());
        }
        Response::WriteSingleCoil(a, v) => {
            out.extend_from_slice(&a.to_be_bytes());
            out.extend_from_slice(&(if *v { 0xFF00u16 } else { 0 }).to_be_bytes());
        }
        Response::WriteMultipleRegisters(a, q) | Response::WriteMultipleCoils(a, q) => {
            out.extend_from_slice(&a.to_be_bytes());
            out.extend_from_slice(&q.to_be_bytes());
        }
        Response::Custom(_, bytes) => out.extend_from_slice(bytes),
        _ => {}
    }
}

/// Decodes a response PDU to a request of function `function`: the answer,
/// an exception, or why the bytes are not a valid answer.
pub fn decode_response(
    function: u8,
    pdu: &[u8],
) -> Result<Result<Response, ExceptionCode>, PduError> {
    let (&f, data) = pdu.split_first().ok_or(PduError::Empty)?;
    let bad = |message: String| PduError::Malformed {
        function: f,
        message,
    };
    if f == function | 0x80 {
        let code = *data
            .first()
            .ok_or_else(|| bad("exception without a code".into()))?;
        return Ok(Err(ExceptionCode::new(code)));
    }
    if f != function {
        return Err(bad(format!(
            "answers function {f:02X} to a request of {function:02X}"
        )));
    }
    Ok(Ok(match f {
        0x03 | 0x04 => {
            let count = *data.first().ok_or_else(|| bad("no byte count".into()))? as usize;
            if !count.is_multiple_of(2) || data.len() != 1 + count {
                return Err(bad(format!(
                    "byte count {count} does not match {} data bytes",
                    data.len().saturating_sub(1)
                )));
            }
            let words = (0..count / 2).map(|i| be(data, 1 + 2 * i)).collect();
            if f == 0x03 {
                Response::ReadHoldingRegisters(words)
            } else {
                Response::ReadInputRegisters(words)
            }
        }
        0x06 if data.len() == 4 => Response::WriteSingleRegister(be(data, 0), be(data, 2)),
        0x10 if data.len() == 4 => Response::WriteMultipleRegisters(be(data, 0), be(data, 2)),
        0x06 | 0x10 => return Err(bad(format!("{} data bytes, expected 4", data.len()))),
        _ => Response::Custom(f, data.to_vec().into()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip() {
        let reqs = [
            Request::ReadHoldingRegisters(0x1000, 2),
            Request::ReadInputRegisters(0x48, 2),
            Request::WriteSingleRegister(0x2001, 7),
            Request::WriteMultipleRegisters(0x2000, Cow::Owned(vec![1000, 5])),
            Request::WriteMultipleCoils(3, Cow::Owned(vec![true, false, true])),
            Request::Custom(0x2B, Cow::Owned(vec![0x0E, 1, 0])),
        ];
        for r in reqs {
            let bytes = encode_request(&r);
            assert_eq!(decode_request(&bytes).expect("decodes"), r);
        }
    }

    #[test]
    fn responses_round_trip_and_lie_detected() {
        let r = Response::ReadHoldingRegisters(vec![1, 2, 3]);
        let b = encode_response(&r);
        assert_eq!(decode_response(3, &b).expect("valid"), Ok(r));
        assert_eq!(
            decode_response(3, &[0x83, 0x02]).expect("valid"),
            Err(ExceptionCode::IllegalDataAddress)
        );
        assert!(
            decode_response(3, &[0x04, 2, 0, 1]).is_err(),
            "wrong function echo"
        );
        assert!(
            decode_response(3, &[0x03, 4, 0, 1]).is_err(),
            "wrong byte count"
        );
    }

    #[test]
    fn malformed_requests_are_refused() {
        assert!(decode_request(&[0x10, 0, 0, 0, 2, 3, 0, 0, 0]).is_err());
        assert!(decode_request(&[0x03, 0]).is_err());
        assert_eq!(rtu_request_len(&[5, 3]), Some(Ok(8)));
        assert_eq!(rtu_request_len(&[5, 0x10, 0, 0, 0, 2, 4]), Some(Ok(13)));
        assert_eq!(rtu_request_len(&[5]), None);
    }
}

/// A reply in the lab's words, for summaries and messages ("5 holding
/// registers: 6 18867 …"), never the client library's Debug form.
pub fn describe_response(r: &Response) -> String {
    fn words(kind: &str, w: &[u16]) -> String {
        let shown: Vec<String> = w.iter().take(8).map(u16::to_string).collect();
        let more = if w.len() > 8 { " …" } else { "" };
        format!(
            "{} {kind} register{}: {}{more}",
            w.len(),
            if w.len() == 1 { "" } else { "s" },
            shown.join(" ")
        )
    }
    match r {
        Response::ReadHoldingRegisters(w) => words("holding", w),
        Response::ReadInputRegisters(w) => words("input", w),
        Response::ReadWriteMultipleRegisters(w) => words("holding", w),
        Response::ReadCoils(c) | Response::ReadDiscreteInputs(c) => {
            format!("{} coil state(s)", c.len())
        }
        Response::WriteSingleCoil(a, on) => {
            format!("coil {a} set {}", if *on { "on" } else { "off" })
        }
        Response::WriteMultipleCoils(a, n) => format!("{n} coil(s) from {a} written"),
        Response::WriteSingleRegister(a, v) => format!("register {a} written with {v}"),
        Response::WriteMultipleRegisters(a, n) => format!("{n} register(s) from {a} written"),
        other => format!("a reply to function {:02X}", other.function_code().value()),
    }
}

#[cfg(test)]
mod describe_tests {
    use super::*;

    #[test]
    fn a_reply_is_described_in_words_not_debug() {
        let r = Response::ReadHoldingRegisters(vec![6, 18867, 39844, 33617, 102]);
        assert_eq!(
            describe_response(&r),
            "5 holding registers: 6 18867 39844 33617 102"
        );
        let text = describe_response(&Response::WriteSingleRegister(0x1000, 7));
        assert!(!text.contains('('), "{text}");
    }
}
