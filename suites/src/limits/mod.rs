//! The standards' tables as typed data. Every row names its clause and how
//! sure the figure is (shared/standards.md: verified, recalled, uncertain,
//! derived), so a lab can correct a row from the plan (`[[overrides]]`)
//! without touching code, and the record says which rows were not verified.
//! Owns: the rows. May import: `model`'s `Confidence` (through harness) only.

pub mod class_b;
pub mod measurements;
pub mod modbus;
pub mod pulses;
pub mod reactive;
pub mod rules;

use harness::run::Confidence;

/// One row of a limit table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub table: &'static str,
    pub id: &'static str,
    pub description: &'static str,
    pub clause: &'static str,
    pub confidence: Confidence,
    pub limit_pct: f64,
}

/// Every table, for `metrig list`.
pub fn all_rows() -> Vec<Row> {
    let mut rows = class_b::ROWS.to_vec();
    rows.extend(reactive::ROWS);
    rows.extend(measurements::ROWS);
    rows.extend(rules::ROWS);
    rows.extend(pulses::ROWS);
    rows
}
