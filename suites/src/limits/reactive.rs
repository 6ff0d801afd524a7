//! Reactive energy, class 2 (IEC 62053-23:2003 Table 4; withdrawn in 2020
//! for IEC 62053-24 — figures recalled, to confirm).

use harness::run::Confidence::Recalled;

use super::Row;

pub const TABLE: &str = "iec62053-23-class-2";
const CLAUSE: &str = "IEC 62053-23 §8.1, Table 4 (percentage error limits, class 2)";

pub const LOW_SIN1: Row = Row {
    table: TABLE,
    id: "0.05ib-0.1ib-sin1",
    description: "0.05 Ib ≤ I < 0.1 Ib, sin φ 1",
    clause: CLAUSE,
    confidence: Recalled,
    limit_pct: 2.5,
};
pub const SIN1: Row = Row {
    table: TABLE,
    id: "0.1ib-imax-sin1",
    description: "0.1 Ib ≤ I ≤ Imax, sin φ 1",
    clause: CLAUSE,
    confidence: Recalled,
    limit_pct: 2.0,
};
pub const LOW_SIN05: Row = Row {
    table: TABLE,
    id: "0.1ib-0.2ib-sin05",
    description: "0.1 Ib ≤ I < 0.2 Ib, sin φ 0.5 (L or C)",
    clause: CLAUSE,
    confidence: Recalled,
    limit_pct: 2.5,
};
pub const SIN05: Row = Row {
    table: TABLE,
    id: "0.2ib-imax-sin05",
    description: "0.2 Ib ≤ I ≤ Imax, sin φ 0.5 (L or C)",
    clause: CLAUSE,
    confidence: Recalled,
    limit_pct: 2.0,
};
pub const SIN025: Row = Row {
    table: TABLE,
    id: "0.2ib-imax-sin025",
    description: "0.2 Ib ≤ I ≤ Imax, sin φ 0.25 (L or C)",
    clause: CLAUSE,
    confidence: Recalled,
    limit_pct: 2.5,
};

pub const ROWS: [Row; 5] = [LOW_SIN1, SIN1, LOW_SIN05, SIN05, SIN025];
