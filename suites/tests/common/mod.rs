//! Runs a plan on a simulated rig in-process and folds its record.
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use harness::rig::Rig;
use harness::run::{Listener, RunEvent, RunRequest, cancel_pair, parse_plan};
use harness::station::parse_rig;
use reports::Record;

/// The repository's `fixtures/`.
pub fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

pub fn meter(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/meters")
        .join(format!("{name}.toml"))
        .display()
        .to_string()
}

/// A one-position simulated rig. `link`: sim-rtu, sim-tcp or none.
pub fn rig_text(meter_name: &str, link: &str, seed: u64, reference_u: f64, faults: &str) -> String {
    format!(
        "[rig]\nname = \"suite test bench\"\nkind = \"sim\"\nseed = {seed}\n\
         [source]\nkind = \"sim\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n\
         [reference]\nkind = \"sim\"\nuncertainty_pct = {reference_u}\nuncertainty_low_pf_pct = {reference_u}\n\
         [[positions]]\nmeter = \"{}\"\nlink = {{ kind = \"{link}\" }}\n[positions.sim]\nfirmware = \"1.02\"\n[positions.sim.faults]\n{faults}\n",
        meter(meter_name)
    )
}

/// The default link for a profile on the simulated rig.
pub fn link_for(meter_name: &str) -> &'static str {
    match meter_name {
        "legrand-412082" => "none",
        "eastron-sdm120" | "legrand-412083" => "sim-rtu",
        _ => "sim-tcp",
    }
}

#[derive(Default)]
struct Collect(Arc<Mutex<Vec<RunEvent>>>);

impl Listener for Collect {
    fn on_event(&mut self, e: &RunEvent) {
        self.0.lock().expect("lock").push(e.clone());
    }
}

pub async fn run(plan_text: &str, rig_text: &str) -> Record {
    run_keeping_rig(plan_text, rig_text, None).await.0
}

/// Cancels the run `after` the point `key` starts (as Ctrl-C would).
struct CancelAfter {
    key: String,
    after: std::time::Duration,
    handle: Arc<harness::run::CancelHandle>,
}

impl Listener for CancelAfter {
    fn on_event(&mut self, e: &RunEvent) {
        if let RunEvent::PointStarted { key, .. } = e
            && *key == self.key
        {
            let (h, after) = (self.handle.clone(), self.after);
            std::thread::spawn(move || {
                std::thread::sleep(after);
                h.cancel();
            });
        }
    }
}

/// Runs a plan and hands back the rig too, to look at the simulated meter
/// afterwards; `cancel`: stop the run this long after this point starts.
pub async fn run_keeping_rig(
    plan_text: &str,
    rig_text: &str,
    cancel: Option<(&str, std::time::Duration)>,
) -> (Record, Rig) {
    let suites = suites::all();
    let plan = parse_plan(plan_text, Path::new("test-plan.toml"), &suites::catalogue())
        .expect("valid plan");
    let config = parse_rig(rig_text, Path::new("test-rig.toml")).expect("valid rig");
    let mut rig = Rig::open(config).await.expect("rig opens");
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut listeners: Vec<Box<dyn Listener>> = vec![Box::new(Collect(events.clone()))];
    let (keep, cancel_rx) = cancel_pair();
    let keep = Arc::new(keep);
    if let Some((key, after)) = cancel {
        listeners.push(Box::new(CancelAfter {
            key: key.to_string(),
            after,
            handle: keep.clone(),
        }));
    }
    let req = RunRequest {
        plan: &plan,
        suites: &suites,
        run_id: "test".into(),
        resume: None,
        only: None,
        cancel: cancel_rx,
    };
    harness::run::run(req, &mut rig, &mut listeners)
        .await
        .expect("the run runs");
    let events = events.lock().expect("lock").clone();
    (Record::from_events(&events).expect("a record"), rig)
}

pub fn plan(rule: &str, reps: u32, suites: &str) -> String {
    format!(
        "[plan]\nname = \"test\"\ndecision_rule = \"{rule}\"\nrepetitions = {reps}\nsettle_s = 1\n{suites}"
    )
}

/// Keys of points whose verdict is a failure.
/// The reactive defect of the defect pairs: +2.6 % at Ib, sin φ 0.5 L, and
/// nothing at 1 A or Imax.
pub const REACTIVE_ERROR_AT_IB: &str = "reactive_error_curve = [{ current_a = 1, sin_phi = \"0.5L\", error_pct = 0.0 }, { current_a = 10, sin_phi = \"0.5L\", error_pct = 2.6 }, { current_a = 63, sin_phi = \"0.5L\", error_pct = 0.0 }]";

/// The points that defect fails: the inductive ones at Ib, importing (Q1)
/// and exporting (Q3).
pub const REACTIVE_ERROR_AT_IB_FAILS: [&str; 2] = [
    "accuracy-reactive/q1-sin0.5L-ib",
    "accuracy-reactive/q3-sin0.5-ib",
];

pub fn failing(r: &Record) -> Vec<String> {
    r.points
        .iter()
        .filter(|p| p.verdict.is_failure())
        .map(|p| format!("{}/{}", p.suite, p.id))
        .collect()
}

/// A simulated bench of `n` 4 120 83s at addresses 1..=n, each on RS485
/// (`bus`: the name of the one bus they share, or each its own line), with
/// `faults(i)` for the 0-based position i.
pub fn bench_text(
    n: usize,
    seed: u64,
    bus: Option<&str>,
    faults: impl Fn(usize) -> String,
) -> String {
    let mut t = format!(
        "[rig]\nname = \"{n}-position bench\"\nkind = \"sim\"\nseed = {seed}\n\
         [source]\nkind = \"sim\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n\
         [reference]\nkind = \"sim\"\nuncertainty_pct = 0.02\nuncertainty_low_pf_pct = 0.04\n"
    );
    let link = match bus {
        Some(b) => format!("{{ kind = \"sim-rtu\", bus = \"{b}\" }}"),
        None => "{ kind = \"sim-rtu\" }".to_string(),
    };
    for i in 0..n {
        t.push_str(&format!(
            "[[positions]]\nmeter = \"{}\"\nlink = {link}\naddress = {}\n[positions.sim]\nserial_number = {}\nfirmware = \"1.02\"\n[positions.sim.faults]\n{}\n",
            meter("legrand-412083"),
            i + 1,
            2_611_250_001u64 + i as u64,
            faults(i)
        ));
    }
    t
}

/// The last instant of rig time a sample was taken at, seconds.
pub fn rig_time_s(r: &Record) -> f64 {
    r.points
        .iter()
        .flat_map(|p| p.samples.iter().map(|s| s.at_s))
        .fold(0.0, f64::max)
}
