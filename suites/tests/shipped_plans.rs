//! The shipped plans within a lab's budget (issue 20): each plan's planned
//! rig hours on the simulated one-position bench (fixtures/rigs/sim.toml),
//! with shared dwells and the run's order (the type test: 42.26 h as
//! written, 38.05 h with its four shared dwells at Iref),
//! within its `[plan] max_rig_hours`, and every point judged by a figure
//! planned for its target TUR or flagged with the U it reaches.

use std::path::{Path, PathBuf};

use harness::rig::Rig;
use harness::run::load_plan;
use harness::run::runner::{check_rig_budget, plan_points, plan_rig_time, rig_time_by_suite};
use harness::station::load_rig;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// (plan, planned hours, budget in hours, flagged points)
const PLANS: [(&str, f64, f64, usize); 4] = [
    ("type-test-class-b", 38.05, 100.0, 3),
    ("mid-module-b", 23.70, 24.0, 0),
    ("nightly", 3.9, 4.0, 3),
    ("firmware-gate", 5.7, 24.0, 0),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_plans_fit_their_budgets_and_every_point_meets_its_tur_or_is_flagged() {
    let suites = suites::all();
    let config = load_rig(&fixture("fixtures/rigs/sim.toml")).expect("sim rig");
    let rig = Rig::open(config).await.expect("rig opens");
    for (name, hours, budget, flagged) in PLANS {
        let plan = load_plan(
            &fixture(&format!("fixtures/plans/{name}.toml")),
            &suites::catalogue(),
        )
        .expect("plan loads");
        let points = plan_points(&plan, &suites, &rig).expect("plan plans");
        let h = plan_rig_time(&plan, &points, &suites).as_secs_f64() / 3600.0;
        let by_suite: Vec<String> = rig_time_by_suite(&points, &suites)
            .iter()
            .map(|(s, t)| format!("{s} {:.2} h", t.as_secs_f64() / 3600.0))
            .collect();
        assert!(
            (h - hours).abs() < 0.05,
            "{name}: {h:.2} h planned, {hours} h expected ({})",
            by_suite.join(", ")
        );
        assert!(h <= budget, "{name}: {h:.1} h > {budget} h");
        check_rig_budget(&plan, &points, &suites).expect("within max_rig_hours");
        let mut n_flagged = 0;
        for p in &points {
            let Some(limit) = &p.limit else { continue };
            if limit.unit != "%" {
                continue; // a check (ms, Hz, PF units, a rule): no U to plan
            }
            let u = p
                .planned_u
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: {} has a % limit and no planned U", p.key()));
            assert_eq!(u.limit_pct, limit.limit_pct, "{}", p.key());
            if u.flagged.is_some() {
                n_flagged += 1;
                // A flagged point is held to max_point_hours.
                assert!(
                    p.rig_time.as_secs_f64() <= plan.targets.max_point_hours * 3600.0 + 1.0,
                    "{name}: {} flagged but planned {} s",
                    p.key(),
                    p.rig_time.as_secs_f64()
                );
            } else {
                assert!(
                    u.meets_target() && u.tur() >= plan.targets.target_tur - 1e-6,
                    "{name}: {} expects {u} and is not flagged",
                    p.key()
                );
            }
        }
        assert_eq!(n_flagged, flagged, "{name}: flagged points");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_over_max_rig_hours_is_refused_naming_the_costly_suites() {
    let suites = suites::all();
    let config = load_rig(&fixture("fixtures/rigs/sim.toml")).expect("sim rig");
    let rig = Rig::open(config).await.expect("rig opens");
    let text = std::fs::read_to_string(fixture("fixtures/plans/type-test-class-b.toml"))
        .expect("plan")
        .replace("max_rig_hours = 100", "max_rig_hours = 20");
    let plan = harness::run::parse_plan(&text, Path::new("tight.toml"), &suites::catalogue())
        .expect("plan parses");
    let points = plan_points(&plan, &suites, &rig).expect("plan plans");
    let err = check_rig_budget(&plan, &points, &suites)
        .expect_err("over budget")
        .to_string();
    assert!(err.contains("max_rig_hours = 20"), "{err}");
    assert!(err.contains("s0-pulse"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planner_shortens_reactive_dwells_and_measures_them_once() {
    let suites = suites::all();
    let config = load_rig(&fixture("fixtures/rigs/sim.toml")).expect("sim rig");
    let rig = Rig::open(config).await.expect("rig opens");
    let plan = load_plan(
        &fixture("fixtures/plans/type-test-class-b.toml"),
        &suites::catalogue(),
    )
    .expect("plan loads");
    let points = plan_points(&plan, &suites, &rig).expect("plan plans");
    let ib = points
        .iter()
        .find(|p| p.key() == "accuracy-reactive/p1/q1-sin1-ib")
        .expect("point");
    // 2 300 var, ±2 %, TUR 3: the dial flown on the register's steps (±1 s
    // of energy at each end, not ±1 step), a few minutes, once (not 5 × 4.3 h).
    let h = ib.rig_time.as_secs_f64() / 3600.0;
    assert!(h < 0.2, "{h} h");
    assert_eq!(ib.params["repetitions"], 1);
    assert!(ib.params["on_steps"].as_u64().is_some_and(|n| n >= 1));
    let u = ib.planned_u.as_ref().expect("planned U");
    assert!(u.tur() >= 3.0 && u.flagged.is_none(), "{u}");
    // The lowest current, 115 var: within TUR 3 too, in minutes.
    let low = points
        .iter()
        .find(|p| p.key() == "accuracy-reactive/p1/q1-sin1-0.05ib")
        .expect("point");
    assert!(low.rig_time.as_secs_f64() < 3600.0);
    assert!(low.planned_u.as_ref().is_some_and(|u| u.flagged.is_none()));
    // The meter constant's S0 count shares the LED's dwell.
    let s0 = points
        .iter()
        .find(|p| p.key() == "meter-constant/p1/s0")
        .expect("s0");
    assert_eq!(s0.rig_time.as_secs(), 0);
    assert_eq!(s0.params["shares_dwell"], true);
}
