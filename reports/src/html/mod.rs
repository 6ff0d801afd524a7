//! `report.html`: one self-contained file a lab can hand in — summary table,
//! error-curve plots per power factor with the limit envelope and the
//! uncertainty bars, histograms, findings, the decision rule in words. Every
//! string that comes from the meter or a file is escaped.

mod svg;

use std::fmt::Write as _;
use std::path::Path;

use crate::record::Record;

pub const HTML_FILE: &str = "report.html";

/// HTML-escapes text (element content and attribute values).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.pass{background:#e6f4e6}.conditional_pass{background:#f4f4d8}\
.conditional_fail{background:#f8e4cc}.fail,.error{background:#f6d6d6}.skipped{color:#888}\
svg{margin:0.5em 1em 0.5em 0}svg .t{font:bold 13px sans-serif}svg .a{font:11px sans-serif;fill:#444}\
.note{color:#555}code{background:#f3f3f3;padding:0 3px}";

pub fn render(r: &Record) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>metrig {} — {}</title><style>{STYLE}</style></head><body>",
        esc(&r.run_id),
        esc(&r.plan_name)
    );
    let _ = write!(o, "<h1>metrig report — {}</h1>", esc(&r.plan_name));
    let _ = write!(
        o,
        "<p>Run <code>{}</code>, started {}, {}; status <b>{:?}</b>{}. metrig {}.</p>",
        esc(&r.run_id),
        esc(&r.started_at),
        r.finished_at
            .as_deref()
            .map(|f| format!("finished {}", esc(f)))
            .unwrap_or_else(|| "not finished".into()),
        r.status,
        if r.resumes > 0 {
            format!(", resumed {} time(s)", r.resumes)
        } else {
            String::new()
        },
        esc(&r.metrig_version)
    );
    let _ = write!(
        o,
        "<p>Plan <code>{}</code> (sha256 {}); rig <b>{}</b>{} <code>{}</code> (sha256 {}), seed {}.</p>",
        esc(&r.plan.path),
        esc(&r.plan.sha256),
        esc(&r.rig_name),
        if r.simulated {
            " — <b>simulated</b>"
        } else {
            ""
        },
        esc(&r.rig.path),
        esc(&r.rig.sha256),
        r.seed
    );
    o.push_str("<h2>Decision rule</h2>");
    let _ = write!(o, "<p>{}</p>", esc(&r.decision_rule.text));
    o.push_str("<h2>Meters and instruments</h2><table><tr><th>role</th><th>what</th><th>says of itself</th></tr>");
    for m in &r.meters {
        let said = m.said.as_ref();
        let _ = write!(
            o,
            "<tr><td>position {}</td><td>{} {} — profile {} (map {}, sha256 {})</td><td>model {}, serial {}, firmware {}</td></tr>",
            m.position + 1,
            esc(&m.maker),
            esc(&m.model),
            esc(&m.profile_id),
            esc(&m.map_status),
            esc(&m.profile.sha256),
            esc(said.and_then(|s| s.model_id.as_deref()).unwrap_or("?")),
            esc(said.and_then(|s| s.serial_number.as_deref()).unwrap_or("?")),
            esc(said.and_then(|s| s.firmware.as_deref()).unwrap_or("?"))
        );
    }
    for i in &r.instruments {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{} {} s/n {}{}</td><td>{}{}</td></tr>",
            esc(&i.role),
            esc(&i.maker),
            esc(&i.model),
            esc(&i.serial),
            if i.simulated { " (simulated)" } else { "" },
            i.firmware
                .as_deref()
                .map(|f| format!("firmware {}", esc(f)))
                .unwrap_or_default(),
            i.calibration_due
                .map(|d| format!(", calibration due {d}"))
                .unwrap_or_default()
        );
    }
    o.push_str("</table>");
    let counts = r.verdict_counts();
    let _ = write!(
        o,
        "<h2>Summary</h2><p>{} points: {}.</p>",
        r.points.len(),
        esc(&counts.join(", "))
    );
    o.push_str(&plots(r));
    o.push_str("<table><tr><th>suite</th><th>pos</th><th>point</th><th>verdict</th><th>error %</th><th>U %</th><th>limit</th><th>n</th><th>limit row</th><th>governed by (share of u_c²)</th><th>result</th></tr>");
    for p in &r.points {
        let _ = write!(
            o,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td title=\"{}\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            p.verdict.as_str(),
            esc(&p.suite),
            p.position + 1,
            esc(&p.title),
            esc(&p.id),
            p.verdict,
            p.mean_error_pct.map_or("—".into(), |v| format!("{v:+.3}")),
            p.expanded_uncertainty_pct
                .map_or("—".into(), |v| format!("{v:.3}")),
            esc(&crate::record::limit_text(p)),
            p.samples.len(),
            p.limit
                .as_ref()
                .map(|l| format!(
                    "{} / {} ({:?}{})",
                    esc(&l.table),
                    esc(&l.row),
                    l.confidence,
                    if l.overridden.is_some() {
                        ", overridden"
                    } else {
                        ""
                    }
                ))
                .unwrap_or_default(),
            esc(&crate::governing::governing(p.budget.as_ref())),
            esc(&p.summary)
        );
    }
    o.push_str("</table>");
    if !r.findings.is_empty() {
        o.push_str("<h2>Findings</h2><ul>");
        for f in &r.findings {
            let _ = write!(
                o,
                "<li><b>{:?}</b>{}: {}</li>",
                f.severity,
                f.key
                    .as_deref()
                    .map(|k| format!(" ({})", esc(k)))
                    .unwrap_or_default(),
                esc(&f.text)
            );
        }
        o.push_str("</ul>");
    }
    if !r.limits_not_verified.is_empty() || !r.limits_overridden.is_empty() {
        o.push_str("<h2>Limits</h2><table><tr><th>table / row</th><th>limit</th><th>clause</th><th>confidence</th><th>override</th></tr>");
        for l in r.limits_not_verified.iter().chain(
            r.limits_overridden
                .iter()
                .filter(|l| l.confidence == model::point::Confidence::Verified),
        ) {
            let _ = write!(
                o,
                "<tr><td>{} / {}</td><td>{}</td><td>{}</td><td>{:?}</td><td>{}</td></tr>",
                esc(&l.table),
                esc(&l.row),
                esc(&l.show()),
                esc(&l.clause),
                l.confidence,
                esc(l.overridden.as_deref().unwrap_or(""))
            );
        }
        o.push_str("</table><p class=\"note\">Figures marked recalled or uncertain are to be confirmed against the purchased standard; a plan can override a row.</p>");
    }
    if !r.restore.is_empty() {
        o.push_str("<h2>Meter settings at the end</h2><ul>");
        for x in &r.restore {
            let _ = write!(
                o,
                "<li>position {}: {} — {}</li>",
                x.position + 1,
                if x.restored {
                    "restored"
                } else {
                    "<b>NOT restored</b>"
                },
                esc(&x.message)
            );
        }
        o.push_str("</ul>");
    }
    let _ = write!(
        o,
        "<p class=\"note\">Every figure is traceable to its raw samples in <code>record.json</code> and <code>samples.csv</code>. Run message: {}.</p>",
        esc(&r.message)
    );
    o.push_str("</body></html>\n");
    o
}

/// Error curves of the accuracy suites (one plot per suite, position and
/// power factor) and the histograms suites attach to points.
fn plots(r: &Record) -> String {
    let mut groups: Vec<(String, Vec<svg::CurvePoint>)> = Vec::new();
    let mut out = String::new();
    for p in &r.points {
        let d = &p.details;
        let influence = d.get("reference_error_pct").is_some();
        if let (Some(i), Some(pf), Some(e), Some(u), Some(l), false) = (
            d.get("current_a").and_then(|v| v.as_f64()),
            d.get("pf").and_then(|v| v.as_str()),
            p.mean_error_pct,
            p.expanded_uncertainty_pct,
            p.limit_pct,
            influence,
        ) {
            let title = format!("{} — position {} — PF {}", p.suite, p.position + 1, pf);
            let cp = svg::CurvePoint {
                current_a: i,
                error_pct: e,
                u_pct: u,
                limit_pct: l,
                failed: p.verdict.is_failure(),
            };
            match groups.iter_mut().find(|(t, _)| *t == title) {
                Some((_, v)) => v.push(cp),
                None => groups.push((title, vec![cp])),
            }
        }
        if let Some(hists) = d.get("histograms").and_then(|h| h.as_array()) {
            for h in hists {
                let values: Vec<f64> = h
                    .get("values")
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
                    .unwrap_or_default();
                let title = format!(
                    "{} — {}",
                    p.key,
                    h.get("title")
                        .and_then(|t| t.as_str())
                        .unwrap_or("histogram")
                );
                out.push_str(&svg::histogram(
                    &title,
                    h.get("unit").and_then(|u| u.as_str()).unwrap_or(""),
                    &values,
                    30,
                ));
            }
        }
    }
    let mut curves = String::new();
    for (title, pts) in groups {
        curves.push_str(&svg::error_curve(&title, &pts));
    }
    if curves.is_empty() && out.is_empty() {
        return String::new();
    }
    format!("<div>{curves}{out}</div>")
}

pub fn write(record: &Record, dir: &Path) -> Result<(), String> {
    crate::safe_write::write_file(dir, HTML_FILE, render(record).as_bytes())
}
