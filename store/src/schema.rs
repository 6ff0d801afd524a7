//! The schema, as numbered migrations applied in order and recorded in
//! `schema_migrations`. A migration, once released, never changes: a new
//! change is a new number. The same text runs on SQLite and PostgreSQL.
//!
//! Keys are the run's own names (run id, point key, sample index), not
//! database counters, so importing a run twice finds the rows it wrote and
//! adds nothing, and two rigs never compete for a sequence.

use crate::StoreError;
use crate::db::{Conn, Kind, Sql};

/// One schema change.
#[derive(Debug)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub statements: &'static [&'static str],
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "runs, meters, instruments, points, samples, findings",
        statements: &[
            "CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL,
            message TEXT NOT NULL,
            plan_name TEXT NOT NULL,
            plan_path TEXT NOT NULL,
            plan_sha256 TEXT NOT NULL,
            rig_name TEXT NOT NULL,
            rig_path TEXT NOT NULL,
            rig_sha256 TEXT NOT NULL,
            metrig_version TEXT NOT NULL,
            simulated BIGINT NOT NULL,
            seed TEXT NOT NULL,
            decision_rule TEXT NOT NULL,
            resumes BIGINT NOT NULL,
            points_planned BIGINT NOT NULL,
            run_dir TEXT,
            header_json TEXT NOT NULL,
            header_digest TEXT NOT NULL
        )",
            "CREATE INDEX runs_started ON runs (started_at)",
            "CREATE INDEX runs_rig_started ON runs (rig_name, started_at)",
            "CREATE INDEX runs_plan_started ON runs (plan_name, started_at)",
            "CREATE TABLE meters (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            position BIGINT NOT NULL,
            serial TEXT,
            firmware TEXT,
            model_id TEXT,
            profile_id TEXT NOT NULL,
            maker TEXT NOT NULL,
            model TEXT NOT NULL,
            profile_path TEXT NOT NULL,
            profile_sha256 TEXT NOT NULL,
            map_status TEXT NOT NULL,
            PRIMARY KEY (run_id, position)
        )",
            "CREATE INDEX meters_serial ON meters (serial, run_id)",
            "CREATE INDEX meters_firmware ON meters (firmware, run_id)",
            "CREATE TABLE instruments (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            ordinal BIGINT NOT NULL,
            role TEXT NOT NULL,
            maker TEXT NOT NULL,
            model TEXT NOT NULL,
            serial TEXT NOT NULL,
            firmware TEXT,
            calibration_due TEXT,
            simulated BIGINT NOT NULL,
            PRIMARY KEY (run_id, ordinal)
        )",
            "CREATE INDEX instruments_serial ON instruments (serial)",
            "CREATE TABLE points (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            point_key TEXT NOT NULL,
            suite TEXT NOT NULL,
            point_id TEXT NOT NULL,
            position BIGINT NOT NULL,
            title TEXT NOT NULL,
            verdict TEXT NOT NULL,
            mean_error_pct DOUBLE PRECISION,
            expanded_uncertainty_pct DOUBLE PRECISION,
            limit_pct DOUBLE PRECISION,
            limit_unit TEXT,
            limit_table TEXT,
            limit_row TEXT,
            limit_clause TEXT,
            decision_rule TEXT NOT NULL,
            loads TEXT NOT NULL,
            summary TEXT NOT NULL,
            attempts BIGINT NOT NULL,
            sample_count BIGINT NOT NULL,
            planned_rig_time_s DOUBLE PRECISION NOT NULL,
            limit_json TEXT,
            budget_json TEXT,
            details_json TEXT NOT NULL,
            loads_json TEXT NOT NULL,
            digest TEXT NOT NULL,
            PRIMARY KEY (run_id, point_key)
        )",
            "CREATE INDEX points_suite_id ON points (suite, point_id, position, run_id)",
            "CREATE INDEX points_verdict ON points (verdict, run_id)",
            "CREATE TABLE samples (
            run_id TEXT NOT NULL,
            point_key TEXT NOT NULL,
            idx BIGINT NOT NULL,
            at_s DOUBLE PRECISION,
            value DOUBLE PRECISION,
            unit TEXT NOT NULL,
            raw_json TEXT NOT NULL,
            PRIMARY KEY (run_id, point_key, idx)
        )",
            "CREATE TABLE findings (
            run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
            ordinal BIGINT NOT NULL,
            point_key TEXT,
            severity TEXT NOT NULL,
            text TEXT NOT NULL,
            PRIMARY KEY (run_id, ordinal)
        )",
        ],
    },
    Migration {
        version: 2,
        name: "run_progress: the heartbeat of a run in progress",
        statements: &[
            // One row per run, rewritten as the run goes: `updated_at` is the
            // wall-clock heartbeat that tells a live run from one whose process
            // died (its status stays `unfinished` either way); the rig-time
            // figures give the station page its progress and ETA (issue 18).
            "CREATE TABLE run_progress (
            run_id TEXT PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
            updated_at TEXT NOT NULL,
            state TEXT NOT NULL,
            point_key TEXT,
            point_title TEXT,
            point_loads TEXT,
            points_done BIGINT NOT NULL,
            points_planned BIGINT NOT NULL,
            rig_time_done_s DOUBLE PRECISION NOT NULL,
            rig_time_planned_s DOUBLE PRECISION NOT NULL,
            last_samples_json TEXT NOT NULL,
            last_verdicts_json TEXT NOT NULL
        )",
            "CREATE INDEX run_progress_updated ON run_progress (updated_at)",
        ],
    },
    Migration {
        version: 3,
        name: "points: the climate a point was measured in, and the U it was planned for",
        statements: &[
            // A point's logged conditions (temperature, humidity, whether
            // outside the plan's reference conditions: ISO/IEC 17025 §7.8.2.1
            // asks the report for them) and the planner's expected U; a run
            // read back from the store renders the same report as its folder.
            "ALTER TABLE points ADD COLUMN conditions_json TEXT",
            "ALTER TABLE points ADD COLUMN planned_u_json TEXT",
        ],
    },
];

/// The schema version this build writes and reads.
pub fn current_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies the migrations the database lacks, in one transaction. On
/// PostgreSQL an advisory lock makes rigs that start at once wait for the
/// first one's migration instead of racing it; on SQLite `BEGIN IMMEDIATE`
/// does the same.
pub fn migrate(conn: &mut Conn) -> Result<i64, StoreError> {
    conn.transaction(|tx| {
        if tx.kind() == Kind::Postgres {
            tx.exec("SELECT pg_advisory_xact_lock(72637)", &[])?;
        }
        tx.exec(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TEXT NOT NULL
            )",
            &[],
        )?;
        let have = found_version(tx)?;
        if have > current_version() {
            return Err(StoreError::Schema {
                found: have,
                expected: current_version(),
            });
        }
        for m in MIGRATIONS.iter().filter(|m| m.version > have) {
            for s in m.statements {
                tx.exec(s, &[])?;
            }
            tx.exec(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                &[
                    m.version.into(),
                    m.name.into(),
                    chrono::Utc::now().to_rfc3339().into(),
                ],
            )?;
        }
        Ok(current_version())
    })
}

fn found_version(tx: &mut dyn Sql) -> Result<i64, StoreError> {
    let rows = tx.rows("SELECT MAX(version) FROM schema_migrations", &[])?;
    Ok(rows.first().and_then(|r| r.first()).map_or(0, |c| c.int()))
}
