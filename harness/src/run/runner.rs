//! The runner: plans every point, checks each against the meters' ratings
//! and the rig's limits before anything is energised, runs the points in
//! order (skipping those a resumed run already finished), and whatever
//! happens — the end, Ctrl-C, SIGTERM, an instrument lost, a panic in a
//! suite — switches the source off, puts the meters' settings back and
//! closes the run with its status.

use std::collections::{BTreeMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt as _;
use tokio::sync::watch;

use super::events::{
    FileRef, Listener, MeterInfo, RestoreOutcome, RunEvent, RunHeader, RunStatus, Severity,
};
use super::plan::Plan;
use super::restore::{SettingsSnapshot, restore, snapshot};
use super::suite::{PlanContext, PointIo, PointOutcome, PointSpec, Suite, SuiteError};
use crate::load_point::LoadPoint;
use crate::profile::MeterQuantity;
use crate::quantity::{Amps, PowerFactor};
use crate::rig::{Rig, RigError};
use crate::stats::Verdict;

/// Asks a run to stop; the run ends cleanly at the next await.
#[derive(Debug, Clone)]
pub struct Cancel(watch::Receiver<bool>);

#[derive(Debug)]
pub struct CancelHandle(watch::Sender<bool>);

impl CancelHandle {
    pub fn cancel(&self) {
        let _ = self.0.send(true);
    }
}

pub fn cancel_pair() -> (CancelHandle, Cancel) {
    let (tx, rx) = watch::channel(false);
    (CancelHandle(tx), Cancel(rx))
}

impl Cancel {
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        Cancel(rx)
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    async fn cancelled(&mut self) {
        if self.is_cancelled() {
            return;
        }
        while self.0.changed().await.is_ok() {
            if *self.0.borrow() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The plan cannot be run on this rig (exit 2).
    #[error("plan: {0}")]
    Plan(String),
    /// A point lies beyond a meter's ratings or the rig's limits (exit 2).
    #[error("{0}")]
    Safety(String),
    /// The rig failed, or a precondition stopped the run (exit 3).
    #[error(transparent)]
    Rig(#[from] RigError),
    #[error("precondition: {0}")]
    Precondition(String),
}

/// What one run is asked to do.
#[derive(Debug)]
pub struct RunRequest<'a> {
    pub plan: &'a Plan,
    pub suites: &'a [Arc<dyn Suite>],
    pub run_id: String,
    /// Events of an interrupted run to continue.
    pub resume: Option<Vec<RunEvent>>,
    /// Run only these point keys (`--rerun-failed`).
    pub only: Option<HashSet<String>>,
    pub cancel: Cancel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub status: RunStatus,
    pub message: String,
    /// Points whose verdict is a failure (fail, conditional fail, error), over the whole run.
    pub failures: usize,
    pub points: usize,
    /// Set when the run stopped because the rig failed or a suite panicked.
    pub rig_failed: Option<String>,
}

/// The real-rig time `points` take: each group of points measured at once
/// takes its longest point's time, not their sum.
pub fn planned_rig_time(points: &[PointSpec], suites: &[Arc<dyn Suite>]) -> Duration {
    group_points(points, suites)
        .iter()
        .map(|g| {
            g.iter()
                .map(|&i| points[i].rig_time)
                .max()
                .unwrap_or_default()
        })
        .sum()
}

/// Plans every point of every suite the plan names, for every position.
pub fn plan_points(
    plan: &Plan,
    suites: &[Arc<dyn Suite>],
    rig: &Rig,
) -> Result<Vec<PointSpec>, RunError> {
    let mut points = Vec::new();
    for entry in &plan.suites {
        let suite = suites.iter().find(|s| s.id() == entry.id).ok_or_else(|| {
            RunError::Plan(format!(
                "suite `{}` is not built into this metrig",
                entry.id
            ))
        })?;
        let ctx = PlanContext {
            plan,
            params: &entry.params,
            repetitions: plan.repetitions_for(&entry.id),
            positions: rig
                .positions
                .iter()
                .map(|p| (p.index, p.profile.clone()))
                .collect(),
            simulated: rig.is_simulated(),
            reference_constant: rig.reference.as_ref().map(|r| r.constant()),
        };
        let mut pts = suite
            .points(&ctx)
            .map_err(|e| RunError::Plan(format!("{}: {e}", entry.id)))?;
        points.append(&mut pts);
    }
    let mut seen = HashSet::new();
    for p in &points {
        if !seen.insert(p.key()) {
            return Err(RunError::Plan(format!(
                "two points share the key {}",
                p.key()
            )));
        }
    }
    Ok(points)
}

/// Every load of every point, against every meter in the series circuit and
/// the source's limits. Nothing is energised unless all pass.
pub fn check_points(points: &[PointSpec], rig: &Rig) -> Result<(), RunError> {
    let limits = rig.config.source.limits;
    for p in points {
        for load in &p.loads {
            for pos in &rig.positions {
                crate::rig::safety::check_load_point(
                    load,
                    &pos.profile.ratings,
                    &pos.name(),
                    &limits,
                )
                .map_err(|e| RunError::Safety(format!("{}: {e}", p.key())))?;
            }
        }
    }
    Ok(())
}

/// The voltage the meters need to answer (they are self-powered), with no current.
fn idle_point(rig: &Rig) -> Option<LoadPoint> {
    rig.positions.first().map(|p| {
        let r = &p.profile.ratings;
        LoadPoint::new(r.un, Amps(0.0), PowerFactor::UNITY, r.fn_default())
    })
}

fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Keys finished in an earlier part of this run, with their verdicts.
pub fn finished_points(events: &[RunEvent]) -> BTreeMap<String, Verdict> {
    let mut done = BTreeMap::new();
    for e in events {
        if let RunEvent::PointFinished { key, outcome, .. } = e {
            done.insert(key.clone(), outcome.verdict);
        }
    }
    done
}

pub async fn run(
    req: RunRequest<'_>,
    rig: &mut Rig,
    listeners: &mut [Box<dyn Listener>],
) -> Result<RunSummary, RunError> {
    let mut emit = |e: RunEvent| {
        for l in listeners.iter_mut() {
            l.on_event(&e);
        }
    };
    let points = plan_points(req.plan, req.suites, rig)?;
    check_points(&points, rig)?;
    let earlier = req
        .resume
        .as_deref()
        .map(finished_points)
        .unwrap_or_default();
    let cancel = req.cancel.clone();

    // From here on the rig may be energised: every path goes through `finish`.
    let mut snapshots: Vec<(usize, Option<SettingsSnapshot>)> = Vec::new();
    let started = start(&req, rig, &points, &mut snapshots, &mut emit).await;
    let mut failures = earlier.values().filter(|v| v.is_failure()).count();
    let mut outcome: Result<(), (String, bool)> = started.map_err(|e| (e.to_string(), true));
    if outcome.is_ok() {
        for group in group_points(&points, req.suites) {
            let wanted: Vec<&PointSpec> = group
                .iter()
                .map(|&i| &points[i])
                .filter(|p| match &req.only {
                    Some(only) => only.contains(&p.key()),
                    None => !earlier.contains_key(&p.key()),
                })
                .collect();
            if wanted.is_empty() {
                continue;
            }
            if cancel.is_cancelled() {
                outcome = Err(("stopped by request".into(), false));
                break;
            }
            let Some(suite) = req
                .suites
                .iter()
                .find(|s| s.id() == wanted[0].suite)
                .cloned()
            else {
                outcome = Err((format!("suite {} vanished", wanted[0].suite), true));
                break;
            };
            // The group's noise is seeded by its first point, so a point
            // measures the same whether or not its neighbours were resumed.
            rig.prepare_point(&points[group[0]].key());
            let ends = if wanted.len() == 1 {
                let end =
                    measure_point(wanted[0], &suite, req.plan, rig, &mut emit, cancel.clone())
                        .await;
                vec![(wanted[0].key(), end)]
            } else {
                measure_together(&wanted, &suite, req.plan, rig, &mut emit, &cancel).await
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
                outcome = Err(stop);
                break;
            }
        }
    }
    // The same ending for every path.
    let off = rig.off().await;
    let mut restore_outcomes = Vec::new();
    // The meters are self-powered: restoring their settings needs voltage,
    // and nothing more (no current).
    let idle = if off.is_ok() && snapshots.iter().any(|(_, s)| s.is_some()) {
        idle_point(rig)
    } else {
        None
    };
    let powered = match idle {
        Some(p) => rig.energise(p).await.map_err(|e| e.to_string()),
        None => Err("the source did not switch off".to_string()),
    };
    for (index, snap) in &snapshots {
        let Some(snap) = snap else { continue };
        let Some(link) = rig.positions.get_mut(*index).and_then(|p| p.link.as_mut()) else {
            continue;
        };
        if let Err(why) = &powered {
            restore_outcomes.push(RestoreOutcome {
                position: *index,
                restored: false,
                message: format!("not restored: {why}"),
            });
            continue;
        }
        let r = match restore(link.as_mut(), snap).await {
            Ok(m) => RestoreOutcome {
                position: *index,
                restored: true,
                message: m,
            },
            Err(m) => RestoreOutcome {
                position: *index,
                restored: false,
                message: m,
            },
        };
        restore_outcomes.push(r);
    }
    let off_again = rig.off().await;
    let (status, message, rig_failed) = match (&outcome, off.and(off_again)) {
        (Ok(()), Ok(())) => (RunStatus::Completed, "completed".to_string(), None),
        (Ok(()), Err(e)) => (
            RunStatus::Interrupted,
            format!("source did not switch off: {e}"),
            Some(e.to_string()),
        ),
        (Err((m, rig_fault)), _) => (
            RunStatus::Interrupted,
            m.clone(),
            rig_fault.then(|| m.clone()),
        ),
    };
    emit(RunEvent::RunFinished {
        status,
        message: message.clone(),
        restore: restore_outcomes,
        finished_at: now_utc(),
    });
    Ok(RunSummary {
        status,
        message,
        failures,
        points: points.len(),
        rig_failed,
    })
}

/// How one point's measurement ended.
enum PointEnd {
    Measured(PointOutcome),
    /// The run stops: why, and whether the rig (not a request) stopped it.
    Stop(String, bool),
}

/// Points measured together: the same point of one suite on every position
/// that has it (the same loads on the one series circuit), groups in the
/// plan's order, as indices into `points`. A suite that cannot share the
/// bench gets one point a group.
pub fn group_points(points: &[PointSpec], suites: &[Arc<dyn Suite>]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut open: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (i, p) in points.iter().enumerate() {
        let together = suites
            .iter()
            .find(|s| s.id() == p.suite)
            .is_some_and(|s| s.concurrent_positions());
        let key = (p.suite.clone(), p.id.clone());
        if together
            && let Some(&g) = open.get(&key)
            && points[groups[g][0]].loads == p.loads
        {
            groups[g].push(i);
            continue;
        }
        if together {
            open.insert(key, groups.len());
        }
        groups.push(vec![i]);
    }
    groups
}

/// Measures `points` (one point of one suite, each on its own position) at
/// once, each on its own view of the rig, the bench in lockstep.
async fn measure_together(
    points: &[&PointSpec],
    suite: &Arc<dyn Suite>,
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
        .zip(points)
        .enumerate()
        .map(|(me, (view, point))| {
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
async fn measure_point(
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

/// Idle voltage, meters identified, preconditions checked, settings saved,
/// the run announced, the warm-up done.
async fn start(
    req: &RunRequest<'_>,
    rig: &mut Rig,
    points: &[PointSpec],
    snapshots: &mut Vec<(usize, Option<SettingsSnapshot>)>,
    emit: &mut (dyn FnMut(RunEvent) + Send),
) -> Result<(), RunError> {
    if let Some(idle) = idle_point(rig)
        && rig.source.is_some()
    {
        rig.energise(idle).await?;
        rig.dwell(req.plan.settle).await;
    }
    let mut meters = Vec::new();
    for pos in rig.positions.iter_mut() {
        let mut said = None;
        let mut snap = None;
        if let Some(link) = pos.link.as_mut() {
            let me = link.identify().await.map_err(|e| RigError::Link {
                instrument: pos_name(pos.index, &pos.profile.id),
                source: e,
            })?;
            if let Some(want) = &req.plan.preconditions.firmware {
                let got = me.firmware.clone().unwrap_or_default();
                if got.trim() != want.trim() {
                    return Err(RunError::Precondition(format!(
                        "{} reports firmware {got:?}, the plan requires {want:?}",
                        pos_name(pos.index, &pos.profile.id)
                    )));
                }
            }
            said = Some(me);
            snap = Some(
                snapshot(link.as_mut())
                    .await
                    .map_err(|m| RigError::instrument(pos_name(pos.index, &pos.profile.id), m))?,
            );
        } else if req.plan.preconditions.firmware.is_some()
            && pos
                .profile
                .register(MeterQuantity::FirmwareVersion)
                .is_none()
        {
            return Err(RunError::Precondition(format!(
                "{} cannot report its firmware (no Modbus link)",
                pos_name(pos.index, &pos.profile.id)
            )));
        }
        snapshots.push((pos.index, snap));
        meters.push(MeterInfo {
            position: pos.index,
            profile_id: pos.profile.id.clone(),
            maker: pos.profile.maker.clone(),
            model: pos.profile.model.clone(),
            profile: FileRef::of(&pos.profile.file),
            map_status: format!("{:?}", pos.profile.status).to_lowercase(),
            said,
        });
    }
    // Issue 15: an instrument past its calibration date stops the run unless the plan says why.
    let calibration = crate::measure::calibration::check(
        &rig.identities(),
        chrono::Utc::now().date_naive(),
        req.plan.preconditions.calibration_overdue.as_deref(),
    )
    .map_err(RunError::Precondition)?;
    emit(RunEvent::RunStarted(Box::new(RunHeader {
        run_id: req.run_id.clone(),
        started_at: now_utc(),
        plan_name: req.plan.name.clone(),
        plan: FileRef::of(&req.plan.file),
        rig: FileRef::of(&rig.config.file),
        rig_name: rig.config.name.clone(),
        simulated: rig.is_simulated(),
        seed: rig.config.seed,
        decision_rule: req.plan.decision_rule,
        decision_rule_text: req.plan.decision_rule.describe().into(),
        meters,
        instruments: rig.identities(),
        points: points.to_vec(),
        resumed: req.resume.is_some() || req.only.is_some(),
        metrig_version: env!("CARGO_PKG_VERSION").into(),
    })));
    if let Some(text) = calibration {
        emit(RunEvent::Finding {
            finding: super::Finding {
                key: None,
                severity: Severity::Warning,
                text,
            },
        });
    }
    if !req.plan.warm_up.is_zero()
        && let Some(first) = rig.positions.first()
    {
        let r = &first.profile.ratings;
        let warm = LoadPoint::new(r.un, r.iref, PowerFactor::UNITY, r.fn_default());
        rig.energise(warm).await?;
        rig.dwell(req.plan.warm_up).await;
    }
    Ok(())
}

fn pos_name(index: usize, id: &str) -> String {
    format!("position {} ({id})", index + 1)
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
