//! `accuracy-active` catches the error-curve defects it guards against, and
//! only those; a good meter passes on every profile that applies.

mod common;

use harness::stats::Verdict;
use rstest::rstest;

const SUITE: &str = "[[suites]]\nid = \"accuracy-active\"\n";

fn curve(rows: &[(f64, &str, f64)]) -> String {
    let items: Vec<String> = rows
        .iter()
        .map(|(i, pf, e)| format!("{{ current_a = {i}, pf = \"{pf}\", error_pct = {e} }}"))
        .collect();
    format!("error_curve = [{}]", items.join(", "))
}

#[rstest]
#[case::legrand_412083("legrand-412083")]
#[case::legrand_412082("legrand-412082")]
#[case::eastron_sdm120("eastron-sdm120")]
#[case::carlo_gavazzi_em111("carlo-gavazzi-em111")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_meter_passes_every_point(#[case] meter: &str) {
    let faults = curve(&[
        (0.25, "1", 0.3),
        (63.0, "1", -0.2),
        (0.5, "0.5L", -0.25),
        (63.0, "0.5L", 0.3),
        (0.5, "0.8C", 0.28),
        (63.0, "0.8C", -0.3),
    ]) + "\nnoise_pct = 0.02";
    let r = common::run(
        &common::plan("guarded-binary", 3, SUITE),
        &common::rig_text(meter, common::link_for(meter), 11, 0.02, &faults),
    )
    .await;
    assert_eq!(r.points.len(), 32, "20 intrinsic + 12 influence points");
    assert!(
        common::failing(&r).is_empty(),
        "{meter}: {:?}",
        common::failing(&r)
    );
    assert!(
        r.points
            .iter()
            .all(|p| p.samples.len() == 3 || p.samples.len() == 6),
        "raw samples kept"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_at_iref_capacitive_fails_those_points_only() {
    let faults = curve(&[(1.0, "0.8C", 0.0), (10.0, "0.8C", 1.3), (63.0, "0.8C", 0.0)]);
    let r = common::run(
        &common::plan("guarded-binary", 3, SUITE),
        &common::rig_text("legrand-412083", "sim-rtu", 11, 0.02, &faults),
    )
    .await;
    assert_eq!(
        common::failing(&r),
        vec![
            "accuracy-active/pf0.8C-iref-up",
            "accuracy-active/pf0.8C-iref-down"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_at_imin_fails_the_imin_points_only() {
    let faults = curve(&[(0.5, "1", 1.6), (1.0, "1", 0.0)]);
    let r = common::run(
        &common::plan("guarded-binary", 3, SUITE),
        &common::rig_text("legrand-412083", "sim-tcp", 11, 0.02, &faults),
    )
    .await;
    assert_eq!(
        common::failing(&r),
        vec![
            "accuracy-active/pf1-imin-up",
            "accuracy-active/pf1-imin-down"
        ]
    );
}

/// ILAC-G8: +0.95 % against ±1.0 % with U ≈ 0.1 % is a conditional pass
/// under the non-binary rule and a fail under the guarded binary rule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decision_rule_decides_a_marginal_meter() {
    let faults = curve(&[(0.5, "1", 0.95), (63.0, "1", 0.95)]);
    let suite = "[[suites]]\nid = \"accuracy-active\"\ninfluence = false\n";
    let rig = common::rig_text("legrand-412083", "sim-tcp", 11, 0.1, &faults);
    let non_binary = common::run(&common::plan("non-binary", 3, suite), &rig).await;
    let guarded = common::run(&common::plan("guarded-binary", 3, suite), &rig).await;
    let point = |r: &reports::Record| {
        r.points
            .iter()
            .find(|p| p.id == "pf1-iref-up")
            .expect("point")
            .clone()
    };
    let (nb, g) = (point(&non_binary), point(&guarded));
    let mean = nb.mean_error_pct.expect("measured");
    let u = nb.expanded_uncertainty_pct.expect("measured");
    println!("mean {mean:+.4} %, U {u:.4} %");
    assert!(mean > 0.9 && mean < 1.0, "the meter reads {mean}");
    assert!((u - 0.1).abs() < 0.02, "U = {u}");
    assert_eq!(nb.verdict, Verdict::ConditionalPass);
    assert_eq!(g.verdict, Verdict::Fail);
    assert!(
        non_binary.decision_rule.text.contains("4.2.3")
            && guarded.decision_rule.text.contains("4.2.2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_record_names_limits_that_are_not_verified_and_overrides() {
    let plan = common::plan("non-binary", 2, SUITE)
        + "[[overrides]]\ntable = \"en50470-3-class-b\"\nrow = \"imin-itr-pf1\"\nlimit_pct = 1.2\nreason = \"lab's copy of EN 50470-3 reads 1.2 % (test)\"\n";
    let faults = curve(&[(0.5, "1", 1.3), (1.0, "1", 0.0)]);
    let r = common::run(
        &plan,
        &common::rig_text("legrand-412083", "sim-tcp", 11, 0.02, &faults),
    )
    .await;
    assert!(
        r.limits_not_verified
            .iter()
            .any(|l| l.row == "itr-imax-pf05L-08C")
    );
    let o = r
        .limits_overridden
        .iter()
        .find(|l| l.row == "imin-itr-pf1")
        .expect("override recorded");
    assert_eq!(o.limit_pct, 1.2);
    // 1.3 % now fails the overridden 1.2 % limit (it would pass the table's 1.5 %).
    assert!(common::failing(&r).contains(&"accuracy-active/pf1-imin-up".to_string()));
}
