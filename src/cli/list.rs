//! `metrig list`: the suites built in, and the limit tables with their clauses.

use std::process::ExitCode;

use super::EXIT_OK;

pub fn run() -> anyhow::Result<ExitCode> {
    say!("suites:")?;
    for s in suites::all() {
        say!("  {:<20} {}", s.id(), s.title())?;
    }
    say!("\nlimit tables (confidence: verified / recalled / uncertain / derived):")?;
    for r in suites::limits::all_rows() {
        say!(
            "  {:<30} {:<24} ±{:<5} % {:?} — {} — {}",
            r.table,
            r.id,
            r.limit_pct,
            r.confidence,
            r.description,
            r.clause
        )?;
    }
    say!("\n`metrig run PLAN --rig RIG --dry-run` lists every point of a plan.")?;
    Ok(ExitCode::from(EXIT_OK))
}
