//! Issue 15: no wrong pass. A meter whose true error is just beyond the limit
//! is never a plain pass on any shipped plan; each suite's figures can be
//! recomputed from the record's raw samples by formulas written here.

mod common;
#[path = "../../harness/tests/support/scpi_emulator.rs"]
mod scpi_emulator;

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

/// Every plan in fixtures/plans/ (each runs `accuracy-active`):
/// `every_shipped_plan_is_tried` keeps this list whole.
const SHIPPED_PLANS: [&str; 4] = [
    "nightly",
    "type-test-class-b",
    "mid-module-b",
    "firmware-gate",
];

#[test]
fn every_shipped_plan_is_tried() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/plans");
    let mut shipped: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures/plans")
        .filter_map(|e| {
            let path = e.expect("a directory entry").path();
            (path.extension().and_then(|x| x.to_str()) == Some("toml")).then(|| {
                path.file_stem()
                    .expect("a name")
                    .to_string_lossy()
                    .into_owned()
            })
        })
        .collect();
    shipped.sort();
    let mut tried: Vec<String> = SHIPPED_PLANS.iter().map(|s| s.to_string()).collect();
    tried.sort();
    assert_eq!(
        shipped, tried,
        "a shipped plan the −1.03 % tests do not try"
    );
}

/// True error −1.03 % at Imax PF 1 (limit ±1 %) on the 4 120 83.
const BEYOND_CURVE: &str = "error_curve = [{ current_a = 0.25, pf = \"1\", error_pct = -1.03 }, { current_a = 63.0, pf = \"1\", error_pct = -1.03 }]";
/// 0.1 % noise correlated over 60 s (Ornstein–Uhlenbeck, `noise_tau_s`):
/// the slow component five gates over two minutes cannot see.
const SLOW_NOISE: &str = "noise_pct = 0.1\nnoise_tau_s = 60";

/// The Imax PF 1 verdicts of 30 seeds on a shipped plan (60 points), for a
/// meter with `faults`.
async fn imax_verdicts_of(
    plan_name: &str,
    faults: &str,
    metrology: &str,
) -> Vec<(u64, String, Verdict, String)> {
    let plan = shipped_accuracy_plan(plan_name);
    let mut out = Vec::new();
    for seed in 0..30u64 {
        let rig =
            common::rig_text("legrand-412083", "sim-tcp", 1000 + seed, 0.02, faults) + metrology;
        let r = common::run(&plan, &rig).await;
        for p in r.points.iter().filter(|p| p.id.starts_with("pf1-imax")) {
            let samples: Vec<String> = p
                .samples
                .iter()
                .map(|s| format!("{:+.3}@{:.0}s", s.value, s.at_s))
                .collect();
            let said = format!("{} [gates {}]", p.summary, samples.join(" "));
            out.push((seed, p.id.clone(), p.verdict, said));
        }
    }
    assert_eq!(out.len(), 60, "{plan_name}");
    out
}

/// The Imax PF 1 verdicts of 30 seeds on a shipped plan (60 points).
async fn imax_verdicts(plan_name: &str, metrology: &str) -> Vec<(u64, String, Verdict, String)> {
    // 0.1 % noise redrawn every 10 s epoch.
    imax_verdicts_of(
        plan_name,
        &format!("{BEYOND_CURVE}\nnoise_pct = 0.1"),
        metrology,
    )
    .await
}

/// The bench's floor as a lab gets it: `metrig study reproducibility`'s
/// procedure (`suites::study`, 20 set-ups of Imax PF 1, five gates over
/// 120 s, the command's defaults) on a rig whose good meter has `noise`, and
/// the `[metrology]` section the command prints. Hands back s too.
async fn studied_metrology(noise: &str) -> (String, f64) {
    use harness::load_point::LoadPoint;
    use harness::quantity::PowerFactor;
    use harness::stats::reproducibility::StudyFigures;
    let text = common::rig_text("legrand-412083", "sim-tcp", 777, 0.02, noise);
    let config =
        harness::station::parse_rig(&text, Path::new("study-rig.toml")).expect("valid rig");
    let mut rig = harness::rig::Rig::open(config).await.expect("rig opens");
    let r = rig.positions[0].profile.ratings.clone();
    let plan = suites::study::StudyPlan {
        position: 0,
        load: LoadPoint::new(r.un, r.imax, PowerFactor::UNITY, r.fn_default()),
        setups: 20,
        reps: 5,
        min_span_s: harness::stats::type_a::default_min_span_s(5),
        gate_counts: 10_000.0,
        settle_s: 30.0,
        rest_s: 60.0,
    };
    let setups = suites::study::reproducibility(&mut rig, &plan, |_| {})
        .await
        .expect("the study runs");
    rig.off().await.expect("source off");
    assert_eq!(setups.len(), 20);
    assert!(setups.iter().all(|s| s.gates.len() == 5));
    let means: Vec<f64> = setups.iter().map(|s| s.mean_pct).collect();
    let f = StudyFigures::of(&means).expect("20 set-ups");
    let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    (
        format!("[metrology]\n{}\n", f.rig_line(date, Some("study.json"))),
        f.s_pct,
    )
}

/// Issue 15, end to end: a bench whose noise has a one-minute component
/// (σ = 0.1 %, τ = 60 s). The study measures its floor (the true s of a
/// point's mean for five gates 30 s apart is 0.073 %,
/// `stats::reproducibility::sd_of_mean_ou`); with that floor a meter at
/// −1.03 % (limit ±1 %) is never a plain pass at Imax PF 1 on any shipped
/// plan over 30 seeds, and a good meter on the same bench still passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_its_studied_floor_a_slow_noise_bench_never_passes_a_meter_beyond_the_limit() {
    let (metrology, s) = studied_metrology(SLOW_NOISE).await;
    println!("studied: {metrology}");
    let truth = harness::stats::reproducibility::sd_of_mean_ou(0.1, 5, 30.0, 60.0);
    // s with 19 dof: within its 99.9 % χ² interval of the truth (0.52σ .. 1.48σ).
    assert!(
        s > 0.52 * truth && s < 1.48 * truth,
        "studied s {s} % against the model's {truth} %"
    );
    let beyond = format!("{BEYOND_CURVE}\n{SLOW_NOISE}");
    for plan_name in SHIPPED_PLANS {
        for (seed, id, verdict, summary) in imax_verdicts_of(plan_name, &beyond, &metrology).await {
            assert_ne!(
                verdict,
                Verdict::Pass,
                "{plan_name}, seed {seed}, {id}: {summary}"
            );
        }
        for (seed, id, verdict, summary) in
            imax_verdicts_of(plan_name, SLOW_NOISE, &metrology).await
        {
            assert_eq!(
                verdict,
                Verdict::Pass,
                "a good meter, {plan_name}, seed {seed}, {id}: {summary}"
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
    for plan_name in SHIPPED_PLANS {
        let v = imax_verdicts(plan_name, "").await;
        let passes: Vec<_> = v.iter().filter(|x| x.2 == Verdict::Pass).collect();
        println!(
            "{plan_name}: {} plain pass(es) of 60: {passes:?}",
            passes.len()
        );
        assert!(passes.len() <= 2, "{plan_name}: {passes:?}");
    }
}

/// Student's t, two-sided 95 %, ν = 1..=30 (any printed table).
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

fn t_bracket(nu: f64) -> (f64, f64) {
    let at = |v: f64| {
        if v >= 31.0 {
            1.960
        } else {
            T975[(v as usize).clamp(1, 30) - 1]
        }
    };
    (at(nu.ceil()), at(nu.floor().max(1.0)))
}

/// `suites` on a 4 120 83 with 0.05 % noise, judged non-binary, `reps` results a point.
async fn noisy_run(suites: &str, reps: u32, seed: u64) -> reports::Record {
    common::run(
        &common::plan("non-binary", reps, suites),
        &common::rig_text("legrand-412083", "sim-tcp", seed, 0.02, "noise_pct = 0.05"),
    )
    .await
}

/// Each sample's error from its raw energies: (E_meter − E_ref)/E_ref · 100.
fn energy_errors(p: &reports::record::PointRecord) -> Vec<f64> {
    p.samples
        .iter()
        .map(|s| {
            let m = s.raw["meter_energy"].as_f64().expect("meter energy");
            let rf = s.raw["reference_energy"]
                .as_f64()
                .expect("reference energy");
            (m - rf) / rf * 100.0
        })
        .collect()
}

/// One point of each statistical suite recomputed from the record's raw
/// samples with formulas written here (not the harness's statistics).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_point_of_each_suite_recomputed_from_its_raw_samples() {
    let suites = "[[suites]]\nid = \"accuracy-active\"\ninfluence = false\n[[suites]]\nid = \"repeatability\"\nresults = 10\n[[suites]]\nid = \"measurements\"\n[[suites]]\nid = \"led-constant\"\n";
    let r = noisy_run(suites, 5, 7).await;
    let point = |suite: &str, id: &str| {
        r.points
            .iter()
            .find(|p| p.suite == suite && p.id == id)
            .unwrap_or_else(|| panic!("{suite}/{id}"))
            .clone()
    };
    // Pulse comparison: e = (E_meter − E_ref)/E_ref · 100 per gate; the mean,
    // s/√n_eff (lag-1, ρ = r₁ + 1/n), the reference's U/2 and one count /√3.
    for (suite, id) in [
        ("accuracy-active", "pf1-iref-up"),
        ("led-constant", "iref-pf1"),
    ] {
        let p = point(suite, id);
        let e = energy_errors(&p);
        let n = e.len() as f64;
        assert_eq!(e.len(), 5, "{suite}/{id}");
        let mean = e.iter().sum::<f64>() / n;
        let d: Vec<f64> = e.iter().map(|x| x - mean).collect();
        let ss: f64 = d.iter().map(|x| x * x).sum();
        let s = (ss / (n - 1.0)).sqrt();
        let r1 = d.windows(2).map(|w| w[0] * w[1]).sum::<f64>() / ss;
        let rho = r1 + 1.0 / n;
        let n_eff = if rho > 0.0 {
            (n * (1.0 - rho) / (1.0 + rho)).clamp(1.0, n)
        } else {
            n
        };
        let u_a = s / n_eff.sqrt();
        let counts = p.samples[0].raw["reference_counts"]
            .as_f64()
            .expect("counts");
        let u_ref = 0.02 / 2.0;
        let u_res = 100.0 / counts / 3f64.sqrt();
        let u_c = (u_a * u_a + u_ref * u_ref + u_res * u_res).sqrt();
        let nu = u_c.powi(4) / (u_a.powi(4) / (n - 1.0));
        let (lo, hi) = t_bracket(nu);
        let got_mean = p.mean_error_pct.expect("mean");
        let got_u = p.expanded_uncertainty_pct.expect("U");
        assert!(
            (got_mean - mean).abs() < 1e-9,
            "{suite}/{id}: {got_mean} vs {mean}"
        );
        assert!(
            got_u >= lo * u_c - 1e-4 && got_u <= hi * u_c + 1e-4,
            "{suite}/{id}: U {got_u} outside {lo}·{u_c} ..= {hi}·{u_c}"
        );
    }
    // Repeatability: s of ten results; σ's 97.5 % upper bound from the
    // printed χ²(0.025; 9) = 2.700.
    let p = point("repeatability", "iref-pf1");
    let e: Vec<f64> = p.samples.iter().map(|s| s.value).collect();
    assert_eq!(e.len(), 10, "never stopped early");
    let mean = e.iter().sum::<f64>() / 10.0;
    let s = (e.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 9.0).sqrt();
    let upper = s * (9.0f64 / 2.700).sqrt();
    assert!((p.mean_error_pct.expect("s") - s).abs() < 1e-9);
    let margin = p.expanded_uncertainty_pct.expect("U");
    assert!(
        (margin - (upper - s)).abs() < 2e-4 * s.max(1e-3),
        "{margin} vs {}",
        upper - s
    );
    // Measurements: (meter − reference)/reference · 100, averaged.
    let p = r
        .points
        .iter()
        .find(|p| p.suite == "measurements" && p.id.ends_with("-voltage"))
        .expect("a voltage point");
    let e: Vec<f64> = p
        .samples
        .iter()
        .map(|s| {
            let m = s.raw["meter"].as_f64().expect("meter");
            let rf = s.raw["reference"].as_f64().expect("reference");
            (m - rf) / rf * 100.0
        })
        .collect();
    let mean = e.iter().sum::<f64>() / e.len() as f64;
    assert!((p.mean_error_pct.expect("mean") - mean).abs() < 1e-9);
}

/// The type B components a point's budget states (the certificate and
/// resolution figures the rig declared), as standard uncertainties.
fn type_b(p: &reports::record::PointRecord) -> Vec<f64> {
    p.budget
        .as_ref()
        .expect("a budget")
        .components
        .iter()
        .filter(|c| !c.name.contains("type A"))
        .map(|c| c.standard_pct)
        .collect()
}

/// A tariff point's verdict recomputed from its raw register readings (the
/// samples named by stage): energy only in the selected tariff's register
/// (±1 register step against the total), T1 + T2 = total within two steps
/// (each register floors on its own), a bounce shorter than the debounce
/// ignored, the counters unchanged by a power cycle. For the 1 h dwells the
/// total must also agree with the energy the reference delivered (within
/// 1 % and two register steps: these points judge the registers' split, not
/// their accuracy).
fn tariff_ok(p: &reports::record::PointRecord) -> bool {
    let stage = |name: &str| {
        let s = p
            .samples
            .iter()
            .find(|s| s.raw["stage"] == name)
            .unwrap_or_else(|| panic!("{}: no `{name}` reading", p.key));
        let f = |k: &str| {
            s.raw[k]
                .as_f64()
                .unwrap_or_else(|| panic!("{}: {k}", p.key))
        };
        assert_eq!(s.value, f("total_wh"), "{}: the sample is the total", p.key);
        (
            [f("t1_wh"), f("t2_wh"), f("total_wh")],
            s.raw["reference_wh"].as_f64(),
            s.raw["active_tariff"].as_f64(),
            f("step_wh"),
        )
    };
    let (before, _, _, step) = stage("before");
    let delta = |a: [f64; 3], b: [f64; 3]| [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    match p.id.as_str() {
        "t1-only" | "t2-only" => {
            let (start, ref_start, _, _) = stage("start");
            let (end, ref_end, _, _) = stage("end");
            let d = delta(start, end);
            let delivered = ref_end.expect("reference") - ref_start.expect("reference");
            assert!(
                (d[2] - delivered).abs() <= 0.01 * delivered + 2.0 * step,
                "{}: total +{} Wh against the reference's {delivered} Wh",
                p.key,
                d[2]
            );
            let (active, idle) = if p.id == "t1-only" {
                (d[0], d[1])
            } else {
                (d[1], d[0])
            };
            idle == 0.0 && (active - d[2]).abs() <= step + 1e-9 && d[2] > 0.0
        }
        "random-switching" => {
            let (end, _, _, _) = stage("end");
            let d = delta(before, end);
            (d[0] + d[1] - d[2]).abs() <= 2.0 * step + 1e-9 && d[0] > 0.0 && d[1] > 0.0
        }
        "bounce" => {
            let (end, _, active, _) = stage("end");
            end[1] == before[1] && active == Some(1.0)
        }
        "power-cycle" => {
            let (loaded, _, _, _) = stage("loaded");
            let (after, _, _, _) = stage("after");
            after == loaded && loaded[1] > before[1]
        }
        other => panic!("unknown tariff point {other}"),
    }
}

/// A meter that swaps T1 and T2: the tariff points it fails are the ones
/// the raw readings say it fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tariff_verdicts_recomputed_from_raw_readings_catch_a_swapped_tariff() {
    let r = common::run(
        &common::plan("non-binary", 1, "[[suites]]\nid = \"tariff\"\n"),
        &common::rig_text(
            "legrand-412083",
            "sim-tcp",
            5,
            0.02,
            "tariff_swapped = true",
        ),
    )
    .await;
    let mut failed = 0;
    for p in r.points.iter().filter(|p| p.suite == "tariff") {
        let ok = tariff_ok(p);
        assert_eq!(p.verdict == Verdict::Pass, ok, "{}: {}", p.key, p.summary);
        failed += usize::from(!ok);
    }
    assert!(failed >= 2, "t1-only and t2-only fail on a swapped meter");
}

/// The suites not covered above whose verdict rests on samples, one point
/// each, recomputed from the record's raw samples with formulas written
/// here: the figure, its U (type A from the samples, the stated type B
/// components, Welch–Satterthwaite and a printed t), and the verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_other_sample_based_suite_recomputed_from_its_raw_samples() {
    // The reactive dial at a fixed resolution, so its repetitions (type A)
    // are measured: the planner's step-synchronised dial reads once.
    let suites = "[[suites]]\nid = \"accuracy-reactive\"\nresolution_pct = 0.5\n[[suites]]\nid = \"average-power\"\n[[suites]]\nid = \"meter-constant\"\n[[suites]]\nid = \"starting-current\"\n[[suites]]\nid = \"no-load\"\n[[suites]]\nid = \"hour-meter\"\n[[suites]]\nid = \"registers\"\n[[suites]]\nid = \"tariff\"\n";
    let r = noisy_run(suites, 4, 11).await;
    let first = |suite: &str| {
        r.points
            .iter()
            .find(|p| p.suite == suite)
            .unwrap_or_else(|| panic!("a {suite} point"))
            .clone()
    };
    let near = |a: f64, b: f64, what: &str| assert!((a - b).abs() < 1e-9, "{what}: {a} vs {b}");
    let ran: std::collections::BTreeSet<&str> = r.points.iter().map(|p| p.suite.as_str()).collect();
    assert_eq!(ran.len(), 8, "{ran:?}");

    // Accuracy (reactive), register method: e = (ΔE_meter − ΔE_ref)/ΔE_ref · 100.
    let p = first("accuracy-reactive");
    let e = energy_errors(&p);
    let n = e.len() as f64;
    assert_eq!(e.len(), 4, "{}", p.key);
    let mean = e.iter().sum::<f64>() / n;
    let s = (e.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let u_a = s / n.sqrt();
    let u_c = (u_a * u_a + type_b(&p).iter().map(|u| u * u).sum::<f64>()).sqrt();
    let nu = u_c.powi(4) / (u_a.powi(4) / (n - 1.0));
    let (lo, hi) = t_bracket(nu);
    near(p.mean_error_pct.expect("mean"), mean, &p.key);
    let got_u = p.expanded_uncertainty_pct.expect("U");
    // The printed t is rounded to three decimals: allow that much.
    assert!(
        got_u >= (lo - 5e-4) * u_c && got_u <= (hi + 5e-4) * u_c,
        "{}: U {got_u} outside {lo}·{u_c} ..= {hi}·{u_c}",
        p.key
    );
    let limit = p.limit_pct.expect("limit");
    assert_eq!(
        p.verdict == Verdict::Pass,
        mean.abs() + got_u <= limit,
        "{}: {}",
        p.key,
        p.summary
    );

    // Meter constant: e = (pulses · weight − ΔE_register)/ΔE_register · 100;
    // type B only (one 10 Wh register step and one pulse, each ±, rectangular), k = 1.96.
    let p = first("meter-constant");
    let raw = &p.samples[0].raw;
    let reg = raw["register_after_wh"].as_f64().expect("after")
        - raw["register_before_wh"].as_f64().expect("before");
    let w = raw["weight_wh"].as_f64().expect("weight");
    let e = (raw["pulses"].as_f64().expect("pulses") * w - reg) / reg * 100.0;
    near(p.mean_error_pct.expect("mean"), e, &p.key);
    let u_c = ((10.0 / reg * 100.0).powi(2) / 3.0 + (w / reg * 100.0).powi(2) / 3.0).sqrt();
    near(
        p.expanded_uncertainty_pct.expect("U"),
        1.959_964 * u_c,
        &p.key,
    );
    assert_eq!(p.verdict, Verdict::Pass, "{}", p.summary);
    assert!(e.abs() + 1.959_964 * u_c <= p.limit_pct.expect("limit"));

    // Average power: each (average − reference)/reference · 100; the worst is judged.
    let p = first("average-power");
    let d = &p.details;
    let f = |k: &str| d[k].as_f64().unwrap_or_else(|| panic!("{k}"));
    // Read across the step: the reference's energy over the window before
    // the update, from its four readings (steady Iref before the window's
    // start, steady 2 Iref around the update), straight lines between them.
    let st = &d["straddling"];
    let g = |k: &str| st[k].as_f64().unwrap_or_else(|| panic!("straddling.{k}"));
    let rd: Vec<(f64, f64)> = st["reference_readings_s_wh"]
        .as_array()
        .expect("readings")
        .iter()
        .map(|r| (r[0].as_f64().expect("s"), r[1].as_f64().expect("Wh")))
        .collect();
    let (start, update) = (g("update_s") - g("window_s"), g("update_s"));
    let rate_low = (rd[1].1 - rd[0].1) / (rd[1].0 - rd[0].0);
    let rate_high = (rd[3].1 - rd[2].1) / (rd[3].0 - rd[2].0);
    let energy =
        (rd[3].1 - rate_high * (rd[3].0 - update)) - (rd[0].1 + rate_low * (start - rd[0].0));
    let reference_w = energy * 3600.0 / g("window_s");
    near(reference_w, g("reference_w"), "straddling reference power");
    let errs = [
        (f("average_low_w") - f("reference_low_w")) / f("reference_low_w") * 100.0,
        (f("average_high_w") - f("reference_high_w")) / f("reference_high_w") * 100.0,
        (f("maximum_w") - f("reference_high_w")) / f("reference_high_w") * 100.0,
        (g("average_w") - reference_w) / reference_w * 100.0,
    ];
    assert_eq!(p.samples.len(), 4, "{}", p.summary);
    for (s, e) in p.samples.iter().zip(errs) {
        near(s.value, e, &p.key);
    }
    let worst = errs
        .into_iter()
        .fold(0.0f64, |a, b| if b.abs() > a.abs() { b } else { a });
    near(p.mean_error_pct.expect("worst"), worst, &p.key);

    // Starting current: first pulse within factor · T, three periods within ± tolerance.
    let p = r
        .points
        .iter()
        .find(|p| p.suite == "starting-current" && p.id == "active")
        .expect("active starting point");
    let t = p.details["expected_period_s"].as_f64().expect("T");
    let tol = p.details["period_tolerance_pct"]
        .as_f64()
        .expect("tolerance");
    let factor = p.limit.as_ref().expect("limit").limit_pct;
    let first_s = p.samples[0].value;
    let periods: Vec<f64> = p.samples[1..].iter().map(|s| s.value).collect();
    let ok = first_s <= factor * t
        && periods.len() == 3
        && periods.iter().all(|x| ((x - t) / t * 100.0).abs() <= tol);
    assert_eq!(p.verdict == Verdict::Pass, ok, "{}", p.summary);
    assert!(ok, "a good meter starts: {}", p.summary);

    // No load: at most one pulse on each output during Δt.
    let p = first("no-load");
    assert!(!p.samples.is_empty());
    let ok = p.samples.iter().all(|s| s.value <= 1.0);
    assert_eq!(p.verdict == Verdict::Pass, ok, "{}", p.summary);

    // Hour meter: still below the threshold, 3600 s ± one minute above it, zero after reset.
    let p = first("hour-meter");
    let h: Vec<f64> = p.samples[0].raw["readings_s"]
        .as_array()
        .expect("readings")
        .iter()
        .map(|v| v.as_f64().expect("a reading"))
        .collect();
    let ok = h[1] == h[0] && (h[2] - h[1] - 3600.0).abs() <= 60.0 && h[3] == 0.0;
    near(p.samples[0].value, h[2] - h[1], &p.key);
    assert_eq!(p.verdict == Verdict::Pass, ok, "{}", p.summary);

    // Tariff: every point's verdict from its raw T1/T2/total readings.
    let tariff: Vec<_> = r.points.iter().filter(|p| p.suite == "tariff").collect();
    assert_eq!(
        tariff.len(),
        5,
        "t1-only, t2-only, random-switching, bounce, power-cycle"
    );
    for p in tariff {
        let ok = tariff_ok(p);
        assert_eq!(p.verdict == Verdict::Pass, ok, "{}: {}", p.key, p.summary);
        assert!(ok, "a good meter's tariff input works: {}", p.summary);
    }

    // Registers, partial reset: the partial register clears, the total does not move.
    let p = r
        .points
        .iter()
        .find(|p| p.suite == "registers" && p.id == "partial-reset")
        .expect("partial-reset point");
    let raw = &p.samples[0].raw;
    let g = |k: &str| raw[k].as_f64().unwrap_or_else(|| panic!("{k}"));
    let ok = g("partial_before") > 0.0
        && g("partial_after") == 0.0
        && g("total_after") == g("total_before");
    assert_eq!(p.verdict == Verdict::Pass, ok, "{}", p.summary);
}

/// A tolerance parameter beyond the standard's figure is refused unless the
/// plan's `[[overrides]]` says why, and then the record carries the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wide_tolerance_needs_an_override_with_its_reason() {
    let parsed = harness::run::parse_plan(
        "[plan]\nname = \"t\"\ndecision_rule = \"non-binary\"\n[[suites]]\nid = \"starting-current\"\nperiod_tolerance_pct = 60\n",
        Path::new("wide.toml"),
        &suites::catalogue(),
    );
    let plan = parsed.expect("the plan parses; the suite checks its parameter");
    let config = harness::station::parse_rig(
        &common::rig_text("legrand-412083", "sim-tcp", 3, 0.02, ""),
        Path::new("test-rig.toml"),
    )
    .expect("rig");
    let rig = harness::rig::Rig::open(config).await.expect("rig opens");
    let refused = harness::run::runner::plan_points(&plan, &suites::all(), &rig)
        .expect_err("60 % is beyond the standard's 10 %");
    let text = refused.to_string();
    assert!(
        text.contains("period_tolerance_pct")
            && text.contains("[[overrides]]")
            && text.contains("start-period-tolerance"),
        "{text}"
    );
    let with_reason = "[plan]\nname = \"t\"\ndecision_rule = \"non-binary\"\n[[suites]]\nid = \"starting-current\"\nperiod_tolerance_pct = 12\n[[overrides]]\ntable = \"pulse-tests\"\nrow = \"start-period-tolerance\"\nlimit_pct = 12\nreason = \"lab procedure LP-7 allows 12 % (test)\"\n";
    let r = common::run(
        with_reason,
        &common::rig_text("legrand-412083", "sim-tcp", 3, 0.02, ""),
    )
    .await;
    let p = r
        .points
        .iter()
        .find(|p| p.suite == "starting-current" && p.id == "active")
        .expect("starting point");
    assert!(
        p.summary.contains("± 12 %") && p.summary.contains("LP-7"),
        "{}",
        p.summary
    );
}

/// The lab rig file `fixtures/rigs/lab-scpi-tcp.toml` pointed at the SCPI
/// emulator (source, reference, error calculator) and its Modbus TCP meter.
fn lab_rig(emu: &scpi_emulator::Emulator) -> (std::path::PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rigs/lab-scpi-tcp.toml");
    let text = std::fs::read_to_string(&path)
        .expect("lab rig")
        .replace("192.168.10.20:5025", &emu.scpi.to_string())
        .replace("192.168.10.30:502", &emu.modbus.to_string());
    (path, text)
}

/// A type test of the lab rig's measurements (stopped once it has started).
const LAB_TYPE_TEST: &str = "[plan]\nname = \"lab type test\"\nkind = \"type-test\"\ndecision_rule = \"guarded-binary\"\nrepetitions = 1\nwarm_up_s = 0\nsettle_s = 0\n[[suites]]\nid = \"measurements\"\n";

/// The run's record, or the message of a run that never started.
async fn lab_run(
    rig_path: &Path,
    rig_text: &str,
    plan_text: &str,
) -> Result<reports::Record, String> {
    let config = harness::station::parse_rig(rig_text, rig_path).expect("valid lab rig");
    let suites = suites::all();
    let plan = harness::run::parse_plan(plan_text, Path::new("lab.toml"), &suites::catalogue())
        .expect("plan");
    let mut rig = harness::rig::Rig::open(config)
        .await
        .expect("the lab rig opens");
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    /// Keeps the events, and stops the run once it has started: what is
    /// looked at here is what the run records before its first point.
    struct KeepAndStop(
        std::sync::Arc<std::sync::Mutex<Vec<harness::run::RunEvent>>>,
        std::sync::Arc<harness::run::CancelHandle>,
    );
    impl harness::run::Listener for KeepAndStop {
        fn on_event(&mut self, e: &harness::run::RunEvent) {
            if matches!(e, harness::run::RunEvent::RunStarted(_)) {
                self.1.cancel();
            }
            self.0.lock().expect("lock").push(e.clone());
        }
    }
    let (keep, cancel) = harness::run::cancel_pair();
    let mut listeners: Vec<Box<dyn harness::run::Listener>> = vec![Box::new(KeepAndStop(
        events.clone(),
        std::sync::Arc::new(keep),
    ))];
    let req = harness::run::RunRequest {
        plan: &plan,
        suites: &suites,
        run_id: "lab".into(),
        resume: None,
        only: None,
        cancel,
    };
    let summary = harness::run::run(req, &mut rig, &mut listeners)
        .await
        .map_err(|e| e.to_string())?;
    let events = events.lock().expect("lock").clone();
    reports::Record::from_events(&events).ok_or(summary.message)
}

/// On a lab rig: the study measures through the real drivers (the SCPI
/// source switched off and on between set-ups, the error calculator gating
/// each gate), and a type test is refused while the rig's floor has no study
/// date, runs when the plan says why (recorded), and runs when the floor
/// names its study (recorded).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_lab_rig_the_study_runs_through_the_drivers_and_a_type_test_wants_its_date() {
    use harness::load_point::LoadPoint;
    use harness::quantity::PowerFactor;
    let profile =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/meters/legrand-412083.toml");
    let emu = scpi_emulator::start(&profile, Default::default()).await;
    let (path, text) = lab_rig(&emu);

    let config = harness::station::parse_rig(&text, &path).expect("valid lab rig");
    let mut rig = harness::rig::Rig::open(config).await.expect("opens");
    let r = rig.positions[0].profile.ratings.clone();
    let plan = suites::study::StudyPlan {
        position: 0,
        load: LoadPoint::new(r.un, r.imax, PowerFactor::UNITY, r.fn_default()),
        setups: 5,
        reps: 2,
        min_span_s: 0.0,
        gate_counts: 10_000.0,
        settle_s: 0.0,
        rest_s: 0.0,
    };
    let setups = suites::study::reproducibility(&mut rig, &plan, |_| {}).await;
    rig.off().await.expect("source off");
    let setups = setups.expect("the study runs through the drivers");
    assert_eq!(setups.len(), 5);
    for s in &setups {
        assert_eq!(s.gates.len(), 2);
        assert!(s.mean_pct.abs() < 0.02, "a good meter: {}", s.mean_pct);
    }
    let cmds = emu.commands.lock().expect("lock").clone();
    let count = |what: &str| cmds.iter().filter(|c| c.eq_ignore_ascii_case(what)).count();
    assert!(
        count("ECAL:STAR") >= 10,
        "every gate through the error calculator"
    );
    assert!(count("OUTP OFF") >= 5, "the source off before every set-up");

    let refused = lab_run(&path, &text, LAB_TYPE_TEST).await;
    match refused {
        Err(why) => {
            assert!(why.contains("declared without a study"), "{why}");
            assert!(why.contains("metrig study reproducibility"), "{why}");
        }
        Ok(r) => panic!("expected a refusal, got a run: {:?}", r.status),
    }
    let excused = format!(
        "{LAB_TYPE_TEST}[preconditions]\nfloor_unstudied = \"the study is booked for next week\"\n"
    );
    let rec = lab_run(&path, &text, &excused)
        .await
        .expect("runs with a reason");
    assert!(
        rec.findings.iter().any(|f| f
            .text
            .contains("the type test went on because: the study is booked")),
        "{:?}",
        rec.findings
    );
    let f = suites::study::figures(&setups).expect("five set-ups");
    let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let studied = text.replace(
        "reproducibility = { u_pct = 0.05, dof = 19 }",
        &f.rig_line(date, Some("reports/out/lab-study.json")),
    );
    assert_ne!(studied, text, "the study's line replaces the example");
    let rec = lab_run(&path, &studied, LAB_TYPE_TEST)
        .await
        .expect("a studied floor runs");
    assert!(
        rec.findings
            .iter()
            .any(|f| f.text.contains("studied on 2026-12-01")
                && f.text.contains("reports/out/lab-study.json")),
        "{:?}",
        rec.findings
    );
}

/// Under sequential stopping every point measured by pulse comparison states
/// the rule's risk bound and which figure governed its type A in the record
/// (`led-constant` as well as `accuracy-active`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sequentially_judged_led_constant_point_states_its_bound_and_type_a() {
    let plan = common::plan("guarded-binary", 5, "[[suites]]\nid = \"led-constant\"\n").replace(
        "settle_s = 1\n",
        "settle_s = 1\nstopping = \"sequential\"\n",
    );
    let rig = common::rig_text("legrand-412083", "sim-tcp", 3, 0.02, "noise_pct = 0.05");
    let r = common::run(&plan, &rig).await;
    let p = r
        .points
        .iter()
        .find(|p| p.suite == "led-constant")
        .expect("a led-constant point");
    let bound = p.details["sequential_bound"].as_str().unwrap_or_default();
    assert!(
        bound.contains("false-accept bound ≤ 2.5 %"),
        "{}",
        p.details
    );
    assert!(p.details["type_a"]["governed"].is_string(), "{}", p.details);
}

/// Reactive dials follow one another at one set-up, so their scatter cannot
/// show the set-up's reproducibility: the rig's floor bounds their type A
/// from below, as it does for pulse comparison, and the record says which
/// figure governed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactive_dials_take_the_rigs_reproducibility_floor() {
    let rig = common::rig_text("legrand-412083", "sim-tcp", 3, 0.02, "").replace(
        "[[positions]]",
        "[metrology]\nreproducibility = { u_pct = 0.2, dof = 19 }\n[[positions]]",
    );
    let r = common::run(
        &common::plan(
            "guarded-binary",
            2,
            "[[suites]]\nid = \"accuracy-reactive\"\n",
        ),
        &rig,
    )
    .await;
    let reactive: Vec<_> = r
        .points
        .iter()
        .filter(|p| p.suite == "accuracy-reactive")
        .collect();
    assert!(!reactive.is_empty());
    for p in reactive {
        assert_eq!(
            p.details["type_a"]["governed"], "reproducibility_floor",
            "{}: {}",
            p.key, p.details
        );
        // U ≥ k · 0.2 % with k ≥ 2 for 19 dof or more.
        let u = p.expanded_uncertainty_pct.expect("U");
        assert!(u >= 0.4, "{}: U {u} %", p.key);
    }
}
