//! Soak (issue 8): a simulated week of nightly runs in one process — a new
//! rig each night, as a cron job would open it, the journal and every report
//! written. Memory stays flat (resident set after night 1 against night 7),
//! and the journal and record grow with the samples, not with the nights.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use harness::rig::Rig;
use harness::run::journal::Journal;
use harness::run::{Listener, RunEvent, RunRequest, cancel_pair, parse_plan};
use harness::station::parse_rig;

/// Resident and peak resident set of this process, kB (Linux).
fn rss_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Keep(Arc<Mutex<Vec<RunEvent>>>);

impl Listener for Keep {
    fn on_event(&mut self, e: &RunEvent) {
        self.0.lock().expect("lock").push(e.clone());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_of_nights_keeps_memory_flat_and_files_linear() {
    let plan_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/plans/nightly.toml"),
    )
    .expect("nightly")
    .replace("requests = 1000", "requests = 200");
    let suites = suites::all();
    let plan =
        parse_plan(&plan_text, Path::new("nightly.toml"), &suites::catalogue()).expect("plan");
    let dir = tempfile::tempdir().expect("tmp");
    let mut nights = Vec::new();
    for night in 1..=7u64 {
        let text = common::rig_text("legrand-412083", "sim-rtu", 40 + night, 0.02, "");
        let mut rig = Rig::open(parse_rig(&text, Path::new("soak.toml")).expect("rig"))
            .await
            .expect("rig opens");
        let out = dir.path().join(format!("night-{night}"));
        let events = Arc::new(Mutex::new(Vec::new()));
        let mut listeners: Vec<Box<dyn Listener>> = vec![
            Box::new(Journal::open(&out).expect("journal")),
            Box::new(Keep(events.clone())),
        ];
        let (_keep, cancel) = cancel_pair();
        let req = RunRequest {
            plan: &plan,
            suites: &suites,
            run_id: format!("night-{night}"),
            resume: None,
            only: None,
            cancel,
        };
        harness::run::run(req, &mut rig, &mut listeners)
            .await
            .expect("the night runs");
        drop(listeners);
        drop(rig);
        let record = reports::Record::from_events(&events.lock().expect("lock")).expect("record");
        reports::write_all(&record, &out).expect("reports");
        let samples: usize = record.points.iter().map(|p| p.samples.len()).sum();
        let size = |f: &str| std::fs::metadata(out.join(f)).map_or(0, |m| m.len());
        let (rss, peak) = rss_kb();
        println!(
            "night {night}: {} points, {samples} samples, journal {} B, record {} B, RSS {rss} kB, peak {peak} kB",
            record.points.len(),
            size("journal.jsonl"),
            size("record.json")
        );
        nights.push((samples, size("journal.jsonl"), size("record.json"), rss));
    }
    let (s1, j1, r1, rss1) = nights[0];
    let (s7, j7, r7, rss7) = nights[6];
    // Bytes per sample stay the same night after night (within 5 %).
    let per = |bytes: u64, samples: usize| bytes as f64 / samples.max(1) as f64;
    assert!(
        (per(j7, s7) / per(j1, s1) - 1.0).abs() < 0.05,
        "journal {j1} → {j7}"
    );
    assert!(
        (per(r7, s7) / per(r1, s1) - 1.0).abs() < 0.05,
        "record {r1} → {r7}"
    );
    // Resident memory after night 7 within 20 % (+ 16 MB of allocator slack)
    // of night 1's: nothing accumulates across nights.
    assert!(
        rss7 as f64 <= rss1 as f64 * 1.2 + 16_384.0,
        "RSS night 1 {rss1} kB, night 7 {rss7} kB"
    );
}
