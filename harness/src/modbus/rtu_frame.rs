//! The raw RTU frame layer: what a conforming client cannot send (a bad CRC,
//! a frame cut short, a silence inside a frame) and a parser that takes
//! whatever comes back, byte by byte. The protocol suite needs both; the
//! parser is also what the fuzzer exercises.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{append_crc, crc_ok, hex};

/// One RTU frame as bytes: address, PDU, CRC (low byte first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtuFrame {
    bytes: Vec<u8>,
}

impl RtuFrame {
    /// A well-formed frame to `unit` carrying `pdu`.
    pub fn new(unit: u8, pdu: &[u8]) -> Self {
        let mut bytes = Vec::with_capacity(pdu.len() + 3);
        bytes.push(unit);
        bytes.extend_from_slice(pdu);
        append_crc(&mut bytes);
        Self { bytes }
    }

    /// The same frame with its CRC spoiled.
    pub fn with_bad_crc(mut self) -> Self {
        let n = self.bytes.len();
        self.bytes[n - 2] ^= 0x5A;
        self
    }

    /// The first `keep` bytes only.
    pub fn truncated(mut self, keep: usize) -> Self {
        self.bytes.truncate(keep);
        self
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// What goes on the line: bursts of bytes, each followed by a silence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Transmission {
    pub bursts: Vec<(Vec<u8>, Duration)>,
}

impl Transmission {
    /// A frame in one burst.
    pub fn frame(frame: &RtuFrame) -> Self {
        Self {
            bursts: vec![(frame.bytes.clone(), Duration::ZERO)],
        }
    }

    /// A frame with a silence of `gap` after its first `at` bytes.
    pub fn with_gap(frame: &RtuFrame, at: usize, gap: Duration) -> Self {
        let at = at.min(frame.bytes.len());
        Self {
            bursts: vec![
                (frame.bytes[..at].to_vec(), gap),
                (frame.bytes[at..].to_vec(), Duration::ZERO),
            ],
        }
    }

    pub fn len(&self) -> usize {
        self.bursts.iter().map(|(b, _)| b.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.bursts.iter().flat_map(|(b, _)| b.clone()).collect()
    }
}

/// What came back within the listening window, as it came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawReply {
    pub bytes: Vec<u8>,
    /// From the end of the transmission to the first byte back.
    pub first_byte_after: Option<Duration>,
    /// From the end of the transmission to the last byte back.
    pub last_byte_after: Option<Duration>,
}

impl RawReply {
    pub fn frame(&self) -> ReplyFrame {
        parse_reply(&self.bytes)
    }
}

/// A reply read off the line, taken apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplyFrame {
    /// Nothing came back.
    Silence,
    /// A well-formed reply.
    Response { unit: u8, pdu: Vec<u8> },
    /// A well-formed exception reply (function | 0x80, code).
    Exception { unit: u8, function: u8, code: u8 },
    /// A frame whose CRC does not match.
    BadCrc { bytes: String },
    /// Too short to be a frame, or longer than its function says.
    Garbage { bytes: String },
}

impl ReplyFrame {
    pub fn is_silence(&self) -> bool {
        matches!(self, ReplyFrame::Silence)
    }

    pub fn describe(&self) -> String {
        match self {
            ReplyFrame::Silence => "silence".into(),
            ReplyFrame::Response { unit, pdu } => format!("reply from {unit}: {}", hex(pdu)),
            ReplyFrame::Exception {
                unit,
                function,
                code,
            } => format!("exception {code:02X} from {unit} to function {function:02X}"),
            ReplyFrame::BadCrc { bytes } => format!("frame with a bad CRC: {bytes}"),
            ReplyFrame::Garbage { bytes } => format!("garbage: {bytes}"),
        }
    }
}

/// Length of a reply frame whose first bytes are in `buf`, once they tell.
pub fn rtu_response_len(buf: &[u8]) -> Option<usize> {
    let function = *buf.get(1)?;
    if function & 0x80 != 0 {
        return Some(5);
    }
    match function {
        0x01..=0x04 => buf.get(2).map(|count| 5 + *count as usize),
        0x05 | 0x06 | 0x0F | 0x10 => Some(8),
        _ => None,
    }
}

/// Takes a reply apart. Never panics, whatever the bytes.
pub fn parse_reply(bytes: &[u8]) -> ReplyFrame {
    if bytes.is_empty() {
        return ReplyFrame::Silence;
    }
    let garbage = || ReplyFrame::Garbage { bytes: hex(bytes) };
    if bytes.len() < 4 {
        return garbage();
    }
    if !crc_ok(bytes) {
        return ReplyFrame::BadCrc { bytes: hex(bytes) };
    }
    if let Some(len) = rtu_response_len(bytes)
        && len != bytes.len()
    {
        return garbage();
    }
    let unit = bytes[0];
    let pdu = &bytes[1..bytes.len() - 2];
    if pdu[0] & 0x80 != 0 {
        if pdu.len() != 2 {
            return garbage();
        }
        return ReplyFrame::Exception {
            unit,
            function: pdu[0] & 0x7F,
            code: pdu[1],
        };
    }
    ReplyFrame::Response {
        unit,
        pdu: pdu.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_through_the_parser() {
        let f = RtuFrame::new(5, &[0x03, 0x02, 0x12, 0x34]);
        assert_eq!(
            parse_reply(f.bytes()),
            ReplyFrame::Response {
                unit: 5,
                pdu: vec![0x03, 0x02, 0x12, 0x34]
            }
        );
        let e = RtuFrame::new(5, &[0x83, 0x02]);
        assert_eq!(
            parse_reply(e.bytes()),
            ReplyFrame::Exception {
                unit: 5,
                function: 3,
                code: 2
            }
        );
        assert!(matches!(
            parse_reply(f.clone().with_bad_crc().bytes()),
            ReplyFrame::BadCrc { .. }
        ));
        assert!(matches!(
            parse_reply(f.truncated(3).bytes()),
            ReplyFrame::Garbage { .. }
        ));
        assert_eq!(parse_reply(&[]), ReplyFrame::Silence);
    }

    #[test]
    fn a_reply_longer_than_its_byte_count_is_garbage() {
        let f = RtuFrame::new(5, &[0x03, 0x02, 0x12, 0x34, 0x56]);
        assert!(matches!(parse_reply(f.bytes()), ReplyFrame::Garbage { .. }));
    }

    #[test]
    fn a_gap_splits_the_frame_where_asked() {
        let f = RtuFrame::new(1, &[0x03, 0x00, 0x00, 0x00, 0x01]);
        let t = Transmission::with_gap(&f, 3, Duration::from_millis(1));
        assert_eq!(t.bursts[0].0.len(), 3);
        assert_eq!(t.bytes(), f.bytes());
    }
}
