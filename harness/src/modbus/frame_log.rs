//! The transport's frame log, kept as bytes and formatted only when taken.
//!
//! Every exchange goes into the log ([`FrameRecord`]: request PDU in hex,
//! outcome, round trip). Formatting the hex strings at every call cost the
//! client more user time than the rest of the transaction (issue 20: the
//! client's user CPU per transaction was 8–10 µs against libmodbus's 1–2 µs),
//! whether anybody read the log or not. So a call now appends the request and
//! reply PDUs to one byte buffer that is reused from call to call, and
//! [`FrameLog::take`] turns them into the same [`FrameRecord`]s, with the
//! same text, as before.

use tokio_modbus::{ExceptionCode, Response};

use super::pdu::{encode_request_into, encode_response_into};
use super::{FrameRecord, LinkError, hex};

/// The most entries kept when nobody takes the log, and how many of the
/// oldest go when it is reached: a listener that never drains the log must
/// not grow memory forever.
const MOST: usize = 100_000;
const DROP: usize = 50_000;

#[derive(Debug, Clone)]
enum Outcome {
    /// The reply PDU is `bytes[reply]`.
    Ok {
        reply: std::ops::Range<usize>,
    },
    Exception(u8),
    Failed(LinkError),
}

#[derive(Debug, Clone)]
enum Entry {
    /// A request through the Modbus client: its PDU is `bytes[request]`.
    Call {
        at_ms: f64,
        unit: u8,
        request: std::ops::Range<usize>,
        outcome: Outcome,
        round_trip_us: u64,
    },
    /// Formatted already (raw frames: rare, and their text is built anyway).
    Formatted(FrameRecord),
}

#[derive(Debug, Default)]
pub(crate) struct FrameLog {
    entries: Vec<Entry>,
    /// The PDUs the entries point into.
    bytes: Vec<u8>,
}

/// A request put in the log, waiting for its outcome.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    request: std::ops::Range<usize>,
}

impl Pending {
    /// Length of the request PDU in bytes.
    pub(crate) fn len(&self) -> usize {
        self.request.len()
    }
}

impl FrameLog {
    /// Notes the request's PDU before it is sent.
    pub(crate) fn request(&mut self, request: &tokio_modbus::Request<'_>) -> Pending {
        let start = self.bytes.len();
        encode_request_into(request, &mut self.bytes);
        Pending {
            request: start..self.bytes.len(),
        }
    }

    /// Notes how the request ended; returns the reply's PDU length (0 when
    /// there was no reply).
    pub(crate) fn outcome(
        &mut self,
        pending: Pending,
        at_ms: f64,
        unit: u8,
        outcome: &Result<Result<Response, ExceptionCode>, LinkError>,
        round_trip_us: u64,
    ) -> usize {
        let (outcome, reply_len) = match outcome {
            Ok(Ok(resp)) => {
                let start = self.bytes.len();
                encode_response_into(resp, &mut self.bytes);
                let reply = start..self.bytes.len();
                let len = reply.len();
                (Outcome::Ok { reply }, len)
            }
            Ok(Err(code)) => (Outcome::Exception(u8::from(*code)), 2),
            Err(e) => (Outcome::Failed(e.clone()), 0),
        };
        self.entries.push(Entry::Call {
            at_ms,
            unit,
            request: pending.request,
            outcome,
            round_trip_us,
        });
        self.bound();
        reply_len
    }

    pub(crate) fn push(&mut self, record: FrameRecord) {
        self.entries.push(Entry::Formatted(record));
        self.bound();
    }

    fn bound(&mut self) {
        if self.entries.len() <= MOST {
            return;
        }
        self.entries.drain(..DROP);
        // The bytes the remaining entries use start at the first one's request.
        let first = self
            .entries
            .iter()
            .find_map(|e| match e {
                Entry::Call { request, .. } => Some(request.start),
                Entry::Formatted(_) => None,
            })
            .unwrap_or(self.bytes.len());
        self.bytes.drain(..first);
        for e in &mut self.entries {
            if let Entry::Call {
                request, outcome, ..
            } = e
            {
                *request = request.start - first..request.end - first;
                if let Outcome::Ok { reply } = outcome {
                    *reply = reply.start - first..reply.end - first;
                }
            }
        }
    }

    /// Every exchange since the last call, formatted; the log starts afresh
    /// (its buffers keep their capacity).
    pub(crate) fn take(&mut self) -> Vec<FrameRecord> {
        let bytes = &self.bytes;
        let records = self
            .entries
            .drain(..)
            .map(|e| match e {
                Entry::Formatted(r) => r,
                Entry::Call {
                    at_ms,
                    unit,
                    request,
                    outcome,
                    round_trip_us,
                } => FrameRecord {
                    at_ms,
                    unit,
                    request: hex(&bytes[request]),
                    outcome: match outcome {
                        Outcome::Ok { reply } => format!("ok {}", hex(&bytes[reply])),
                        Outcome::Exception(code) => format!("exception {code:02X}"),
                        Outcome::Failed(e) => e.to_string(),
                    },
                    round_trip_us,
                },
            })
            .collect();
        self.bytes.clear();
        records
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use tokio_modbus::Request;

    use super::*;
    use crate::modbus::{encode_request, encode_response};

    /// The text is what the transport wrote before the log was kept as
    /// bytes: "ok" and the reply PDU, "exception NN", or the error.
    #[test]
    fn records_read_as_the_formatted_log_did() {
        let mut log = FrameLog::default();
        let req = Request::ReadHoldingRegisters(0x1000, 2);
        let p = log.request(&req);
        assert_eq!(p.len(), 5);
        let resp = Response::ReadHoldingRegisters(vec![3, 0x8270]);
        let n = log.outcome(p, 1.5, 5, &Ok(Ok(resp.clone())), 120);
        assert_eq!(n, encode_response(&resp).len());
        let w = Request::WriteMultipleRegisters(0x2000, Cow::Owned(vec![1000, 5]));
        let p = log.request(&w);
        log.outcome(p, 2.0, 5, &Ok(Err(ExceptionCode::IllegalDataAddress)), 7);
        let p = log.request(&req);
        log.outcome(
            p,
            3.0,
            6,
            &Err(LinkError::Timeout { timeout_ms: 1000 }),
            1_000_000,
        );
        let records = log.take();
        assert_eq!(
            records,
            vec![
                FrameRecord {
                    at_ms: 1.5,
                    unit: 5,
                    request: hex(&encode_request(&req)),
                    outcome: format!("ok {}", hex(&encode_response(&resp))),
                    round_trip_us: 120,
                },
                FrameRecord {
                    at_ms: 2.0,
                    unit: 5,
                    request: "10 20 00 00 02 04 03 E8 00 05".into(),
                    outcome: "exception 02".into(),
                    round_trip_us: 7,
                },
                FrameRecord {
                    at_ms: 3.0,
                    unit: 6,
                    request: "03 10 00 00 02".into(),
                    outcome: "no reply within 1000 ms".into(),
                    round_trip_us: 1_000_000,
                },
            ]
        );
        assert!(log.take().is_empty(), "taken once");
    }

    #[test]
    fn a_log_nobody_takes_keeps_its_newest_entries() {
        let mut log = FrameLog::default();
        for i in 0..=MOST as u32 {
            let a = i as u16;
            let p = log.request(&Request::ReadHoldingRegisters(a, 2));
            log.outcome(
                p,
                f64::from(i),
                5,
                &Ok(Ok(Response::ReadHoldingRegisters(vec![a, 0]))),
                1,
            );
        }
        let records = log.take();
        assert_eq!(records.len(), MOST + 1 - DROP);
        let first = DROP as u16;
        assert_eq!(records[0].at_ms, f64::from(first));
        let [hi, lo] = first.to_be_bytes();
        assert_eq!(records[0].request, format!("03 {hi:02X} {lo:02X} 00 02"));
        assert_eq!(
            records[0].outcome,
            format!("ok 03 04 {hi:02X} {lo:02X} 00 00")
        );
        let last = records.last().expect("entries");
        assert_eq!(last.at_ms, MOST as f64);
    }
}
