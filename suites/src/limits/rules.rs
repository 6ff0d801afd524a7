//! Rules stated as a fraction of the maximum permissible error.

use harness::run::Confidence::Verified;

use super::Row;

pub const TABLE: &str = "mid-one-tenth";

/// The register and the test output agree within 1/10 of the MPE (French
/// decree on MID meters, verified). MPE here: class B at Iref, 1 %.
pub const METER_CONSTANT: Row = Row {
    table: TABLE,
    id: "meter-constant",
    description: "register energy vs pulses × constant: within 1/10 of the MPE (1 %)",
    clause: "Arrêté du 28 avril 2006 (MID meters), meter constant check",
    confidence: Verified,
    limit_pct: 0.1,
};

/// Repeatability: the standard deviation of repeated results below 1/10 of
/// the MPE (verified for class D; used here as the rule).
pub const REPEATABILITY: Row = Row {
    table: TABLE,
    id: "repeatability",
    description: "standard deviation of repeated errors below 1/10 of the MPE (1 %)",
    clause: "1/10 of the MPE (a rule stated for class D meters; applied to class B)",
    confidence: Verified,
    limit_pct: 0.1,
};

pub const ROWS: [Row; 2] = [METER_CONSTANT, REPEATABILITY];
