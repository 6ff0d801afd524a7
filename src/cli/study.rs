//! `metrig study reproducibility`: measures the rig's type A floor (issue 15)
//! by setting one point up K times as a run does, and prints the
//! `[metrology] reproducibility` line to paste into the rig file. The raw
//! gates and the set-ups' means go to a record under reports/out/, so the
//! figure traces back to its samples.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use harness::load_point::LoadPoint;
use harness::quantity::PowerFactor;
use harness::rig::Rig;
use harness::run::events::FileRef;
use harness::station::load_rig;
use harness::stats::reproducibility::{MIN_SETUPS, StudyFigures};
use harness::stats::type_a::default_min_span_s;
use suites::study::{Setup, StudyPlan};

use super::{EXIT_OK, usage};

#[derive(Debug, clap::Subcommand)]
pub enum StudyCommand {
    /// Set one point up K times as a run does (source off and on, settle,
    /// gates spread over the span) and state s of the set-ups' means with
    /// K − 1 degrees of freedom: the rig's `[metrology] reproducibility`.
    Reproducibility(ReproducibilityArgs),
}

#[derive(Debug, clap::Args)]
pub struct ReproducibilityArgs {
    /// The rig file (e.g. fixtures/rigs/sim.toml).
    #[arg(long)]
    rig: PathBuf,
    /// Which position (1-based).
    #[arg(long, default_value_t = 1)]
    position: usize,
    /// The load point, e.g. "230V 63A 1 50Hz" or "230V 10A 0.5L" (default: Un, Imax, PF 1, fn
    /// of the position's meter, where slow components are largest).
    #[arg(long)]
    load: Option<String>,
    /// Set-ups K (at least 5; the floor then has K − 1 degrees of freedom).
    #[arg(long, default_value_t = 20)]
    setups: u32,
    /// Gates a set-up: the plan's `repetitions` (the plans with the fewest
    /// give the largest s, the safe figure for all).
    #[arg(long, default_value_t = 5)]
    reps: u32,
    /// Rig time the gates' starts are spread over, seconds (default: the
    /// suites' default for that many gates, max(120, 30 × (reps − 1))).
    #[arg(long)]
    min_span_s: Option<f64>,
    /// Reference counts a gate (the plans' `gate_counts`).
    #[arg(long, default_value_t = 10_000.0)]
    gate_counts: f64,
    /// Settling after the load is applied, seconds (the type-test plan's `settle_s`).
    #[arg(long, default_value_t = 30.0)]
    settle_s: f64,
    /// Source off between set-ups, seconds.
    #[arg(long, default_value_t = 60.0)]
    rest_s: f64,
    /// Where the study's record goes (default
    /// reports/out/study-reproducibility-<date>-<rig>.json).
    #[arg(long)]
    out: Option<PathBuf>,
    /// One JSON object (the record) on stdout, for scripts.
    #[arg(long)]
    json: bool,
}

pub async fn run(command: StudyCommand) -> anyhow::Result<ExitCode> {
    match command {
        StudyCommand::Reproducibility(args) => reproducibility(args).await,
    }
}

fn check(name: &str, v: f64, lo: f64, hi: f64) -> anyhow::Result<f64> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(usage(format!("--{name} {v}: within {lo}..={hi}")))
    }
}

async fn reproducibility(args: ReproducibilityArgs) -> anyhow::Result<ExitCode> {
    if !(MIN_SETUPS as u32..=1000).contains(&args.setups) {
        return Err(usage(format!(
            "--setups {}: within {MIN_SETUPS}..=1000",
            args.setups
        )));
    }
    if !(1..=100).contains(&args.reps) {
        return Err(usage(format!("--reps {}: within 1..=100", args.reps)));
    }
    let min_span_s = check(
        "min-span-s",
        args.min_span_s
            .unwrap_or_else(|| default_min_span_s(args.reps)),
        0.0,
        3600.0,
    )?;
    let gate_counts = check("gate-counts", args.gate_counts, 100.0, 1e8)?;
    let settle_s = check("settle-s", args.settle_s, 0.0, 3600.0)?;
    let rest_s = check("rest-s", args.rest_s, 0.0, 86_400.0)?;
    let config = load_rig(&args.rig)?;
    let Some(index) = args
        .position
        .checked_sub(1)
        .filter(|i| *i < config.config.positions.len())
    else {
        return Err(usage(format!(
            "--position {}: within 1..={}",
            args.position,
            config.config.positions.len()
        )));
    };
    let profile = config.config.positions[index].profile.clone();
    let r = &profile.ratings;
    let imax = LoadPoint::new(r.un, r.imax, PowerFactor::UNITY, r.fn_default());
    let load = match &args.load {
        Some(text) => LoadPoint::parse(text, imax).map_err(|e| usage(format!("--load: {e}")))?,
        None => imax,
    };
    let plan = StudyPlan {
        position: index,
        load,
        setups: args.setups,
        reps: args.reps,
        min_span_s,
        gate_counts,
        settle_s,
        rest_s,
    };
    let rig_ref = FileRef::of(&args.rig);
    let started_at = chrono::Utc::now();
    if !args.json {
        say!(
            "rig: {} ({}), position {}: {}",
            config.config.name,
            args.rig.display(),
            args.position,
            profile.id
        )?;
        say!(
            "point: {load}; {} set-ups of {} gates ({gate_counts} reference counts) spread over {min_span_s} s, settle {settle_s} s, source off {rest_s} s between set-ups",
            args.setups,
            args.reps
        )?;
    }
    let mut rig = Rig::open(config).await?;
    let json = args.json;
    let study = suites::study::reproducibility(&mut rig, &plan, |s: &Setup| {
        if !json {
            let _ = say!(
                "set-up {:>3}: mean {:+.4} %  (gates {})",
                s.setup,
                s.mean_pct,
                s.gates
                    .iter()
                    .map(|g| format!("{:+.4}", g.error_pct))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
    });
    // Ctrl-C or SIGTERM stops the study (a lab study takes an hour or more);
    // every exit path switches the source off.
    let measured = tokio::select! {
        // A rig error keeps its own type, so that the exit code table sees it.
        r = study => r.map_err(|e| match e {
            harness::run::SuiteError::Rig(rig) => anyhow::Error::from(rig),
            other => anyhow::Error::from(other),
        }),
        _ = super::wait_for_stop() => Err(anyhow::anyhow!(
            "the study was stopped before its last set-up; nothing was written"
        )),
    };
    let off = rig.off().await;
    let setups = measured?;
    off?;
    let means: Vec<f64> = setups.iter().map(|s| s.mean_pct).collect();
    let figures = StudyFigures::of(&means)?;
    let studied = started_at.date_naive();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&args.rig, studied));
    let line = figures.rig_line(studied, Some(&out.display().to_string()));
    let record = serde_json::json!({
        "study": "reproducibility",
        "issue": "15: the type A floor, s of a point's mean over repeated set-ups (JCGM 100 §4.2.2, §4.2.4; ISO 5725-3)",
        "rig": rig_ref,
        "position": args.position,
        "meter": profile.id,
        "started_at": started_at.to_rfc3339(),
        "finished_at": chrono::Utc::now().to_rfc3339(),
        "metrig_version": env!("CARGO_PKG_VERSION"),
        "plan": plan,
        "load_text": load.to_string(),
        "setups": setups,
        "means_pct": means,
        "figures": figures,
        "floor": { "u_pct": figures.floor().u_pct, "dof": figures.floor().dof },
        "studied": studied.to_string(),
        "rig_line": line,
    });
    write_atomically(&out, &serde_json::to_string_pretty(&record)?)?;
    if args.json {
        say!("{record}")?;
    } else {
        say!(
            "s of the {} set-ups' means: {:.4} %, {} dof (grand mean {:+.4} %)",
            figures.setups,
            figures.s_pct,
            figures.dof,
            figures.mean_pct
        )?;
        say!("studied {studied}; record: {}", out.display())?;
        say!("paste under [metrology] of {}:", args.rig.display())?;
        say!("{line}")?;
    }
    Ok(ExitCode::from(EXIT_OK))
}

fn default_out(rig: &Path, date: chrono::NaiveDate) -> PathBuf {
    let stem = rig
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "rig".into());
    let base = PathBuf::from("reports/out").join(format!("study-reproducibility-{date}-{stem}"));
    let mut path = base.with_extension("json");
    let mut n = 2;
    while path.exists() {
        path = PathBuf::from(format!("{}-{n}.json", base.display()));
        n += 1;
    }
    path
}

/// The record whole or not at all: written beside, then renamed.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("json.partial");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
