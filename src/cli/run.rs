//! `metrig run`: a plan on a rig, journaled sample by sample, with a record
//! and its reports at the end — or a resumable journal if it is stopped.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use harness::rig::{Rig, load_rig};
use harness::run::journal::{Journal, read_journal};
use harness::run::runner::{check_points, plan_points};
use harness::run::{Listener, RunError, RunEvent, RunRequest, RunStatus, cancel_pair, load_plan};
use reports::Record;

use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_RIG_FAILED, progress::Progress, usage};

pub const EXIT_VERDICT_FAILED: u8 = 1;

#[derive(Debug)]
pub struct RunArgs {
    pub plan: PathBuf,
    pub rig: PathBuf,
    pub out: Option<PathBuf>,
    pub resume: Option<PathBuf>,
    pub rerun_failed: Option<PathBuf>,
    pub dry_run: bool,
    pub quiet: bool,
    /// Why the run may go on with an instrument past its calibration date.
    pub calibration_overdue: Option<String>,
}

fn default_out(plan_name: &str) -> PathBuf {
    let date = chrono::Local::now().format("%Y-%m-%d");
    let base = PathBuf::from("reports/out").join(format!("{date}-{plan_name}"));
    let mut dir = base.clone();
    let mut n = 2;
    while dir.exists() {
        dir = PathBuf::from(format!("{}-{n}", base.display()));
        n += 1;
    }
    dir
}

/// The journal of an earlier part of this run, checked against the files given now.
fn earlier_events(dir: &Path, plan: &Path, rig: &Path) -> anyhow::Result<Vec<RunEvent>> {
    let events = read_journal(dir).map_err(usage)?;
    let Some(RunEvent::RunStarted(h)) = events.first() else {
        return Err(usage(format!(
            "{}: the journal holds no started run",
            dir.display()
        )));
    };
    for (what, journaled, now) in [("plan", &h.plan, plan), ("rig", &h.rig, rig)] {
        let now = harness::run::events::FileRef::of(now);
        if now.sha256 != journaled.sha256 {
            return Err(usage(format!(
                "{}: the {what} file changed since the run started ({} was {}, {} is {}); continue with the same files",
                dir.display(),
                journaled.path,
                &journaled.sha256[..12.min(journaled.sha256.len())],
                now.path,
                &now.sha256[..12.min(now.sha256.len())]
            )));
        }
    }
    Ok(events)
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let suites = suites::all();
    let ids = suites::ids();
    let mut plan = load_plan(&args.plan, &ids).map_err(|e| usage(e.to_string()))?;
    if let Some(reason) = &args.calibration_overdue {
        plan.preconditions.calibration_overdue = Some(format!("{reason} (command line)"));
    }
    let config = load_rig(&args.rig)?;
    let mut rig = Rig::open(config).await?;

    if args.dry_run {
        return dry_run(&plan, &suites, &rig);
    }
    if args.resume.is_some() && args.rerun_failed.is_some() {
        return Err(usage(
            "--resume and --rerun-failed are two different ways to continue a run: pick one",
        ));
    }
    let (dir, resume, only) = if let Some(dir) = &args.resume {
        let events = earlier_events(dir, &args.plan, &args.rig)?;
        (dir.clone(), Some(events), None)
    } else if let Some(dir) = &args.rerun_failed {
        let events = earlier_events(dir, &args.plan, &args.rig)?;
        let failed: HashSet<String> = harness::run::runner::finished_points(&events)
            .into_iter()
            .filter(|(_, v)| v.is_failure())
            .map(|(k, _)| k)
            .collect();
        if failed.is_empty() {
            say!("{}: no failed point to rerun", dir.display())?;
            return Ok(ExitCode::from(EXIT_OK));
        }
        (dir.clone(), Some(events), Some(failed))
    } else {
        (
            args.out.clone().unwrap_or_else(|| default_out(&plan.name)),
            None,
            None,
        )
    };
    let journal = Journal::open(&dir)
        .with_context(|| format!("cannot open the journal in {}", dir.display()))?;
    let run_id = match resume.as_ref().and_then(|e| e.first()) {
        Some(RunEvent::RunStarted(h)) => h.run_id.clone(),
        _ => format!(
            "{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
            plan.name
        ),
    };

    let (handle, cancel) = cancel_pair();
    let signals = tokio::spawn(async move {
        super::wait_for_stop().await;
        handle.cancel();
    });
    let progress = Progress::new(suites.clone());
    let mut listeners: Vec<Box<dyn Listener>> = vec![Box::new(journal)];
    if !args.quiet {
        listeners.push(Box::new(progress));
    }
    let request = RunRequest {
        plan: &plan,
        suites: &suites,
        run_id,
        resume,
        only,
        cancel,
    };
    let result = harness::run::run(request, &mut rig, &mut listeners).await;
    signals.abort();
    drop(listeners);
    drop(rig);

    let summary = match result {
        Ok(s) => s,
        Err(e @ (RunError::Plan(_) | RunError::Safety(_))) => {
            return Err(usage(e.to_string()));
        }
        Err(e) => return Err(anyhow::Error::new(e)),
    };
    let events = read_journal(&dir).map_err(anyhow::Error::msg)?;
    let Some(record) = Record::from_events(&events) else {
        // Stopped before the first point (a precondition, a meter that did not answer).
        eprintln!("metrig: run stopped before any point: {}", summary.message);
        return Ok(ExitCode::from(EXIT_RIG_FAILED));
    };
    reports::write_all(&record, &dir).map_err(anyhow::Error::msg)?;
    if !args.quiet {
        say!("{}", reports::markdown::render(&record))?;
    }
    say!(
        "run written to {} (record.json, samples.csv, junit.xml, summary.md, report.html)",
        dir.display()
    )?;
    let code = match (summary.status, summary.rig_failed) {
        (RunStatus::Interrupted, Some(why)) => {
            eprintln!(
                "metrig: run stopped: {why}; continue with --resume {}",
                dir.display()
            );
            EXIT_RIG_FAILED
        }
        (RunStatus::Interrupted, None) => {
            eprintln!(
                "metrig: run interrupted ({}); continue with --resume {}",
                summary.message,
                dir.display()
            );
            EXIT_RIG_FAILED
        }
        (RunStatus::Completed, _) if record.failures() > 0 => EXIT_VERDICT_FAILED,
        (RunStatus::Completed, _) => EXIT_OK,
    };
    Ok(ExitCode::from(code))
}

fn dry_run(
    plan: &harness::run::Plan,
    suites: &[Arc<dyn harness::run::Suite>],
    rig: &Rig,
) -> anyhow::Result<ExitCode> {
    let points = plan_points(plan, suites, rig).map_err(|e| usage(e.to_string()))?;
    if let Err(e) = check_points(&points, rig) {
        say!("REFUSED: {e}")?;
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    }
    let total = plan.warm_up.as_secs_f64()
        + harness::run::runner::planned_rig_time(&points, suites).as_secs_f64();
    say!(
        "plan {} on {} — nothing is energised",
        plan.name,
        rig.config.name
    )?;
    say!(
        "warm-up {:.0} s, settle {:.0} s per load point, decision rule {:?}",
        plan.warm_up.as_secs_f64(),
        plan.settle.as_secs_f64(),
        plan.decision_rule
    )?;
    for p in &points {
        let loads: Vec<String> = p.loads.iter().map(|l| l.to_string()).collect();
        say!(
            "{:<48} {:>9.0} s  {}  [{}]",
            p.key(),
            p.rig_time.as_secs_f64(),
            p.title,
            loads.join("; ")
        )?;
    }
    if rig.positions.len() > 1 {
        say!(
            "{} positions: a point is measured on all of them at once, so it counts once (the `modbus` suite's points run one position at a time)",
            rig.positions.len()
        )?;
    }
    say!(
        "{} points; on a real rig about {:.1} h ({:.0} s)",
        points.len(),
        total / 3600.0,
        total
    )?;
    Ok(ExitCode::from(EXIT_OK))
}
