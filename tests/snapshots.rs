//! insta snapshots of the reports of a fixed-seed simulated run. Fields that
//! change from run to run (id, times, paths, file hashes) are redacted first.

use std::path::Path;
use std::process::Command;

fn html_text(html: &str) -> String {
    // The text a reader sees: tags dropped, one line per block.
    let mut out = String::new();
    let mut in_tag = false;
    let mut in_style = false;
    let mut tag = String::new();
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                tag.clear();
            }
            '>' if in_tag => {
                in_tag = false;
                let t = tag.to_ascii_lowercase();
                if t.starts_with("style") {
                    in_style = true;
                } else if t.starts_with("/style") || t.starts_with("/svg") {
                    in_style = false;
                } else if t.starts_with("svg") {
                    // A plot: its label stands for it.
                    let label = t
                        .split("aria-label=\"")
                        .nth(1)
                        .and_then(|l| l.split('"').next())
                        .unwrap_or("");
                    out.push_str(&format!("\n[plot: {label}]"));
                    in_style = true;
                }
                if [
                    "tr",
                    "/tr",
                    "p",
                    "/p",
                    "h1",
                    "h2",
                    "h3",
                    "/h3",
                    "li",
                    "br",
                    "/table",
                    "figcaption",
                    "svg",
                ]
                .iter()
                .any(|b| t == *b || t.starts_with(&format!("{b} ")))
                {
                    out.push('\n');
                } else if t.starts_with("td") || t.starts_with("th") {
                    out.push_str(" | ");
                }
            }
            _ if in_tag => tag.push(c),
            _ if in_style => {}
            c => out.push(c),
        }
    }
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn reports_of_a_fixed_seed_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("run");
    let status = Command::new(env!("CARGO_BIN_EXE_metrig"))
        .args([
            "run",
            "fixtures/plans/nightly.toml",
            "--rig",
            "fixtures/rigs/sim.toml",
            "--out",
            out.to_str().expect("utf8"),
            "--quiet",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("runs");
    assert!(status.success());
    let mut record = reports::Record::read(&out).expect("record");
    record.run_id = "RUN-ID".into();
    record.started_at = "STARTED".into();
    record.finished_at = Some("FINISHED".into());
    for f in [&mut record.plan, &mut record.rig] {
        f.path = Path::new(&f.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        f.sha256 = "SHA256".into();
    }
    for m in &mut record.meters {
        m.profile.path = "PROFILE".into();
        m.profile.sha256 = "SHA256".into();
    }
    for i in &mut record.instruments {
        if i.firmware.as_deref() == Some(env!("CARGO_PKG_VERSION")) {
            i.firmware = Some("VERSION".into());
        }
    }
    record.metrig_version = "VERSION".into();
    // The `modbus` suite's figures are wall-clock response times: its points
    // are checked in suites/tests/modbus_suite.rs, not pinned here.
    record.points.retain(|p| p.suite != "modbus");
    insta::assert_snapshot!("summary_md", reports::markdown::render(&record));
    insta::assert_snapshot!("junit_xml", reports::junit::render(&record).expect("junit"));
    insta::assert_snapshot!(
        "report_html_text",
        html_text(&reports::html::render(&record))
    );
}
