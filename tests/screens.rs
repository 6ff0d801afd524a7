//! What a lab engineer reads on the screen: insta snapshots of `list`,
//! `run --dry-run`, `doctor`, `read`, `compare` and the end-of-run screen
//! (run ids, folders, pseudo-terminal paths and times redacted), `--json`
//! that parses, the completions and the man page, and a sweep of every
//! screen and report of the shipped plans for Rust's Debug formatting
//! (`::`, `..=`, `Some(`, `[Led`) and float noise (`0.30000000000000004`).

use std::path::Path;
use std::process::Command;

fn metrig(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metrig"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("METRIG_STORE", "off")
        .output()
        .expect("metrig runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
    )
}

/// Replaces what changes from run to run: the given folders, run ids
/// (`20261201T034920Z-plan-d578c7`) and pseudo-terminal numbers.
fn redact(text: &str, dirs: &[&Path]) -> String {
    let mut t = text.to_string();
    for (i, d) in dirs.iter().enumerate() {
        t = t.replace(&d.display().to_string(), &format!("[DIR{i}]"));
    }
    let mut out = String::new();
    for word in t.split_inclusive(|c: char| c.is_whitespace() || c == '"') {
        let core = word.trim_end_matches(|c: char| c.is_whitespace() || c == '"');
        let tail = &word[core.len()..];
        let run_id = core.len() > 17
            && core.as_bytes()[8] == b'T'
            && core[..8].bytes().all(|b| b.is_ascii_digit())
            && core[9..15].bytes().all(|b| b.is_ascii_digit());
        if run_id {
            out.push_str("[RUN-ID]");
        } else if let Some(n) = core.strip_prefix("/dev/pts/") {
            let rest = n.trim_start_matches(|c: char| c.is_ascii_digit());
            out.push_str("/dev/pts/[N]");
            out.push_str(rest);
        } else {
            out.push_str(core);
        }
        out.push_str(tail);
    }
    out
}

/// Rust's Debug formatting and float noise, wherever they show.
fn artefacts(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for pat in [
            "::",
            "..=",
            "Some(",
            "None",
            "[Led",
            "[S0",
            "([",
            "(Sim",
            "NonBinary",
            "0000000001",
        ] {
            if line.contains(pat) {
                found.push(format!("line {}: `{pat}` in {line}", n + 1));
            }
        }
        // A fraction with seven nines or zeros in a row: 5769.999999999999,
        // 0.30000000000000004 (a register value like 9999999.93 kWh is not noise).
        for number in line.split(|c: char| !(c.is_ascii_digit() || c == '.')) {
            if let Some((_, frac)) = number.split_once('.')
                && (frac.contains("9999999") || frac.contains("0000000"))
            {
                found.push(format!("line {}: float noise {number} in {line}", n + 1));
            }
        }
    }
    found
}

#[test]
fn the_sweep_catches_what_a_newcomer_met() {
    for met in [
        "decision rule NonBinary",
        "rig: bench (Sim, fixtures/rigs/sim.toml)",
        "pulse channels [Led, S0]",
        "positions 1..=1",
        "reply ReadHoldingRegisters([6, 18867, 39844])",
        "T1/T2/total [3626910.0, 5770.000000000001] Wh",
        "U = 0.30000000000000004 %",
        "5769.999999999999 Wh",
        "harness::rig::Rig",
        "firmware Some(\"1.02\")",
    ] {
        assert!(!artefacts(met).is_empty(), "not caught: {met}");
    }
    assert!(artefacts("preset to 9999999.93 kWh, 0.06 kWh after 30 s").is_empty());
}

fn assert_clean(what: &str, text: &str) {
    let found = artefacts(text);
    assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
}

#[test]
fn list_screen() {
    let (code, text) = metrig(&["list"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("modbus-protocol"),
        "the Modbus rows are listed"
    );
    assert!(text.contains("modbus-response-time"));
    assert_clean("list", &text);
    insta::assert_snapshot!("list", text);
}

#[test]
fn dry_run_screens_of_both_variants() {
    for (rig, name) in [
        ("fixtures/rigs/sim.toml", "dry_run_type_test_412083"),
        ("fixtures/rigs/sim-412082.toml", "dry_run_type_test_412082"),
    ] {
        let (code, text) = metrig(&[
            "run",
            "fixtures/plans/type-test-class-b.toml",
            "--rig",
            rig,
            "--dry-run",
        ]);
        assert_eq!(code, 0, "{text}");
        insta::assert_snapshot!(name, text);
    }
    // The S0-only variant gets the pulse suites and none that need Modbus.
    let (_, s0) = metrig(&[
        "run",
        "fixtures/plans/type-test-class-b.toml",
        "--rig",
        "fixtures/rigs/sim-412082.toml",
        "--dry-run",
    ]);
    assert!(s0.contains("s0-pulse/"), "{s0}");
    assert!(s0.contains("starting-current/"), "{s0}");
    assert!(!s0.contains("modbus/"), "{s0}");
    assert!(!s0.contains("registers/"), "{s0}");
}

#[test]
fn doctor_screens() {
    let (code, text) = metrig(&["doctor", "--rig", "fixtures/rigs/sim.toml"]);
    assert_eq!(code, 0, "{text}");
    insta::assert_snapshot!("doctor_sim", redact(&text, &[]));
    let (code, text) = metrig(&[
        "doctor",
        "--rig",
        "fixtures/rigs/sim-412082.toml",
        "--plan",
        "fixtures/plans/type-test-class-b.toml",
    ]);
    assert_eq!(code, 0, "{text}");
    insta::assert_snapshot!("doctor_sim_412082", redact(&text, &[]));
    let (code, json) = metrig(&["doctor", "--rig", "fixtures/rigs/sim.toml", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("one JSON object");
    assert_eq!(v["failures"], 0);
    assert!(v["checks"].as_array().is_some_and(|c| c.len() > 3), "{v}");
}

#[test]
fn read_screen_and_spaced_load() {
    let (code, text) = metrig(&[
        "read",
        "--rig",
        "fixtures/rigs/sim.toml",
        "--load",
        "230 V 10 A",
    ]);
    assert_eq!(
        code, 0,
        "a space between value and unit is accepted: {text}"
    );
    assert!(text.starts_with("load: 230V 10A 1 50Hz"), "{text}");
    insta::assert_snapshot!("read_sim", redact(&text, &[]));
    let (code, json) = metrig(&["read", "--rig", "fixtures/rigs/sim.toml", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("one JSON object");
    let readings = v["readings"].as_array().expect("readings");
    assert!(
        readings
            .iter()
            .any(|r| r["quantity"] == "voltage" && r["value"] == "230.000 V"),
        "{v}"
    );
}

#[test]
fn end_of_run_screen_compare_and_json() {
    let tmp = tempfile::tempdir().expect("tmp");
    let base = tmp.path().join("baseline");
    let cand = tmp.path().join("candidate");
    // The firmware gate without its `modbus` suite: the character-timing
    // checks on a pty can fail on a machine loaded far past its cores, and
    // this snapshot is of the screen, not of the timing.
    let gate = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/plans/firmware-gate.toml"),
    )
    .expect("plan");
    let (gate, _) = gate
        .split_once("[[suites]]\nid = \"modbus\"")
        .expect("the gate plan has a modbus suite");
    let plan_file = tmp.path().join("gate.toml");
    std::fs::write(&plan_file, gate).expect("plan written");
    let plan = plan_file.to_str().expect("utf8");
    let rig = "fixtures/rigs/sim.toml";
    let (code, screen) = metrig(&[
        "run",
        plan,
        "--rig",
        rig,
        "--out",
        base.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{screen}");
    // The last screen: verdict, counts, where the report is — and no per-point table.
    let last: Vec<&str> = screen.lines().rev().take(4).collect();
    assert!(last[3].starts_with("PASS"), "{screen}");
    assert!(last[1].starts_with("report: ") && last[1].ends_with("report.html"));
    assert!(!screen.contains("| accuracy-active"), "{screen}");
    insta::assert_snapshot!("end_of_run", redact(&screen, &[&base]));

    let (code, json) = metrig(&[
        "run",
        plan,
        "--rig",
        rig,
        "--out",
        cand.to_str().expect("utf8"),
        "--json",
    ]);
    assert_eq!(code, 0);
    let last = json.lines().last().expect("a last line");
    let v: serde_json::Value = serde_json::from_str(last).expect("the last line is JSON");
    assert_eq!(v["verdict"], "pass");
    assert_eq!(v["failed"], 0);
    assert_eq!(v["counts"]["pass"], v["points"]);
    assert!(Path::new(v["report"].as_str().expect("report")).is_file());

    let (code, text) = metrig(&[
        "compare",
        base.to_str().expect("utf8"),
        cand.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("Δ|error|") && text.contains(" unit "),
        "{text}"
    );
    insta::assert_snapshot!("compare", redact(&text, &[&base, &cand]));
    let (code, json) = metrig(&[
        "compare",
        base.to_str().expect("utf8"),
        cand.to_str().expect("utf8"),
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("one JSON object");
    assert_eq!(v["regressions"], 0);
    assert_eq!(v["comparison"]["points"][0]["unit"], "%");

    let (code, verbose) = metrig(&[
        "run",
        plan,
        "--rig",
        rig,
        "--out",
        tmp.path().join("verbose").to_str().expect("utf8"),
        "--verbose",
    ]);
    assert_eq!(code, 0);
    assert!(
        verbose.contains("| accuracy-active"),
        "--verbose prints every point"
    );
}

#[test]
fn list_json_is_for_scripts() {
    let (code, json) = metrig(&["list", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).expect("one JSON object");
    let limits = v["limits"].as_array().expect("limits");
    assert!(limits.iter().any(|r| r["table"] == "modbus-protocol"));
    assert!(v["suites"].as_array().is_some_and(|s| !s.is_empty()));
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, text) = metrig(&["completions", shell]);
        assert_eq!(code, 0);
        assert!(
            text.contains("dry-run") && text.contains("rerun-failed"),
            "{shell}"
        );
    }
    let (code, man) = metrig(&["man"]);
    assert_eq!(code, 0);
    assert!(
        man.starts_with(".ie") || man.contains(".TH metrig"),
        "{man}"
    );
    assert!(man.contains("Conformance test harness"));
}

/// Every screen and report of the shipped plans on the shipped simulated
/// rigs, free of Debug artefacts and float noise. The full type test on the
/// 4 120 83 is the one that exercises every suite (Modbus replies, tariff
/// registers, pulse channels).
#[test]
fn no_debug_artefacts_on_any_screen_or_report() {
    let rigs = [
        "fixtures/rigs/sim.toml",
        "fixtures/rigs/sim-412082.toml",
        "fixtures/rigs/sim-8-positions.toml",
    ];
    let plans = [
        "fixtures/plans/type-test-class-b.toml",
        "fixtures/plans/nightly.toml",
        "fixtures/plans/firmware-gate.toml",
    ];
    assert_clean("list", &metrig(&["list"]).1);
    for rig in rigs {
        assert_clean(rig, &metrig(&["doctor", "--rig", rig]).1);
        for plan in plans {
            let (_, text) = metrig(&["run", plan, "--rig", rig, "--dry-run"]);
            assert_clean(&format!("{plan} on {rig}, dry run"), &text);
            let (_, text) = metrig(&["doctor", "--rig", rig, "--plan", plan]);
            assert_clean(&format!("doctor {rig} --plan {plan}"), &text);
        }
    }
    assert_clean(
        "read",
        &metrig(&["read", "--rig", "fixtures/rigs/sim.toml"]).1,
    );
    let tmp = tempfile::tempdir().expect("tmp");
    for (plan, rig) in [
        (
            "fixtures/plans/type-test-class-b.toml",
            "fixtures/rigs/sim.toml",
        ),
        (
            "fixtures/plans/type-test-class-b.toml",
            "fixtures/rigs/sim-412082.toml",
        ),
    ] {
        let out = tmp.path().join(rig.replace('/', "_"));
        let (code, screen) = metrig(&[
            "run",
            plan,
            "--rig",
            rig,
            "--out",
            out.to_str().expect("utf8"),
            "--verbose",
            // A type test's report facts (it is refused without them).
            "--lab",
            "fixtures/labs/example-lab.toml",
            "--report-number",
            "R-SWEEP-1",
            "--customer",
            "Sweep customer",
            "--operator",
            "A. Tester",
            "--sample-id",
            "S-1",
            "--received",
            "2026-12-01",
        ]);
        // Completed, pass or fail: the timing checks of the `modbus` suite
        // may fail on a heavily loaded machine; the words are what is swept.
        assert!(code == 0 || code == 1, "{screen}");
        assert_clean(&format!("{plan} on {rig}, run screen"), &screen);
        for file in ["summary.md", "report.html"] {
            let text = std::fs::read_to_string(out.join(file)).expect(file);
            assert_clean(&format!("{plan} on {rig}, {file}"), &text);
        }
    }
}
