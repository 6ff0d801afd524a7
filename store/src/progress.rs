//! How far a run in progress has got, for the station page's live view
//! (issue 18). The listener rewrites one `run_progress` row per run as
//! points start and samples arrive; the row's `updated_at` is a wall-clock
//! heartbeat, so a run whose process died (status still `unfinished`) is
//! told apart from one still running.

use serde::Serialize;

use crate::db::Value;
use crate::{Store, StoreError};

/// A run without a heartbeat for this long is shown as stopped: the
/// listener beats at least at every point start and every sample, and no
/// sample interval of a plan is this long.
pub const STALE_AFTER_S: i64 = 120;

/// One sample as the live view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LiveSample {
    pub point_key: String,
    pub index: usize,
    /// Rig time, seconds.
    pub at_s: f64,
    pub value: f64,
    pub unit: String,
}

/// A finished point as the live view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct LiveVerdict {
    pub point_key: String,
    pub verdict: String,
    pub mean_error_pct: Option<f64>,
}

/// What the listener writes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    pub run_id: String,
    /// `running` or `finished`.
    pub state: String,
    pub point_key: Option<String>,
    pub point_title: Option<String>,
    pub point_loads: Option<String>,
    pub points_done: usize,
    pub points_planned: usize,
    /// Planned rig time of the finished points plus the rig time spent in
    /// the current one, seconds.
    pub rig_time_done_s: f64,
    /// Planned rig time of the whole plan, seconds.
    pub rig_time_planned_s: f64,
    /// The newest samples, oldest first (at most [`LAST_SAMPLES`]).
    pub last_samples: Vec<LiveSample>,
    /// The newest finished points, newest last (at most [`LAST_SAMPLES`]).
    pub last_verdicts: Vec<LiveVerdict>,
}

/// How many recent samples the live view keeps.
pub const LAST_SAMPLES: usize = 8;

/// A run as the live view shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveRun {
    pub run_id: String,
    pub plan: String,
    pub rig: String,
    pub started_at: String,
    /// The record's status: `unfinished` while it runs.
    pub status: String,
    pub message: String,
    pub updated_at: String,
    /// Seconds since the last heartbeat, by the reader's clock.
    pub heartbeat_age_s: i64,
    pub progress: Progress,
    /// The meters' serials, by position.
    pub meters: Vec<String>,
}

impl LiveRun {
    /// `running`, `completed`, `interrupted`, or `stopped` (no end
    /// journaled and no heartbeat for [`STALE_AFTER_S`]: killed or lost).
    pub fn state(&self) -> &'static str {
        match self.status.as_str() {
            "completed" => "completed",
            "interrupted" => "interrupted",
            _ if self.heartbeat_age_s > STALE_AFTER_S => "stopped",
            _ => "running",
        }
    }

    /// Rig time still to go, seconds (planned).
    pub fn eta_rig_s(&self) -> f64 {
        (self.progress.rig_time_planned_s - self.progress.rig_time_done_s).max(0.0)
    }
}

impl Store {
    /// Writes (replaces) the progress row of a run whose header is stored.
    pub fn save_progress(&mut self, p: &Progress) -> Result<(), StoreError> {
        let bad =
            |e: serde_json::Error| StoreError::Corrupt(format!("progress of {}: {e}", p.run_id));
        let samples = serde_json::to_string(&p.last_samples).map_err(bad)?;
        let verdicts = serde_json::to_string(&p.last_verdicts).map_err(bad)?;
        let params: Vec<Value> = vec![
            p.run_id.as_str().into(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into(),
            p.state.as_str().into(),
            p.point_key.clone().into(),
            p.point_title.clone().into(),
            p.point_loads.clone().into(),
            p.points_done.into(),
            p.points_planned.into(),
            p.rig_time_done_s.into(),
            p.rig_time_planned_s.into(),
            samples.into(),
            verdicts.into(),
        ];
        self.conn.sql().exec(
            "INSERT INTO run_progress (run_id, updated_at, state, point_key, point_title,
                point_loads, points_done, points_planned, rig_time_done_s, rig_time_planned_s,
                last_samples_json, last_verdicts_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (run_id) DO UPDATE SET
                updated_at = excluded.updated_at, state = excluded.state,
                point_key = excluded.point_key, point_title = excluded.point_title,
                point_loads = excluded.point_loads, points_done = excluded.points_done,
                points_planned = excluded.points_planned,
                rig_time_done_s = excluded.rig_time_done_s,
                rig_time_planned_s = excluded.rig_time_planned_s,
                last_samples_json = excluded.last_samples_json,
                last_verdicts_json = excluded.last_verdicts_json",
            &params,
        )?;
        Ok(())
    }

    /// Runs with a progress row, newest heartbeat first: those running, and
    /// the most recent `limit` that stopped, so a stopped run says so.
    pub fn live_runs(&mut self, limit: usize) -> Result<Vec<LiveRun>, StoreError> {
        self.live_where("", &[], limit)
    }

    /// One run's live state, if it ever had a progress row.
    pub fn live_run(&mut self, run_id: &str) -> Result<Option<LiveRun>, StoreError> {
        Ok(self
            .live_where("WHERE r.run_id = $1", &[run_id.into()], 1)?
            .pop())
    }

    fn live_where(
        &mut self,
        wher: &str,
        params: &[Value],
        limit: usize,
    ) -> Result<Vec<LiveRun>, StoreError> {
        let now = chrono::Utc::now();
        let sql = self.conn.sql();
        let rows = sql.rows(
            &format!(
                "SELECT r.run_id, r.plan_name, r.rig_name, r.started_at, r.status, r.message,
                    p.updated_at, p.state, p.point_key, p.point_title, p.point_loads,
                    p.points_done, p.points_planned, p.rig_time_done_s, p.rig_time_planned_s,
                    p.last_samples_json, p.last_verdicts_json
                 FROM run_progress p JOIN runs r ON r.run_id = p.run_id {wher}
                 ORDER BY p.updated_at DESC LIMIT {limit}"
            ),
            params,
        )?;
        let mut out = Vec::new();
        for r in rows {
            let run_id = r[0].text();
            let updated_at = r[6].text();
            let age = chrono::DateTime::parse_from_rfc3339(&updated_at)
                .map(|t| (now - t.with_timezone(&chrono::Utc)).num_seconds())
                .unwrap_or(i64::MAX);
            let last_samples: Vec<LiveSample> =
                serde_json::from_str(&r[15].text()).map_err(|e| {
                    StoreError::Corrupt(format!("run {run_id}: last_samples_json: {e}"))
                })?;
            let meters = sql
                .rows(
                    "SELECT serial FROM meters WHERE run_id = $1 ORDER BY position",
                    &[run_id.as_str().into()],
                )?
                .into_iter()
                .map(|m| m[0].opt_text().unwrap_or_else(|| "?".into()))
                .collect();
            let last_verdicts: Vec<LiveVerdict> =
                serde_json::from_str(&r[16].text()).map_err(|e| {
                    StoreError::Corrupt(format!("run {run_id}: last_verdicts_json: {e}"))
                })?;
            out.push(LiveRun {
                progress: Progress {
                    run_id: run_id.clone(),
                    state: r[7].text(),
                    point_key: r[8].opt_text(),
                    point_title: r[9].opt_text(),
                    point_loads: r[10].opt_text(),
                    points_done: usize::try_from(r[11].int()).unwrap_or(0),
                    points_planned: usize::try_from(r[12].int()).unwrap_or(0),
                    rig_time_done_s: r[13].real().unwrap_or(0.0),
                    rig_time_planned_s: r[14].real().unwrap_or(0.0),
                    last_samples,
                    last_verdicts,
                },
                run_id,
                plan: r[1].text(),
                rig: r[2].text(),
                started_at: r[3].text(),
                status: r[4].text(),
                message: r[5].text(),
                updated_at,
                heartbeat_age_s: age,
                meters,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: &str, age: i64) -> LiveRun {
        LiveRun {
            run_id: "r".into(),
            plan: "p".into(),
            rig: "g".into(),
            started_at: String::new(),
            status: status.into(),
            message: String::new(),
            updated_at: String::new(),
            heartbeat_age_s: age,
            progress: Progress {
                run_id: "r".into(),
                state: "running".into(),
                point_key: None,
                point_title: None,
                point_loads: None,
                points_done: 1,
                points_planned: 4,
                rig_time_done_s: 30.0,
                rig_time_planned_s: 100.0,
                last_samples: Vec::new(),
                last_verdicts: Vec::new(),
            },
            meters: Vec::new(),
        }
    }

    #[test]
    fn a_run_without_a_heartbeat_is_stopped_and_an_interrupted_one_says_so() {
        assert_eq!(run("unfinished", 1).state(), "running");
        assert_eq!(run("unfinished", STALE_AFTER_S + 1).state(), "stopped");
        assert_eq!(run("interrupted", 1).state(), "interrupted");
        assert_eq!(run("completed", 9999).state(), "completed");
        assert!((run("unfinished", 1).eta_rig_s() - 70.0).abs() < 1e-9);
    }
}
