//! The results store: every run in a database a lab can query by hand —
//! an embedded SQLite file beside the runs by default, or one PostgreSQL
//! that a fleet of rigs shares. The run folder and its journal stay the
//! run's own proof; the store is an index over them for history, trends and
//! the firmware gate, and can always be rebuilt from the folders
//! (`metrig store import`, `metrig store sync`).
//!
//! Owns: the schema and its migrations, writing runs, the history, trend
//! and stored-record queries, the live runs' progress rows.
//! May import: `model`, `reports` (the record it stores) and `harness`
//! (the run's events, as a listener); never `suites`, the station page or
//! the command line.

pub mod check;
pub mod config;
pub mod db;
pub mod listener;
pub mod progress;
pub mod query;
pub mod schema;
pub mod testing;
pub mod trend;
pub mod write;

use std::path::{Path, PathBuf};

pub use config::Location;
pub use db::{Cell, Kind, Value};
pub use listener::StoreListener;
pub use progress::{LiveRun, LiveSample, LiveVerdict, Progress};
pub use query::{HistoryFilter, RunRow, TrendRow};
pub use write::{Points, SaveOutcome};

use db::Conn;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store {location}: {message}")]
    Open { location: String, message: String },
    #[error("SQLite: {0}")]
    Sqlite(String),
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error(
        "the store's schema is version {found}; this metrig knows up to {expected}: use a newer metrig"
    )]
    Schema { found: i64, expected: i64 },
    #[error("{file}: {message}")]
    Config { file: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{path}: {message}")]
    Folder { path: String, message: String },
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn sqlite(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e.to_string())
    }
    pub(crate) fn postgres(e: postgres::Error) -> Self {
        // The server's own message (constraint, column) is in the source.
        let mut text = e.to_string();
        if let Some(db) = e.as_db_error() {
            text = format!("{}: {}", db.code().code(), db.message());
        }
        StoreError::Postgres(text)
    }
}

/// An open store, migrated to this build's schema.
#[derive(Debug)]
pub struct Store {
    conn: Conn,
    location: Location,
}

impl Store {
    /// Opens (creating it if needed) and migrates the store at `location`.
    pub fn open(location: &Location) -> Result<Store, StoreError> {
        let open_err = |message: String| StoreError::Open {
            location: location.to_string(),
            message,
        };
        let conn = match location {
            Location::Sqlite(path) => Conn::Sqlite(open_sqlite(path).map_err(open_err)?),
            Location::Postgres(url) => {
                Conn::Postgres(Box::new(open_postgres(url).map_err(open_err)?))
            }
        };
        let mut store = Store {
            conn,
            location: location.clone(),
        };
        schema::migrate(&mut store.conn).map_err(|e| match e {
            e @ StoreError::Schema { .. } => e,
            e => open_err(format!("migrating the schema: {e}")),
        })?;
        Ok(store)
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn kind(&mut self) -> Kind {
        self.conn.sql().kind()
    }

    /// The schema version the store is at.
    pub fn schema_version(&mut self) -> Result<i64, StoreError> {
        let rows = self
            .conn
            .sql()
            .rows("SELECT MAX(version) FROM schema_migrations", &[])?;
        Ok(rows.first().and_then(|r| r.first()).map_or(0, Cell::int))
    }

    /// Raw access for benchmarks and tests that compare with the bare driver.
    pub fn sql(&mut self) -> &mut dyn db::Sql {
        self.conn.sql()
    }

    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut dyn db::Sql) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.conn.transaction(f)
    }
}

/// WAL lets a second process read while a run writes; `synchronous=NORMAL`
/// in WAL mode survives a killed process (a host power cut may lose the
/// last transactions, which the journal still holds and `store sync`
/// restores). The busy timeout makes two writers queue instead of failing.
///
/// Switching a new file to WAL needs the file to itself, and SQLite answers
/// "database is locked" at once, without its busy handler, when rigs that
/// start together race for it: the opening is tried again for as long as
/// the busy timeout would have waited.
fn open_sqlite(path: &Path) -> Result<rusqlite::Connection, String> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(5);
    loop {
        match try_open_sqlite(path) {
            Ok(conn) => return Ok(conn),
            Err(e) if is_busy(&e) && started.elapsed() < SQLITE_BUSY_TIMEOUT => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(200));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// How long a writer waits for another before the store counts as failed.
const SQLITE_BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

fn try_open_sqlite(path: &Path) -> Result<rusqlite::Connection, rusqlite::Error> {
    let conn = rusqlite::Connection::open(path)?;
    conn.busy_timeout(SQLITE_BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn open_postgres(url: &str) -> Result<postgres::Client, String> {
    let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| e.to_string())?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(5));
    }
    config.connect(postgres::NoTls).map_err(|e| e.to_string())
}

/// The default store: beside the runs.
pub fn default_sqlite_path() -> PathBuf {
    PathBuf::from("reports/out/metrig.sqlite")
}
