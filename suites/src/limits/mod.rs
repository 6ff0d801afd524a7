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

/// The unit a row's figure is in, for `LimitRef::unit` (issue 15, item 7):
/// "%" for a ± percent error; "±Hz" and "±PF" for a two-sided absolute
/// limit in hertz and in power-factor units; "× T" for a multiple of the
/// theoretical pulse period; "≥ms" for a minimum duration; "pulses" for a
/// maximum count. The rows' `limit_pct` field keeps its name for the plan's
/// `[[overrides]]`, but only "%" rows are percent.
pub fn unit_of(row: &Row) -> &'static str {
    match row.id {
        "f-0.01hz" => "±Hz",
        "pf-class-1" => "±PF",
        "start-first-pulse-factor" => "× T",
        "s0-ton-toff-min" => "≥ms",
        "no-load-pulses" | "s0-no-lost-pulse" | "s0-gated-count" => "pulses",
        _ => "%",
    }
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
