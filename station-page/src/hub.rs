//! Live updates for any number of browsers at the cost of one: one poller
//! per watched run reads the store's progress row and publishes it on a
//! `watch` channel, which holds only the newest value. A slow client skips
//! to the newest state instead of queueing, so memory stays bounded by the
//! number of runs watched, not by clients or time. The poller ends when its
//! last client leaves.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::server::AppState;

/// How often a watched run's progress is read from the store.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// What the live page's script receives, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveUpdate {
    pub run_id: String,
    /// `running`, `completed`, `interrupted`, `stopped`, or `unknown`.
    pub state: String,
    pub message: String,
    pub point_key: Option<String>,
    pub point_title: Option<String>,
    pub point_loads: Option<String>,
    pub points_done: usize,
    pub points_planned: usize,
    /// Rig-time progress, percent.
    pub progress_pct: f64,
    pub rig_time_done_s: f64,
    pub rig_time_planned_s: f64,
    pub eta_rig_s: f64,
    pub heartbeat_age_s: i64,
    pub updated_at: String,
    pub samples: Vec<store::LiveSample>,
    pub verdicts: Vec<store::LiveVerdict>,
}

impl LiveUpdate {
    pub fn from_live(l: &store::LiveRun) -> LiveUpdate {
        let p = &l.progress;
        LiveUpdate {
            run_id: l.run_id.clone(),
            state: l.state().to_string(),
            message: l.message.clone(),
            point_key: p.point_key.clone(),
            point_title: p.point_title.clone(),
            point_loads: p.point_loads.clone(),
            points_done: p.points_done,
            points_planned: p.points_planned,
            progress_pct: if p.rig_time_planned_s > 0.0 {
                (100.0 * p.rig_time_done_s / p.rig_time_planned_s).clamp(0.0, 100.0)
            } else {
                0.0
            },
            rig_time_done_s: p.rig_time_done_s,
            rig_time_planned_s: p.rig_time_planned_s,
            eta_rig_s: l.eta_rig_s(),
            heartbeat_age_s: l.heartbeat_age_s,
            updated_at: l.updated_at.clone(),
            samples: p.last_samples.clone(),
            verdicts: p.last_verdicts.clone(),
        }
    }

    fn unknown(run_id: &str) -> LiveUpdate {
        LiveUpdate {
            run_id: run_id.to_string(),
            state: "unknown".into(),
            message: "no progress of this run in the store".into(),
            point_key: None,
            point_title: None,
            point_loads: None,
            points_done: 0,
            points_planned: 0,
            progress_pct: 0.0,
            rig_time_done_s: 0.0,
            rig_time_planned_s: 0.0,
            eta_rig_s: 0.0,
            heartbeat_age_s: 0,
            updated_at: String::new(),
            samples: Vec::new(),
            verdicts: Vec::new(),
        }
    }
}

/// The pollers, by run id.
#[derive(Debug, Default)]
pub struct Hub {
    runs: Mutex<HashMap<String, watch::Sender<Arc<str>>>>,
}

impl Hub {
    /// How many runs are being polled now.
    pub fn watched(&self) -> usize {
        self.runs.lock().map_or(0, |m| m.len())
    }

    /// A receiver of `run_id`'s updates (JSON), starting its poller if none runs.
    pub fn subscribe(state: &AppState, run_id: &str) -> watch::Receiver<Arc<str>> {
        let Ok(mut runs) = state.hub.runs.lock() else {
            // A poisoned map: serve a channel that says so and never changes.
            let (_tx, rx) = watch::channel(Arc::from("{\"state\":\"unknown\"}"));
            return rx;
        };
        if let Some(tx) = runs.get(run_id) {
            return tx.subscribe();
        }
        let (tx, rx) = watch::channel(Arc::from(""));
        runs.insert(run_id.to_string(), tx.clone());
        drop(runs);
        tokio::spawn(poll(state.clone(), run_id.to_string(), tx));
        rx
    }
}

async fn poll(state: AppState, run_id: String, tx: watch::Sender<Arc<str>>) {
    let mut tick = tokio::time::interval(POLL_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        {
            // Leave under the map's lock, so a new client either finds this
            // poller still registered or starts a fresh one.
            let Ok(mut runs) = state.hub.runs.lock() else {
                return;
            };
            if tx.receiver_count() == 0 {
                runs.remove(&run_id);
                return;
            }
        }
        let id = run_id.clone();
        let read = state.with_store(move |s| s.live_run(&id)).await;
        let update = match read {
            Ok(Some(l)) => LiveUpdate::from_live(&l),
            Ok(None) => LiveUpdate::unknown(&run_id),
            Err(e) => {
                tracing::warn!("station page: reading progress of {run_id}: {e}");
                continue;
            }
        };
        let Ok(json) = serde_json::to_string(&update) else {
            continue;
        };
        tx.send_if_modified(|old| {
            if **old == *json {
                false
            } else {
                *old = Arc::from(json.as_str());
                true
            }
        });
    }
}
