//! Traffic counting, on its own: what a link's requests cost on an RS485
//! wire, whatever port carried them (the positions bench and the Modbus
//! suite's load figures read it).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::timing::{t3_5, wire_time};
use crate::profile::LineSettings;

/// Requests made on a link and the characters they put on the line, both
/// ways, counted as RTU frames (address, PDU, CRC) whatever the port: what
/// the same traffic costs on an RS485 wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Traffic {
    pub requests: u64,
    pub request_chars: u64,
    pub reply_chars: u64,
}

impl Traffic {
    pub(crate) fn count(&mut self, request: usize, reply: usize) {
        self.requests += 1;
        self.request_chars += request as u64;
        self.reply_chars += reply as u64;
    }

    /// The traffic since `earlier`.
    pub fn since(self, earlier: Traffic) -> Traffic {
        Traffic {
            requests: self.requests.saturating_sub(earlier.requests),
            request_chars: self.request_chars.saturating_sub(earlier.request_chars),
            reply_chars: self.reply_chars.saturating_sub(earlier.reply_chars),
        }
    }

    /// How long the traffic holds a wire at `line`: every character's 11
    /// bits, t3.5 of silence after each request and after each reply
    /// (V1.02 §2.5.1.1), and `turnaround` per request for the meter.
    pub fn wire_time(self, line: LineSettings, turnaround: Duration) -> Duration {
        wire_time(line, (self.request_chars + self.reply_chars) as usize)
            + (t3_5(line) * 2 + turnaround) * self.requests as u32
    }
}

impl std::ops::Add for Traffic {
    type Output = Traffic;
    fn add(self, other: Traffic) -> Traffic {
        Traffic {
            requests: self.requests + other.requests,
            request_chars: self.request_chars + other.request_chars,
            reply_chars: self.reply_chars + other.reply_chars,
        }
    }
}
