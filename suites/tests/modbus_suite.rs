//! The `modbus` suite (issue 6): a good 4 120 83 passes with findings for
//! the two deviations its datasheet allows; each defect fails its own check
//! only; the meter is back on its factory settings afterwards, also after an
//! interruption; the response-time histogram reaches the record and the HTML.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use harness::profile::{Framing, LineSettings};
use rstest::rstest;

fn plan(params: &str) -> String {
    common::plan(
        "guarded-binary",
        1,
        &format!("[[suites]]\nid = \"modbus\"\n{params}\n"),
    )
}

fn failing_ids(r: &reports::Record) -> BTreeSet<String> {
    r.points
        .iter()
        .filter(|p| p.verdict.is_failure())
        .map(|p| p.id.clone())
        .collect()
}

fn factory() -> LineSettings {
    LineSettings {
        baud: 19200,
        framing: Framing::try_from("8E1".to_string()).expect("framing"),
    }
}

fn assert_factory(rig: &harness::rig::Rig, r: &reports::Record) {
    let s = rig.simulated_settings(0).expect("a simulated meter");
    assert_eq!(s.address, 5, "address back to the factory's");
    assert_eq!(s.line, Some(factory()), "line back to the factory's");
    assert!(
        r.restore.iter().all(|o| o.restored),
        "the record says restored: {:?}",
        r.restore
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_meter_passes_with_two_kinds_of_finding() {
    let (r, rig) = common::run_keeping_rig(
        &plan(""),
        &common::rig_text("legrand-412083", "sim-rtu", 6, 0.02, ""),
        None,
    )
    .await;
    assert!(failing_ids(&r).is_empty(), "{:?}", failing_ids(&r));
    let ids: BTreeSet<&str> = r.points.iter().map(|p| p.id.as_str()).collect();
    for id in [
        "response-time-f03-1000",
        "line-4800-8N1",
        "line-38400-8O1",
        "address-1",
        "address-247",
        "address-255",
        "illegal-function",
        "illegal-data-address",
        "illegal-quantity",
        "other-address",
        "broadcast-write",
        "bad-crc",
        "truncated-frame",
        "character-gap",
        "back-to-back",
        "timeout-recovery",
    ] {
        assert!(ids.contains(id), "{id} planned and run");
    }
    let skipped: Vec<_> = r
        .points
        .iter()
        .filter(|p| p.verdict == harness::stats::Verdict::Skipped)
        .map(|p| &p.id)
        .collect();
    assert!(
        skipped.is_empty(),
        "nothing skipped on a paced RTU line: {skipped:?}"
    );
    let texts: Vec<&str> = r.findings.iter().map(|f| f.text.as_str()).collect();
    assert!(
        texts.iter().any(|t| t.contains("10-bit character")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("address 255")), "{texts:?}");
    assert!(
        !texts.iter().any(|t| t.contains("address 247")),
        "{texts:?}"
    );
    // N ≥ 1000 answered requests per block, with the histogram.
    let rt = r
        .points
        .iter()
        .find(|p| p.id == "response-time-f03-1000")
        .expect("response time point");
    assert_eq!(rt.samples.len(), 1000);
    assert_eq!(rt.details["answered"], 1000);
    assert!(rt.details["max_ms"].as_f64().expect("max") <= 200.0);
    let hist = rt.details["histograms"][0]["values"]
        .as_array()
        .expect("histogram values");
    assert_eq!(hist.len(), 1000);
    response_times_recomputed_from_their_samples(&r);
    let html = reports::html::render(&r);
    assert!(
        html.contains("response time, function 03, 0x1000"),
        "the histogram is in the HTML report"
    );
    assert_factory(&rig, &r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_plan_fails_the_deviations() {
    let r = common::run(
        &plan("requests = 20\ndeviations = \"fail\""),
        &common::rig_text("legrand-412083", "sim-rtu", 6, 0.02, ""),
    )
    .await;
    let failing = failing_ids(&r);
    let want: BTreeSet<String> = [
        "line-4800-8N1",
        "line-9600-8N1",
        "line-19200-8N1",
        "line-38400-8N1",
        "address-255",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(failing, want);
}

#[rstest]
#[case::slow_replies("latency_ms = [180, 260]", &["response-time-f03-0300", "response-time-f03-1000", "response-time-f03-1100", "response-time-f03-1120"])]
#[case::answers_bad_crc("answers_bad_crc = true", &["bad-crc"])]
#[case::wrong_exception("exception_for_bad_address = 4", &["illegal-data-address"])]
#[case::answers_any_address("answers_any_address = true", &["other-address"])]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_defect_fails_its_own_check_only(#[case] fault: &str, #[case] fails: &[&str]) {
    let (r, rig) = common::run_keeping_rig(
        &plan("requests = 50"),
        &common::rig_text("legrand-412083", "sim-rtu", 7, 0.02, fault),
        None,
    )
    .await;
    let want: BTreeSet<String> = fails.iter().map(|s| s.to_string()).collect();
    assert_eq!(failing_ids(&r), want, "{fault}");
    assert_factory(&rig, &r);
    response_times_recomputed_from_their_samples(&r);
    if fault.starts_with("latency_ms") {
        // Decided early once failed; slow replies are neither timeouts nor
        // exceptions in the record.
        let rt = r
            .points
            .iter()
            .find(|p| p.id == "response-time-f03-1000")
            .expect("point");
        assert_eq!(
            rt.samples.len(),
            suites::modbus::MIN_REQUESTS_ONCE_FAILED as usize
        );
        assert!(rt.details["max_ms"].as_f64().expect("max") > 200.0);
        assert_eq!(rt.details["timeouts"], 0);
        assert_eq!(rt.details["exceptions"], 0);
    }
}

#[rstest]
#[case::early(Duration::from_millis(2))]
#[case::mid(Duration::from_millis(15))]
#[case::late(Duration::from_millis(40))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_matrix_leaves_the_meter_on_factory_settings(#[case] after: Duration) {
    let (r, rig) = common::run_keeping_rig(
        &plan("requests = 10"),
        &common::rig_text("legrand-412083", "sim-rtu", 9, 0.02, ""),
        Some(("modbus/p1/line-4800-8O1", after)),
    )
    .await;
    assert_eq!(r.status, reports::RecordStatus::Interrupted);
    println!("restore after {after:?}: {:?}", r.restore);
    assert_factory(&rig, &r);
}

/// Over Modbus TCP the raw-frame and timing checks do not apply: they are
/// skipped with their reason, and the rest passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tcp_the_frame_checks_are_skipped_with_a_reason() {
    let r = common::run(
        &plan("requests = 20"),
        &common::rig_text("legrand-412083", "sim-tcp", 10, 0.02, ""),
    )
    .await;
    assert!(failing_ids(&r).is_empty(), "{:?}", failing_ids(&r));
    let gap = r
        .points
        .iter()
        .find(|p| p.id == "character-gap")
        .expect("point");
    assert_eq!(gap.verdict, harness::stats::Verdict::Skipped);
}

/// Issue 15: each response-time verdict recomputed from its raw samples:
/// a pass is every request answered ("ok") and the largest response time
/// within the point's limit, in ms.
fn response_times_recomputed_from_their_samples(r: &reports::Record) {
    let points: Vec<_> = r
        .points
        .iter()
        .filter(|p| p.id.starts_with("response-time-"))
        .collect();
    assert!(!points.is_empty(), "no response-time point");
    for p in points {
        let limit = p.limit_pct.expect("a limit in ms");
        let all_answered = p.samples.iter().all(|s| s.raw["outcome"] == "ok");
        let max = p.samples.iter().map(|s| s.value).fold(0.0f64, f64::max);
        assert_eq!(
            p.verdict == harness::stats::Verdict::Pass,
            all_answered && max <= limit,
            "{}: max {max} ms against {limit} ms: {}",
            p.key,
            p.summary
        );
    }
}
