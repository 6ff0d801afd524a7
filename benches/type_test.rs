//! The full type-test plan on the simulated rig, in-process: wall time, the
//! rig time it represents (the simulated clock at the end), their ratio, and
//! the real-rig time the plan would take (the points' planned durations).
//!   cargo bench --bench type_test

use std::path::Path;
use std::time::Instant;

use harness::rig::Rig;
use harness::run::{RunRequest, cancel_pair, load_plan};
use harness::station::load_rig;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let suites = suites::all();
    let plan = load_plan(
        Path::new("fixtures/plans/type-test-class-b.toml"),
        &suites::catalogue(),
    )
    .expect("plan");
    let mut walls = Vec::new();
    for round in 1..=3 {
        let mut rig = Rig::open(load_rig(Path::new("fixtures/rigs/sim.toml")).expect("rig"))
            .await
            .expect("rig opens");
        let points = harness::run::runner::plan_points(&plan, &suites, &rig).expect("points");
        let planned: f64 = points.iter().map(|p| p.rig_time.as_secs_f64()).sum();
        let (_keep, cancel) = cancel_pair();
        let req = RunRequest {
            plan: &plan,
            suites: &suites,
            run_id: format!("bench-{round}"),
            resume: None,
            only: None,
            cancel,
        };
        let t0 = Instant::now();
        let summary = harness::run::run(req, &mut rig, &mut [])
            .await
            .expect("runs");
        let wall = t0.elapsed().as_secs_f64();
        let rig_time = rig.now().secs_f64();
        walls.push(wall);
        println!(
            "round {round}: {} points, {} failures; wall {wall:.2} s; simulated rig time {:.1} h ({:.0}× wall); planned real-rig time {:.1} h",
            summary.points,
            summary.failures,
            rig_time / 3600.0,
            rig_time / wall,
            planned / 3600.0
        );
    }
    walls.sort_by(f64::total_cmp);
    println!("type-test plan, median wall of 3: {:.2} s", walls[1]);
}
