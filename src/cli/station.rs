//! `metrig station [--store URL] [--listen ADDR]`: the station page (issue
//! 18), a read-only web view of live runs and the store's history.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use station_page::{AppState, check_bind, load_token};
use store::Store;

use super::EXIT_OK;
use super::store::location;

#[derive(Debug, clap::Args)]
pub struct StationArgs {
    /// The store: a SQLite file or a postgres:// URL.
    #[arg(long)]
    store: Option<String>,
    /// Where to listen. Beyond loopback a token is required.
    #[arg(long, default_value = "127.0.0.1:8018")]
    listen: SocketAddr,
    /// A file holding the access token (else METRIG_STATION_TOKEN).
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
}

pub async fn run(args: StationArgs) -> anyhow::Result<ExitCode> {
    let token = load_token(args.token_file.as_deref()).map_err(|e| super::usage(e.to_string()))?;
    check_bind(args.listen, token.as_deref()).map_err(|e| super::usage(e.to_string()))?;
    let loc = location(args.store.as_deref())?;
    let shown = loc.to_string();
    // The store's drivers are synchronous (PostgreSQL runs its own runtime).
    let store = tokio::task::spawn_blocking(move || Store::open(&loc)).await??;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    say!(
        "metrig station: http://{addr}/ (store {shown}{})",
        if token.is_some() {
            ", token required"
        } else {
            ""
        }
    )?;
    let state = AppState::new(store, token).with_plan_compare(plan_compare);
    station_page::serve(listener, state).await?;
    Ok(ExitCode::from(EXIT_OK))
}

/// The compare page's thresholds: the `[compare]` table of a plan, read
/// with the suites this binary knows (as `metrig compare` reads it).
fn plan_compare(path: &std::path::Path) -> Result<harness::run::plan::CompareSettings, String> {
    harness::run::load_plan(path, &suites::catalogue())
        .map(|p| p.compare)
        .map_err(|e| e.to_string())
}
