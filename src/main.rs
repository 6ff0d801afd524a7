//! metrig — hardware-in-the-loop conformance test harness for MID electricity meters.
//!
//! Owns: the command line, exit codes, and errors' last words (anyhow lives here only).
//! May import: every crate of the workspace.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("METRIG_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only on a terminal: a log file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("metrig: cannot start the async runtime: {e}");
            return ExitCode::from(cli::EXIT_RIG_FAILED);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) if cli::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("metrig: {}", cli::clean(&cli::error_text(&e)));
            ExitCode::from(cli::exit_code_for(&e))
        }
    }
}
