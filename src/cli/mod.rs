//! The command line: one file a subcommand.
//!
//! Owns: argument parsing, screens and exit codes (anyhow at this edge only).
//! May import: every crate of the workspace; it opens rigs through
//! `harness::station`. `sim` and `flash` name the simulator and the probe
//! driver directly: serving a simulated meter alone and listing probes are
//! what those commands are.

/// Prints a line to stdout, returning an error instead of panicking when
/// stdout is closed (`metrig read ... | head`).
/// Strings from files and meters are printed without terminal escapes.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), "{}", crate::cli::terminal::clean(&format!($($arg)*)))
    }};
}

mod compare;
mod doctor;
mod flash;
mod history;
mod list;
mod progress;
mod read;
mod report;
mod run;
mod sign;
mod sim;
mod station;
mod store;
mod study;
mod terminal;
mod trend;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::files::FileError;
use harness::rig::RigError;
pub use terminal::clean;

/// Exit codes (README, "Exit codes").
pub const EXIT_OK: u8 = 0;
pub const EXIT_BAD_INPUT: u8 = 2;
pub const EXIT_RIG_FAILED: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "metrig",
    version,
    about = "Conformance test harness for MID electricity meters"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read and print every readable quantity of a meter through its profile.
    Read {
        /// The rig file (e.g. fixtures/rigs/sim.toml).
        #[arg(long)]
        rig: PathBuf,
        /// Which position (1-based).
        #[arg(long, default_value_t = 1)]
        position: usize,
        /// Load point to apply first, e.g. "230V 10A 0.5L 50Hz" (default on a
        /// simulated rig: Un, Iref, PF 1, fn).
        #[arg(long)]
        load: Option<String>,
        /// One JSON object (load, meter, link, readings), for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Flash firmware through a debug probe (probe-rs) and verify it, or
    /// list the probes attached.
    Flash {
        /// The target chip as probe-rs names it, e.g. STM32G071RBTx.
        #[arg(long, required_unless_present = "list_probes")]
        chip: Option<String>,
        /// The firmware image (ELF).
        #[arg(long, required_unless_present = "list_probes")]
        elf: Option<PathBuf>,
        /// Which probe: VID:PID or VID:PID:SERIAL (hex); needed when several are attached.
        #[arg(long)]
        probe: Option<String>,
        /// List the attached probes and stop.
        #[arg(long)]
        list_probes: bool,
    },
    /// A simulated meter on its own, served over Modbus for third-party tools.
    Sim {
        #[command(subcommand)]
        command: sim::SimCommand,
    },
    /// Check that each instrument of a rig answers and say what it is.
    Doctor {
        /// The rig file (e.g. fixtures/rigs/sim.toml).
        #[arg(long)]
        rig: PathBuf,
        /// Also check every load point of this plan against the rig's and
        /// the meters' limits (nothing is energised).
        #[arg(long)]
        plan: Option<PathBuf>,
        /// One JSON object (rig, checks, failures), for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Run a plan on a rig.
    Run(run::RunArgs),
    /// The suites built in, and their limit tables.
    List {
        /// One JSON object (suites, limit rows), for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Re-render a run's reports from its record.
    Report {
        /// The run folder (holding journal.jsonl and record.json).
        dir: PathBuf,
        /// Print one format to stdout instead of writing every file:
        /// html, md, junit or csv.
        #[arg(long)]
        format: Option<String>,
        /// Also print report.pdf from report.html (headless Chromium on PATH).
        #[arg(long)]
        pdf: bool,
    },
    /// Compare a candidate run with a baseline: exit 1 on a regression, 4
    /// when the runs cannot be compared (missing points, too few samples,
    /// other meters or plans). Either may be a run folder or a store
    /// reference: `store:RUN_ID` or `store:latest?rig=R&plan=P&firmware=V&meter=S`.
    Compare {
        /// The run to compare against: a run folder or a `store:` reference.
        baseline: PathBuf,
        /// The run under test (e.g. the new firmware's): a run folder or a
        /// `store:` reference.
        candidate: PathBuf,
        /// The plan whose `[compare]` thresholds apply, when the candidate's
        /// folder holds no copy of it (checked against the record's hash).
        #[arg(long)]
        plan: Option<PathBuf>,
        /// The store that `store:` references read (a SQLite file or a postgres:// URL).
        #[arg(long)]
        store: Option<String>,
        /// One JSON object (every point's change and verdict), for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The runs in the results store, newest first.
    History(history::HistoryArgs),
    /// One point of one meter run after run: table, plot and drift.
    Trend(trend::TrendArgs),
    /// The station page: live runs and history in a browser (read-only).
    Station(station::StationArgs),
    /// The results store against the run folders: import, check, sync.
    Store {
        #[command(subcommand)]
        command: store::StoreCommand,
    },
    /// Studies of the rig itself: `reproducibility` measures the type A
    /// floor its rig file declares.
    Study {
        #[command(subcommand)]
        command: study::StudyCommand,
    },
    /// Say whether a run folder is intact: its journal's hash chain, its
    /// record and reports, its signature (exit 0 intact, 5 not).
    Verify {
        /// The run folder.
        dir: PathBuf,
        /// The public key the run must be signed with (a `.pub` file from
        /// `metrig sign --new-key`); without it an unsigned run can be intact.
        #[arg(long, value_name = "PUB")]
        key: Option<PathBuf>,
    },
    /// Sign an intact run folder with an ed25519 key (`--key FILE`), or make
    /// a key pair (`--new-key FILE`).
    Sign(sign::SignArgs),
    /// Print a shell completion script for metrig (e.g. `metrig completions
    /// bash > ~/.local/share/bash-completion/completions/metrig`).
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print metrig's man page (roff) on stdout (e.g. `metrig man > metrig.1`).
    Man,
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Read {
            rig,
            position,
            load,
            json,
        } => read::run(&rig, position, load.as_deref(), json).await,
        Command::Sim { command } => sim::run(command).await,
        Command::Flash {
            chip,
            elf,
            probe,
            list_probes,
        } => flash::run(chip, elf, probe, list_probes).await,
        Command::Doctor { rig, plan, json } => doctor::run(&rig, plan.as_deref(), json).await,
        Command::Run(args) => run::run(args).await,
        Command::List { json } => list::run(json),
        Command::Report { dir, format, pdf } => report::run(&dir, format.as_deref(), pdf),
        Command::Compare {
            baseline,
            candidate,
            plan,
            store,
            json,
        } => compare::run(
            &baseline,
            &candidate,
            plan.as_deref(),
            store.as_deref(),
            json,
        ),
        Command::History(args) => history::run(args),
        Command::Trend(args) => trend::run(args),
        Command::Station(args) => station::run(args).await,
        Command::Store { command } => store::run(command),
        Command::Study { command } => study::run(command).await,
        Command::Verify { dir, key } => verify::run(&dir, key.as_deref()),
        Command::Sign(args) => sign::run(args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "metrig", &mut std::io::stdout());
            Ok(ExitCode::from(EXIT_OK))
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
            Ok(ExitCode::from(EXIT_OK))
        }
    }
}

/// The error and its causes, each cause only once: the library errors
/// already name their source in their own message.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if !text.contains(&c) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&c);
        }
    }
    text
}

/// True when the error is only a closed stdout: not worth a message.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The one exit-code table: the first error in the chain that the table
/// knows decides.
///
/// | error                                            | exit |
/// |--------------------------------------------------|------|
/// | a refused file (profile, plan, rig: `FileError`) | 2    |
/// | a usage error, a load point beyond the limits    | 2    |
/// | a run folder's journal or integrity refused      | 2    |
/// | an instrument or link that fails                 | 3    |
/// | anything else                                    | 3    |
pub fn exit_code_for(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if let Some(r) = cause.downcast_ref::<RigError>() {
            return match r {
                RigError::Safety(_) => EXIT_BAD_INPUT,
                RigError::Instrument { .. } | RigError::Link { .. } => EXIT_RIG_FAILED,
            };
        }
        if cause.downcast_ref::<FileError>().is_some()
            || cause.downcast_ref::<UsageError>().is_some()
            || cause
                .downcast_ref::<harness::run::journal::JournalError>()
                .is_some()
            || cause
                .downcast_ref::<reports::integrity::IntegrityError>()
                .is_some()
        {
            return EXIT_BAD_INPUT;
        }
    }
    EXIT_RIG_FAILED
}

/// A command-line argument that makes no sense.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    /// Every command and argument a user can type has a help text
    /// (`metrig help`, the man page and the completions show them).
    #[test]
    fn every_command_and_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd.get_about().is_none() && path != " metrig" {
                missing.push(format!("{path}: no description"));
            }
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none() {
                    missing.push(format!("{path} {id}: no help"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &path, missing);
                }
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "{missing:#?}");
    }

    #[test]
    fn flash_and_sim_have_their_own_descriptions() {
        let cli = Cli::command();
        let about = |name: &str| {
            cli.find_subcommand(name)
                .and_then(|c| c.get_about())
                .map(|a| a.to_string())
                .unwrap_or_default()
        };
        assert!(about("flash").contains("debug probe"), "{}", about("flash"));
        assert!(about("sim").contains("simulated meter"), "{}", about("sim"));
    }

    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
