//! Scheduling: which points a plan makes on this rig, whether every one of
//! them lies within the meters' ratings and the rig's limits (checked before
//! anything is energised), which are measured together, and which a resumed
//! run already finished. Nothing here touches an instrument.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::events::RunEvent;
use super::plan::Plan;
use super::request::RunError;
use super::suite::{PlanContext, PointSpec, Suite};
use crate::rig::Rig;
use crate::stats::Verdict;

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

/// The real-rig time of each suite the points belong to, in the plan's
/// order: a group measured at once counts once, under its suite.
pub fn rig_time_by_suite(
    points: &[PointSpec],
    suites: &[Arc<dyn Suite>],
) -> Vec<(String, Duration)> {
    let mut out: Vec<(String, Duration)> = Vec::new();
    for g in group_points(points, suites) {
        let suite = &points[g[0]].suite;
        let t = g
            .iter()
            .map(|&i| points[i].rig_time)
            .max()
            .unwrap_or_default();
        match out.iter_mut().find(|(s, _)| s == suite) {
            Some((_, total)) => *total += t,
            None => out.push((suite.clone(), t)),
        }
    }
    out
}

/// The plan's whole rig time: its warm-up and every point's.
pub fn plan_rig_time(plan: &Plan, points: &[PointSpec], suites: &[Arc<dyn Suite>]) -> Duration {
    plan.warm_up + planned_rig_time(points, suites)
}

/// Refuses a plan whose rig time exceeds `[plan] max_rig_hours`, naming the
/// suites that cost most (issue 20): checked before anything is energised.
pub fn check_rig_budget(
    plan: &Plan,
    points: &[PointSpec],
    suites: &[Arc<dyn Suite>],
) -> Result<(), RunError> {
    let Some(max_h) = plan.targets.max_rig_hours else {
        return Ok(());
    };
    let total = plan_rig_time(plan, points, suites).as_secs_f64() / 3600.0;
    if total <= max_h {
        return Ok(());
    }
    let mut by_suite = rig_time_by_suite(points, suites);
    by_suite.sort_by_key(|s| std::cmp::Reverse(s.1));
    let costly: Vec<String> = by_suite
        .iter()
        .take(3)
        .map(|(s, t)| format!("{s} {:.1} h", t.as_secs_f64() / 3600.0))
        .collect();
    Err(RunError::Plan(format!(
        "{}: the plan takes {total:.1} h of rig time, more than [plan] max_rig_hours = {max_h} h; most costly: {}",
        plan.file.display(),
        costly.join(", ")
    )))
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
            reference: rig.reference.as_ref().map(|_| rig.config.reference_model()),
        };
        // A value that passed validation yet makes a suite panic while
        // planning (a duration beyond `Duration`) is a refusal, not a crash.
        let mut pts = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| suite.points(&ctx)))
            .map_err(|p| {
                let what = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "panic".into());
                RunError::Plan(format!(
                    "{}: its points cannot be planned: {what}",
                    entry.id
                ))
            })?
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
    // An override no planned point is judged by is a typo (issue 16 §3).
    // A tolerance parameter's row counts as used when its suite is planned.
    let bounded: Vec<_> = suites
        .iter()
        .filter(|s| points.iter().any(|p| p.suite == s.id()))
        .flat_map(|s| s.declaration().tolerance_rows().collect::<Vec<_>>())
        .collect();
    let bounded = bounded.iter().map(|r| (r.table, r.row));
    plan.check_overrides(
        points
            .iter()
            .filter_map(|p| p.limit.as_ref())
            .map(|l| (l.table.as_str(), l.row.as_str()))
            .chain(bounded),
    )
    .map_err(|e| RunError::Plan(e.to_string()))?;
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
