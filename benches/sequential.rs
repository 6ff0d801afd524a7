//! Sequential stopping against the fixed count (BENCHMARKS.md, item 5): the
//! accuracy-active points of a nightly plan, 10 repetitions, on a good, a
//! marginal and a failing meter (noise 0.1 %), over many seeds. Rig time
//! saved, and wrong verdicts against the meter's known true error and
//! against the fixed-count plan.
//!   cargo bench --bench sequential            (200 seeds)
//!   METRIG_SEEDS=20 cargo bench --bench sequential
//!   METRIG_METERS=failing cargo bench --bench sequential   (one meter; every
//!   wrong verdict printed with its point, mean, U and sample count)

use std::path::Path;

use harness::rig::Rig;
use harness::run::{RunRequest, cancel_pair, parse_plan};
use harness::station::parse_rig;
use harness::stats::Verdict;

const PLAN: &str = "[plan]\nname = \"nightly-accuracy\"\ndecision_rule = \"guarded-binary\"\nrepetitions = 10\nwarm_up_s = 0\nsettle_s = 1\n[[suites]]\nid = \"accuracy-active\"\ngate_counts = 10000\ninfluence = false\n";

fn curve(error: f64) -> String {
    let mut points = String::new();
    for pf in ["1", "0.5L", "0.8C"] {
        for i in [0.25, 63.0] {
            points.push_str(&format!(
                "{{ current_a = {i}, pf = \"{pf}\", error_pct = {error} }},"
            ));
        }
    }
    format!("error_curve = [{points}]\nnoise_pct = 0.1")
}

/// One point's decision: its verdict, and what it was drawn from.
#[derive(Debug, Clone)]
struct Decided {
    key: String,
    verdict: Verdict,
    mean: Option<f64>,
    u: Option<f64>,
    samples: usize,
}

impl PartialEq<Verdict> for Decided {
    fn eq(&self, v: &Verdict) -> bool {
        self.verdict == *v
    }
}

impl PartialEq for Decided {
    fn eq(&self, other: &Decided) -> bool {
        self.verdict == other.verdict
    }
}

impl std::fmt::Display for Decided {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?}: mean {:+.3} %, U {:.3} %, {} samples",
            self.key,
            self.verdict,
            self.mean.unwrap_or(f64::NAN),
            self.u.unwrap_or(f64::NAN),
            self.samples
        )
    }
}

/// (rig seconds, decisions with their limits) of one run.
async fn run(plan_text: &str, error: f64, seed: u64) -> (f64, Vec<(Decided, f64)>) {
    let suites = suites::all();
    let plan = parse_plan(plan_text, Path::new("bench.toml"), &suites::catalogue()).expect("plan");
    let rig_text = format!(
        "[rig]\nname = \"bench\"\nkind = \"sim\"\nseed = {seed}\n[source]\nkind = \"sim\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n[reference]\nkind = \"sim\"\n[[positions]]\nmeter = \"fixtures/meters/legrand-412083.toml\"\nlink = {{ kind = \"sim-tcp\" }}\n[positions.sim.faults]\n{}\n",
        curve(error)
    );
    let mut rig = Rig::open(parse_rig(&rig_text, Path::new("bench-rig.toml")).expect("rig"))
        .await
        .expect("rig");
    let points = harness::run::runner::plan_points(&plan, &suites, &rig).expect("points");
    let limits: Vec<f64> = points
        .iter()
        .map(|p| p.limit.as_ref().map_or(f64::NAN, |l| l.limit_pct))
        .collect();
    let verdicts = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    struct Keep(std::sync::Arc<std::sync::Mutex<Vec<Decided>>>, usize);
    impl harness::run::Listener for Keep {
        fn on_event(&mut self, e: &harness::run::RunEvent) {
            match e {
                harness::run::RunEvent::PointStarted { .. } => self.1 = 0,
                harness::run::RunEvent::Sample { .. } => self.1 += 1,
                harness::run::RunEvent::PointFinished { key, outcome, .. } => {
                    self.0.lock().expect("lock").push(Decided {
                        key: key.clone(),
                        verdict: outcome.verdict,
                        mean: outcome.mean_error_pct,
                        u: outcome.expanded_uncertainty_pct,
                        samples: self.1,
                    })
                }
                _ => {}
            }
        }
    }
    let mut listeners: Vec<Box<dyn harness::run::Listener>> =
        vec![Box::new(Keep(verdicts.clone(), 0))];
    let (_keep, cancel) = cancel_pair();
    let req = RunRequest {
        plan: &plan,
        suites: &suites,
        run_id: "bench".into(),
        resume: None,
        only: None,
        cancel,
    };
    harness::run::run(req, &mut rig, &mut listeners)
        .await
        .expect("run");
    let v = verdicts.lock().expect("lock").clone();
    (rig.now().secs_f64(), v.into_iter().zip(limits).collect())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let seeds: u64 = std::env::var("METRIG_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let sequential = PLAN.replace(
        "repetitions = 10",
        "repetitions = 10\nstopping = \"sequential\"",
    );
    println!("seeds {seeds}; meters: flat error, noise 0.1 %; guarded-binary rule; 10 repetitions");
    let (mut t_fixed, mut t_seq) = (0.0, 0.0);
    let only = std::env::var("METRIG_METERS").ok();
    for (name, error) in [("good", 0.3), ("marginal", 0.9), ("failing", 1.2)] {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|m| m == name))
        {
            continue;
        }
        let (mut tf, mut ts) = (0.0, 0.0);
        let (mut wrong_f, mut wrong_s, mut differ, mut decisions) = (0, 0, 0, 0);
        for seed in 0..seeds {
            let (rf, vf) = run(PLAN, error, 1000 + seed).await;
            let (rs, vs) = run(&sequential, error, 1000 + seed).await;
            tf += rf;
            ts += rs;
            for ((f, limit), (s, _)) in vf.iter().zip(&vs) {
                // The truth: the meter's error within the limit or not.
                let truth = if error <= *limit {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                };
                wrong_f += usize::from(*f != truth);
                wrong_s += usize::from(*s != truth);
                if only.is_some() && (*f != truth || *s != truth) {
                    println!(
                        "  seed {}: truth {truth:?} (limit ±{limit} %); fixed {f}; sequential {s}",
                        1000 + seed
                    );
                }
                differ += usize::from(f != s);
                decisions += 1;
            }
        }
        println!(
            "{name} (+{error} %): rig time fixed {:.1} h, sequential {:.1} h, saved {:.1} %; wrong verdicts against the truth: fixed {wrong_f}, sequential {wrong_s} of {decisions}; sequential differs from fixed in {differ}",
            tf / 3600.0,
            ts / 3600.0,
            (1.0 - ts / tf) * 100.0
        );
        t_fixed += tf;
        t_seq += ts;
    }
    println!(
        "all meters: rig time saved {:.1} %",
        (1.0 - t_seq / t_fixed) * 100.0
    );
}
