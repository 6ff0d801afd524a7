//! Class B active energy (MID Annex V, EN 50470-3) and the influence limits
//! used for it (class 1 column of IEC 62053-21).

use harness::run::Confidence::{Recalled, Uncertain};

use super::Row;

pub const TABLE: &str = "en50470-3-class-b";
pub const INFLUENCE: &str = "en50470-3-class-b-influence";

pub const IMIN_ITR_PF1: Row = Row {
    table: TABLE,
    id: "imin-itr-pf1",
    description: "Imin ≤ I < Itr, PF 1",
    clause: "EN 50470-3 §8.1, intrinsic error limits, class B",
    confidence: Recalled,
    limit_pct: 1.5,
};
pub const ITR_IMAX_PF1: Row = Row {
    table: TABLE,
    id: "itr-imax-pf1",
    description: "Itr ≤ I ≤ Imax, PF 1",
    clause: "EN 50470-3 §8.1, intrinsic error limits, class B",
    confidence: Recalled,
    limit_pct: 1.0,
};
pub const ITR_IMAX_PF_LOW: Row = Row {
    table: TABLE,
    id: "itr-imax-pf05L-08C",
    description: "Itr ≤ I ≤ Imax, PF 0.5 inductive to 0.8 capacitive",
    clause: "EN 50470-3 §8.1, intrinsic error limits, class B",
    confidence: Uncertain,
    limit_pct: 1.0,
};
pub const VOLTAGE_PF1: Row = Row {
    table: INFLUENCE,
    id: "voltage-10pct-pf1",
    description: "variation of error, U = Un ± 10 %, Iref, PF 1",
    clause: "EN 50470-3 §8.2 / IEC 62053-21 Table 8 (class 1)",
    confidence: Recalled,
    limit_pct: 0.7,
};
pub const VOLTAGE_PF05: Row = Row {
    table: INFLUENCE,
    id: "voltage-10pct-pf05L",
    description: "variation of error, U = Un ± 10 %, Iref, PF 0.5L",
    clause: "EN 50470-3 §8.2 / IEC 62053-21 Table 8 (class 1)",
    confidence: Recalled,
    limit_pct: 1.0,
};
pub const VOLTAGE_EXT_PF1: Row = Row {
    table: INFLUENCE,
    id: "voltage-extended-pf1",
    description: "variation of error, U = 0.8 Un or 1.15 Un (extended range), Iref, PF 1: three times the ±10 % limit",
    clause: "IEC 62053-21 §8.2, note to Table 8 (extended voltage range)",
    confidence: Uncertain,
    limit_pct: 2.1,
};
pub const VOLTAGE_EXT_PF05: Row = Row {
    table: INFLUENCE,
    id: "voltage-extended-pf05L",
    description: "variation of error, U = 0.8 Un or 1.15 Un (extended range), Iref, PF 0.5L",
    clause: "IEC 62053-21 §8.2, note to Table 8 (extended voltage range)",
    confidence: Uncertain,
    limit_pct: 3.0,
};
pub const FREQUENCY_PF1: Row = Row {
    table: INFLUENCE,
    id: "frequency-2pct-pf1",
    description: "variation of error, f = fn ± 2 %, Iref, PF 1",
    clause: "EN 50470-3 §8.2 / IEC 62053-21 Table 8 (class 1)",
    confidence: Recalled,
    limit_pct: 0.5,
};
pub const FREQUENCY_PF05: Row = Row {
    table: INFLUENCE,
    id: "frequency-2pct-pf05L",
    description: "variation of error, f = fn ± 2 %, Iref, PF 0.5L",
    clause: "EN 50470-3 §8.2 / IEC 62053-21 Table 8 (class 1)",
    confidence: Recalled,
    limit_pct: 0.7,
};

pub const ROWS: [Row; 9] = [
    IMIN_ITR_PF1,
    ITR_IMAX_PF1,
    ITR_IMAX_PF_LOW,
    VOLTAGE_PF1,
    VOLTAGE_PF05,
    VOLTAGE_EXT_PF1,
    VOLTAGE_EXT_PF05,
    FREQUENCY_PF1,
    FREQUENCY_PF05,
];

/// The intrinsic-error row for a current and power factor.
pub fn intrinsic_row(current_a: f64, itr_a: f64, pf_is_unity: bool) -> Row {
    if pf_is_unity {
        if current_a < itr_a - 1e-9 {
            IMIN_ITR_PF1
        } else {
            ITR_IMAX_PF1
        }
    } else {
        ITR_IMAX_PF_LOW
    }
}
