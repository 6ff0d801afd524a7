//! `metrig list`: the suites built in, and the limit tables with their clauses.

use std::process::ExitCode;

use serde_json::json;
use suites::limits::{Row, modbus, unit_of};

use super::EXIT_OK;

/// One limit row as `list` shows it: the figure in its own unit, or what
/// stands for it when the row has none.
struct Shown {
    row: Row,
    /// The limit in the lab's words: "±1.5 %", "±0.01 Hz", "met or not".
    figure: String,
    unit: &'static str,
}

/// Every row a point can be judged by: the accuracy, measurement, pulse and
/// rule tables, then the Modbus protocol rules (met or not; Modbus over
/// Serial Line V1.02 and Application Protocol V1.1b3) and the response-time
/// row, whose figure is the profile's `[serial] response_timeout_ms`.
fn rows() -> Vec<Shown> {
    let mut shown: Vec<Shown> = suites::limits::all_rows()
        .into_iter()
        .map(|row| {
            let unit = unit_of(&row);
            let v = row.limit_pct;
            let figure = match unit {
                "%" => format!("±{v} %"),
                "±Hz" => format!("±{v} Hz"),
                "±PF" => format!("±{v} PF"),
                "× T" => format!("{v} × T"),
                "≥ms" => format!("≥ {v} ms"),
                "pulses" => format!("≤ {v} pulses"),
                other => format!("{v} {other}"),
            };
            Shown { row, figure, unit }
        })
        .collect();
    shown.extend(modbus::RULES.iter().map(|r| Shown {
        row: r.row(),
        figure: "met or not".into(),
        unit: "",
    }));
    shown.push(Shown {
        row: modbus::RESPONSE_TIME,
        figure: "≤ profile timeout (ms)".into(),
        unit: "ms",
    });
    shown
}

pub fn run(json: bool) -> anyhow::Result<ExitCode> {
    let rows = rows();
    if json {
        let suites: Vec<_> = suites::all()
            .iter()
            .map(|s| json!({ "id": s.id(), "title": s.title() }))
            .collect();
        let limits: Vec<_> = rows
            .iter()
            .map(|s| {
                json!({
                    "table": s.row.table,
                    "id": s.row.id,
                    "limit": s.row.limit_pct.is_finite().then_some(s.row.limit_pct),
                    "unit": s.unit,
                    "figure": s.figure,
                    "confidence": s.row.confidence,
                    "description": s.row.description,
                    "clause": s.row.clause,
                })
            })
            .collect();
        say!("{}", json!({ "suites": suites, "limits": limits }))?;
        return Ok(ExitCode::from(EXIT_OK));
    }
    say!("suites:")?;
    for s in suites::all() {
        say!("  {:<20} {}", s.id(), s.title())?;
    }
    say!("\nlimit tables (confidence: verified / recalled / uncertain / derived):")?;
    for s in &rows {
        say!(
            "  {:<30} {:<24} {:<22} {:<9} — {} — {}",
            s.row.table,
            s.row.id,
            s.figure,
            s.row.confidence,
            s.row.description,
            s.row.clause
        )?;
    }
    say!("\n`metrig run PLAN --rig RIG --dry-run` lists every point of a plan.")?;
    Ok(ExitCode::from(EXIT_OK))
}
