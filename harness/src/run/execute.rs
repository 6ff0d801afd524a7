//! Execution: measuring one point, or one group of points at once in
//! lockstep (a point on every position, points of several suites sharing a
//! dwell); measuring a point again after its meter rebooted (as
//! the rig file's retry policy says); a suite's panic caught and turned into
//! a stop; the point's verdict when it could not be measured.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt as _;

use super::cancel::Cancel;
use super::events::{RunEvent, Severity};
use super::plan::Plan;
use super::request::RunRequest;
use super::suite::{PointIo, PointOutcome, PointSpec, Suite, SuiteError};
use crate::rig::Rig;
use crate::stats::Verdict;

/// How one point's measurement ended.
pub(crate) enum PointEnd {
    Measured(PointOutcome),
    /// The run stops: why, and whether the rig (not a request) stopped it.
    Stop(String, bool),
}

/// Measures `points` at once, each on its own view of the rig, the bench
/// in lockstep: one point of one suite on several positions, and/or points
/// of different suites sharing one dwell (`run::dwell`), each measured by
/// its own suite (`suites[i]` measures `points[i]`).
pub(crate) async fn measure_together(
    points: &[&PointSpec],
    suites: &[Arc<dyn Suite>],
    plan: &Plan,
    rig: &mut Rig,
    emit: &mut (dyn FnMut(RunEvent) + Send),
    cancel: &Cancel,
) -> Vec<(String, PointEnd)> {
    let members: Vec<usize> = points.iter().map(|p| p.position).collect();
    let (mut views, lent) = crate::rig::lockstep::views::split(rig, &members);
    let bench = lent.bench();
    let shared = std::sync::Mutex::new(emit);
    let each = views
        .iter_mut()
        .zip(points.iter().zip(suites))
        .enumerate()
        .map(|(me, (view, (point, suite)))| {
            let (shared, bench, cancel) = (&shared, bench.clone(), cancel.clone());
            async move {
                let mut emit_one = |e: RunEvent| {
                    let mut emit = shared.lock().unwrap_or_else(|p| p.into_inner());
                    (*emit)(e)
                };
                let end = measure_point(point, suite, plan, view, &mut emit_one, cancel).await;
                bench.finish(me).await;
                (point.key(), end)
            }
        });
    let ends = futures::future::join_all(each).await;
    drop(bench);
    crate::rig::lockstep::views::join(rig, views, lent);
    ends
}

/// Measures one point, measuring it again once if its meter stopped
/// answering and came back (a reboot), as the rig file's retry policy says.
pub(crate) async fn measure_point(
    point: &PointSpec,
    suite: &Arc<dyn Suite>,
    plan: &Plan,
    rig: &mut Rig,
    emit: &mut (dyn FnMut(RunEvent) + Send),
    mut cancel: Cancel,
) -> PointEnd {
    let key = point.key();
    let policy = rig
        .config
        .positions
        .get(point.position)
        .map(|p| p.retry)
        .unwrap_or_default();
    let mut attempt = 0;
    let measured = loop {
        attempt += 1;
        emit(RunEvent::PointStarted {
            key: key.clone(),
            at_s: rig.now().secs_f64(),
        });
        rig.prepare_point(&key);
        let mut io = PointIo {
            emit: &mut *emit,
            key: key.clone(),
            samples: Vec::new(),
            decision_rule: plan.decision_rule,
            settle: plan.settle,
            repetitions: plan.repetitions_for(&point.suite),
            sequential: match (plan.stopping, &point.limit) {
                (super::plan::Stopping::Sequential, Some(l)) if l.unit == "%" => Some((
                    crate::stats::SequentialRule::new(plan.repetitions_for(&point.suite)),
                    l.limit_pct,
                )),
                _ => None,
            },
        };
        let measured = {
            let fut = AssertUnwindSafe(suite.run(point, rig, &mut io)).catch_unwind();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => None,
                r = fut => Some(r),
            }
        };
        drop(io);
        for (position, note) in take_retries(rig) {
            emit(finding(
                &key,
                Severity::Warning,
                format!("position {}: {note}", position + 1),
            ));
        }
        let Some(Ok(Err(SuiteError::Link(e)))) = &measured else {
            break measured;
        };
        if !crate::rig::retry::is_loss(e) {
            break measured;
        }
        if policy.on_lost == crate::rig::retry::OnLost::Run {
            return PointEnd::Stop(
                format!(
                    "{key}: the meter at position {} is lost ({e}); the rig file says a lost meter stops the run",
                    point.position + 1
                ),
                true,
            );
        }
        if attempt > 1 {
            break measured;
        }
        // A meter that stops answering mid-point may be rebooting:
        // wait for it, then measure the point again from its start.
        match wait_for_meter(rig, point.position, policy.wait_for_meter).await {
            Some(after) => emit(finding(
                &key,
                Severity::Warning,
                format!(
                    "the meter at position {} stopped answering ({e}) and answered again after {} s (a reboot?): the point was measured again",
                    point.position + 1,
                    after.as_secs()
                ),
            )),
            None => break measured,
        }
    };
    match measured {
        None => PointEnd::Stop("stopped by request (Ctrl-C or SIGTERM)".into(), false),
        Some(Err(panic)) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into());
            PointEnd::Stop(
                format!("suite {} panicked at {key}: {what}", point.suite),
                true,
            )
        }
        Some(Ok(Err(SuiteError::Rig(e)))) => {
            PointEnd::Stop(format!("{key}: the rig failed: {e}"), true)
        }
        Some(Ok(Err(e))) => PointEnd::Measured(PointOutcome {
            verdict: Verdict::Error,
            mean_error_pct: None,
            expanded_uncertainty_pct: None,
            limit_pct: point.limit.as_ref().map(|l| l.limit_pct),
            budget: None,
            summary: format!("could not measure: {e}"),
            details: serde_json::Value::Null,
        }),
        Some(Ok(Ok(o))) => PointEnd::Measured(o),
    }
}

/// Every position's retries since the last call.
fn take_retries(rig: &mut Rig) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, p) in rig.positions.iter_mut().enumerate() {
        if let Some(link) = p.link.as_mut() {
            out.extend(link.take_retries().into_iter().map(|n| (i, n)));
        }
    }
    out
}

fn finding(key: &str, severity: Severity, text: String) -> RunEvent {
    RunEvent::Finding {
        finding: super::events::Finding {
            key: Some(key.to_string()),
            severity,
            text,
        },
    }
}

/// Waits (rig time: a simulated reboot passes while the simulated rig
/// dwells) for a lost meter to answer; how long it took, or `None`.
async fn wait_for_meter(rig: &mut Rig, position: usize, max: Duration) -> Option<Duration> {
    let step = Duration::from_secs(1);
    let mut waited = Duration::ZERO;
    while waited < max {
        rig.dwell(step).await;
        waited += step;
        let link = rig.positions.get_mut(position)?.link.as_mut()?;
        if link.identify().await.is_ok() {
            let _ = link.take_retries();
            return Some(waited);
        }
        let _ = link.take_retries();
    }
    None
}

/// Measures one group (see `schedule::group_points`): the one point alone,
/// or the same point on every position at once, or the points of a shared
/// dwell at once (issue 20). Points left out by
/// `wanted` (resumed, or not in `--rerun-failed`) are not measured.
pub(crate) async fn measure_group(
    points: &[PointSpec],
    group: &[usize],
    wanted: impl Fn(&PointSpec) -> bool,
    req: &RunRequest<'_>,
    rig: &mut Rig,
    emit: &mut (dyn FnMut(RunEvent) + Send),
) -> Result<Vec<(String, PointEnd)>, (String, bool)> {
    let (suites, plan, cancel) = (req.suites, req.plan, &req.cancel);
    let wanted: Vec<&PointSpec> = group
        .iter()
        .map(|&i| &points[i])
        .filter(|p| wanted(p))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    if cancel.is_cancelled() {
        return Err(("stopped by request".into(), false));
    }
    let mut by_point = Vec::with_capacity(wanted.len());
    for p in &wanted {
        let Some(suite) = suites.iter().find(|s| s.id() == p.suite).cloned() else {
            return Err((format!("suite {} vanished", p.suite), true));
        };
        by_point.push(suite);
    }
    let keys: Vec<String> = wanted.iter().map(|p| p.key()).collect();
    log_conditions(&keys, plan, rig, emit).await?;
    // The group's noise is seeded by its first point, so a point
    // measures the same whether or not its neighbours were resumed.
    rig.prepare_point(&points[group[0]].key());
    Ok(if wanted.len() == 1 {
        let end = measure_point(wanted[0], &by_point[0], plan, rig, emit, cancel.clone()).await;
        vec![(wanted[0].key(), end)]
    } else {
        measure_together(&wanted, &by_point, plan, rig, emit, cancel).await
    })
}

/// Reads the climate sensor (if the rig has one) as a group of points
/// starts and logs the reading beside each of them, flagged when it lies
/// outside the plan's reference conditions (EN 50470-3 §8; issue 19). With
/// `on_out_of_range = "wait"` it waits (rig time, one minute at a time, at
/// most `max_wait_s`) for the conditions to come back; with `"refuse"` a
/// point outside them stops the run, resumable.
async fn log_conditions(
    keys: &[String],
    plan: &Plan,
    rig: &mut Rig,
    emit: &mut (dyn FnMut(RunEvent) + Send),
) -> Result<(), (String, bool)> {
    use model::lab::{ClimateReading, OnOutOfRange};
    async fn read(rig: &mut Rig, plan: &Plan) -> Result<Option<ClimateReading>, (String, bool)> {
        let at_s = rig.now().secs_f64();
        let Some(sensor) = rig.climate.as_mut() else {
            return Ok(None);
        };
        let c = sensor.read().await.map_err(|e| (e.to_string(), true))?;
        let mut reading = ClimateReading {
            at_s,
            temperature_c: c.temperature_c,
            humidity_pct: c.humidity_pct,
            outside: None,
        };
        reading.outside = plan.conditions.as_ref().and_then(|rc| rc.outside(&reading));
        Ok(Some(reading))
    }
    let Some(mut reading) = read(rig, plan).await? else {
        return Ok(());
    };
    let first = keys.first().cloned().unwrap_or_default();
    if let Some(rc) = &plan.conditions
        && rc.on_out_of_range == OnOutOfRange::Wait
        && reading.outside.is_some()
    {
        let step = Duration::from_secs(60);
        let max = Duration::from_secs_f64(rc.max_wait_s);
        let mut waited = Duration::ZERO;
        let was = reading.outside.clone().unwrap_or_default();
        while reading.outside.is_some() && waited < max {
            rig.dwell(step).await;
            waited += step;
            reading = read(rig, plan).await?.unwrap_or(reading);
        }
        emit(finding(
            &first,
            Severity::Info,
            match &reading.outside {
                None => format!(
                    "waited {} s of rig time for the reference conditions ({was}); then within them",
                    waited.as_secs()
                ),
                Some(now) => format!(
                    "waited {} s of rig time for the reference conditions ({was}); still outside ({now}): measured and flagged",
                    waited.as_secs()
                ),
            },
        ));
    }
    for key in keys {
        emit(RunEvent::Conditions {
            key: key.clone(),
            reading: reading.clone(),
        });
    }
    if let (Some(rc), Some(why)) = (&plan.conditions, &reading.outside)
        && rc.on_out_of_range == OnOutOfRange::Refuse
    {
        return Err((
            format!(
                "{first}: outside the reference conditions ({why}; {}, {}); the plan refuses to measure outside them",
                rc.describe(),
                rc.clause
            ),
            true,
        ));
    }
    Ok(())
}
