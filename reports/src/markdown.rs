//! The Markdown summary (`summary.md`), also printed at the end of a run.

use std::fmt::Write as _;
use std::path::Path;

use crate::record::Record;

pub const SUMMARY_FILE: &str = "summary.md";

fn num(x: Option<f64>, digits: usize) -> String {
    x.map_or("—".to_string(), |v| format!("{v:+.digits$}"))
}

/// A string from a file or a meter, as Markdown text: it must not break the
/// table, and a renderer must show it as text, never as markup (raw HTML such
/// as `<script>`, links, emphasis) — nor may it carry terminal escapes, since
/// the summary is also printed.
pub fn cell(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\\' | '`' | '*' | '|' => {
                o.push('\\');
                o.push(c);
            }
            // `](` and `][` make links and images; a bracket alone is text
            // (an intraword `_` is text too, so ids keep their look).
            ']' if matches!(chars.peek(), Some('(' | '[')) => o.push_str("\\]"),
            '\n' | '\r' | '\t' => o.push(' '),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o
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
    let _ = writeln!(o, "- decision rule: {}", cell(&r.decision_rule.text));
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
            cell(&crate::record::limit_text(p)),
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
                cell(&l.table),
                cell(&l.row),
                cell(&l.show()),
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
                cell(&l.table),
                cell(&l.row),
                cell(&l.show()),
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
    crate::safe_write::write_file(dir, SUMMARY_FILE, render(record).as_bytes())
}

#[cfg(test)]
mod escaping {
    use super::cell;

    #[test]
    fn user_strings_render_as_text_not_markup() {
        assert_eq!(
            cell("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(cell("[x](http://evil)"), "[x\\](http://evil)");
        assert_eq!(cell("![i][ref]"), "![i\\][ref]");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(cell("\u{1b}[2J\u{1b}]0;pwned\u{7}ok"), "[2J]0;pwnedok");
        assert_eq!(cell("**bold** `code`"), "\\*\\*bold\\*\\* \\`code\\`");
        assert_eq!(
            cell("ib-pf1-active_power [serial]"),
            "ib-pf1-active_power [serial]"
        );
    }
}
