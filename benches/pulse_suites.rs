//! Wall time of the pulse, tariff and hour-meter suites on the simulated
//! rig, against the rig time they stand for.
//! `cargo bench --bench pulse_suites`

use std::path::Path;
use std::time::Instant;

use harness::rig::Rig;
use harness::run::{Listener, RunEvent, RunRequest, cancel_pair, parse_plan};
use harness::station::load_rig;

struct Count(usize);

impl Listener for Count {
    fn on_event(&mut self, e: &RunEvent) {
        if matches!(e, RunEvent::PointFinished { .. }) {
            self.0 += 1;
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let all = suites::all();
        println!("{:<18} {:>8} {:>14} {:>12}", "suite", "points", "rig time", "wall time");
        let mut total = 0.0;
        for id in ["starting-current", "no-load", "s0-pulse", "led-constant", "tariff", "hour-meter"] {
            let plan_text = format!("[plan]\nname = \"bench\"\ndecision_rule = \"guarded-binary\"\nrepetitions = 5\nsettle_s = 5\n[[suites]]\nid = \"{id}\"\n");
            let plan = parse_plan(&plan_text, Path::new("bench.toml"), &suites::catalogue()).expect("plan");
            let mut rig = Rig::open(load_rig(&root.join("fixtures/rigs/sim.toml")).expect("rig")).await.expect("opens");
            let (_keep, cancel) = cancel_pair();
            let mut listeners: Vec<Box<dyn Listener>> = vec![Box::new(Count(0))];
            let t = Instant::now();
            let start = rig.now();
            let req = RunRequest { plan: &plan, suites: &all, run_id: "bench".into(), resume: None, only: None, cancel };
            let summary = harness::run::run(req, &mut rig, &mut listeners).await.expect("runs");
            let wall = t.elapsed().as_secs_f64();
            total += wall;
            println!("{id:<18} {:>8} {:>12.1} h {:>10.3} s", summary.points, rig.now().since(start).as_secs_f64() / 3600.0, wall);
        }
        println!("{:<18} {:>8} {:>14} {:>10.3} s", "all six", "", "", total);
    });
}
