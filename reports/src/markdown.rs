//! The Markdown summary (`summary.md`), also printed at the end of a run.

use std::fmt::Write as _;
use std::path::Path;

use crate::record::Record;

pub const SUMMARY_FILE: &str = "summary.md";

fn num(x: Option<f64>, digits: usize) -> String {
    x.map_or("—".to_string(), |v| format!("{v:+.digits$}"))
}

/// Table cells must not break the table.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(r: &Record) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# metrig run {} — {}",
        cell(&r.run_id),
        cell(&r.plan_name)
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "- status: {:?}{}",
        r.status,
        if r.resumes > 0 {
            format!(" (resumed {} time(s))", r.resumes)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        o,
        "- rig: {}{}",
        cell(&r.rig_name),
        if r.simulated { " (simulated)" } else { "" }
    );
    for m in &r.meters {
        let said = m.said.as_ref();
        let _ = writeln!(
            o,
            "- position {}: {} {} (profile {}, map {}), firmware {}, serial {}",
            m.position + 1,
            cell(&m.maker),
            cell(&m.model),
            cell(&m.profile_id),
            m.map_status,
            cell(said.and_then(|s| s.firmware.as_deref()).unwrap_or("?")),
            cell(said.and_then(|s| s.serial_number.as_deref()).unwrap_or("?"))
        );
    }
    let _ = writeln!(o, "- decision rule: {}", r.decision_rule.text);
    let counts = r.verdict_counts();
    let _ = writeln!(o, "- points: {} ({})", r.points.len(), counts.join(", "));
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "| suite | pos | point | verdict | error % | U % | limit | governed by (share of u_c²) |"
    );
    let _ = writeln!(o, "|---|---|---|---|---:|---:|---:|---|");
    for p in &r.points {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            cell(&p.suite),
            p.position + 1,
            cell(&p.id),
            p.verdict,
            num(p.mean_error_pct, 3),
            p.expanded_uncertainty_pct
                .map_or("—".into(), |u| format!("{u:.3}")),
            crate::record::limit_text(p),
            cell(&crate::governing::governing(p.budget.as_ref()))
        );
    }
    if !r.findings.is_empty() {
        let _ = writeln!(o, "\n## Findings\n");
        for f in &r.findings {
            let _ = writeln!(
                o,
                "- {:?}{}: {}",
                f.severity,
                f.key
                    .as_ref()
                    .map(|k| format!(" ({})", cell(k)))
                    .unwrap_or_default(),
                cell(&f.text)
            );
        }
    }
    if !r.limits_not_verified.is_empty() {
        let _ = writeln!(
            o,
            "\n## Limits not verified against the purchased standard\n"
        );
        for l in &r.limits_not_verified {
            let _ = writeln!(
                o,
                "- {} / {}: {} — {} ({:?})",
                l.table,
                l.row,
                l.show(),
                cell(&l.clause),
                l.confidence
            );
        }
    }
    if !r.limits_overridden.is_empty() {
        let _ = writeln!(o, "\n## Limits overridden by the plan\n");
        for l in &r.limits_overridden {
            let _ = writeln!(
                o,
                "- {} / {}: {} — {}",
                l.table,
                l.row,
                l.show(),
                cell(l.overridden.as_deref().unwrap_or(""))
            );
        }
    }
    if !r.restore.is_empty() {
        let _ = writeln!(o, "\n## Meter settings at the end\n");
        for x in &r.restore {
            let _ = writeln!(
                o,
                "- position {}: {} — {}",
                x.position + 1,
                if x.restored {
                    "restored"
                } else {
                    "NOT restored"
                },
                cell(&x.message)
            );
        }
    }
    o
}

pub fn write(record: &Record, dir: &Path) -> Result<(), String> {
    std::fs::write(dir.join(SUMMARY_FILE), render(record))
        .map_err(|e| format!("{}: {e}", dir.join(SUMMARY_FILE).display()))
}
