//! Measurement classes of IEC 61557-12 for the meter's stated classes
//! (datasheet §7: I and U class 0.5, f ±0.01 Hz, P class 1, Q class 2,
//! S class 1, PF class 1).

use harness::run::Confidence::{Recalled, Uncertain};

use super::Row;

pub const TABLE: &str = "iec61557-12";
const CLAUSE: &str = "IEC 61557-12 §4.7, Table 7–9 (intrinsic uncertainty by class)";

pub const CURRENT: Row = Row {
    table: TABLE,
    id: "i-class-0.5",
    description: "current, class 0.5: % of reading",
    clause: CLAUSE,
    confidence: Recalled,
    limit_pct: 0.5,
};
pub const VOLTAGE: Row = Row {
    table: TABLE,
    id: "u-class-0.5",
    description: "voltage, class 0.5: % of reading",
    clause: CLAUSE,
    confidence: Recalled,
    limit_pct: 0.5,
};
/// Absolute, in hertz (the maker states ±0.01 Hz).
pub const FREQUENCY: Row = Row {
    table: TABLE,
    id: "f-0.01hz",
    description: "frequency: ±0.01 Hz absolute (limit in Hz)",
    clause: "datasheet F02839EN §7; IEC 61557-12 class 0.02 at 50 Hz",
    confidence: Recalled,
    limit_pct: 0.01,
};
pub const P_HIGH: Row = Row {
    table: TABLE,
    id: "p-class-1",
    description: "active power, class 1: 0.1 Ib ≤ I ≤ Imax, PF 1; 0.2 Ib ≤ I at PF 0.5L/0.8C",
    clause: CLAUSE,
    confidence: Recalled,
    limit_pct: 1.0,
};
pub const P_LOW: Row = Row {
    table: TABLE,
    id: "p-class-1-low",
    description: "active power, class 1: 0.05..0.1 Ib at PF 1, 0.1..0.2 Ib at PF 0.5L/0.8C",
    clause: CLAUSE,
    confidence: Recalled,
    limit_pct: 1.5,
};
pub const Q: Row = Row {
    table: TABLE,
    id: "q-class-2",
    description: "reactive power, class 2 (as the reactive energy table)",
    clause: CLAUSE,
    confidence: Recalled,
    limit_pct: 2.0,
};
pub const S: Row = Row {
    table: TABLE,
    id: "s-class-1",
    description: "apparent power, class 1",
    clause: CLAUSE,
    confidence: Uncertain,
    limit_pct: 1.0,
};
/// Absolute, in power-factor units.
pub const PF: Row = Row {
    table: TABLE,
    id: "pf-class-1",
    description: "power factor, class 1: ±0.01 absolute (limit in PF units)",
    clause: CLAUSE,
    confidence: Uncertain,
    limit_pct: 0.01,
};

pub const ROWS: [Row; 8] = [CURRENT, VOLTAGE, FREQUENCY, P_HIGH, P_LOW, Q, S, PF];
