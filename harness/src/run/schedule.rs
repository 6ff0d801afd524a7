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

/// The real-rig time `points` take as the run measures them: each group
/// measured at once (a point on every position, a shared dwell) takes its
/// dwell's time (`dwell::shared_time`), not the sum of its points'.
pub fn planned_rig_time(points: &[PointSpec], suites: &[Arc<dyn Suite>]) -> Duration {
    groups_time(points, &group_points(points, suites))
}

/// The real-rig time of `groups` (indices into `points`).
pub fn groups_time(points: &[PointSpec], groups: &[Vec<usize>]) -> Duration {
    groups.iter().map(|g| group_time(points, g)).sum()
}

/// The real-rig time of one group measured at once.
pub fn group_time(points: &[PointSpec], group: &[usize]) -> Duration {
    super::dwell::shared_time(
        group
            .iter()
            .map(|&i| (points[i].loads.len(), points[i].rig_time)),
    )
}

/// The real-rig time of each suite the points belong to, in the plan's
/// order: a group measured at once counts once, under its first point's
/// suite.
pub fn rig_time_by_suite(
    points: &[PointSpec],
    suites: &[Arc<dyn Suite>],
) -> Vec<(String, Duration)> {
    let mut out: Vec<(String, Duration)> = plan_suites(points)
        .into_iter()
        .map(|s| (s, Duration::ZERO))
        .collect();
    for g in group_points(points, suites) {
        let suite = &points[g[0]].suite;
        let t = group_time(points, &g);
        if let Some((_, total)) = out.iter_mut().find(|(s, _)| s == suite) {
            *total += t;
        }
    }
    out
}

/// The suites of `points`, each once, in the plan's order.
fn plan_suites(points: &[PointSpec]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in points {
        if !out.contains(&p.suite) {
            out.push(p.suite.clone());
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

/// How the points are scheduled: whether points of different suites share
/// a dwell, and whether groups are reordered to cut source changes. The run
/// uses both; `--dry-run` shows the plan's order beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheduling {
    pub share: bool,
    pub order: bool,
}

impl Scheduling {
    /// What the run does (issue 20).
    pub const RUN: Self = Self {
        share: true,
        order: true,
    };
    /// The plan as written: only a point's positions measured at once.
    pub const PLAN: Self = Self {
        share: false,
        order: false,
    };
}

/// Points measured together, in the order the run measures them, as
/// indices into `points` (`Scheduling::RUN`).
pub fn group_points(points: &[PointSpec], suites: &[Arc<dyn Suite>]) -> Vec<Vec<usize>> {
    schedule(points, suites, Scheduling::RUN)
}

/// The load in force before the first point: the warm-up's (Un, Iref,
/// PF 1 of the first meter) when the plan warms up, else none.
pub fn start_load(plan: &Plan, rig: &Rig) -> Option<crate::load_point::LoadPoint> {
    let first = rig.positions.first()?;
    let r = &first.profile.ratings;
    (!plan.warm_up.is_zero()).then(|| {
        crate::load_point::LoadPoint::new(
            r.un,
            r.iref,
            crate::quantity::PowerFactor::UNITY,
            r.fn_default(),
        )
    })
}

/// The groups `how` makes of `points`: first the same point of one suite
/// on every position that has it (one series circuit); then, with
/// `how.share`, points of different suites that need the same load and
/// do not interfere, in one dwell (`shared_dwells`); then, with
/// `how.order`, the order that cuts source changes (`order::order_groups`).
pub fn schedule(
    points: &[PointSpec],
    suites: &[Arc<dyn Suite>],
    how: Scheduling,
) -> Vec<Vec<usize>> {
    let mut groups = position_groups(points, suites);
    if how.share {
        groups = shared_dwells(points, suites, groups);
    }
    if how.order {
        // The run's order depends on the points alone (a resumed run
        // finds the same groups): the first block starts from its own
        // first group.
        groups = super::order::order_groups(
            points,
            groups,
            |id| suite_of(suites, id).is_some_and(|s| s.any_order()),
            None,
        );
    }
    groups
}

fn suite_of<'a>(suites: &'a [Arc<dyn Suite>], id: &str) -> Option<&'a Arc<dyn Suite>> {
    suites.iter().find(|s| s.id() == id)
}

/// Points of different suites merged into shared dwells (issue 20): a
/// group may join another when every point of both declares its dwell use
/// (`Suite::dwell_use`) and its suite allows any order, both start at the
/// same load, no suite has two points in the dwell, and no two points on
/// one position conflict (`DwellUse::conflicts`). The longest groups are
/// placed first, each joining the dwell it lengthens least — and only if
/// that costs less than running alone. A shared dwell runs where its
/// earliest point stood in the plan.
fn shared_dwells(
    points: &[PointSpec],
    suites: &[Arc<dyn Suite>],
    groups: Vec<Vec<usize>>,
) -> Vec<Vec<usize>> {
    let uses: Vec<Option<super::dwell::DwellUse>> = points
        .iter()
        .map(|p| {
            suite_of(suites, &p.suite)
                .filter(|s| s.any_order())
                .and_then(|s| s.dwell_use(p))
        })
        .collect();
    let shareable: Vec<bool> = groups
        .iter()
        .map(|g| !points[g[0]].loads.is_empty() && g.iter().all(|&i| uses[i].is_some()))
        .collect();
    let mut by_time: Vec<usize> = (0..groups.len()).filter(|&g| shareable[g]).collect();
    by_time.sort_by_key(|&g| (std::cmp::Reverse(group_time(points, &groups[g])), g));
    // Each dwell: the groups in it.
    let mut dwells: Vec<Vec<usize>> = Vec::new();
    let fits = |dwell: &[usize], g: usize| -> bool {
        let head = &points[groups[dwell[0]][0]];
        let me = &points[groups[g][0]];
        head.loads[0] == me.loads[0]
            && dwell.iter().all(|&d| {
                let other = &points[groups[d][0]];
                other.suite != me.suite
                    && groups[d].iter().all(|&a| {
                        groups[g].iter().all(|&b| {
                            points[a].position != points[b].position
                                || matches!(
                                    (&uses[a], &uses[b]),
                                    (Some(x), Some(y)) if !x.conflicts(y)
                                )
                        })
                    })
            })
    };
    let members = |dwell: &[usize]| -> Vec<usize> {
        dwell
            .iter()
            .flat_map(|&d| groups[d].iter().copied())
            .collect()
    };
    for g in by_time {
        let alone = group_time(points, &groups[g]);
        let best = dwells
            .iter()
            .enumerate()
            .filter(|(_, d)| fits(d, g))
            .map(|(k, d)| {
                let before = group_time(points, &members(d));
                let mut with = members(d);
                with.extend(groups[g].iter().copied());
                (group_time(points, &with).saturating_sub(before), k)
            })
            .filter(|(more, _)| *more < alone)
            .min();
        match best {
            Some((_, k)) => dwells[k].push(g),
            None => dwells.push(vec![g]),
        }
    }
    // Where each group goes: its dwell's earliest group carries the dwell.
    let mut anchor: Vec<Option<Vec<usize>>> = vec![None; groups.len()];
    let mut taken = vec![false; groups.len()];
    for mut d in dwells {
        d.sort_unstable();
        for &g in &d[1..] {
            taken[g] = true;
        }
        let first = d[0];
        anchor[first] = Some(d);
    }
    let mut out = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        match &anchor[g] {
            Some(d) => out.push(members(d)),
            None if !taken[g] => out.push(group.clone()),
            None => {}
        }
    }
    out
}

/// The same point of one suite on every position that has it (the same
/// loads on the one series circuit), in the plan's order. A suite that
/// cannot share the bench gets one point a group.
fn position_groups(points: &[PointSpec], suites: &[Arc<dyn Suite>]) -> Vec<Vec<usize>> {
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

#[cfg(test)]
mod tests {
    use super::super::dwell::{DwellUse, Resource};
    use super::super::suite::{PointIo, PointOutcome};
    use super::*;
    use crate::load_point::LoadPoint;
    use crate::profile::MeterSetting;
    use crate::quantity::{Amps, Hertz, PowerFactor, Volts};
    use crate::run::SuiteError;

    /// A suite that declares, per point id, what it needs from a dwell.
    #[derive(Debug)]
    struct Declaring {
        id: &'static str,
        uses: fn(&str) -> Option<DwellUse>,
        any_order: bool,
    }

    #[async_trait::async_trait]
    impl Suite for Declaring {
        fn id(&self) -> &'static str {
            self.id
        }
        fn title(&self) -> &'static str {
            "test"
        }
        fn points(&self, _: &PlanContext<'_>) -> Result<Vec<PointSpec>, SuiteError> {
            Ok(Vec::new())
        }
        async fn run(
            &self,
            _: &PointSpec,
            _: &mut Rig,
            _: &mut PointIo<'_>,
        ) -> Result<PointOutcome, SuiteError> {
            Err(SuiteError::Measure("not measured here".into()))
        }
        fn dwell_use(&self, point: &PointSpec) -> Option<DwellUse> {
            (self.uses)(&point.id)
        }
        fn any_order(&self) -> bool {
            self.any_order
        }
    }

    fn at(amps: f64) -> LoadPoint {
        LoadPoint::new(Volts(230.0), Amps(amps), PowerFactor::UNITY, Hertz(50.0))
    }

    fn point(suite: &str, id: &str, loads: &[f64], secs: u64) -> PointSpec {
        PointSpec {
            suite: suite.into(),
            id: id.into(),
            position: 0,
            title: id.into(),
            loads: loads.iter().map(|&a| at(a)).collect(),
            rig_time: Duration::from_secs(secs),
            limit: None,
            params: serde_json::Value::Null,
            planned_u: None,
        }
    }

    fn suites() -> Vec<Arc<dyn Suite>> {
        vec![
            Arc::new(Declaring {
                id: "tariff",
                uses: |id| {
                    (id != "power-cycle").then(|| DwellUse::default().drives(Resource::TariffInput))
                },
                any_order: true,
            }),
            Arc::new(Declaring {
                id: "led",
                uses: |_| Some(DwellUse::default().drives(Resource::PulseInput)),
                any_order: true,
            }),
            Arc::new(Declaring {
                id: "pulses",
                uses: |_| Some(DwellUse::default().drives(Resource::PulseInput)),
                any_order: true,
            }),
            Arc::new(Declaring {
                id: "hours",
                uses: |_| {
                    Some(
                        DwellUse::default()
                            .drives(Resource::Setting(MeterSetting::HourMeterThreshold)),
                    )
                },
                any_order: true,
            }),
            Arc::new(Declaring {
                id: "sweep",
                uses: |_| None,
                any_order: false,
            }),
        ]
    }

    fn keys(points: &[PointSpec], groups: &[Vec<usize>]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| g.iter().map(|&i| points[i].key()).collect())
            .collect()
    }

    #[test]
    fn points_at_one_load_that_do_not_interfere_share_one_dwell_counted_once() {
        let points = vec![
            point("led", "iref", &[10.0], 140),
            point("tariff", "t1-only", &[10.0], 3600),
            point("hours", "threshold", &[10.0, 20.0], 7300),
        ];
        let s = suites();
        let groups = group_points(&points, &s);
        assert_eq!(groups.len(), 1, "{:?}", keys(&points, &groups));
        // The tariff's hour and the LED's gates lie within the hour meter's
        // first hour: the dwell takes the hour meter's time.
        assert_eq!(groups_time(&points, &groups), Duration::from_secs(7300));
        let alone = schedule(&points, &s, Scheduling::PLAN);
        assert_eq!(alone.len(), 3);
        assert_eq!(
            groups_time(&points, &alone),
            Duration::from_secs(140 + 3600 + 7300)
        );
    }

    #[test]
    fn an_interfering_pair_is_never_shared() {
        let points = vec![
            // Both switch the tariff input.
            point("tariff", "t1-only", &[10.0], 3600),
            point("tariff", "t2-only", &[10.0], 3600),
            // Both capture the pulse input.
            point("led", "iref", &[10.0], 600),
            point("pulses", "count", &[10.0], 600),
            // Declares nothing (it switches the source off).
            point("tariff", "power-cycle", &[10.0], 3700),
            // Not at the same load.
            point("hours", "threshold", &[20.0], 3600),
            // Keeps its own order: declares nothing.
            point("sweep", "a", &[10.0], 600),
        ];
        let s = suites();
        let groups = group_points(&points, &s);
        let together = |a: &str, b: &str| {
            groups.iter().any(|g| {
                g.iter().any(|&i| points[i].key().ends_with(a))
                    && g.iter().any(|&i| points[i].key().ends_with(b))
            })
        };
        assert!(!together("t1-only", "t2-only"));
        assert!(!together("led/p1/iref", "pulses/p1/count"));
        assert!(!together("threshold", "t1-only") && !together("threshold", "iref"));
        for alone in ["power-cycle", "sweep/p1/a", "threshold"] {
            let g = groups
                .iter()
                .find(|g| g.iter().any(|&i| points[i].key().ends_with(alone)))
                .expect("planned");
            assert_eq!(g.len(), 1, "{alone}: {:?}", keys(&points, &groups));
        }
        // What may share did: each tariff check with one of the pulse users.
        assert!(together("t1-only", "iref") || together("t1-only", "count"));
        assert!(together("t2-only", "iref") || together("t2-only", "count"));
    }

    #[test]
    fn ordering_cuts_source_changes_and_never_crosses_a_suites_own_order() {
        let points = vec![
            point("sweep", "up-1", &[1.0], 60),
            point("sweep", "up-63", &[63.0], 60),
            point("sweep", "down-1", &[1.0], 60),
            point("led", "a", &[63.0], 60),
            point("hours", "b", &[1.0], 60),
            point("led", "c", &[63.0], 60),
            point("hours", "d", &[1.0], 60),
            point("sweep", "last", &[10.0], 60),
        ];
        let s = suites();
        let ordered = schedule(
            &points,
            &s,
            Scheduling {
                share: false,
                order: true,
            },
        );
        let plain = schedule(&points, &s, Scheduling::PLAN);
        let order: Vec<String> = ordered.iter().map(|g| points[g[0]].id.clone()).collect();
        // The sweep keeps its places; the free run between starts at the
        // load in force (1 A) and changes once.
        assert_eq!(
            order,
            ["up-1", "up-63", "down-1", "b", "d", "a", "c", "last"],
            "{order:?}"
        );
        let start = Some(at(10.0));
        assert_eq!(
            super::super::order::source_changes(&points, &plain, start),
            8
        );
        assert_eq!(
            super::super::order::source_changes(&points, &ordered, start),
            5
        );
    }
}
