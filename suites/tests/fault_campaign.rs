//! The fault campaign (issue 8): `nightly.toml` on the simulated rig with
//! dropped replies, latency spikes past the timeout, garbage on the line and
//! a reboot mid-point completes, with no panic, and with the verdicts of a
//! clean run for every suite but `modbus`, which measures exactly those
//! behaviours.

mod common;

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};

fn nightly() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/plans/nightly.toml"),
    )
    .expect("nightly plan")
    .replace("requests = 1000", "requests = 100")
}

fn verdicts(r: &reports::Record) -> BTreeMap<String, String> {
    r.points
        .iter()
        .filter(|p| p.suite != "modbus")
        .map(|p| (p.key.clone(), p.verdict.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nightly_run_under_faults_keeps_the_clean_verdicts() {
    let seed = 31;
    let clean = common::run(
        &nightly(),
        &common::rig_text("legrand-412083", "sim-rtu", seed, 0.02, ""),
    )
    .await;
    assert_eq!(clean.status, reports::RecordStatus::Completed);
    // The reboot (3 s of silence) starts 2 s before the first `measurements`
    // read, in the point's settling dwell: that read finds the meter silent.
    let first_read = clean
        .points
        .iter()
        .find(|p| p.suite == "measurements")
        .and_then(|p| p.samples.first())
        .map(|s| s.at_s)
        .expect("a measurements sample");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let faults = format!(
        "drop_response_every = {}\nlatency_spikes = {{ every = {}, ms = 400 }}\ngarbage_every = {}\nreboot_at_s = {}",
        rng.random_range(9..15),
        rng.random_range(15..25),
        rng.random_range(11..19),
        first_read - 2.0
    );
    let faulty = common::run(
        &nightly(),
        &common::rig_text("legrand-412083", "sim-rtu", seed, 0.02, &faults),
    )
    .await;
    println!("faults: {faults}");
    assert_eq!(
        faulty.status,
        reports::RecordStatus::Completed,
        "{}",
        faulty.message
    );
    assert_eq!(verdicts(&clean), verdicts(&faulty), "{faults}");
    let retries = faulty
        .findings
        .iter()
        .filter(|f| f.text.contains("attempt 2 of"))
        .count();
    let reboots = faulty
        .findings
        .iter()
        .filter(|f| f.text.contains("answered again after"))
        .count();
    println!(
        "{} points, {retries} retries, {reboots} reboot(s) waited for, modbus failures: {:?}",
        faulty.points.len(),
        common::failing(&faulty)
    );
    assert!(
        retries > 0 && reboots == 1,
        "{retries} retries, {reboots} reboots"
    );
    // Nothing measured was lost: every point has its samples.
    for (a, b) in clean.points.iter().zip(&faulty.points) {
        if a.suite != "modbus" {
            assert_eq!(a.samples.len(), b.samples.len(), "{}", a.key);
        }
    }
}
