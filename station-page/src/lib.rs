//! The station page (issue 18): a read-only web view of the rigs' live runs
//! and the results store's history, served by `metrig station`.
//!
//! Everything it shows comes from the store (crate `store`): a running run
//! is the store listener's `run_progress` row, updated as points start and
//! samples arrive; history, run, meter and compare pages are queries over the
//! same tables. No route can start, stop or change a run: the router has GET
//! routes only.
//!
//! Safe by default: bound to 127.0.0.1; bound beyond loopback it requires a
//! token and refuses to start without one ([`check_bind`]); every string
//! from a meter, a plan or a file is escaped by maud at render time.
//!
//! Owns: the routes, the SSE hub, the token check and the page templates.
//! May import: `store` (everything it shows), `reports` (the shared
//! fragments and plots) and `harness` (the run's types); never `suites` or
//! anything that opens a rig.

pub mod auth;
pub mod hub;
pub mod pages;
/// The plots are the report's own (`reports::html::plot`): one set for both.
pub use reports::html::plot;
pub mod server;

use std::net::SocketAddr;
use std::path::Path;

pub use server::{AppState, router, serve};

/// The environment variable a token may come from.
pub const TOKEN_ENV: &str = "METRIG_STATION_TOKEN";
/// A token shorter than this is refused: it would be guessable.
pub const MIN_TOKEN_LEN: usize = 16;
/// A token file larger than this is not a token file.
const MAX_TOKEN_FILE: u64 = 4096;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(
        "--listen {listen} is beyond loopback: give a token (--token-file FILE or {TOKEN_ENV}), or listen on 127.0.0.1"
    )]
    NoToken { listen: SocketAddr },
    #[error("{source_name}: the token must be at least {MIN_TOKEN_LEN} characters, found {found}")]
    ShortToken { source_name: String, found: usize },
    #[error("{path}: {message}")]
    TokenFile { path: String, message: String },
    #[error("cannot listen on {listen}: {message}")]
    Listen { listen: SocketAddr, message: String },
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Plot(#[from] reports::html::plot::PlotError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadQuery(String),
    #[error("the store worker stopped: {0}")]
    Worker(String),
}

/// Reads a token from `file` if given, else from [`TOKEN_ENV`]; `None` if
/// neither is set. A token is trimmed and must be [`MIN_TOKEN_LEN`] long.
pub fn load_token(file: Option<&Path>) -> Result<Option<String>, PageError> {
    let (token, source_name) = match file {
        Some(path) => {
            let bad = |message: String| PageError::TokenFile {
                path: path.display().to_string(),
                message,
            };
            let len = std::fs::metadata(path)
                .map_err(|e| bad(e.to_string()))?
                .len();
            if len > MAX_TOKEN_FILE {
                return Err(bad(format!(
                    "{len} bytes: a token file holds one line of at most {MAX_TOKEN_FILE} bytes"
                )));
            }
            let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
            (text.trim().to_string(), path.display().to_string())
        }
        None => match std::env::var(TOKEN_ENV) {
            Ok(t) => (t.trim().to_string(), TOKEN_ENV.to_string()),
            Err(_) => return Ok(None),
        },
    };
    if token.chars().count() < MIN_TOKEN_LEN {
        return Err(PageError::ShortToken {
            source_name,
            found: token.chars().count(),
        });
    }
    Ok(Some(token))
}

/// Refuses a bind beyond loopback without a token: the page shows a lab's
/// meters, serials and results, which are not for the whole network.
pub fn check_bind(listen: SocketAddr, token: Option<&str>) -> Result<(), PageError> {
    if listen.ip().is_loopback() || token.is_some_and(|t| !t.is_empty()) {
        Ok(())
    } else {
        Err(PageError::NoToken { listen })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_needs_no_token_and_anything_else_does() {
        let lo: SocketAddr = "127.0.0.1:8080".parse().expect("addr");
        let lo6: SocketAddr = "[::1]:8080".parse().expect("addr");
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        assert!(check_bind(lo, None).is_ok());
        assert!(check_bind(lo6, None).is_ok());
        assert!(matches!(
            check_bind(any, None),
            Err(PageError::NoToken { .. })
        ));
        assert!(matches!(
            check_bind(any, Some("")),
            Err(PageError::NoToken { .. })
        ));
        assert!(check_bind(any, Some("0123456789abcdef")).is_ok());
    }

    #[test]
    fn a_short_or_oversized_token_file_is_refused_by_name() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let short = tmp.path().join("short");
        std::fs::write(&short, "abc\n").expect("write");
        let e = load_token(Some(&short)).expect_err("short token");
        assert!(e.to_string().contains("short"), "{e}");
        assert!(e.to_string().contains("16"), "{e}");
        let big = tmp.path().join("big");
        std::fs::write(&big, "x".repeat(5000)).expect("write");
        assert!(matches!(
            load_token(Some(&big)),
            Err(PageError::TokenFile { .. })
        ));
        let good = tmp.path().join("good");
        std::fs::write(&good, "0123456789abcdefXYZ\n").expect("write");
        assert_eq!(
            load_token(Some(&good)).expect("good").as_deref(),
            Some("0123456789abcdefXYZ")
        );
    }
}
