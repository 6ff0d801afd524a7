//! `metrig run`, `--resume`, `report` and `compare` as a lab and a CI job use them.

mod common;
use common::{metrig, record, root, s};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The report facts a type-test plan requires (issue 19), relative to the root.
const FACTS: &[&str] = &[
    "--lab",
    "fixtures/labs/example-lab.toml",
    "--customer",
    "Test customer",
    "--operator",
    "Test operator",
    "--sample-id",
    "S-1",
    "--received",
    "2026-11-30",
    "--report-number",
    "R-TEST-1",
];

/// A simulated rig file with a 4 120 83 given `faults`, in `dir`.
fn rig_file(dir: &Path, name: &str, seed: u64, firmware: &str, faults: &str) -> String {
    let meter = root().join("fixtures/meters/legrand-412083.toml");
    let text = format!(
        "[rig]\nname = \"{name}\"\nkind = \"sim\"\nseed = {seed}\n[source]\nkind = \"sim\"\nmax_voltage_v = 300\nmax_current_a = 100\nfrequency_hz = [45, 65]\n[reference]\nkind = \"sim\"\n[[positions]]\nmeter = \"{}\"\nlink = {{ kind = \"sim-tcp\" }}\n[positions.sim]\nfirmware = \"{firmware}\"\n[positions.sim.faults]\n{faults}\n",
        meter.display()
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("written");
    path.display().to_string()
}

fn verdicts(rec: &serde_json::Value) -> Vec<(String, String)> {
    rec["points"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap_or("").to_string(),
                p["verdict"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn the_type_test_plan_finishes_on_the_simulated_rig_and_writes_every_report() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("run");
    let mut args = vec![
        "run",
        "fixtures/plans/type-test-class-b.toml",
        "--rig",
        "fixtures/rigs/sim.toml",
        "--out",
        out.to_str().expect("utf8"),
        "--quiet",
    ];
    args.extend_from_slice(FACTS);
    let (code, stdout, err) = metrig(&args);
    assert_eq!(code, 0, "{stdout}{err}");
    for f in [
        "record.json",
        "samples.csv",
        "junit.xml",
        "summary.md",
        "report.html",
        "journal.jsonl",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let rec = record(&out);
    assert_eq!(rec["schema_version"], 1);
    assert_eq!(rec["status"], "completed");
    assert!(
        rec["decision_rule"]["text"]
            .as_str()
            .expect("text")
            .contains("ILAC-G8")
    );
    assert!(rec["plan"]["sha256"].as_str().expect("hash").len() == 64);
    assert_eq!(rec["meters"][0]["said"]["firmware"], "1.02");
    // Issue 15: the record says where the type A floor came from.
    let said = rec.to_string();
    assert!(
        said.contains("studied on 2026-12-01")
            && said.contains("fixtures/rigs/studies/sim-reproducibility-2026-12-01.json"),
        "the record names the floor's study"
    );
    let points = rec["points"].as_array().expect("points");
    assert!(points.len() >= 32);
    for p in points {
        for field in [
            "suite",
            "id",
            "verdict",
            "mean_error_pct",
            "expanded_uncertainty_pct",
            "limit_pct",
            "samples",
        ] {
            assert!(p.get(field).is_some(), "point without {field}: {p}");
        }
        assert_eq!(p["verdict"], "pass", "{}", p["key"]);
    }
    let csv = std::fs::read_to_string(out.join("samples.csv")).expect("csv");
    let samples: usize = points
        .iter()
        .map(|p| p["samples"].as_array().map_or(0, |s| s.len()))
        .sum();
    assert_eq!(
        csv.lines().count(),
        samples + 1,
        "one row a sample, and the header"
    );
}

#[test]
fn dry_run_states_the_real_rig_duration_and_energises_nothing() {
    let (code, out, err) = metrig(&[
        "run",
        "fixtures/plans/type-test-class-b.toml",
        "--rig",
        "fixtures/rigs/sim.toml",
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("nothing is energised"), "{out}");
    let last = out.lines().last().expect("a total");
    assert!(
        last.contains("on a real rig about") && last.contains(" h ("),
        "{last}"
    );
    assert!(out.contains("accuracy-active/p1/pf1-imin-up"), "{out}");
}

/// The "about N h" figure of a dry run's last line, in seconds.
fn dry_run_seconds(rig: &str) -> f64 {
    let (code, out, err) = metrig(&[
        "run",
        "fixtures/plans/nightly.toml",
        "--rig",
        rig,
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{err}");
    let last = out.lines().last().expect("a total");
    last.rsplit('(')
        .next()
        .and_then(|s| s.trim_end_matches(" s)").parse().ok())
        .unwrap_or_else(|| panic!("no seconds in {last}"))
}

#[test]
fn a_dry_run_counts_a_point_measured_on_every_position_once() {
    let one = dry_run_seconds("fixtures/rigs/sim.toml");
    let eight = dry_run_seconds("fixtures/rigs/sim-8-positions.toml");
    // Only the `modbus` suite, one position at a time, adds per position.
    assert!(eight > one, "{one} s for one position, {eight} s for eight");
    assert!(
        eight < 2.0 * one,
        "{one} s for one position, {eight} s for eight"
    );
}

#[test]
fn a_run_killed_with_sigkill_resumes_to_the_same_verdicts() {
    let dir = tempfile::tempdir().expect("tmp");
    let faults = "error_curve = [{ current_a = 1, pf = \"0.8C\", error_pct = 0.0 }, { current_a = 10, pf = \"0.8C\", error_pct = 1.3 }, { current_a = 63, pf = \"0.8C\", error_pct = 0.0 }]\nnoise_pct = 0.03";
    let rig = rig_file(dir.path(), "kill", 5, "1.02", faults);
    let plan = "fixtures/plans/type-test-class-b.toml";
    let clean: PathBuf = dir.path().join("clean");
    let mut args = vec![
        "run",
        plan,
        "--rig",
        &rig,
        "--out",
        clean.to_str().expect("utf8"),
        "--quiet",
    ];
    args.extend_from_slice(FACTS);
    let (code, _, err) = metrig(&args);
    assert_eq!(code, 1, "two points fail: {err}");

    // Kill at a pseudo-random instant after the first point is journaled,
    // early enough that the run is not over. Waiting for the journal rather
    // than a fixed delay keeps the kill mid-run on a loaded machine too.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut killed_dir = None;
    for attempt in 0..6u32 {
        let out = dir.path().join(format!("killed-{attempt}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_metrig"))
            .args([
                "run",
                plan,
                "--rig",
                &rig,
                "--out",
                out.to_str().expect("utf8"),
                "--quiet",
            ])
            .args(FACTS)
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawns");
        let t0 = std::time::Instant::now();
        while !std::fs::read_to_string(out.join("journal.jsonl"))
            .unwrap_or_default()
            .contains("\"event\":\"point_finished\"")
            && t0.elapsed() < Duration::from_secs(120)
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        let delay = (seed as u64 / (attempt as u64 + 1)) % (200 >> attempt.min(3));
        std::thread::sleep(Duration::from_millis(delay));
        let _ = Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .status();
        let _ = child.wait();
        let journal = std::fs::read_to_string(out.join("journal.jsonl")).unwrap_or_default();
        if journal.contains("\"event\":\"point_finished\"")
            && !journal.contains("\"event\":\"run_finished\"")
        {
            println!("killed {delay} ms after the first finished point on attempt {attempt}");
            killed_dir = Some(out);
            break;
        }
    }
    let killed = killed_dir.expect("a kill landed mid-run within six attempts");
    let before = std::fs::read_to_string(killed.join("journal.jsonl")).expect("journal");
    let complete_lines: Vec<&str> = before
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        .collect();
    let samples_before = complete_lines
        .iter()
        .filter(|l| l.contains("\"event\":\"sample\""))
        .count();
    assert!(samples_before > 0, "samples were journaled before the kill");
    assert!(
        !killed.join("record.json").exists(),
        "no record was written by the killed run"
    );

    let (code, _, err) = metrig(&[
        "run",
        plan,
        "--rig",
        &rig,
        "--resume",
        killed.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert_eq!(code, 1, "{err}");
    let after = std::fs::read_to_string(killed.join("journal.jsonl")).expect("journal");
    for line in &complete_lines {
        assert!(
            after.contains(line),
            "the resumed journal lost a line measured before the kill"
        );
    }
    let resumed = record(&killed);
    assert_eq!(resumed["resumes"], 1);
    assert_eq!(resumed["status"], "completed");
    assert_eq!(
        verdicts(&resumed),
        verdicts(&record(&clean)),
        "same verdicts as the uninterrupted run"
    );
    // Points finished before the kill kept their samples, identical to the clean run's.
    let clean_rec = record(&clean);
    let finished_before: Vec<String> = complete_lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "point_finished")
        .filter_map(|e| e["key"].as_str().map(str::to_string))
        .collect();
    for key in &finished_before {
        let find = |r: &serde_json::Value| {
            r["points"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["key"] == key.as_str()).cloned())
                .expect("point")
        };
        assert_eq!(
            find(&resumed)["samples"],
            find(&clean_rec)["samples"],
            "{key}"
        );
    }
    println!(
        "{samples_before} samples journaled before the kill, {} points finished",
        finished_before.len()
    );
}

#[test]
fn compare_passes_the_same_meter_and_flags_a_moved_error_at_imin() {
    let dir = tempfile::tempdir().expect("tmp");
    let run = |name: &str, seed: u64, faults: &str| {
        let rig = rig_file(dir.path(), name, seed, "1.02", faults);
        let out = dir.path().join(name);
        let (code, _, err) = metrig(&[
            "run",
            "fixtures/plans/firmware-gate.toml",
            "--rig",
            &rig,
            "--out",
            out.to_str().expect("utf8"),
            "--quiet",
        ]);
        assert_eq!(code, 0, "{name}: {err}");
        out.display().to_string()
    };
    let baseline = run("baseline", 1, "noise_pct = 0.02");
    let same = run("same", 2, "noise_pct = 0.02");
    let moved = run(
        "moved",
        3,
        "noise_pct = 0.02\nerror_curve = [{ current_a = 0.5, pf = \"1\", error_pct = 0.4 }, { current_a = 1.0, pf = \"1\", error_pct = 0.0 }]",
    );
    let (code, out, err) = metrig(&["compare", &baseline, &same]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 regression(s)"), "{out}");
    let (code, out, _) = metrig(&["compare", &baseline, &moved]);
    assert_eq!(code, 1, "{out}");
    let flagged: Vec<&str> = out.lines().filter(|l| l.ends_with("REGRESSION")).collect();
    assert_eq!(flagged.len(), 2, "{out}");
    assert!(flagged.iter().all(|l| l.contains("pf1-imin")), "{out}");
}

#[test]
fn strings_from_the_meter_render_as_text_in_the_html_report() {
    let dir = tempfile::tempdir().expect("tmp");
    let rig = rig_file(dir.path(), "xss", 1, "<script>alert('x')</script>", "");
    let out = dir.path().join("run");
    let (code, _, err) = metrig(&[
        "run",
        "fixtures/plans/nightly.toml",
        "--rig",
        &rig,
        "--out",
        out.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        !html.contains("<script>"),
        "a script tag reached the report"
    );
    assert!(
        // maud escapes & < > " (a quote ' is harmless in text and in double-quoted attributes).
        html.contains("&lt;script&gt;alert('x')&lt;/script&gt;"),
        "the firmware string is shown as text"
    );
    // And re-rendering from the record gives the same file.
    std::fs::remove_file(out.join("report.html")).expect("removed");
    let (code, _, err) = metrig(&["report", out.to_str().expect("utf8")]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("report.html")).expect("html"),
        html
    );
}

#[test]
fn a_firmware_precondition_that_does_not_match_stops_before_any_point() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = dir.path().join("gate.toml");
    let text =
        std::fs::read_to_string(root().join("fixtures/plans/firmware-gate.toml")).expect("plan");
    std::fs::write(
        &plan,
        text.replace(
            "[compare]",
            "[preconditions]\nfirmware = \"2.00\"\n\n[compare]",
        ),
    )
    .expect("written");
    let out = dir.path().join("run");
    let (code, _, err) = metrig(&[
        "run",
        plan.to_str().expect("utf8"),
        "--rig",
        "fixtures/rigs/sim.toml",
        "--out",
        out.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("firmware \"1.02\"") && err.contains("\"2.00\""),
        "{err}"
    );
    let journal = std::fs::read_to_string(out.join("journal.jsonl")).unwrap_or_default();
    assert!(!journal.contains("point_started"), "no point ran");
}

#[test]
fn rerun_failed_repeats_only_the_points_that_failed() {
    let dir = tempfile::tempdir().expect("tmp");
    let faults = "error_curve = [{ current_a = 0.5, pf = \"1\", error_pct = 1.7 }, { current_a = 1.0, pf = \"1\", error_pct = 0.0 }]";
    let rig = rig_file(dir.path(), "rerun", 9, "1.02", faults);
    let out = dir.path().join("run");
    let out_s = out.to_str().expect("utf8");
    let (code, _, err) = metrig(&[
        "run",
        "fixtures/plans/nightly.toml",
        "--rig",
        &rig,
        "--out",
        out_s,
        "--quiet",
    ]);
    assert_eq!(code, 1, "{err}");
    let failed: Vec<String> = record(&out)["points"]
        .as_array()
        .expect("points")
        .iter()
        .filter(|p| {
            ["fail", "conditional_fail", "error"]
                .iter()
                .any(|v| p["verdict"] == *v)
        })
        .filter_map(|p| p["key"].as_str().map(str::to_string))
        .collect();
    assert!(
        failed.iter().any(|k| k.contains("pf1-imin")),
        "the Imin points fail: {failed:?}"
    );
    let (code, _, err) = metrig(&[
        "run",
        "fixtures/plans/nightly.toml",
        "--rig",
        &rig,
        "--rerun-failed",
        out_s,
        "--quiet",
    ]);
    assert_eq!(code, 1, "still failing: {err}");
    let rec = record(&out);
    for p in rec["points"].as_array().expect("points") {
        let again = p["key"]
            .as_str()
            .is_some_and(|k| failed.iter().any(|f| f == k));
        assert_eq!(p["attempts"], if again { 2 } else { 1 }, "{}", p["key"]);
    }
    // A changed rig file is refused: the run must continue with the files it started with.
    std::fs::write(
        &rig,
        std::fs::read_to_string(&rig).expect("rig") + "\n# edited\n",
    )
    .expect("written");
    let (code, _, err) = metrig(&[
        "run",
        "fixtures/plans/nightly.toml",
        "--rig",
        &rig,
        "--resume",
        out_s,
        "--quiet",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("changed since the run started"), "{err}");
}

/// A plan refused before its first event (here over its `max_rig_hours`)
/// leaves nothing: no new folder, and an empty folder given as `--out`
/// stays empty (no lock, no empty journal, no plan copy).
#[test]
fn a_plan_refused_before_it_starts_leaves_no_folder_behind() {
    let dir = tempfile::tempdir().expect("tmp");
    let plan = dir.path().join("tight.toml");
    std::fs::write(
        &plan,
        "[plan]\nname = \"tight\"\ndecision_rule = \"guarded-binary\"\nmax_rig_hours = 0.01\n\n[[suites]]\nid = \"accuracy-active\"\n",
    )
    .expect("plan");
    let absent = dir.path().join("absent");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    for out in [&absent, &empty] {
        let (code, _, err) = metrig(&[
            "run",
            s(&plan),
            "--rig",
            "fixtures/rigs/sim.toml",
            "--store",
            "off",
            "--out",
            s(out),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("max_rig_hours"), "{err}");
    }
    assert!(!absent.exists(), "a refused run made its folder");
    let left: Vec<_> = std::fs::read_dir(&empty)
        .expect("empty")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "left in --out: {left:?}");
}
