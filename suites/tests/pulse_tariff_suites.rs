//! The pulse, tariff and hour-meter suites: a good 4 120 83 and a
//! good 4 120 82 pass all six; each defect fails its own suite.

mod common;

use rstest::rstest;

const SIX: [&str; 6] = [
    "starting-current",
    "no-load",
    "s0-pulse",
    "led-constant",
    "tariff",
    "hour-meter",
];

fn suites(ids: &[&str]) -> String {
    ids.iter()
        .map(|id| format!("[[suites]]\nid = \"{id}\"\n"))
        .collect()
}

fn failing_suites(r: &reports::Record) -> std::collections::BTreeSet<String> {
    r.points
        .iter()
        .filter(|p| p.verdict.is_failure())
        .map(|p| p.suite.clone())
        .collect()
}

#[rstest]
#[case::legrand_412083("legrand-412083")]
#[case::legrand_412082("legrand-412082")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_meter_passes_all_six(#[case] meter: &str) {
    let r = common::run(
        &common::plan("guarded-binary", 2, &suites(&SIX)),
        &common::rig_text(meter, common::link_for(meter), 4, 0.02, ""),
    )
    .await;
    assert!(
        common::failing(&r).is_empty(),
        "{meter}: {:?}",
        common::failing(&r)
    );
    let ran: std::collections::BTreeSet<&str> = r.points.iter().map(|p| p.suite.as_str()).collect();
    println!(
        "{meter}: {} points in {ran:?}; findings: {}",
        r.points.len(),
        r.findings.len()
    );
    assert!(
        ran.contains("starting-current") && ran.contains("no-load") && ran.contains("s0-pulse")
    );
    if meter == "legrand-412083" {
        assert!(ran.contains("tariff") && ran.contains("hour-meter"));
        assert!(
            r.findings.iter().any(|f| f.text.contains("cannot fit")),
            "overload combinations are findings"
        );
    }
}

#[rstest]
#[case::starting("starting_current_a = 0.06", &["starting-current"])]
#[case::creep("creep_w = 3.0", &["no-load"])]
#[case::short_s0("s0_on_ms = 25", &["s0-pulse"])]
#[case::swapped_tariff("tariff_swapped = true", &["tariff"])]
#[case::hour_meter_below_threshold("hour_meter_ignores_threshold = true", &["hour-meter"])]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_defect_fails_its_own_suite_only(#[case] faults: &str, #[case] expect: &[&str]) {
    let r = common::run(
        &common::plan("guarded-binary", 2, &suites(&SIX)),
        &common::rig_text("legrand-412083", "sim-tcp", 4, 0.02, faults),
    )
    .await;
    let got = failing_suites(&r);
    let want: std::collections::BTreeSet<String> = expect.iter().map(|s| s.to_string()).collect();
    assert_eq!(got, want, "`{faults}`: {:?}", common::failing(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_s0_pulses_fail_s0_pulse_and_meter_constant() {
    let r = common::run(
        &common::plan(
            "guarded-binary",
            1,
            &suites(&["s0-pulse", "meter-constant"]),
        ),
        &common::rig_text("legrand-412083", "sim-tcp", 4, 0.02, "s0_drop_every = 500"),
    )
    .await;
    let failing = common::failing(&r);
    assert!(
        failing.contains(&"s0-pulse/overload-no-lost-pulse".to_string())
            && failing.contains(&"meter-constant/s0".to_string()),
        "{failing:?}"
    );
}

/// Issue 15, item 10: an S0 output that drops one pulse in a thousand (the
/// rate the gated point claims to detect by default) or one in five hundred
/// is caught by counting it on the LED's edges over 4 744 pulses; a good
/// output passes. The record states the claimed rate and the one the dwell
/// achieved.
#[rstest]
#[case::good("", true)]
#[case::one_in_a_thousand("s0_drop_every = 1000", false)]
#[case::one_in_five_hundred("s0_drop_every = 500", false)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gated_count_catches_a_rare_lost_pulse(#[case] faults: &str, #[case] passes: bool) {
    let r = common::run(
        &common::plan("guarded-binary", 1, &suites(&["s0-pulse"])),
        &common::rig_text("legrand-412083", "sim-tcp", 4, 0.02, faults),
    )
    .await;
    let p = r
        .points
        .iter()
        .find(|p| p.id == "gated-no-lost-pulse")
        .expect("the gated point is planned");
    assert_eq!(p.verdict.is_failure(), !passes, "`{faults}`: {}", p.summary);
    assert_eq!(p.details["claimed_loss_rate"], serde_json::json!(1e-3));
    let bound = p.details["detectable_loss_rate"].as_f64().expect("bound");
    assert!(bound <= 1e-3 + 1e-12, "{bound}");
    assert_eq!(p.samples.len(), 1);
    // Recomputed from the raw sample: S0 counted less the LED's energy over the weight.
    let raw = &p.samples[0].raw;
    let periods = raw["led_periods"].as_f64().expect("gate");
    assert!(periods >= 4744.0, "{periods}");
    let f = |k: &str| raw[k].as_f64().unwrap_or_else(|| panic!("{k}"));
    let difference = f("s0_in_gate") - periods * f("led_wh") / f("s0_wh");
    assert!((p.samples[0].value - difference).abs() < 1e-9);
    assert_eq!(difference.abs() <= 1.0, passes, "{difference}");
    println!("`{faults}`: {}", p.summary);
}
