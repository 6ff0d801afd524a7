//! Many positions on one rig (issue 9): one point is measured on every
//! position at once, on one source, each position judged on its own.

mod common;

fn plan() -> String {
    common::plan(
        "guarded-binary",
        3,
        "[[suites]]\nid = \"accuracy-active\"\ngate_counts = 10000\ninfluence = false\n\
         [[suites]]\nid = \"measurements\"\n",
    )
}

/// A meter reading 1.8 % high at every current: beyond class B everywhere.
const HIGH: &str = "error_curve = [{ current_a = 0.25, pf = \"1\", error_pct = 1.8 }, { current_a = 63.0, pf = \"1\", error_pct = 1.8 }]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_defect_in_position_3_fails_position_3_only() {
    let rig = common::bench_text(4, 31, Some("A"), |i| {
        if i == 2 { HIGH.into() } else { String::new() }
    });
    let r = common::run(&plan(), &rig).await;
    assert_eq!(r.status, reports::RecordStatus::Completed, "{}", r.message);
    for pos in 0..4 {
        let points: Vec<_> = r.points.iter().filter(|p| p.position == pos).collect();
        assert!(!points.is_empty(), "position {} has points", pos + 1);
        let failed: Vec<_> = points
            .iter()
            .filter(|p| p.verdict.is_failure())
            .map(|p| p.key.clone())
            .collect();
        // The curve is at PF 1: every PF 1 error point of position 3 fails.
        let at_pf1: Vec<_> = points
            .iter()
            .filter(|p| p.suite == "accuracy-active" && p.id.starts_with("pf1-"))
            .map(|p| p.key.clone())
            .collect();
        if pos == 2 {
            assert!(!at_pf1.is_empty());
            assert!(at_pf1.iter().all(|k| failed.contains(k)), "{failed:?}");
        } else {
            assert!(failed.is_empty(), "position {} fails {failed:?}", pos + 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_positions_take_the_rig_time_of_one() {
    let one = common::run(&plan(), &common::bench_text(1, 32, None, |_| String::new())).await;
    let four = common::run(
        &plan(),
        &common::bench_text(4, 32, Some("A"), |_| String::new()),
    )
    .await;
    assert_eq!(four.points.len(), 4 * one.points.len());
    assert!(
        four.points.iter().all(|p| !p.verdict.is_failure()),
        "{:?}",
        common::failing(&four)
    );
    let (t1, t4) = (common::rig_time_s(&one), common::rig_time_s(&four));
    eprintln!("rig time: one position {t1:.0} s, four {t4:.0} s");
    // Each point waits for its slowest position (its pulses' phase, one more
    // repetition under sequential stopping): a little longer, never 4 ×.
    assert!(
        t4 < t1 * 1.5,
        "one position {t1:.0} s of rig time, four {t4:.0} s"
    );
    assert!(
        t4 >= t1 * 0.9,
        "one position {t1:.0} s of rig time, four {t4:.0} s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meters_on_one_bus_each_answer_at_their_own_address_and_share_it_evenly() {
    let plan = common::plan("guarded-binary", 2, "[[suites]]\nid = \"measurements\"\n");
    let (r, rig) = common::run_keeping_rig(
        &plan,
        &common::bench_text(4, 33, Some("A"), |_| String::new()),
        None,
    )
    .await;
    assert_eq!(r.status, reports::RecordStatus::Completed, "{}", r.message);
    assert!(
        r.points.iter().all(|p| !p.verdict.is_failure()),
        "{:?}",
        common::failing(&r)
    );
    // Each meter said its own serial number: the bus reached the right meter.
    let serials: Vec<_> = r
        .meters
        .iter()
        .map(|m| {
            m.said
                .as_ref()
                .and_then(|s| s.serial_number.clone())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        serials,
        ["2611250001", "2611250002", "2611250003", "2611250004"]
    );
    // The same points made the same requests on every position.
    let traffic: Vec<_> = rig
        .positions
        .iter()
        .map(|p| p.link.as_ref().expect("a link").traffic())
        .collect();
    assert!(traffic[0].requests > 0);
    assert!(traffic.iter().all(|t| *t == traffic[0]), "{traffic:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eight_position_fixture_runs_every_position() {
    let rig = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/rigs/sim-8-positions.toml"
    ))
    .expect("fixture")
    .replace(
        "../meters/",
        &format!("{}/../fixtures/meters/", env!("CARGO_MANIFEST_DIR")),
    );
    let plan = common::plan("guarded-binary", 2, "[[suites]]\nid = \"measurements\"\n");
    let r = common::run(&plan, &rig).await;
    assert_eq!(r.status, reports::RecordStatus::Completed, "{}", r.message);
    let positions: std::collections::BTreeSet<_> = r.points.iter().map(|p| p.position).collect();
    assert_eq!(positions.len(), 8);
    assert!(
        r.points.iter().all(|p| !p.verdict.is_failure()),
        "{:?}",
        common::failing(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_every_position_measures_switches_off_and_restores_every_meter() {
    let plan = common::plan("guarded-binary", 2, "[[suites]]\nid = \"measurements\"\n");
    // Slow meters (15 ms a reply, four on one bus), so the run is mid-point when stopped.
    let rig = common::bench_text(4, 34, Some("A"), |_| "latency_ms = [15, 15]".into());
    let (r, rig) = common::run_keeping_rig(
        &plan,
        &rig,
        Some((
            "measurements/p2/0.05ib-pf1-active_power",
            std::time::Duration::from_millis(100),
        )),
    )
    .await;
    assert_eq!(
        r.status,
        reports::RecordStatus::Interrupted,
        "{}",
        r.message
    );
    assert!(
        rig.simulated_source().is_some_and(|s| s.is_off()),
        "the source is off"
    );
    assert_eq!(r.restore.len(), 4, "{:?}", r.restore);
    assert!(r.restore.iter().all(|o| o.restored), "{:?}", r.restore);
    assert!(
        rig.positions
            .iter()
            .all(|p| p.link.is_some() && p.pulses.is_some())
    );
}
