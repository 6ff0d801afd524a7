//! What a Modbus meter must answer, or leave unanswered, by the Modbus over
//! Serial Line V1.02 (V) and Application Protocol V1.1b3 (A) specifications
//! (shared/standards.md), one rule per protocol check of the `modbus` suite.

use harness::run::Confidence::{self, Derived, Verified};

use super::Row;

/// What the meter must do with a rule's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// An exception reply with this code.
    Exception(u8),
    /// No reply at all.
    Silence,
    /// No reply to the odd frame, a correct reply to the next one.
    SilenceThenAnswer,
    /// No reply, and the write applied.
    SilentlyApplied,
    /// Every request answered correctly.
    AllAnswered,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProtocolRule {
    /// The point id in plans and records: a contract.
    pub id: &'static str,
    pub description: &'static str,
    pub clause: &'static str,
    pub confidence: Confidence,
    pub expect: Expect,
    /// Needs character timing as on a wire (a paced or real line).
    pub timed: bool,
    /// Needs raw RTU frames (a serial line).
    pub raw: bool,
}

pub const TABLE: &str = "modbus-protocol";

pub const RULES: [ProtocolRule; 10] = [
    ProtocolRule {
        id: "illegal-function",
        description: "a function the meter does not support gets exception 01",
        clause: "A §7 (exception 01 ILLEGAL FUNCTION)",
        confidence: Verified,
        expect: Expect::Exception(0x01),
        timed: false,
        raw: false,
    },
    ProtocolRule {
        id: "illegal-data-address",
        description: "a read of an address the meter does not map gets exception 02",
        clause: "A §7 (exception 02 ILLEGAL DATA ADDRESS)",
        confidence: Verified,
        expect: Expect::Exception(0x02),
        timed: false,
        raw: false,
    },
    ProtocolRule {
        id: "illegal-quantity",
        description: "reads of 0 and of 126 registers get exception 03",
        clause: "A §6.3 (quantity 1..125) and §7 (exception 03 ILLEGAL DATA VALUE)",
        confidence: Verified,
        expect: Expect::Exception(0x03),
        timed: false,
        raw: false,
    },
    ProtocolRule {
        id: "other-address",
        description: "a request to another unit address gets no reply",
        clause: "V §2.2 (only the addressed slave replies)",
        confidence: Verified,
        expect: Expect::Silence,
        timed: false,
        raw: true,
    },
    ProtocolRule {
        id: "broadcast-write",
        description: "a write to address 0 gets no reply and is applied",
        clause: "V §2.1 (broadcast: all slaves act, none replies)",
        confidence: Verified,
        expect: Expect::SilentlyApplied,
        timed: false,
        raw: true,
    },
    ProtocolRule {
        id: "bad-crc",
        description: "a frame with a wrong CRC gets no reply",
        clause: "V §2.5.1.2 and §6.2.2 (a frame failing its CRC is discarded)",
        confidence: Verified,
        expect: Expect::Silence,
        timed: false,
        raw: true,
    },
    ProtocolRule {
        id: "truncated-frame",
        description: "a frame cut short gets no reply; the next whole frame is answered",
        clause: "V §2.5.1.1 (an incomplete frame is discarded)",
        confidence: Verified,
        expect: Expect::SilenceThenAnswer,
        timed: false,
        raw: true,
    },
    ProtocolRule {
        id: "character-gap",
        description: "a frame with a silence of 2.5 characters inside gets no reply",
        clause: "V §2.5.1.1 (a silence over 1.5 characters makes the frame incomplete)",
        confidence: Verified,
        expect: Expect::SilenceThenAnswer,
        timed: true,
        raw: true,
    },
    ProtocolRule {
        id: "back-to-back",
        description: "requests 3.5 characters after each reply are all answered",
        clause: "V §2.5.1.1 (frames separated by at least 3.5 characters)",
        confidence: Verified,
        expect: Expect::AllAnswered,
        timed: true,
        raw: true,
    },
    ProtocolRule {
        id: "timeout-recovery",
        description: "after a request the meter cannot answer, the next one is answered correctly",
        clause: "V §2.4.1 (the master's response time-out; the slave returns to idle)",
        confidence: Verified,
        expect: Expect::SilenceThenAnswer,
        timed: false,
        raw: false,
    },
];

/// Bits per RTU character the specification asks for (V §2.5.1: 1 start,
/// 8 data, parity, 1 stop; or 2 stop bits without parity).
pub const RTU_CHAR_BITS: u32 = 11;
pub const RTU_CHAR_CLAUSE: &str = "V §2.5.1 (11-bit character; no parity needs 2 stop bits)";

/// Unicast addresses (V §2.2); 248..255 are reserved.
pub const UNICAST_MAX: u8 = 247;
pub const ADDRESS_CLAUSE: &str = "V §2.2 (unicast 1..247, 248..255 reserved)";

/// The maker's promised response time is the limit (datasheet; profile
/// `[serial] response_timeout_ms`).
pub const RESPONSE_CLAUSE: &str = "datasheet F02839EN (response within 200 ms), profile [serial]";

/// The row a response-time point is judged by: its figure is the profile's
/// response timeout (`[serial] response_timeout`), in milliseconds, so the
/// row itself has none.
pub const RESPONSE_TIME: Row = Row {
    table: "modbus-response-time",
    id: "response-time-max",
    description: "the largest response time of a block's requests",
    clause: RESPONSE_CLAUSE,
    confidence: Derived,
    limit_pct: f64::NAN,
};

impl ProtocolRule {
    /// The rule as a limit row: met or not, with no figure.
    pub const fn row(&self) -> Row {
        Row {
            table: TABLE,
            id: self.id,
            description: self.description,
            clause: self.clause,
            confidence: self.confidence,
            limit_pct: 0.0,
        }
    }
}

pub fn rule(id: &str) -> Option<&'static ProtocolRule> {
    RULES.iter().find(|r| r.id == id)
}
