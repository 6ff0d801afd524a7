//! `metrig compare BASELINE CANDIDATE`: the firmware regression gate. It
//! passes only what it compared: both runs' journals must hold (an edited
//! journal is refused), and missing points, too few samples for Welch's
//! test, other meters or another plan are a refusal (exit 4) with the reason.
//! The thresholds come from the plan the candidate ran — its copy in the run
//! folder, checked by hash — so the result does not depend on the current
//! directory.

use std::path::Path;
use std::process::ExitCode;

use harness::run::events::FileRef;
use harness::run::plan::CompareSettings;
use reports::Record;
use reports::integrity::PLAN_COPY_FILE;

use super::{EXIT_OK, run::EXIT_VERDICT_FAILED};

/// A plan file is a few kilobytes; anything past this is not one.
const MAX_PLAN_BYTES: u64 = 1 << 20;

/// The gate could not compare what it was asked to (README, "Exit codes").
pub const EXIT_NOT_COMPARED: u8 = 4;

/// The `[compare]` settings of the plan the candidate ran, found by hash.
fn settings(candidate: &Path, c: &Record, given: Option<&Path>) -> Result<CompareSettings, String> {
    let copy = candidate.join(PLAN_COPY_FILE);
    let mut tried = Vec::new();
    for path in given.into_iter().chain([copy.as_path()]) {
        // Hashing `/dev/zero` or a FIFO would never end: plain files of plan size only.
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() && m.len() <= MAX_PLAN_BYTES => {}
            Ok(_) => {
                tried.push(format!("{} (not a plan-sized file)", path.display()));
                continue;
            }
            Err(e) => {
                tried.push(format!("{} ({e})", path.display()));
                continue;
            }
        }
        let found = FileRef::of(path);
        if found.sha256 == c.plan.sha256 {
            return harness::run::load_plan(path, &suites::catalogue())
                .map(|p| p.compare)
                .map_err(|e| e.to_string());
        }
        tried.push(format!(
            "{} (sha256 {})",
            path.display(),
            &found.sha256[..12.min(found.sha256.len())]
        ));
    }
    Err(format!(
        "the plan the candidate ran (sha256 {}) is not found: tried {}; give it with --plan FILE",
        &c.plan.sha256[..12.min(c.plan.sha256.len())],
        tried.join(", ")
    ))
}

pub fn run(
    baseline: &Path,
    candidate: &Path,
    plan: Option<&Path>,
    store: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    // A folder's record is trusted only through its journal's chain; a
    // `store:` reference is read back from the results store.
    let b = super::store::read_record(baseline, store)?;
    let c = super::store::read_record(candidate, store)?;
    // Whether each run is signed (`metrig sign`) and the signature holds;
    // `metrig verify DIR --key PUB` says by whom it must be.
    let bs = super::store::signature_of(baseline, store, &b.run_id)?;
    let cs = super::store::signature_of(candidate, store, &c.run_id)?;
    let runs = serde_json::json!({
        "baseline": { "run_id": b.run_id, "from": baseline.display().to_string(), "signature": bs.summary() },
        "candidate": { "run_id": c.run_id, "from": candidate.display().to_string(), "signature": cs.summary() },
    });
    if !json {
        say!("baseline  {} ({})", b.run_id, baseline.display())?;
        say!("candidate {} ({})", c.run_id, candidate.display())?;
        say!(
            "signature baseline: {}; candidate: {}",
            bs.summary(),
            cs.summary()
        )?;
    }
    let settings = match settings(candidate, &c, plan) {
        Ok(s) => s,
        Err(why) => {
            if json {
                let mut doc = runs;
                doc["not_compared"] = why.into();
                say!("{doc}")?;
            } else {
                say!("NOT COMPARED: {why}")?;
            }
            return Ok(ExitCode::from(EXIT_NOT_COMPARED));
        }
    };
    let cmp = reports::compare::compare(&b, &c, settings.alpha, settings.practical_fraction_of_mpe);
    if json {
        let mut doc = runs;
        doc["comparison"] = serde_json::to_value(&cmp)?;
        doc["regressions"] = cmp.regressions().into();
        doc["refused"] = cmp.refused().into();
        say!("{doc}")?;
    } else {
        say!("{}", reports::compare::render(&cmp))?;
    }
    Ok(ExitCode::from(if cmp.regressions() > 0 {
        EXIT_VERDICT_FAILED
    } else if cmp.refused() {
        EXIT_NOT_COMPARED
    } else {
        EXIT_OK
    }))
}
