//! Shared dwells across suites (issue 20): the tariff, hour-meter, LED and
//! average-power points at Iref run in shared dwells, and give the verdicts
//! each suite gives alone — on a good meter, and on a meter with each
//! suite's defect; points that interfere never share; and the run's order
//! never changes the order of a suite that keeps its own.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use harness::rig::Rig;
use harness::run::runner::{Scheduling, group_points, plan_points, schedule};
use harness::run::{Listener, RunEvent, RunRequest, cancel_pair, load_plan, parse_plan};
use harness::station::{load_rig, parse_rig};
use rstest::rstest;

const SHARING: [&str; 4] = ["average-power", "led-constant", "tariff", "hour-meter"];

fn suites_text(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("[[suites]]\nid = \"{id}\"\n"))
        .collect()
}

/// What one run gave: its events, its record, and when each point started
/// (rig time, s).
struct Ran {
    events: Vec<RunEvent>,
    record: reports::Record,
    starts: BTreeMap<String, f64>,
}

impl Ran {
    fn verdicts(&self) -> BTreeMap<String, String> {
        self.record
            .points
            .iter()
            .map(|p| (p.key.clone(), p.verdict.to_string()))
            .collect()
    }
}

/// Keeps every event; stops the run (as Ctrl-C would) the moment the point
/// `stop_at` starts, if set.
struct Watch {
    events: Arc<Mutex<Vec<RunEvent>>>,
    stop_at: Option<(String, Arc<harness::run::CancelHandle>)>,
}

impl Listener for Watch {
    fn on_event(&mut self, e: &RunEvent) {
        self.events.lock().expect("lock").push(e.clone());
        if let (RunEvent::PointStarted { key, .. }, Some((stop, handle))) = (e, &self.stop_at)
            && key == stop
        {
            handle.cancel();
        }
    }
}

/// Runs `plan_text` on a one-position 4 120 83 with `faults`, continuing
/// `resume` (an interrupted run's events) if given.
async fn run_with(
    plan_text: &str,
    faults: &str,
    resume: Option<Vec<RunEvent>>,
    stop_at: Option<&str>,
) -> Ran {
    let suites = suites::all();
    let plan = parse_plan(plan_text, Path::new("t.toml"), &suites::catalogue()).expect("plan");
    let rig_text = common::rig_text("legrand-412083", "sim-rtu", 4, 0.02, faults);
    let mut rig = Rig::open(parse_rig(&rig_text, Path::new("r.toml")).expect("rig"))
        .await
        .expect("rig opens");
    let events = Arc::new(Mutex::new(resume.clone().unwrap_or_default()));
    let (handle, cancel) = cancel_pair();
    let handle = Arc::new(handle);
    let mut listeners: Vec<Box<dyn Listener>> = vec![Box::new(Watch {
        events: events.clone(),
        stop_at: stop_at.map(|k| (k.to_string(), handle.clone())),
    })];
    let req = RunRequest {
        plan: &plan,
        suites: &suites,
        run_id: "t".into(),
        resume,
        only: None,
        cancel,
    };
    harness::run::run(req, &mut rig, &mut listeners)
        .await
        .expect("runs");
    let events = events.lock().expect("lock").clone();
    let record = reports::Record::from_events(&events).expect("record");
    let starts = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::PointStarted { key, at_s } => Some((key.clone(), *at_s)),
            _ => None,
        })
        .collect();
    Ran {
        events,
        record,
        starts,
    }
}

/// The run's verdicts by key, and when each point started (rig time, s).
async fn run(plan_text: &str, faults: &str) -> (BTreeMap<String, String>, BTreeMap<String, f64>) {
    let ran = run_with(plan_text, faults, None, None).await;
    assert_eq!(
        ran.record.status,
        reports::RecordStatus::Completed,
        "{}",
        ran.record.message
    );
    (ran.verdicts(), ran.starts)
}

/// A good meter passes; each defect fails its own suite; and whatever the
/// meter, the four suites sharing dwells give each point the verdict it
/// gets when its suite runs alone.
#[rstest]
#[case::good("", &[])]
#[case::swapped_tariff("tariff_swapped = true", &["tariff"])]
#[case::stuck_window("average_window_stuck_min = 15", &["average-power"])]
#[case::hour_meter_below_threshold("hour_meter_ignores_threshold = true", &["hour-meter"])]
#[case::led_off_by_1_4_pct_at_iref(
    "error_curve = [{ current_a = 1, pf = \"1\", error_pct = 0.0 }, { current_a = 10, pf = \"1\", error_pct = 1.4 }, { current_a = 63, pf = \"1\", error_pct = 0.0 }]",
    // The meter's own error at Iref shows in its average power too.
    &["led-constant", "average-power"]
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_dwell_gives_the_verdicts_each_suite_gives_alone(
    #[case] faults: &str,
    #[case] failing: &[&str],
) {
    let together = common::plan("guarded-binary", 2, &suites_text(&SHARING));
    let (shared, starts) = run(&together, faults).await;
    // The dwells were shared: points of different suites started at one instant.
    let mut at: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for (key, t) in &starts {
        at.entry((t * 1000.0).round() as u64).or_default().push(key);
    }
    let shared_starts = at
        .values()
        .filter(|keys| {
            let suites: std::collections::BTreeSet<&str> = keys
                .iter()
                .map(|k| k.split('/').next().unwrap_or(""))
                .collect();
            suites.len() > 1
        })
        .count();
    assert!(shared_starts >= 3, "`{faults}`: {at:?}");
    let mut alone = BTreeMap::new();
    for id in SHARING {
        let (v, _) = run(
            &common::plan("guarded-binary", 2, &suites_text(&[id])),
            faults,
        )
        .await;
        alone.extend(v);
    }
    assert_eq!(shared, alone, "`{faults}`: shared against alone");
    let failed: std::collections::BTreeSet<&str> = shared
        .iter()
        .filter(|(_, v)| v.as_str() != "pass")
        .map(|(k, _)| k.split('/').next().unwrap_or(""))
        .collect();
    let want: std::collections::BTreeSet<&str> = failing.iter().copied().collect();
    assert_eq!(failed, want, "`{faults}`: {shared:?}");
}

fn fixture(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// On every shipped plan: no dwell holds two points that drive the same
/// thing on one position (two tariff checks), a point that declares no
/// dwell use (the tariff's power cycle, every `modbus` point) is shared
/// with nothing, and a suite that keeps its order (`accuracy-active`'s
/// sweeps, `s0-pulse`, `registers`, …) runs its points in the plan's order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interfering_points_never_share_and_a_suites_own_order_is_kept() {
    let suites = suites::all();
    let rig = Rig::open(load_rig(&fixture("fixtures/rigs/sim.toml")).expect("rig"))
        .await
        .expect("opens");
    let mut shared_seen = 0;
    for name in [
        "type-test-class-b",
        "mid-module-b",
        "nightly",
        "firmware-gate",
    ] {
        let plan = load_plan(
            &fixture(&format!("fixtures/plans/{name}.toml")),
            &suites::catalogue(),
        )
        .expect("plan");
        let points = plan_points(&plan, &suites, &rig).expect("points");
        let groups = group_points(&points, &suites);
        // Every point once.
        let mut seen: Vec<usize> = groups.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..points.len()).collect::<Vec<_>>(), "{name}");
        let suite = |id: &str| suites.iter().find(|s| s.id() == id).expect("suite");
        for g in &groups {
            let mixed = g.iter().any(|&i| points[i].suite != points[g[0]].suite);
            if !mixed {
                continue;
            }
            shared_seen += 1;
            for (n, &a) in g.iter().enumerate() {
                let ua = suite(&points[a].suite)
                    .dwell_use(&points[a])
                    .unwrap_or_else(|| panic!("{name}: {} shares undeclared", points[a].key()));
                assert!(points[a].loads[0] == points[g[0]].loads[0]);
                for &b in &g[n + 1..] {
                    assert_ne!(
                        points[a].suite, points[b].suite,
                        "{name}: one point a suite"
                    );
                    let ub = suite(&points[b].suite)
                        .dwell_use(&points[b])
                        .expect("declared");
                    assert!(
                        !ua.conflicts(&ub),
                        "{name}: {} and {} interfere",
                        points[a].key(),
                        points[b].key()
                    );
                }
            }
        }
        for p in &points {
            if p.key().contains("power-cycle") || p.suite == "modbus" {
                let g = groups
                    .iter()
                    .find(|g| g.iter().any(|&i| points[i].key() == p.key()));
                assert!(
                    g.is_some_and(|g| g.iter().all(|&i| points[i].suite == p.suite)),
                    "{name}: {} is alone",
                    p.key()
                );
            }
        }
        let run_order: Vec<usize> = groups.iter().flatten().copied().collect();
        for s in &suites {
            if s.any_order() {
                continue;
            }
            let mine: Vec<usize> = run_order
                .iter()
                .copied()
                .filter(|&i| points[i].suite == s.id())
                .collect();
            let mut sorted = mine.clone();
            sorted.sort_unstable();
            assert_eq!(mine, sorted, "{name}: {} keeps the plan's order", s.id());
        }
        // Sharing and ordering never cost rig time or source changes.
        let plain = schedule(&points, &suites, Scheduling::PLAN);
        let t = |g: &[Vec<usize>]| harness::run::runner::groups_time(&points, g);
        assert!(t(&groups) <= t(&plain), "{name}");
        let start = harness::run::runner::start_load(&plan, &rig);
        assert!(
            harness::run::order::source_changes(&points, &groups, start)
                <= harness::run::order::source_changes(&points, &plain, start),
            "{name}"
        );
    }
    assert!(
        shared_seen >= 4,
        "the type test shares dwells: {shared_seen}"
    );
}

/// A run stopped as a shared dwell starts resumes to the verdicts of the
/// run that was never stopped, measuring the stopped dwell's points again
/// together; and a meter that reboots inside a shared dwell is waited for
/// and the points that lost it measured again (issue 20: resume, retry
/// and reboot keep working for a shared group).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_dwell_resumes_after_a_stop_and_survives_a_reboot() {
    let plan = common::plan("guarded-binary", 2, &suites_text(&SHARING));
    let clean = run_with(&plan, "", None, None).await;
    assert_eq!(clean.record.status, reports::RecordStatus::Completed);
    let stop = "hour-meter/p1/threshold-and-reset";
    let stopped = run_with(&plan, "", None, Some(stop)).await;
    assert_eq!(stopped.record.status, reports::RecordStatus::Interrupted);
    let finished_before: Vec<String> = stopped
        .events
        .iter()
        .filter_map(|e| match e {
            RunEvent::PointFinished { key, .. } => Some(key.clone()),
            _ => None,
        })
        .collect();
    assert!(!finished_before.iter().any(|k| k == stop));
    let resumed = run_with(&plan, "", Some(stopped.events.clone()), None).await;
    assert_eq!(resumed.record.status, reports::RecordStatus::Completed);
    assert_eq!(resumed.record.resumes, 1);
    assert_eq!(
        resumed.verdicts(),
        clean.verdicts(),
        "same verdicts as never stopped"
    );
    // The stopped dwell ran again as one dwell: its points started together.
    let again = resumed.starts[stop];
    let together: Vec<&String> = resumed
        .starts
        .iter()
        .filter(|(k, t)| **t == again && !k.starts_with("hour-meter"))
        .map(|(k, _)| k)
        .collect();
    assert!(!together.is_empty(), "{:?}", resumed.starts);

    // The meter reboots a second into the hour meter's shared dwell (the
    // run is the same as the clean one up to there).
    let at = clean.starts[stop] + 1.0;
    let rebooted = run_with(&plan, &format!("reboot_at_s = {at}"), None, None).await;
    assert_eq!(rebooted.record.status, reports::RecordStatus::Completed);
    let repeated: Vec<&str> = rebooted
        .record
        .points
        .iter()
        .filter(|p| p.attempts > 1)
        .map(|p| p.key.as_str())
        .collect();
    assert!(
        !repeated.is_empty(),
        "a point lost its meter and was measured again"
    );
    assert!(
        rebooted
            .record
            .findings
            .iter()
            .any(|f| f.text.contains("answered again after")),
        "{:?}",
        rebooted.record.findings
    );
    println!("rebooted in a shared dwell: {repeated:?} measured again");
    assert_eq!(
        rebooted.verdicts(),
        clean.verdicts(),
        "the reboot changes no verdict"
    );
}
