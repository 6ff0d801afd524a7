//! What one gate of a pulse comparison gives (EN 50470-3 §8, the
//! test-output method): the record type both the software gate
//! (`measure::pulse_comparison`) and a hardware error calculator return, kept
//! here, below both, so the instrument trait needs nothing from `measure`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergyKind {
    Active,
    Reactive,
}

/// One gate's raw figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulseComparison {
    pub meter_pulses: usize,
    /// N × pulse weight, Wh (varh).
    pub meter_energy: f64,
    /// Reference pulses counted over the gate.
    pub reference_counts: u64,
    /// The counted reference energy, Wh (varh).
    pub reference_energy: f64,
    pub error_pct: f64,
    /// One reference count, as a share of the gate, percent.
    pub resolution_pct: f64,
    pub gate_s: f64,
    pub start_s: f64,
    pub end_s: f64,
}
