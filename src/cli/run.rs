//! `metrig run`: a plan on a rig, journaled sample by sample, with a record
//! and its reports at the end — or a resumable journal if it is stopped.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use harness::rig::Rig;
use harness::run::journal::{Journal, read_journal};
use harness::run::runner::{check_points, plan_points};
use harness::run::{Listener, RunError, RunEvent, RunRequest, RunStatus, cancel_pair, load_plan};
use harness::station::load_rig;
use reports::Record;

use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_RIG_FAILED, progress::Progress, usage};

pub const EXIT_VERDICT_FAILED: u8 = 1;

/// `metrig run`'s arguments.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The plan file.
    pub plan: PathBuf,
    /// The rig file (e.g. fixtures/rigs/sim.toml).
    #[arg(long)]
    pub rig: PathBuf,
    /// Where the run is written (default reports/out/<date>-<plan>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue an interrupted run in DIR without repeating finished points.
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Repeat only the points of DIR that failed.
    #[arg(long, value_name = "DIR")]
    pub rerun_failed: Option<PathBuf>,
    /// List every point and its real-rig duration; energise nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// No progress display and no summary on stdout.
    #[arg(long)]
    pub quiet: bool,
    /// Print every point's result at the end, not only the verdict and counts.
    #[arg(long)]
    pub verbose: bool,
    /// End with one JSON line (verdict, counts, folder) instead of the
    /// closing screen, for scripts.
    #[arg(long)]
    pub json: bool,
    /// The results store: a SQLite file, a postgres:// URL, or `off`
    /// (default: METRIG_STORE, metrig.toml's [store] url, reports/out/metrig.sqlite).
    #[arg(long)]
    pub store: Option<String>,
    /// With --resume or --rerun-failed: continue although the plan, rig
    /// or profile files or the metrig version changed since the run
    /// started (the record says so).
    #[arg(long)]
    pub accept_changes: bool,
    /// Run although an instrument is past its calibration date, for this
    /// reason (kept in the record).
    #[arg(long, value_name = "REASON")]
    pub calibration_overdue: Option<String>,
    /// Run a type test on a lab rig whose type A floor has no study date
    /// (`metrig study reproducibility`), for this reason (kept in the record).
    #[arg(long, value_name = "REASON")]
    pub floor_unstudied: Option<String>,
    #[command(flatten)]
    pub facts: ReportFactsArgs,
}

/// The report's facts (ISO/IEC 17025 §7.8.2.1) from the command line: each
/// wins over the same key in the plan's `[report]` section. A type-test plan
/// (`[plan] kind = "type-test"`) is refused without all of them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportFactsArgs {
    /// The lab file (fixtures/labs/*.toml): name, address, accreditation, authoriser.
    #[arg(long, value_name = "FILE")]
    pub lab: Option<PathBuf>,
    /// The customer who asked for the test.
    #[arg(long)]
    pub customer: Option<String>,
    /// The person who runs the test.
    #[arg(long)]
    pub operator: Option<String>,
    /// The lab's identification of the meter under test.
    #[arg(long, value_name = "ID")]
    pub sample_id: Option<String>,
    /// The date the meter was received, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    pub received: Option<chrono::NaiveDate>,
    /// The report's unique number, printed on every page.
    #[arg(long, value_name = "NUMBER")]
    pub report_number: Option<String>,
    /// Also print report.pdf (headless Chromium) at the end.
    #[arg(long)]
    pub pdf: bool,
}

/// The command line's facts over the plan's `[report]`, the lab file
/// loaded; a type test lacking any is refused, naming every missing one.
fn apply_facts(
    plan: &mut harness::run::Plan,
    args: &ReportFactsArgs,
    check: bool,
) -> anyhow::Result<()> {
    let given = harness::run::lab::RunFacts {
        report_number: args.report_number.clone(),
        customer: args.customer.clone(),
        received: args.received,
        operator: args.operator.clone(),
        sample_id: args.sample_id.clone(),
    };
    plan.report.facts = given.or(&plan.report.facts);
    plan.report.pdf |= args.pdf;
    if let Some(lab) = args.lab.clone().or_else(|| plan.report.lab_file.clone()) {
        plan.report.lab =
            Some(harness::run::lab::load_lab(&lab).map_err(|e| usage(e.to_string()))?);
    }
    let missing = plan.missing_report_facts();
    if check && !missing.is_empty() {
        return Err(usage(format!(
            "{}: a type-test plan ([plan] kind = \"type-test\") needs the facts of its ISO/IEC 17025 report; missing: {} (give them on the command line, or as {} in the plan's [report] section)",
            plan.file.display(),
            missing
                .iter()
                .map(|m| format!("--{m}"))
                .collect::<Vec<_>>()
                .join(", "),
            missing
                .iter()
                .map(|m| m.replace('-', "_"))
                .collect::<Vec<_>>()
                .join(", "),
        )));
    }
    Ok(())
}

/// A plan's name as one plain folder-name part: `../`, separators and
/// control characters in a plan name must not place the run outside
/// `reports/out` (or anywhere odd).
pub fn folder_name(plan_name: &str) -> String {
    let mut name: String = plan_name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    name = name.trim_start_matches('.').to_string();
    if name.is_empty() {
        name.push_str("plan");
    }
    name
}

fn default_out(plan_name: &str) -> PathBuf {
    let date = chrono::Local::now().format("%Y-%m-%d");
    let base = PathBuf::from("reports/out").join(format!("{date}-{}", folder_name(plan_name)));
    let mut dir = base.clone();
    let mut n = 2;
    while dir.exists() {
        dir = PathBuf::from(format!("{}-{n}", base.display()));
        n += 1;
    }
    dir
}

/// The lock a run holds on its folder for as long as it writes there: one
/// writer per run folder. An advisory `flock` on `.metrig.lock`, so a run
/// killed with SIGKILL leaves no stale lock behind (the kernel drops it).
pub const LOCK_FILE: &str = ".metrig.lock";

fn lock_folder(dir: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::create_dir_all(dir).map_err(|e| {
        usage(format!(
            "{}: cannot create the run folder: {e}",
            dir.display()
        ))
    })?;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            usage(format!(
                "{}: cannot write in the run folder: {e}",
                path.display()
            ))
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(usage(format!(
            "{}: another metrig is writing this run folder; one writer per folder",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(usage(format!(
            "{}: cannot lock the run folder: {e}",
            path.display()
        ))),
    }
}

/// A fresh run's folder must be empty or absent: a second plan written into
/// a finished run's folder would mix two runs in one journal.
/// A new run's folder, until the run has started: a plan refused before its
/// first event (rig hours over budget, a point beyond the rig, an overdue
/// calibration) leaves no folder behind, not an empty journal and a lock.
struct FreshFolder {
    dir: PathBuf,
    /// The folder did not exist before this run.
    made_here: bool,
    /// Not a resumed or rerun folder (those are never touched).
    fresh: bool,
}

impl FreshFolder {
    fn discard_if_unstarted(&self) {
        if !self.fresh {
            return;
        }
        let journal = self.dir.join(harness::run::journal::JOURNAL_FILE);
        if std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0) {
            return;
        }
        for name in [
            harness::run::journal::JOURNAL_FILE,
            reports::integrity::PLAN_COPY_FILE,
            LOCK_FILE,
        ] {
            let _ = std::fs::remove_file(self.dir.join(name));
        }
        if self.made_here {
            // Only if empty: anything else in it is not ours to remove.
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

fn check_fresh(dir: &Path) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(usage(format!(
                "{}: cannot read the folder: {e}",
                dir.display()
            )));
        }
    };
    let others: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != LOCK_FILE)
        .collect();
    if others.is_empty() {
        Ok(())
    } else {
        Err(usage(format!(
            "{}: --out must be an empty or absent folder (it holds {}); continue a run with --resume {}",
            dir.display(),
            others
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            dir.display()
        )))
    }
}

/// The journal of an earlier part of this run (its chain checked), and what
/// differs between the files and metrig of then and now: the plan and rig
/// files, each meter's profile, the metrig version.
fn earlier_events(
    dir: &Path,
    plan: &Path,
    rig: &Path,
    open_rig: &Rig,
) -> anyhow::Result<(Vec<RunEvent>, Vec<String>)> {
    let events = read_journal(dir)?;
    let Some(RunEvent::RunStarted(h)) = events.first() else {
        return Err(usage(format!(
            "{}: the journal holds no started run",
            dir.display()
        )));
    };
    let short = |h: &str| h[..12.min(h.len())].to_string();
    let mut changed = Vec::new();
    for (what, journaled, now) in [("plan", &h.plan, plan), ("rig", &h.rig, rig)] {
        let now = harness::run::events::FileRef::of(now);
        if now.sha256 != journaled.sha256 {
            changed.push(format!(
                "the {what} file ({} was {}, {} is {})",
                journaled.path,
                short(&journaled.sha256),
                now.path,
                short(&now.sha256)
            ));
        }
    }
    for m in &h.meters {
        let now = open_rig
            .positions
            .iter()
            .find(|p| p.index == m.position)
            .map(|p| harness::run::events::FileRef::of(&p.profile.file));
        match now {
            Some(now) if now.sha256 == m.profile.sha256 => {}
            Some(now) => changed.push(format!(
                "the meter profile of position {} ({} was {}, {} is {})",
                m.position + 1,
                m.profile.path,
                short(&m.profile.sha256),
                now.path,
                short(&now.sha256)
            )),
            None => changed.push(format!(
                "position {} is no longer on the rig",
                m.position + 1
            )),
        }
    }
    let version = env!("CARGO_PKG_VERSION");
    if h.metrig_version != version {
        changed.push(format!(
            "metrig (the run started with {}, this is {version})",
            h.metrig_version
        ));
    }
    Ok((events, changed))
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let suites = suites::all();
    let catalogue: Vec<_> = suites.iter().map(|s| s.declaration()).collect();
    let mut plan = load_plan(&args.plan, &catalogue).map_err(|e| usage(e.to_string()))?;
    if let Some(reason) = &args.calibration_overdue {
        plan.preconditions.calibration_overdue = Some(format!("{reason} (command line)"));
    }
    if let Some(reason) = &args.floor_unstudied {
        plan.preconditions.floor_unstudied = Some(format!("{reason} (command line)"));
    }
    // A resumed run's facts are in its journal already.
    let continuing = args.resume.is_some() || args.rerun_failed.is_some();
    apply_facts(&mut plan, &args.facts, !args.dry_run && !continuing)?;
    let config = load_rig(&args.rig)?;
    let mut rig = Rig::open(config).await?;
    if let Some(c) = &plan.conditions
        && c.on_out_of_range != harness::run::lab::OnOutOfRange::Flag
        && rig.climate.is_none()
    {
        return Err(usage(format!(
            "{}: [conditions] on_out_of_range = \"{}\" needs a climate sensor, and the rig file {} declares no [climate]",
            args.plan.display(),
            c.on_out_of_range.as_str(),
            args.rig.display()
        )));
    }

    if args.dry_run {
        return dry_run(&plan, &suites, &rig);
    }
    if args.resume.is_some() && args.rerun_failed.is_some() {
        return Err(usage(
            "--resume and --rerun-failed are two different ways to continue a run: pick one",
        ));
    }
    let continuing = args.resume.as_ref().or(args.rerun_failed.as_ref());
    let dir = match continuing {
        Some(dir) => dir.clone(),
        None => args.out.clone().unwrap_or_else(|| default_out(&plan.name)),
    };
    if continuing.is_none() {
        check_fresh(&dir)?;
    }
    let fresh = FreshFolder {
        dir: dir.clone(),
        made_here: continuing.is_none() && !dir.exists(),
        fresh: continuing.is_none(),
    };
    // Held until the reports are written.
    let _lock = lock_folder(&dir)?;
    let (resume, only, changed) = if continuing.is_some() {
        let (events, changed) = earlier_events(&dir, &args.plan, &args.rig, &rig)?;
        if !changed.is_empty() && !args.accept_changes {
            return Err(usage(format!(
                "{}: changed since the run started: {}; continue with the same files and metrig, or accept the change with --accept-changes (it is recorded)",
                dir.display(),
                changed.join("; ")
            )));
        }
        let only = if args.rerun_failed.is_some() {
            let failed: HashSet<String> = harness::run::runner::finished_points(&events)
                .into_iter()
                .filter(|(_, v)| v.is_failure())
                .map(|(k, _)| k)
                .collect();
            if failed.is_empty() {
                say!("{}: no failed point to rerun", dir.display())?;
                return Ok(ExitCode::from(EXIT_OK));
            }
            Some(failed)
        } else {
            None
        };
        (Some(events), only, changed)
    } else {
        (None, None, Vec::new())
    };
    let mut journal = Journal::open(&dir).map_err(|e| match e {
        harness::run::journal::JournalError::Io { .. } => usage(e.to_string()),
        e => anyhow::Error::new(e),
    })?;
    if !changed.is_empty() {
        // Accepted with --accept-changes: the record says so.
        journal.on_event(&RunEvent::Finding {
            finding: harness::run::Finding {
                key: None,
                severity: harness::run::Severity::Warning,
                text: format!(
                    "resumed with --accept-changes although changed since the run started: {}",
                    changed.join("; ")
                ),
            },
        });
    }
    if continuing.is_none() {
        // The plan as run, beside its record: the firmware gate reads its
        // thresholds from here, wherever it is started.
        let text = std::fs::read(&args.plan)
            .with_context(|| format!("{}: cannot read the plan", args.plan.display()))?;
        reports::safe_write::write_file(&dir, reports::integrity::PLAN_COPY_FILE, &text)
            .map_err(usage)?;
    }
    let run_id = match resume.as_ref().and_then(|e| e.first()) {
        Some(RunEvent::RunStarted(h)) => h.run_id.clone(),
        // Unique across the rigs of a fleet writing one store: rigs that
        // start in the same second differ by the sub-second clock and the pid.
        _ => {
            let now = chrono::Utc::now();
            let tag = u64::from(now.timestamp_subsec_nanos()) ^ u64::from(std::process::id());
            format!(
                "{}-{}-{:06x}",
                now.format("%Y%m%dT%H%M%SZ"),
                folder_name(&plan.name),
                tag & 0xff_ffff
            )
        }
    };

    let (handle, cancel) = cancel_pair();
    let handle = Arc::new(handle);
    // A journal that cannot write stops the run: source off, settings back.
    let journal = journal.stop_on_failure(handle.clone());
    let journal_failure = journal.failure_slot();
    let signals = tokio::spawn(async move {
        super::wait_for_stop().await;
        handle.cancel();
    });
    let progress = Progress::new(suites.clone());
    let mut listeners: Vec<Box<dyn Listener>> = vec![Box::new(journal)];
    // The results store (issue 17): written as the run goes, never in its way.
    let store =
        store::config::resolve(args.store.as_deref(), Path::new(store::config::CONFIG_FILE))
            .map_err(|e| usage(e.to_string()))?;
    if let store::config::Choice::Use(location) = store {
        let earlier = resume.as_deref().unwrap_or_default();
        listeners.push(Box::new(store::StoreListener::start(
            location,
            dir.clone(),
            earlier,
        )));
    }
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
            fresh.discard_if_unstarted();
            return Err(usage(e.to_string()));
        }
        Err(e) => return Err(anyhow::Error::new(e)),
    };
    let failure = journal_failure
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    if let Some(f) = failure {
        let end = match &f.end {
            Some((_, message, restore)) => {
                // The runner saw the journal's stop as a stop request.
                let message = if message.starts_with("stopped by request") {
                    "stopped when the journal could not be written"
                } else {
                    message.as_str()
                };
                let settings: Vec<String> = restore
                    .iter()
                    .map(|r| format!("position {}: {}", r.position + 1, r.message))
                    .collect();
                let source = if message.starts_with("source did not switch off") {
                    "THE SOURCE DID NOT SWITCH OFF"
                } else {
                    "the source switched off"
                };
                format!(
                    "the run was stopped ({message}), {source}{}",
                    if settings.is_empty() {
                        String::new()
                    } else {
                        format!(", meter settings: {}", settings.join("; "))
                    }
                )
            }
            None => "the run was stopped".into(),
        };
        eprintln!(
            "metrig: {}; {end}; no record or report was written; once the disk has room, continue with --resume {}",
            super::clean(&f.to_string()),
            dir.display()
        );
        return Ok(ExitCode::from(EXIT_RIG_FAILED));
    }
    let events = match read_journal(&dir) {
        // Stopped before anything was journaled.
        Err(harness::run::journal::JournalError::Empty { .. }) => Vec::new(),
        r => r?,
    };
    let Some(record) = Record::from_events(&events) else {
        // Stopped before the first point (a precondition, a meter that did not answer).
        fresh.discard_if_unstarted();
        eprintln!("metrig: run stopped before any point: {}", summary.message);
        return Ok(ExitCode::from(EXIT_RIG_FAILED));
    };
    reports::write_all(&record, &dir).map_err(anyhow::Error::msg)?;
    if plan.report.pdf {
        let pdf = reports::pdf::print(&dir)?;
        if !args.json {
            say!("printed {}", pdf.display())?;
        }
    }
    if args.verbose && !args.json {
        say!("{}", reports::markdown::render(&record))?;
    }
    end_screen(&record, summary.status, &dir, args.json)?;
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

/// The run's last screen: the verdict, the counts and where the report is,
/// so the last thing a lab engineer reads is the answer (the per-point
/// table is in summary.md, or on the screen with `--verbose`). With `--json`,
/// one line with the same facts, for scripts.
fn end_screen(record: &Record, status: RunStatus, dir: &Path, json: bool) -> std::io::Result<()> {
    use harness::stats::Verdict;
    let failed = record.failures();
    let conditional = record.count(Verdict::ConditionalPass);
    let verdict = match status {
        RunStatus::Interrupted => "INTERRUPTED",
        RunStatus::Completed if failed > 0 => "FAIL",
        RunStatus::Completed => "PASS",
    };
    let report = dir.join("report.html");
    if json {
        let counts: serde_json::Map<String, serde_json::Value> = Verdict::ALL
            .iter()
            .map(|v| (v.as_str().to_string(), record.count(*v).into()))
            .collect();
        return say!(
            "{}",
            serde_json::json!({
                "verdict": verdict.to_lowercase(),
                "run_id": record.run_id,
                "plan": record.plan_name,
                "points": record.points.len(),
                "counts": counts,
                "failed": failed,
                "dir": dir.display().to_string(),
                "report": report.display().to_string(),
            })
        );
    }
    let why = match (verdict, failed, conditional) {
        ("FAIL", n, _) => format!(" — {n} point(s) failed"),
        ("PASS", _, c) if c > 0 => {
            format!(" — {c} conditional pass(es): within the limit, but U crosses it")
        }
        _ => String::new(),
    };
    say!("")?;
    say!("{verdict}{why}")?;
    say!(
        "{} points: {}",
        record.points.len(),
        record.verdict_counts().join(", ")
    )?;
    say!("report: {}", report.display())?;
    say!(
        "        (in {}: summary.md, record.json, samples.csv, junit.xml; --verbose prints every point)",
        dir.display()
    )
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
    use harness::run::runner::{check_rig_budget, plan_rig_time, rig_time_by_suite};
    let total = plan_rig_time(plan, &points, suites).as_secs_f64();
    let t = &plan.targets;
    say!(
        "plan {} on {} — nothing is energised",
        plan.name,
        rig.config.name
    )?;
    say!(
        "warm-up {:.0} s, settle {:.0} s per load point, decision rule {}",
        plan.warm_up.as_secs_f64(),
        plan.settle.as_secs_f64(),
        plan.decision_rule
    )?;
    match t.max_u_pct {
        Some(u) => say!(
            "each point planned for U ≤ {u} %, at most {} h a point",
            t.max_point_hours
        )?,
        None => say!(
            "each point planned for TUR (limit ÷ U) ≥ {}, at most {} h a point",
            t.target_tur,
            t.max_point_hours
        )?,
    }
    let mut flagged = 0;
    for p in &points {
        let loads: Vec<String> = p.loads.iter().map(|l| l.to_string()).collect();
        let loads = if loads.is_empty() {
            "no load point set".to_string()
        } else {
            loads.join("; ")
        };
        let u = match &p.planned_u {
            Some(u) => {
                if u.flagged.is_some() {
                    flagged += 1;
                }
                u.to_string()
            }
            // A figure no planner sized (its U is what its repetitions find),
            // or a check met or not.
            None => match &p.limit {
                Some(l) if l.unit == "%" => format!("U not planned / {}", l.show()),
                Some(l) => format!("a check: {}", l.show()),
                None => "a check".to_string(),
            },
        };
        say!(
            "{:<48} {:>9.0} s  {}  [{}]  {}",
            p.key(),
            p.rig_time.as_secs_f64(),
            p.title,
            loads,
            u
        )?;
    }
    if rig.positions.len() > 1 {
        say!(
            "{} positions: a point is measured on all of them at once, so it counts once (the `modbus` suite's points run one position at a time)",
            rig.positions.len()
        )?;
    }
    // Issue 20: the groups as the run measures them (shared dwells, order).
    let run_groups = harness::run::runner::group_points(&points, suites);
    let in_shared: Vec<usize> = run_groups
        .iter()
        .filter(|g| g.iter().any(|&i| points[i].suite != points[g[0]].suite))
        .flatten()
        .copied()
        .collect();
    say!("rig hours per suite (a shared dwell counts once, under its first point's suite):")?;
    for (suite, time) in rig_time_by_suite(&points, suites) {
        let n = points.iter().filter(|p| p.suite == suite).count();
        let shared = in_shared
            .iter()
            .filter(|&&i| points[i].suite == suite)
            .count();
        say!(
            "  {suite:<20} {:>8.2} h  ({n} point{}{})",
            time.as_secs_f64() / 3600.0,
            if n == 1 { "" } else { "s" },
            if shared > 0 {
                format!(", {shared} in shared dwells")
            } else {
                String::new()
            }
        )?;
    }
    say!(
        "  {:<20} {:>8.2} h",
        "warm-up",
        plan.warm_up.as_secs_f64() / 3600.0
    )?;
    if flagged > 0 {
        say!(
            "{flagged} points cannot meet their target (within max_point_hours, or at the meter's resolution): flagged with the U they reach"
        )?;
    }
    // Issue 20: what shared dwells and the order save, against the plan
    // as written (each point alone, in the plan's order).
    {
        use harness::run::order::source_changes;
        use harness::run::runner::{Scheduling, group_time, groups_time, schedule, start_load};
        let start = start_load(plan, rig);
        let as_written = schedule(&points, suites, Scheduling::PLAN);
        let shared: Vec<&Vec<usize>> = run_groups
            .iter()
            .filter(|g| g.iter().any(|&i| points[i].suite != points[g[0]].suite))
            .collect();
        if !shared.is_empty() {
            say!("shared dwells (the source set once, the points measured at once):")?;
        }
        for g in &shared {
            let keys: Vec<String> = g.iter().map(|&i| points[i].key()).collect();
            say!(
                "  {:>8.2} h  {}",
                group_time(&points, g).as_secs_f64() / 3600.0,
                keys.join(", ")
            )?;
        }
        say!(
            "source changes: {} in the plan's order, {} as run; rig time {:.1} h with every point alone, {:.1} h as run",
            source_changes(&points, &as_written, start),
            source_changes(&points, &run_groups, start),
            (plan.warm_up + groups_time(&points, &as_written)).as_secs_f64() / 3600.0,
            total / 3600.0,
        )?;
    }
    say!(
        "{} points; on a real rig about {:.1} h ({:.0} s)",
        points.len(),
        total / 3600.0,
        total
    )?;
    if let Err(e) = check_rig_budget(plan, &points, suites) {
        say!("REFUSED: {e}")?;
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    }
    Ok(ExitCode::from(EXIT_OK))
}
