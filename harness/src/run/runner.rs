//! The run: scheduling (plan, check, group: `schedule`), then the session's
//! start, each group measured (`execute`), the points' verdicts counted, and
//! — whatever happens: the end, Ctrl-C, SIGTERM, an instrument lost, a panic
//! in a suite — the session's one ending (`session`: source off, meters'
//! settings back, the run closed with its status).

use super::events::{Listener, RunEvent};
use super::execute::{PointEnd, measure_group};
use super::session::{BodyEnd, finish, start};
use crate::rig::Rig;

pub use super::cancel::{Cancel, CancelHandle, cancel_pair};
pub use super::request::{RunError, RunRequest, RunSummary};
pub use super::schedule::{
    Scheduling, check_points, check_rig_budget, finished_points, group_points, group_time,
    groups_time, plan_points, plan_rig_time, planned_rig_time, rig_time_by_suite, schedule,
    start_load,
};

pub async fn run(
    req: RunRequest<'_>,
    rig: &mut Rig,
    listeners: &mut [Box<dyn Listener>],
) -> Result<RunSummary, RunError> {
    // Every event passes the finite guard: a NaN becomes a recorded verdict,
    // never an unreadable journal.
    let mut guard = super::finite::FiniteGuard::default();
    let mut emit = |e: RunEvent| {
        for e in guard.admit(e) {
            for l in listeners.iter_mut() {
                l.on_event(&e);
            }
        }
    };
    let points = plan_points(req.plan, req.suites, rig)?;
    check_points(&points, rig)?;
    check_rig_budget(req.plan, &points, req.suites)?;
    let earlier = req
        .resume
        .as_deref()
        .map(finished_points)
        .unwrap_or_default();

    // From here on the rig may be energised: every path goes through `finish`.
    let mut snapshots = Vec::new();
    // The warm-up and the settling wait observe a stop request too.
    let mut stop_wait = req.cancel.clone();
    let started: BodyEnd = tokio::select! {
        biased;
        _ = stop_wait.cancelled() => Err((
            "stopped by request (Ctrl-C or SIGTERM) before the first point".to_string(),
            false,
        )),
        r = start(&req, rig, &points, &mut snapshots, &mut emit) => r.map_err(|e| (e.to_string(), true)),
    };
    let mut failures = earlier.values().filter(|v| v.is_failure()).count();
    let mut body: BodyEnd = started;
    if body.is_ok() {
        let wanted = |p: &super::suite::PointSpec| match &req.only {
            Some(only) => only.contains(&p.key()),
            None => !earlier.contains_key(&p.key()),
        };
        for group in group_points(&points, req.suites) {
            let ends = match measure_group(&points, &group, wanted, &req, rig, &mut emit).await {
                Ok(ends) => ends,
                Err(stop) => {
                    body = Err(stop);
                    break;
                }
            };
            let mut stop = None;
            for (key, end) in ends {
                let result = match end {
                    PointEnd::Measured(result) => result,
                    PointEnd::Stop(why, rig_fault) => {
                        stop.get_or_insert((why, rig_fault));
                        continue;
                    }
                };
                let before = earlier.get(&key).is_some_and(|v| v.is_failure());
                if result.verdict.is_failure() && !before {
                    failures += 1;
                }
                if !result.verdict.is_failure() && before {
                    failures = failures.saturating_sub(1);
                }
                emit(RunEvent::PointFinished {
                    key,
                    outcome: result,
                    at_s: rig.now().secs_f64(),
                });
            }
            if let Some(stop) = stop {
                body = Err(stop);
                break;
            }
        }
    }
    let (status, message, rig_failed) = finish(rig, &snapshots, body, &mut emit).await;
    Ok(RunSummary {
        status,
        message,
        failures,
        points: points.len(),
        rig_failed,
    })
}
