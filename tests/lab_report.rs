//! Issue 19: a report a notified body accepts. A type test refuses to start
//! without its report's facts; the simulated room's climate is logged at
//! every point and the points measured outside the reference conditions are
//! flagged (exactly those); the PDF printed by headless Chromium carries the
//! required fields, "page 1 of N" and, for a failing meter, the clauses it
//! does not conform to on its first page.

mod common;
use common::{metrig, record, root, s};

use std::path::{Path, PathBuf};
use std::process::Command;

/// A short type-test plan: the active-energy accuracy points, with the
/// EN 50470-3 reference conditions (23 °C ± 2 K) and what to do outside them.
fn plan(dir: &Path, on_out_of_range: &str) -> PathBuf {
    let p = dir.join(format!("type-test-{on_out_of_range}.toml"));
    std::fs::write(
        &p,
        format!(
            r#"[plan]
name = "short-type-test"
decision_rule = "non-binary"
kind = "type-test"
repetitions = 2
warm_up_s = 0
settle_s = 5

[conditions]
temperature_c = 23
temperature_tolerance_k = 2
humidity_max_pct = 75
on_out_of_range = "{on_out_of_range}"
max_wait_s = 7200
clause = "EN 50470-3 §8 reference conditions"

[report]
standards = ["EN 50470-3:2006 (test edition)"]

[[suites]]
id = "accuracy-active"
"#
        ),
    )
    .expect("plan");
    p
}

/// A simulated rig whose room starts at `t0` °C and drifts `drift` K per
/// simulated hour, with a meter given `faults`.
fn rig(dir: &Path, name: &str, t0: f64, drift: f64, faults: &str) -> PathBuf {
    let meter = root().join("fixtures/meters/legrand-412083.toml");
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(
        &p,
        format!(
            r#"[rig]
name = "{name}"
kind = "sim"
seed = 7

[source]
kind = "sim"
max_voltage_v = 300
max_current_a = 100
frequency_hz = [45, 65]

[reference]
kind = "sim"

[reference.certificate]
number = "CERT-4711"
calibrating_lab = "Calibration Lab Example"
calibrated_on = "2026-03-01"
traceability = "national standard via an accredited calibration laboratory"

[climate]
kind = "sim"
temperature_c = {t0}
humidity_pct = 45
temperature_drift_k_per_h = {drift}

[[positions]]
meter = "{}"
link = {{ kind = "sim-rtu" }}

[positions.sim]
serial_number = 2611250077
firmware = "1.02"

[positions.sim.faults]
{faults}
"#,
            meter.display()
        ),
    )
    .expect("rig");
    p
}

const FACTS: &[&str] = &[
    "--lab",
    "fixtures/labs/example-lab.toml",
    "--customer",
    "ACME Metering Ltd",
    "--operator",
    "J. Operator",
    "--sample-id",
    "S-2026-0042",
    "--received",
    "2026-11-20",
    "--report-number",
    "R-2026-0042",
];

fn run(plan: &Path, rig: &Path, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["run", s(plan), "--rig", s(rig), "--out", s(out), "--quiet"];
    args.extend_from_slice(extra);
    metrig(&args)
}

#[test]
fn a_type_test_without_its_facts_is_refused_naming_every_missing_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = plan(dir.path(), "flag");
    let r = rig(dir.path(), "bench", 23.0, 0.0, "");
    let out = dir.path().join("run");
    let (code, _, err) = run(&p, &r, &out, &["--customer", "ACME", "--operator", "J"]);
    assert_eq!(code, 2, "{err}");
    for missing in ["--lab", "--report-number", "--received", "--sample-id"] {
        assert!(err.contains(missing), "names {missing}: {err}");
    }
    for given in ["--customer", "--operator"] {
        assert!(!err.contains(given), "does not name {given}: {err}");
    }
    assert!(!out.join("journal.jsonl").exists(), "nothing ran");
    // A bad lab file is refused with its file and key.
    let lab = dir.path().join("lab.toml");
    std::fs::write(
        &lab,
        "[lab]\nname = \"\"\naddress = [\"x\"]\nauthoriser = \"A\"\n",
    )
    .expect("lab");
    let (code, _, err) = run(&p, &r, &out, &["--lab", s(&lab)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("lab.toml") && err.contains("lab.name"),
        "{err}"
    );
}

#[test]
fn a_drifting_room_flags_exactly_the_points_measured_outside_the_reference_conditions() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = plan(dir.path(), "flag");
    // 23.5 °C rising 1 K per simulated hour: out of 23 ± 2 K after 1.5 h.
    let (t0, drift) = (23.5, 1.0);
    let r = rig(dir.path(), "drifting", t0, drift, "");
    let out = dir.path().join("run");
    let (code, o, e) = run(&p, &r, &out, FACTS);
    assert_eq!(code, 0, "{o}{e}");
    let rec = record(&out);
    let points = rec["points"].as_array().expect("points");
    let (mut flagged, mut within) = (0, 0);
    for pt in points {
        let c = &pt["conditions"];
        let at_h = c["at_s"].as_f64().expect("every point logs its conditions") / 3600.0;
        let t = c["temperature_c"].as_f64().expect("temperature");
        assert!((t - (t0 + drift * at_h)).abs() < 1e-9, "{c}");
        let outside = (t - 23.0).abs() > 2.0;
        assert_eq!(c["outside"].is_string(), outside, "{}: {c}", pt["key"]);
        if outside {
            flagged += 1;
        } else {
            within += 1;
        }
    }
    assert!(
        flagged > 0 && within > 0,
        "the drift crosses the limit mid-run: {flagged} flagged, {within} within"
    );
    assert_eq!(rec["reference_conditions"]["temperature_c"], 23.0);
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        html.contains(&format!(
            "{flagged} point(s) were measured outside the reference conditions"
        )),
        "the report says how many"
    );
}

#[test]
fn refuse_stops_the_run_and_wait_waits_for_the_conditions() {
    let dir = tempfile::tempdir().expect("tmp");
    // Refuse: the room is at 30 °C from the start.
    let r = rig(dir.path(), "hot", 30.0, 0.0, "");
    let out = dir.path().join("refused");
    let (code, o, e) = run(&plan(dir.path(), "refuse"), &r, &out, FACTS);
    assert_eq!(code, 3, "{o}{e}");
    assert!(e.contains("outside the reference conditions"), "{e}");
    assert!(e.contains("30.00 °C"), "{e}");
    // Wait: 25.5 °C cooling 0.5 K per hour is back at 25 °C after an hour
    // (and leaves 23 ± 2 K again only after nine).
    let r = rig(dir.path(), "cooling", 25.5, -0.5, "");
    let out = dir.path().join("waited");
    let (code, o, e) = run(&plan(dir.path(), "wait"), &r, &out, FACTS);
    assert_eq!(code, 0, "{o}{e}");
    let rec = record(&out);
    assert!(
        rec["points"]
            .as_array()
            .expect("points")
            .iter()
            .all(|p| p["conditions"]["outside"].is_null()),
        "no point measured outside"
    );
    let waited = rec["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["text"].as_str())
        .find(|t| t.contains("waited"))
        .expect("the wait is recorded")
        .to_string();
    assert!(waited.contains("then within them"), "{waited}");
    // A plan that refuses needs a sensor: a rig without [climate] is refused up front.
    let plain = root().join("fixtures/rigs/sim-tcp.toml");
    let (code, _, e) = run(
        &plan(dir.path(), "refuse"),
        &plain,
        &dir.path().join("none"),
        FACTS,
    );
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("needs a climate sensor"), "{e}");
}

/// The PDF of a failing meter: its first page names the clause it does not
/// conform to, with the lab, customer and sample; every page carries the
/// report number and "page x of N". The first two pages go to PNG.
#[test]
fn the_pdf_of_a_failing_meter_says_on_its_first_page_which_clauses_it_does_not_conform_to() {
    let have = |b: &str| {
        Command::new(b)
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success() || !o.stderr.is_empty())
    };
    if reports::pdf::find_chromium().is_err() || !have("pdftotext") || !have("pdftoppm") {
        panic!("this test needs chromium and poppler-utils (pdftotext, pdftoppm) on PATH");
    }
    let dir = tempfile::tempdir().expect("tmp");
    let p = plan(dir.path(), "flag");
    // +1.6 % at 10 A, PF 1: beyond the ±1 % of EN 50470-3 §8.1 by more than U.
    let faults = "error_curve = [{ current_a = 1, pf = \"1\", error_pct = 0.0 }, { current_a = 10, pf = \"1\", error_pct = 1.6 }, { current_a = 63, pf = \"1\", error_pct = 0.0 }]";
    let r = rig(dir.path(), "failing", 23.0, 0.0, faults);
    let out = dir.path().join("run");
    let mut args = FACTS.to_vec();
    args.push("--pdf");
    let (code, o, e) = run(&p, &r, &out, &args);
    assert_eq!(code, 1, "a failing verdict: {o}{e}");
    let pdf = out.join("report.pdf");
    assert!(pdf.is_file(), "{o}{e}");
    let text = |first: u32, last: u32| {
        let o = Command::new("pdftotext")
            .args(["-layout", "-f", &first.to_string(), "-l", &last.to_string()])
            .arg(&pdf)
            .arg("-")
            .output()
            .expect("pdftotext");
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let all = text(1, 9999);
    let pages = all.matches("page 1 of ").count();
    assert_eq!(pages, 1, "one first page");
    let n: u32 = all
        .split("page 1 of ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|t| t.parse().ok())
        .expect("page 1 of N");
    assert!(n >= 2, "{n} pages");
    assert!(
        all.contains(&format!("page {n} of {n}")),
        "the last page is numbered"
    );
    assert!(
        all.matches("Report R-2026-0042").count() as u32 >= n,
        "the report number on every page"
    );
    let first = text(1, 1);
    for field in [
        "Test report R-2026-0042",
        "Example Metering Laboratory",
        "ACME Metering Ltd",
        "S-2026-0042",
        "2026-11-20",
        "J. Operator",
        "Legrand 4 120 83",
        "2611250077",
        "does not conform to clause",
        "EN 50470-3 §8.1",
        "page 1 of",
    ] {
        assert!(first.contains(field), "first page has {field:?}:\n{first}");
    }
    assert!(
        !first.contains("sha256"),
        "no hashes on the first page:\n{first}"
    );
    // The statement names the failing clause under "does not conform".
    let bad = first
        .split("does not conform to clause")
        .nth(1)
        .expect("statement");
    let bad = bad.split("conforms to clause").next().unwrap_or(bad);
    assert!(bad.contains("EN 50470-3 §8.1"), "{bad}");
    for field in [
        "Method",
        "EN 50470-3:2006 (test edition)",
        "Environmental conditions",
        "CERT-4711",
        "Measurement uncertainty",
        "Decision rule",
        "conditional pass",
        "Deviations and overrides",
        "Signatures",
        "A. Authoriser",
        "Annex A",
    ] {
        assert!(all.contains(field), "the report has {field:?}");
    }
    // Table cells wrap in the PDF's text: the certificate's lab and date are read from the HTML.
    let html = std::fs::read_to_string(out.join("report.html")).expect("html");
    assert!(
        html.contains("Calibration Lab Example, 2026-03-01"),
        "certificate in the HTML"
    );
    // The first two pages as PNG, for the note.
    let prefix = dir.path().join("page");
    let st = Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "1", "-l", "2"])
        .arg(&pdf)
        .arg(&prefix)
        .status()
        .expect("pdftoppm");
    assert!(st.success());
    // Copies of the pages for a person to look at, where asked (as the
    // station page's tests do with METRIG_STATION_SHOTS).
    let shots = std::env::var_os("METRIG_REPORT_SHOTS").map(std::path::PathBuf::from);
    let mut pngs: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    pngs.sort();
    assert_eq!(pngs.len(), 2, "{pngs:?}");
    for (i, png) in pngs.iter().enumerate() {
        assert!(std::fs::metadata(png).expect("png").len() > 1000);
        if let Some(shots) = shots.as_ref().filter(|d| d.is_dir()) {
            let _ = std::fs::copy(png, shots.join(format!("report-page{}.png", i + 1)));
        }
    }
    // `metrig report DIR --pdf` prints it again; without a Chromium it says so.
    let (code, o, e) = metrig(&["report", s(&out), "--pdf"]);
    assert_eq!(code, 0, "{o}{e}");
    assert!(o.contains("printed") && o.contains("report.pdf"), "{o}");
    let none = Command::new(env!("CARGO_BIN_EXE_metrig"))
        .args(["report", s(&out), "--pdf"])
        .env("PATH", "/nonexistent")
        .env_remove("METRIG_CHROMIUM")
        .current_dir(root())
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&none.stderr);
    assert!(!none.status.success(), "{err}");
    assert!(
        err.contains("no Chromium") && err.contains("chromium-browser"),
        "{err}"
    );
    // `metrig verify` does not trip over the new file.
    let (code, o, e) = metrig(&["verify", s(&out)]);
    assert_eq!(code, 0, "{o}{e}");
}
