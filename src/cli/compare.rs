//! `metrig compare BASELINE CANDIDATE`: the firmware regression gate.

use std::path::Path;
use std::process::ExitCode;

use harness::run::plan::CompareSettings;
use reports::Record;

use super::{EXIT_OK, run::EXIT_VERDICT_FAILED, usage};

pub fn run(baseline: &Path, candidate: &Path) -> anyhow::Result<ExitCode> {
    let b = Record::read(baseline).map_err(|e| usage(e.to_string()))?;
    let c = Record::read(candidate).map_err(|e| usage(e.to_string()))?;
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
