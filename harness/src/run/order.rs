//! The order points are measured in (issue 20): on a real bench every
//! change of the source's output costs a settling wait and, after a large
//! step, the meter's and the reference's thermal drift; so within what each
//! suite allows, groups are ordered so that the load changes least — the
//! same voltage first, then the same current, then the same power factor
//! and frequency, then the nearest current.
//!
//! What a suite allows: the points of suites that may run in any order
//! (`Suite::any_order`) are reordered within each run of such suites in
//! the plan; a suite that keeps its order (the default: `accuracy-active`'s
//! sweeps up then down, a settings matrix, `s0-pulse` leaving the weight it
//! wrote) stays where the plan put it, and nothing moves past it. Ordering changes
//! only when a point runs; each keeps its own id, key and record.

use crate::load_point::LoadPoint;

use super::suite::PointSpec;

/// The loads a group applies, in order: the first load its members share,
/// then each member's further loads, consecutive repeats once.
pub fn group_loads(points: &[PointSpec], group: &[usize]) -> Vec<LoadPoint> {
    let mut out: Vec<LoadPoint> = Vec::new();
    let mut push = |l: LoadPoint| {
        if out.last() != Some(&l) {
            out.push(l);
        }
    };
    for &i in group {
        if let Some(l) = points[i].loads.first() {
            push(*l);
        }
    }
    for &i in group {
        for l in points[i].loads.iter().skip(1) {
            push(*l);
        }
    }
    out
}

/// How many times the source's output changes over `groups`, from `start`
/// (the load in force before the first group: the warm-up's): each load a
/// group declares (`PointSpec::loads`) that differs from the one before.
pub fn source_changes(
    points: &[PointSpec],
    groups: &[Vec<usize>],
    start: Option<LoadPoint>,
) -> usize {
    let mut now = start;
    let mut n = 0;
    for g in groups {
        for l in group_loads(points, g) {
            if now != Some(l) {
                n += 1;
                now = Some(l);
            }
        }
    }
    n
}

/// What moving from `a` to `b` costs, compared lexicographically: a
/// voltage change, a current change, a phase change, a frequency change,
/// then the size of the current step (mA).
fn change(a: Option<&LoadPoint>, b: Option<&LoadPoint>) -> (bool, bool, bool, bool, u64) {
    match (a, b) {
        (_, None) => (false, false, false, false, 0),
        (None, Some(_)) => (true, true, true, true, u64::MAX),
        (Some(a), Some(b)) => (
            a.voltage != b.voltage,
            a.current != b.current,
            a.phase != b.phase,
            a.frequency != b.frequency,
            ((a.current.0 - b.current.0).abs() * 1000.0).round() as u64,
        ),
    }
}

/// Orders `groups` (in the plan's order, each a list of indices into
/// `points`) to cut source changes: every run of consecutive groups whose
/// points' suites all may run in any order (`any_order`) is reordered
/// greedily — such points need nothing another left, whatever its suite — the next group the one nearest
/// the load in force; the rest keep their places. `start` is the load in
/// force before the first group.
pub fn order_groups(
    points: &[PointSpec],
    groups: Vec<Vec<usize>>,
    any_order: impl Fn(&str) -> bool,
    start: Option<LoadPoint>,
) -> Vec<Vec<usize>> {
    let free = |g: &Vec<usize>| g.iter().all(|&i| any_order(&points[i].suite));
    let mut out: Vec<Vec<usize>> = Vec::with_capacity(groups.len());
    let mut now = start;
    let mut rest = groups.into_iter().peekable();
    while let Some(g) = rest.next() {
        if !free(&g) {
            if let Some(l) = group_loads(points, &g).last() {
                now = Some(*l);
            }
            out.push(g);
            continue;
        }
        let mut block = vec![g];
        while let Some(next) = rest.peek() {
            if !free(next) {
                break;
            }
            block.extend(rest.next());
        }
        let greedy = nearest_first(points, block.clone(), now);
        // A greedy order is no promise: the plan's stands unless it is beaten.
        let chosen = if source_changes(points, &greedy, now) < source_changes(points, &block, now) {
            greedy
        } else {
            block
        };
        for g in chosen {
            if let Some(l) = group_loads(points, &g).last() {
                now = Some(*l);
            }
            out.push(g);
        }
    }
    out
}

/// `block` in nearest-load-first order from `now`, ties in the plan's order.
fn nearest_first(
    points: &[PointSpec],
    mut block: Vec<Vec<usize>>,
    mut now: Option<LoadPoint>,
) -> Vec<Vec<usize>> {
    let mut out = Vec::with_capacity(block.len());
    while !block.is_empty() {
        let best = (0..block.len())
            .min_by_key(|&k| {
                let first = group_loads(points, &block[k]).first().copied();
                (change(now.as_ref(), first.as_ref()), k)
            })
            .unwrap_or(0);
        let g = block.remove(best);
        if let Some(l) = group_loads(points, &g).last() {
            now = Some(*l);
        }
        out.push(g);
    }
    out
}
