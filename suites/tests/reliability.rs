//! Reliability (issue 8): dropped replies are retried and the record says
//! so; a meter that reboots mid-point is waited for and the point measured
//! again; a rig file can make a lost meter stop the run instead.

mod common;

fn plan() -> String {
    common::plan("guarded-binary", 2, "[[suites]]\nid = \"measurements\"\n")
}

fn verdicts(r: &reports::Record) -> Vec<(String, String)> {
    r.points
        .iter()
        .map(|p| (p.id.clone(), p.verdict.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_replies_are_retried_and_recorded() {
    let clean = common::run(
        &plan(),
        &common::rig_text("legrand-412083", "sim-rtu", 21, 0.02, ""),
    )
    .await;
    let faulty = common::run(
        &plan(),
        &common::rig_text(
            "legrand-412083",
            "sim-rtu",
            21,
            0.02,
            "drop_response_every = 7",
        ),
    )
    .await;
    assert_eq!(verdicts(&clean), verdicts(&faulty), "same verdicts");
    let retries = faulty
        .findings
        .iter()
        .filter(|f| f.text.contains("attempt 2 of 3"))
        .count();
    assert!(retries > 5, "{retries} retries recorded");
    assert!(
        faulty
            .findings
            .iter()
            .any(|f| f.text.contains("answered on attempt 2")),
        "the answer after a retry is recorded too"
    );
    assert!(clean.findings.iter().all(|f| !f.text.contains("attempt")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meter_that_reboots_mid_point_is_waited_for_and_the_point_repeated() {
    let clean = common::run(
        &plan(),
        &common::rig_text("legrand-412083", "sim-rtu", 22, 0.02, ""),
    )
    .await;
    let rebooting = common::run(
        &plan(),
        &common::rig_text("legrand-412083", "sim-rtu", 22, 0.02, "reboot_at_s = 4"),
    )
    .await;
    assert_eq!(verdicts(&clean), verdicts(&rebooting), "same verdicts");
    let repeated: Vec<_> = rebooting.points.iter().filter(|p| p.attempts > 1).collect();
    assert_eq!(repeated.len(), 1, "one point measured twice");
    assert!(
        rebooting
            .findings
            .iter()
            .any(|f| f.text.contains("answered again after")
                && f.key.as_deref() == Some(&repeated[0].key)),
        "{:?}",
        rebooting.findings
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rig_file_can_make_a_lost_meter_stop_the_run() {
    let rig = common::rig_text("legrand-412083", "sim-rtu", 23, 0.02, "reboot_at_s = 4").replace(
        "[positions.sim]",
        "[positions.retry]\nattempts = 2\nbackoff_ms = 10\non_lost = \"run\"\n[positions.sim]",
    );
    let r = common::run(&plan(), &rig).await;
    assert_eq!(r.status, reports::RecordStatus::Interrupted);
    assert!(r.message.contains("is lost"), "{}", r.message);
    assert!(
        r.findings
            .iter()
            .any(|f| f.text.contains("lost after 2 attempts")),
        "{:?}",
        r.findings
    );
}

/// Sequential stopping (issue 9): a good meter stops each point after the
/// first look, a meter far outside stops as a fail; the verdicts are the
/// fixed-count plan's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_stopping_takes_fewer_repetitions_for_the_same_verdicts() {
    let suites = "[[suites]]\nid = \"accuracy-active\"\ngate_counts = 10000\ninfluence = false\n";
    let fixed = common::plan("guarded-binary", 10, suites);
    let sequential = fixed.replace(
        "repetitions = 10",
        "repetitions = 10\nstopping = \"sequential\"",
    );
    for (error, verdict) in [(0.3, "pass"), (1.8, "fail")] {
        let curve = format!(
            "error_curve = [{{ current_a = 0.25, pf = \"1\", error_pct = {error} }}, {{ current_a = 63, pf = \"1\", error_pct = {error} }}, {{ current_a = 0.25, pf = \"0.5L\", error_pct = {error} }}, {{ current_a = 63, pf = \"0.5L\", error_pct = {error} }}, {{ current_a = 0.25, pf = \"0.8C\", error_pct = {error} }}, {{ current_a = 63, pf = \"0.8C\", error_pct = {error} }}]\nnoise_pct = 0.05"
        );
        let rig = common::rig_text("legrand-412083", "sim-rtu", 24, 0.02, &curve);
        let a = common::run(&fixed, &rig).await;
        let b = common::run(&sequential, &rig).await;
        assert_eq!(verdicts(&a), verdicts(&b), "{error} %");
        assert!(a.points.iter().all(|p| p.verdict.to_string() == verdict));
        let (na, nb): (usize, usize) = (
            a.points.iter().map(|p| p.samples.len()).sum(),
            b.points.iter().map(|p| p.samples.len()).sum(),
        );
        println!("{error} %: {na} gates fixed, {nb} sequential");
        assert!(nb * 2 < na, "{error} %: {nb} of {na} gates");
    }
}
