//! `metrig study reproducibility` (issue 15): the rig's type A floor measured
//! through the rig, traced to its raw gates, and bad arguments refused.

mod common;
use common::{metrig, root};

use std::path::Path;

/// A simulated bench whose good meter has 0.1 % noise correlated over 60 s.
fn noisy_rig(dir: &Path) -> std::path::PathBuf {
    let meter = root().join("fixtures/meters/legrand-412083.toml");
    let text = format!(
        "[rig]\nname = \"study bench\"\nkind = \"sim\"\nseed = 3\n\
         [source]\nkind = \"sim\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n\
         [reference]\nkind = \"sim\"\n\
         [[positions]]\nmeter = \"{}\"\nlink = {{ kind = \"sim-tcp\" }}\n[positions.sim.faults]\nnoise_pct = 0.1\nnoise_tau_s = 60\n",
        meter.display()
    );
    let path = dir.join("rig.toml");
    std::fs::write(&path, text).expect("rig written");
    path
}

#[test]
fn the_study_states_s_of_the_setups_means_and_keeps_every_gate() {
    let dir = tempfile::tempdir().expect("tmp");
    let rig = noisy_rig(dir.path());
    let out = dir.path().join("study.json");
    let (code, stdout, err) = metrig(&[
        "study",
        "reproducibility",
        "--rig",
        rig.to_str().expect("utf8"),
        "--setups",
        "8",
        "--out",
        out.to_str().expect("utf8"),
        "--json",
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    let said: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("the record")).expect("JSON");
    assert_eq!(said, kept, "stdout is the record written");
    let setups = kept["setups"].as_array().expect("setups");
    assert_eq!(setups.len(), 8);
    // Each set-up's mean from its gates' raw energies, s of the means from
    // those: the floor traces back to the counts.
    let means: Vec<f64> = setups
        .iter()
        .map(|s| {
            let gates = s["gates"].as_array().expect("gates");
            assert_eq!(gates.len(), 5, "the plans' five gates a point");
            let e: Vec<f64> = gates
                .iter()
                .map(|g| {
                    let m = g["meter_energy"].as_f64().expect("meter");
                    let r = g["reference_energy"].as_f64().expect("reference");
                    assert!(g["reference_counts"].as_u64().expect("counts") >= 9_000);
                    (m - r) / r * 100.0
                })
                .collect();
            let mean = e.iter().sum::<f64>() / e.len() as f64;
            assert!((mean - s["mean_pct"].as_f64().expect("mean")).abs() < 1e-9);
            mean
        })
        .collect();
    let k = means.len() as f64;
    let m = means.iter().sum::<f64>() / k;
    let s = (means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
    let floor = kept["floor"]["u_pct"].as_f64().expect("floor");
    assert!(
        floor >= s && floor - s < 1e-4,
        "s {s} rounded up to {floor}"
    );
    assert_eq!(kept["floor"]["dof"].as_f64(), Some(7.0));
    assert!(s > 0.02 && s < 0.2, "s {s} % for σ 0.1 %, τ 60 s");
    let line = kept["rig_line"].as_str().expect("line");
    assert!(line.starts_with("reproducibility = { u_pct = "), "{line}");
    assert!(line.contains("dof = 7, studied = \""), "{line}");
    // The printed line pastes into the rig file and loads.
    let rig_text = std::fs::read_to_string(&rig).expect("rig") + "[metrology]\n" + line + "\n";
    std::fs::write(&rig, rig_text).expect("pasted");
    let (code, stdout, err) = metrig(&["doctor", "--rig", rig.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{stdout}{err}");
}

#[test]
fn bad_study_arguments_name_the_argument_and_its_range() {
    for (args, needle) in [
        (vec!["--setups", "3"], "--setups 3: within 5..=1000"),
        (vec!["--reps", "0"], "--reps 0: within 1..=100"),
        (
            vec!["--min-span-s", "4000"],
            "--min-span-s 4000: within 0..=3600",
        ),
        (vec!["--position", "2"], "--position 2: within 1..=1"),
    ] {
        let mut all = vec![
            "study",
            "reproducibility",
            "--rig",
            "fixtures/rigs/sim.toml",
            "--out",
            "/dev/null/never",
        ];
        all.extend(args);
        let (code, stdout, err) = metrig(&all);
        assert_eq!(code, 2, "{all:?}: {stdout}{err}");
        assert!(err.contains(needle), "{all:?}: {err}");
    }
    // A load beyond the meter's ratings: refused by the rig's safety check
    // before anything is energised, exit 2 as for `run`.
    let (code, stdout, err) = metrig(&[
        "study",
        "reproducibility",
        "--rig",
        "fixtures/rigs/sim.toml",
        "--load",
        "230V 500A 1",
        "--out",
        "/dev/null/never",
    ]);
    assert_eq!(code, 2, "{stdout}{err}");
    assert!(err.contains("exceeds"), "{err}");
}
