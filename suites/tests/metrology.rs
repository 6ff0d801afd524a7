//! Issue 15: no wrong pass. A meter whose true error is just beyond the limit
//! is never a plain pass on any shipped plan; each suite's figures can be
//! recomputed from the record's raw samples by formulas written here.

mod common;

use std::path::Path;

use harness::stats::Verdict;

/// A shipped plan, cut down to its head and its `accuracy-active` entry
/// (influence off: the point judged is intrinsic), as its lab would run it.
fn shipped_accuracy_plan(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/plans")
        .join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).expect("shipped plan");
    let mut doc: toml::Table = toml::from_str(&text).expect("shipped plan parses");
    let suites = doc
        .get("suites")
        .and_then(|s| s.as_array())
        .expect("suites")
        .iter()
        .filter(|s| s.get("id").and_then(|v| v.as_str()) == Some("accuracy-active"))
        .cloned()
        .map(|mut s| {
            if let Some(t) = s.as_table_mut() {
                t.insert("influence".into(), toml::Value::Boolean(false));
            }
            s
        })
        .collect::<Vec<_>>();
    assert_eq!(suites.len(), 1, "{name} runs accuracy-active");
    doc.insert("suites".into(), toml::Value::Array(suites));
    doc.remove("compare");
    toml::to_string(&doc).expect("plan serialises")
}

const JUST_BEYOND: &str = "error_curve = [{ current_a = 0.25, pf = \"1\", error_pct = -1.03 }, { current_a = 63.0, pf = \"1\", error_pct = -1.03 }]\nnoise_pct = 0.1";

/// The Imax PF 1 verdicts of 30 seeds on a shipped plan (60 points).
async fn imax_verdicts(plan_name: &str, metrology: &str) -> Vec<(u64, String, Verdict, String)> {
    let plan = shipped_accuracy_plan(plan_name);
    let mut out = Vec::new();
    for seed in 0..30u64 {
        let rig = common::rig_text("legrand-412083", "sim-tcp", 1000 + seed, 0.02, JUST_BEYOND)
            + metrology;
        let r = common::run(&plan, &rig).await;
        for p in r.points.iter().filter(|p| p.id.starts_with("pf1-imax")) {
            out.push((seed, p.id.clone(), p.verdict, p.summary.clone()));
        }
    }
    assert_eq!(out.len(), 60, "{plan_name}");
    out
}

/// True error −1.03 % at Imax PF 1 (limit ±1 %), 0.1 % noise, on a rig that
/// declares its reproducibility of a point's mean (0.05 %, 19 dof, the
/// type A floor): over 30 seeds on every shipped plan, never a plain pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_meter_just_beyond_the_limit_is_never_a_plain_pass() {
    let floor = "[metrology]\nreproducibility = { u_pct = 0.05, dof = 19 }\n";
    for plan_name in ["nightly", "type-test-class-b", "firmware-gate"] {
        for (seed, id, verdict, summary) in imax_verdicts(plan_name, floor).await {
            assert_ne!(
                verdict,
                Verdict::Pass,
                "{plan_name}, seed {seed}, {id}: {summary}"
            );
        }
    }
}

/// The same meter on a rig that declares no floor: the type A rests on the
/// point's own scatter, and the risk of a plain pass at 1.03× the limit is
/// what the verdict-risk bench measures (at most 0.62 % a point, BENCHMARKS.md
/// §6). Over 60 points that allows a rare pass, never more than a binomial
/// tail would (≤ 2 of 60: P(≥ 3) < 0.5 % at 0.62 %).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_floor_plain_passes_stay_within_the_benchmarked_risk() {
    for plan_name in ["nightly", "type-test-class-b", "firmware-gate"] {
        let v = imax_verdicts(plan_name, "").await;
        let passes: Vec<_> = v.iter().filter(|x| x.2 == Verdict::Pass).collect();
        println!(
            "{plan_name}: {} plain pass(es) of 60: {passes:?}",
            passes.len()
        );
        assert!(passes.len() <= 2, "{plan_name}: {passes:?}");
    }
}
