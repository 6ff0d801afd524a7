//! Modbus below the profile: frames, CRC, and the transport that never takes
//! a late reply for the next answer. Split the way tokio-modbus separates
//! codec and service: pure frames and timing (`crc`, `pdu`, `rtu_frame`,
//! `timing`); the port (`port`: [`Port`], [`SharedSerial`], [`LineControl`]);
//! the transport (`transport`: timeout, settle, flush, raw exchange); the
//! traffic count (`traffic`); one line shared by many meters (`shared_line`).
//!
//! Owns: the wire. May import: `profile` (line settings) only. The
//! simulator's pseudo-terminal line is a [`SimulatedLine`] it implements.

mod crc;
mod frame_log;
mod pdu;
mod port;
pub mod rtu_frame;
mod shared_line;
mod tcp_client;
pub mod timing;
mod traffic;
mod transport;

use serde::{Deserialize, Serialize};

pub use self::crc::{append_crc, crc_ok, crc16};
pub use pdu::{
    PduError, decode_request, decode_response, describe_response, encode_exception,
    encode_exception_into, encode_request, encode_request_into, encode_response,
    encode_response_into, exception_code_u8, rtu_request_len,
};
pub use port::{LineControl, LineTiming, Port, SharedSerial, SimulatedLine};
pub use rtu_frame::{RawReply, ReplyFrame, RtuFrame, Transmission};
pub use shared_line::{Held, SharedLine, Wire};
pub use traffic::Traffic;
pub use transport::{ModbusTransport, RETARGET_SETTLE};

/// Why a meter request did not give an answer. A Modbus exception is an
/// answer, kept apart from transport failures all the way into the record.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LinkError {
    #[error("no reply within {timeout_ms} ms")]
    Timeout { timeout_ms: u64 },
    #[error("exception {code:02X} ({name}) for {request}")]
    Exception {
        code: u8,
        name: String,
        request: String,
    },
    #[error("transport: {message}")]
    Transport { message: String },
    #[error("protocol: {message}")]
    Protocol { message: String },
    #[error("{message}")]
    Profile { message: String },
    #[error("decode: {message}")]
    Decode { message: String },
    /// The link cannot do what was asked (raw RTU frames over TCP).
    #[error("unsupported: {message}")]
    Unsupported { message: String },
}

impl LinkError {
    pub fn profile(message: impl Into<String>) -> Self {
        LinkError::Profile {
            message: message.into(),
        }
    }

    /// The meter's exception reply `code` to `request` (its description).
    pub fn exception(code: tokio_modbus::ExceptionCode, request: String) -> Self {
        LinkError::Exception {
            code: u8::from(code),
            name: code.to_string(),
            request,
        }
    }
}

/// The request that reads the words at `place` with read `function` (04:
/// input registers, else holding), and how an error names it.
pub fn read_request(
    what: &str,
    function: u8,
    place: &crate::profile::Placement,
) -> (tokio_modbus::Request<'static>, String) {
    let req = if function == 4 {
        tokio_modbus::Request::ReadInputRegisters(place.address, place.words())
    } else {
        tokio_modbus::Request::ReadHoldingRegisters(place.address, place.words())
    };
    let desc = format!(
        "read {what} (function {function:02X}, 0x{:04X} × {})",
        place.address,
        place.words()
    );
    (req, desc)
}

/// One exchange on the interface, for the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameRecord {
    /// Milliseconds since the link was opened (wall clock).
    pub at_ms: f64,
    pub unit: u8,
    /// The request PDU (function code and data) in hex.
    pub request: String,
    /// "ok <response PDU hex>", "exception 02", "timeout", "transport: ...".
    pub outcome: String,
    pub round_trip_us: u64,
}

/// Outcome of a raw request: the transport's failure, or the meter's answer
/// (a response or an exception). Kept apart all the way into the record.
pub type RawOutcome =
    Result<Result<tokio_modbus::Response, tokio_modbus::ExceptionCode>, LinkError>;

/// Bytes as upper-case hex pairs separated by spaces ("03 10 00").
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0F)] as char);
    }
    s
}
