//! `metrig store import|check|sync`: the store against the run folders.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use store::config::{CONFIG_FILE, Choice, resolve};
use store::{Location, Store};

use super::{EXIT_OK, run::EXIT_VERDICT_FAILED, usage};

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Load run folders into the store (importing twice adds nothing).
    Import {
        /// The run folders to load.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// The store: a SQLite file or a postgres:// URL.
        #[arg(long)]
        store: Option<String>,
    },
    /// Check the store against run folders' journals (default: every run under reports/out).
    Check {
        /// The run folders (default: every run under reports/out).
        dirs: Vec<PathBuf>,
        /// The store: a SQLite file or a postgres:// URL.
        #[arg(long)]
        store: Option<String>,
    },
    /// Store what the store missed (default: every run under reports/out).
    Sync {
        /// The run folders (default: every run under reports/out).
        dirs: Vec<PathBuf>,
        /// The store: a SQLite file or a postgres:// URL.
        #[arg(long)]
        store: Option<String>,
    },
}

/// The store the command line, `METRIG_STORE` or `metrig.toml` names.
pub fn location(cli: Option<&str>) -> anyhow::Result<Location> {
    match resolve(cli, Path::new(CONFIG_FILE)).map_err(|e| usage(e.to_string()))? {
        Choice::Use(l) => Ok(l),
        Choice::Off => Err(usage(
            "the store is off (`off`): name a SQLite file or a postgres:// URL",
        )),
    }
}

/// Runs `f` on a thread of its own: the PostgreSQL client is synchronous
/// and runs its own small runtime, which must not nest in the CLI's.
pub fn on_thread<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    std::thread::spawn(f)
        .join()
        .map_err(|_| anyhow::anyhow!("the store thread panicked"))?
}

/// Every run folder (a folder holding a journal) under `reports/out`.
fn run_folders(dirs: Vec<PathBuf>) -> anyhow::Result<Vec<PathBuf>> {
    if !dirs.is_empty() {
        return Ok(dirs);
    }
    let root = Path::new("reports/out");
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(usage(format!("{}: {e}", root.display()))),
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.join(harness::run::journal::JOURNAL_FILE).is_file() {
            found.push(p);
        }
    }
    found.sort();
    Ok(found)
}

pub fn run(command: StoreCommand) -> anyhow::Result<ExitCode> {
    on_thread(move || match command {
        StoreCommand::Import { dirs, store } => {
            import(&location(store.as_deref())?, dirs, "imported")
        }
        StoreCommand::Sync { dirs, store } => {
            import(&location(store.as_deref())?, run_folders(dirs)?, "synced")
        }
        StoreCommand::Check { dirs, store } => {
            check(&location(store.as_deref())?, run_folders(dirs)?)
        }
    })
}

fn import(loc: &Location, dirs: Vec<PathBuf>, verb: &str) -> anyhow::Result<ExitCode> {
    let mut s = Store::open(loc)?;
    let (mut points, mut unchanged, mut samples) = (0, 0, 0);
    let mut unreadable = 0;
    for dir in &dirs {
        // One unreadable folder must not keep the others out of the store.
        let (run_id, o) = match s.import(dir) {
            Ok(v) => v,
            Err(e @ store::StoreError::Folder { .. }) => {
                eprintln!("metrig: skipped {e}");
                unreadable += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        say!(
            "{}: run {run_id}: {} points written ({} samples), {} unchanged",
            dir.display(),
            o.points_written,
            o.samples_written,
            o.points_unchanged
        )?;
        points += o.points_written;
        unchanged += o.points_unchanged;
        samples += o.samples_written;
    }
    say!(
        "{verb} {} run folders into {loc}: {points} points written ({samples} samples), {unchanged} already there{}",
        dirs.len() - unreadable,
        if unreadable > 0 {
            format!("; {unreadable} folders unreadable")
        } else {
            String::new()
        }
    )?;
    Ok(ExitCode::from(if unreadable > 0 {
        EXIT_VERDICT_FAILED
    } else {
        EXIT_OK
    }))
}

fn check(loc: &Location, dirs: Vec<PathBuf>) -> anyhow::Result<ExitCode> {
    let mut s = Store::open(loc)?;
    let mut bad = 0;
    let (mut points, mut samples) = (0, 0);
    for dir in &dirs {
        let r = match s.check(dir) {
            Ok(r) => r,
            Err(e @ store::StoreError::Folder { .. }) => {
                bad += 1;
                say!("DIFF  {}: {e}", dir.display())?;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        points += r.points_checked;
        samples += r.samples_checked;
        if r.problems.is_empty() {
            say!(
                "ok    {} ({}): {} points, {} samples",
                r.run_id,
                dir.display(),
                r.points_checked,
                r.samples_checked
            )?;
        } else {
            bad += 1;
            say!("DIFF  {} ({}):", r.run_id, dir.display())?;
            for p in &r.problems {
                say!("      {p}")?;
            }
        }
    }
    say!(
        "{} run folders checked against {loc}: {points} points, {samples} samples; {bad} disagree",
        dirs.len()
    )?;
    Ok(ExitCode::from(if bad > 0 {
        EXIT_VERDICT_FAILED
    } else {
        EXIT_OK
    }))
}

/// A run's record from its folder, or from the store for a `store:` reference.
/// The signature of one side of `compare`: a folder's own, or for a
/// `store:` reference the folder the store says the run was written to.
pub fn signature_of(
    side: &Path,
    store: Option<&str>,
    run_id: &str,
) -> anyhow::Result<reports::signature::SignatureStatus> {
    let text = side.to_string_lossy();
    if !text.starts_with("store:") {
        return Ok(reports::signature::check(side, None));
    }
    let loc = location(store)?;
    let id = run_id.to_string();
    let dir = on_thread(move || Ok(Store::open(&loc)?.run_dir(&id)?))?;
    Ok(match dir {
        Some(d) if Path::new(&d).is_dir() => reports::signature::check(Path::new(&d), None),
        _ => reports::signature::SignatureStatus::Unsigned,
    })
}

pub fn read_record(side: &Path, store: Option<&str>) -> anyhow::Result<reports::Record> {
    let text = side.to_string_lossy();
    if !text.starts_with("store:") {
        return reports::integrity::trusted_record(side).map_err(|e| usage(e.to_string()));
    }
    let loc = location(store)?;
    let reference = text.into_owned();
    on_thread(move || {
        let mut s = Store::open(&loc)?;
        let run_id = s.resolve(&reference).map_err(|e| usage(e.to_string()))?;
        Ok(s.record(&run_id)?)
    })
}
