//! `metrig compare BASELINE CANDIDATE`: the firmware regression gate.

use std::path::Path;
use std::process::ExitCode;

use harness::run::plan::CompareSettings;

use super::{EXIT_OK, run::EXIT_VERDICT_FAILED};

pub fn run(baseline: &Path, candidate: &Path, store: Option<&str>) -> anyhow::Result<ExitCode> {
    let b = super::store::read_record(baseline, store)?;
    let c = super::store::read_record(candidate, store)?;
    // The thresholds come from the candidate's plan, when it can be read.
    let settings = harness::run::load_plan(Path::new(&c.plan.path), &suites::ids())
        .map(|p| p.compare)
        .unwrap_or_else(|_| CompareSettings::default());
    let cmp = reports::compare::compare(&b, &c, settings.alpha, settings.practical_fraction_of_mpe);
    say!("baseline  {} ({})", b.run_id, baseline.display())?;
    say!("candidate {} ({})", c.run_id, candidate.display())?;
    say!("{}", reports::compare::render(&cmp))?;
    Ok(ExitCode::from(if cmp.regressions() > 0 {
        EXIT_VERDICT_FAILED
    } else {
        EXIT_OK
    }))
}
