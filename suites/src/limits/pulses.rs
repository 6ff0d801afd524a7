//! Starting, no-load and S0 figures (EN 50470-3, IEC 62053-31).

use harness::run::Confidence::{Derived, Uncertain, Verified};

use super::Row;

pub const TABLE: &str = "pulse-tests";

/// First pulse at Ist within this factor of the theoretical period (U:
/// shared/standards.md, "about 1.2–1.5 T").
pub const START_FACTOR: Row = Row {
    table: TABLE,
    id: "start-first-pulse-factor",
    description: "first pulse at Ist within 1.5 × the theoretical period T = 3.6·10⁶/(k·m·Un·Ist)",
    clause: "EN 50470-3 §8.3.2 (starting); factor from lab practice",
    confidence: Uncertain,
    limit_pct: 1.5,
};
/// Registering continues: each later period within ±this percent of T.
pub const START_PERIOD: Row = Row {
    table: TABLE,
    id: "start-period-tolerance",
    description: "later pulses at Ist within ±10 % of T",
    clause: "EN 50470-3 §8.3.2 (the meter keeps registering); tolerance from lab practice",
    confidence: Uncertain,
    limit_pct: 10.0,
};
/// At most one pulse during Δt at 1.15 Un, no current.
pub const NO_LOAD: Row = Row {
    table: TABLE,
    id: "no-load-pulses",
    description: "at most 1 pulse during Δt (limit in pulses)",
    clause: "EN 50470-3 §8.3.1 (test of no-load condition)",
    confidence: Verified,
    limit_pct: 1.0,
};
/// tON and tOFF of an S0 pulse, minimum in ms.
pub const S0_TIMING: Row = Row {
    table: TABLE,
    id: "s0-ton-toff-min",
    description: "tON ≥ 30 ms and tOFF ≥ 30 ms (limit in ms)",
    clause: "IEC 62053-31 §5.4 (pulse output, class A/B)",
    confidence: Verified,
    limit_pct: 30.0,
};
/// Measured ON duration against the setting.
pub const S0_DURATION: Row = Row {
    table: TABLE,
    id: "s0-duration-tolerance",
    description: "ON duration within ±10 % of the setting",
    clause: "datasheet F02839EN §7 (programmable duration); tolerance assumed",
    confidence: Uncertain,
    limit_pct: 10.0,
};
/// Pulses × weight against the LED's count of the same energy.
pub const S0_COUNT: Row = Row {
    table: TABLE,
    id: "s0-no-lost-pulse",
    description: "S0 pulses × weight equal the energy the LED counts, to one S0 pulse",
    clause: "derived rule (S0 and LED carry the same energy): no pulse lost",
    confidence: Derived,
    limit_pct: 0.0,
};

/// One output counted on the other's edges (issue 15, item 10).
pub const S0_GATED: Row = Row {
    table: TABLE,
    id: "s0-gated-count",
    description: "S0 pulses between two LED edges equal the LED's energy over the S0 weight, ±1 pulse",
    clause: "derived rule (S0 and LED carry the same energy): no pulse lost; ±1 for the outputs' phase",
    confidence: Derived,
    limit_pct: 1.0,
};

pub const ROWS: [Row; 7] = [
    START_FACTOR,
    START_PERIOD,
    NO_LOAD,
    S0_TIMING,
    S0_DURATION,
    S0_COUNT,
    S0_GATED,
];
