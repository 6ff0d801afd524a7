//! Issue 20: where a profile declares a finer register of a counter
//! (`high_resolution`) or a test mode that shows one, the planner plans the
//! reactive points on it — far shorter, at their target TUR — and the
//! measurement on the simulated meter through it gives the verdicts the
//! normal register gives: a good meter passes, a reactive error is caught.

mod common;

use std::path::{Path, PathBuf};

use harness::rig::Rig;
use harness::run::load_plan;
use harness::run::runner::{plan_points, rig_time_by_suite};
use harness::station::load_rig;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// The shipped 4 120 83 (0.01 kvarh), its Wh example, the test-mode example.
const RIGS: [&str; 3] = [
    "fixtures/rigs/sim.toml",
    "fixtures/rigs/examples/sim-legrand-412083-wh.toml",
    "fixtures/rigs/examples/sim-example-test-mode.toml",
];

const POINT: &str = "accuracy-reactive/p1/q1-sin1-0.05ib";

/// Per rig: the point's planned seconds, its planned U, and the suite's hours.
async fn planned() -> Vec<(f64, model::point::PlannedU, String, f64)> {
    let suites = suites::all();
    let plan = load_plan(
        &fixture("fixtures/plans/type-test-class-b.toml"),
        &suites::catalogue(),
    )
    .expect("plan loads");
    let mut out = Vec::new();
    for file in RIGS {
        let config = load_rig(&fixture(file)).expect("rig file");
        let rig = Rig::open(config).await.expect("rig opens");
        let points = plan_points(&plan, &suites, &rig).expect("plan plans");
        let p = points.iter().find(|p| p.key() == POINT).expect("point");
        let suite_h = rig_time_by_suite(&points, &suites)
            .iter()
            .find(|(s, _)| s == "accuracy-reactive")
            .map(|(_, t)| t.as_secs_f64() / 3600.0)
            .expect("suite");
        // Every reactive point still meets its target TUR.
        for q in points.iter().filter(|q| q.suite == "accuracy-reactive") {
            let u = q.planned_u.as_ref().expect("planned U");
            assert!(
                u.meets_target() && u.flagged.is_none(),
                "{file}: {} {u}",
                q.key()
            );
        }
        out.push((
            p.rig_time.as_secs_f64(),
            p.planned_u.clone().expect("planned U"),
            p.title.clone(),
            suite_h,
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_reactive_point_is_planned_far_shorter_on_the_finer_register() {
    let p = planned().await;
    let (normal, wh, mode) = (&p[0], &p[1], &p[2]);
    for (s, u, title, h) in &p {
        println!("{POINT}: {s:.0} s, {u}, {title}; accuracy-reactive {h:.2} h");
    }
    // 0.5 A at sin φ 1 is 115 var: one 10 varh step every 313 s, which the
    // dial on the normal register waits for; 31 s on the Wh register, 3 s in
    // the test mode's 0.1 varh.
    assert!(
        normal
            .1
            .method
            .contains("reactive_q1_total started and stopped")
    );
    assert!(!normal.2.contains("high-resolution"));
    assert!(wh.0 * 2.5 <= normal.0, "{} s against {} s", wh.0, normal.0);
    assert!(
        wh.1.method.contains("high-resolution register"),
        "{}",
        wh.1.method
    );
    assert!(wh.2.contains("its high-resolution register"), "{}", wh.2);
    assert!(
        mode.0 * 3.0 <= normal.0,
        "{} s against {} s",
        mode.0,
        normal.0
    );
    assert!(mode.1.method.contains("test mode"), "{}", mode.1.method);
    assert!(mode.2.contains("the test mode's register"), "{}", mode.2);
    for (_, u, _, _) in &p {
        assert!(u.tur() >= 3.0 - 1e-6, "{u}");
    }
    // The whole suite: about half, and a third.
    assert!(wh.3 * 1.8 <= normal.3 && mode.3 * 3.0 <= normal.3);
}

fn suites_text(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("[[suites]]\nid = \"{id}\"\n"))
        .collect()
}

const MEASURED: [(&str, &str, &str); 2] = [
    (
        "examples/legrand-412083-wh",
        "high_resolution",
        "its high-resolution register",
    ),
    (
        "examples/example-test-mode",
        "test_mode",
        "the test mode's register",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_meter_passes_through_the_finer_register() {
    for (meter, via, words) in MEASURED {
        let r = common::run(
            &common::plan("guarded-binary", 2, &suites_text(&["accuracy-reactive"])),
            &common::rig_text(meter, "sim-tcp", 3, 0.02, ""),
        )
        .await;
        assert_eq!(r.points.len(), 20, "{meter}");
        assert!(
            common::failing(&r).is_empty(),
            "{meter}: {:?}",
            common::failing(&r)
        );
        for p in &r.points {
            let u = p.planned_u.as_ref().expect("planned U in the record");
            assert!(u.method.contains(words), "{meter} {}: {}", p.id, u.method);
            assert!(!p.samples.is_empty(), "{meter} {}", p.id);
            for s in &p.samples {
                assert_eq!(s.raw["via"], via, "{meter} {}: {}", p.id, s.raw);
                assert!(s.raw["step_basis"].is_string(), "{}", s.raw);
            }
        }
        if via == "test_mode" {
            assert!(
                r.restore
                    .iter()
                    .all(|o| o.message.starts_with("test mode left")),
                "{:?}",
                r.restore
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reactive_error_is_caught_through_the_finer_register() {
    // The defect of `defect_pairs`' reactive pair.
    for (meter, _, _) in MEASURED {
        let r = common::run(
            &common::plan("guarded-binary", 2, &suites_text(&["accuracy-reactive"])),
            &common::rig_text(meter, "sim-tcp", 3, 0.02, common::REACTIVE_ERROR_AT_IB),
        )
        .await;
        assert_eq!(
            common::failing(&r),
            common::REACTIVE_ERROR_AT_IB_FAILS,
            "{meter}"
        );
    }
}

/// The reactive starting check (0.005 Ib, sin φ 1) waits for one step of the
/// finest register the profile declares: 313 s × 1.5 on 0.01 kvarh, a tenth
/// of it on varh, a hundredth in the test mode. A meter that starts only
/// above 0.06 A fails it through each register; a good one passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reactive_starting_check_watches_the_finest_register() {
    let plan = common::plan("guarded-binary", 1, &suites_text(&["starting-current"]));
    for (meter, via, words) in [
        ("legrand-412083", "", "register step every 3130 s"),
        (
            "examples/legrand-412083-wh",
            "high_resolution",
            "one step of its high-resolution register every 313 s",
        ),
        (
            "examples/example-test-mode",
            "test_mode",
            "one step of the test mode's register every 31 s",
        ),
    ] {
        let good = common::run(&plan, &common::rig_text(meter, "sim-tcp", 3, 0.02, "")).await;
        let p = good
            .points
            .iter()
            .find(|p| p.id == "reactive")
            .expect("reactive point");
        assert!(p.title.contains(words), "{meter}: {}", p.title);
        assert!(
            common::failing(&good).is_empty(),
            "{meter}: {:?}",
            common::failing(&good)
        );
        let raw = &p.samples[0].raw;
        assert_eq!(raw["via"].as_str().unwrap_or(""), via, "{meter}: {raw}");
        let late = common::run(
            &plan,
            &common::rig_text(meter, "sim-tcp", 3, 0.02, "starting_current_a = 0.06"),
        )
        .await;
        assert!(
            common::failing(&late).contains(&"starting-current/reactive".to_string()),
            "{meter}: {:?}",
            common::failing(&late)
        );
    }
}

/// Ctrl-C during the test-mode dials (the suite's future dropped, wherever
/// it was): the run's end writes the mode's leave code, with the settings
/// restore and under idle voltage, and the record says so. (That the write
/// ends the mode is `harness/tests/finer_registers.rs`; here the source is
/// off after the run, and a power loss ends the mode on its own.)
#[rstest::rstest]
#[case::early(std::time::Duration::from_millis(1))]
#[case::mid(std::time::Duration::from_millis(8))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_stopped_in_the_test_mode_leaves_it(#[case] after: std::time::Duration) {
    let (r, _rig) = common::run_keeping_rig(
        &common::plan("guarded-binary", 1, &suites_text(&["accuracy-reactive"])),
        &common::rig_text("examples/example-test-mode", "sim-rtu", 5, 0.02, ""),
        Some(("accuracy-reactive/p1/q1-sin1-0.1ib", after)),
    )
    .await;
    println!("{after:?}: {:?} {:?}", r.status, r.restore);
    assert!(
        !r.restore.is_empty()
            && r.restore
                .iter()
                .all(|o| o.restored && o.message.starts_with("test mode left")),
        "{:?}",
        r.restore
    );
}
