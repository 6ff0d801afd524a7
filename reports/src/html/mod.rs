//! `report.html`: the test report a lab hands to a notified body (ISO/IEC
//! 17025 §7.8; issue 19), one self-contained file, print-ready.
//!
//! Structure: the first page states the report number, the lab, the
//! customer, the meter and the conformity per clause (no hashes there);
//! then the method, the environmental conditions, the instruments with
//! their certificates, the results per clause with their plots, the
//! uncertainty statement, the decision rule and what each verdict means,
//! deviations and overrides, signatures; annexes hold the file hashes and
//! every finding. Print CSS puts the report number and "page x of y" on
//! every page (CSS paged media margin boxes, which headless Chromium lays
//! out: `reports::pdf`).
//!
//! Written with maud (issue 18): every string from a file or a meter is
//! escaped by construction; the fragments in [`fragments`] and the plots in
//! [`plot`] (plotters, SVG) are shared with the station page.
//!
//! Owns: report.html, its fragments and plots. May import: the record
//! (`crate::record`) and the conformity statement; nothing of `harness`.

pub mod fragments;
pub mod plot;

use std::path::Path;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::conformity::{self, Statement};
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

/// A CSS string literal's content: quotes and backslashes escaped, `<`
/// written as a CSS escape so no text can close the `<style>` element.
pub fn css_string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '<' => o.push_str("\\3c "),
            '>' => o.push_str("\\3e "),
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

const STYLE: &str = "body{font:10.5pt/1.4 system-ui,sans-serif;margin:0 auto;color:#222;max-width:1100px;padding:1em}\
table{border-collapse:collapse;margin:0.6em 0}td,th{border:1px solid #bbb;padding:2px 6px;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}.pass{background:#e6f4e6}.conditional_pass{background:#f4f4d8}\
.conditional_fail{background:#f8e4cc}.fail,.error{background:#f6d6d6}.skipped{color:#888}.outside{outline:2px solid #c60}\
svg{margin:0.5em 1em 0.5em 0}svg .t{font:bold 13px sans-serif}svg .a{font:11px sans-serif;fill:#444}\
.note{color:#555}code{background:#f3f3f3;padding:0 3px;word-break:break-all}\
.first h1{margin-bottom:0.2em}.facts th{width:13em;background:#f6f6f6}.statement{font-size:12pt;margin:0.4em 0}\
.statement.bad{color:#a00}.sim{border:2px solid #c60;padding:0.4em;margin:0.6em 0}\
.sign td{height:3.5em;width:18em}\
@media print{body{max-width:none;padding:0}.first{break-after:page}h2{break-after:avoid}tr,svg{break-inside:avoid}.annex{break-before:page}}";

/// The report number as printed: the run's, or its run id when it has none.
pub fn report_number(r: &Record) -> String {
    r.facts
        .as_ref()
        .and_then(|f| f.report_number.clone())
        .unwrap_or_else(|| format!("run {}", r.run_id))
}

/// The `@page` rules: report number at the top, "page x of y" at the bottom.
fn page_css(r: &Record) -> String {
    let lab = r.lab.as_ref().map_or("metrig", |l| l.name.as_str());
    format!(
        "@page{{size:A4;margin:18mm 14mm 18mm 14mm;\
@top-left{{content:{};font:8pt sans-serif;color:#555}}\
@top-right{{content:{};font:8pt sans-serif}}\
@bottom-right{{content:\"page \" counter(page) \" of \" counter(pages);font:8pt sans-serif}}\
@bottom-left{{content:{};font:8pt sans-serif;color:#555}}}}",
        css_string(lab),
        css_string(&format!("Report {}", report_number(r))),
        css_string(&format!("Report {}", report_number(r))),
    )
}

pub fn render(r: &Record) -> String {
    let number = report_number(r);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "Test report " (number) " — " (r.plan_name) }
                style { (PreEscaped(STYLE)) (PreEscaped(page_css(r))) }
            }
            body {
                (first_page(r))
                (method(r))
                (conditions(r))
                (instruments(r))
                (results(r))
                (uncertainty(r))
                (decision_rule(r))
                (deviations(r))
                (signatures(r))
                (annexes(r))
            }
        }
    };
    let mut s = page.into_string();
    s.push('\n');
    s
}

/// Page 1: who, what, and the verdict at a glance; no hashes.
fn first_page(r: &Record) -> Markup {
    let facts = r.facts.clone().unwrap_or_default();
    let tested = match &r.finished_at {
        Some(f) if f.get(..10) != r.started_at.get(..10) => format!(
            "{} to {}",
            r.started_at.get(..10).unwrap_or(&r.started_at),
            f.get(..10).unwrap_or(f)
        ),
        _ => r.started_at.get(..10).unwrap_or(&r.started_at).to_string(),
    };
    let conformity = conformity::of(r);
    html! {
        section.first {
            h1 { "Test report " (report_number(r)) }
            p.note { (r.plan_name) " — " (plan_title(r)) }
            @if r.simulated {
                p.sim { b { "Simulated rig." } " The results below come from metrig's simulated bench, not from a physical meter: this report is not a test of a real meter." }
            }
            table.facts {
                tr { th { "Laboratory" } td {
                    @match &r.lab {
                        Some(l) => {
                            b { (l.name) } br;
                            @for line in &l.address { (line) br; }
                            @if let Some(a) = &l.accreditation { "Accreditation: " (a) }
                        }
                        None => { "not stated (no lab file given)" }
                    }
                } }
                tr { th { "Customer" } td { (or_dash(facts.customer.as_deref())) } }
                tr { th { "Test item" } td { (fragments::meters(r)) } }
                tr { th { "Sample id" } td { (or_dash(facts.sample_id.as_deref())) } }
                tr { th { "Received" } td { (facts.received.map_or("—".to_string(), |d| d.to_string())) } }
                tr { th { "Tested" } td { (tested) } }
                tr { th { "Operator" } td { (or_dash(facts.operator.as_deref())) } }
                tr { th { "Run status" } td { (status_words(r)) } }
            }
            h2 { "Statement of conformity" }
            @for m in &conformity {
                (fragments::conformity(r, m, conformity.len() > 1))
            }
            p.note {
                (r.points.len()) " results over "
                (conformity.iter().map(|m| m.clauses.len()).max().unwrap_or(0))
                " clauses; " (r.verdict_counts().join(", ")) ". Decision rule: "
                (rule_label(r.decision_rule.rule)) " (section 6). The statements cover the points listed in section 4 only."
            }
        }
    }
}

/// The decision rule's short name (its full text is in section 6).
pub fn rule_label(rule: model::stats::DecisionRule) -> &'static str {
    match rule {
        model::stats::DecisionRule::SimpleAcceptance => "simple acceptance (ILAC-G8 §4.2.1)",
        model::stats::DecisionRule::GuardedBinary => {
            "binary with guard band w = U (ILAC-G8 §4.2.2)"
        }
        model::stats::DecisionRule::NonBinary => "non-binary statement (ILAC-G8 §4.2.3)",
    }
}

fn plan_title(r: &Record) -> String {
    // The plan's description is not in the record; its file name says which plan.
    Path::new(&r.plan.path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| r.plan.path.clone())
}

fn status_words(r: &Record) -> String {
    let mut s = match r.status {
        crate::RecordStatus::Completed => "completed".to_string(),
        crate::RecordStatus::Interrupted => format!("interrupted: {}", r.message),
        crate::RecordStatus::Unfinished => "unfinished (no end journaled)".to_string(),
    };
    if r.resumes > 0 {
        s.push_str(&format!(", resumed {} time(s)", r.resumes));
    }
    s
}

fn or_dash(s: Option<&str>) -> String {
    s.filter(|s| !s.trim().is_empty())
        .unwrap_or("—")
        .to_string()
}

/// 1. Method: the standards and editions, and the clause each result is judged by.
fn method(r: &Record) -> Markup {
    let mut clauses: Vec<(String, usize)> = Vec::new();
    for p in &r.points {
        let c = conformity::clause_of(p);
        match clauses.iter_mut().find(|(x, _)| *x == c) {
            Some((_, n)) => *n += 1,
            None => clauses.push((c, 1)),
        }
    }
    html! {
        h2 { "1. Method" }
        @if r.standards.is_empty() {
            p { "The plan names no standards with their editions (" code { "[report] standards" } "); the clauses below cite them." }
        } @else {
            p { "Standards followed (edition as stated in the plan):" }
            ul { @for s in &r.standards { li { (s) } } }
        }
        p { "Plan " code { (plan_title(r)) } ", decision rule " (rule_label(r.decision_rule.rule)) ". Each result is judged under the clause of its limit row:" }
        table {
            tr { th { "clause" } th { "results" } }
            @for (c, n) in &clauses { tr { td { (c) } td.n { (n) } } }
        }
    }
}

/// 2. Environmental conditions: the plan's reference conditions and each point's reading.
fn conditions(r: &Record) -> Markup {
    let readings: Vec<_> = r
        .points
        .iter()
        .filter_map(|p| p.conditions.as_ref().map(|c| (p, c)))
        .collect();
    let range = |f: &dyn Fn(&model::lab::ClimateReading) -> f64| {
        let lo = readings
            .iter()
            .map(|(_, c)| f(c))
            .fold(f64::INFINITY, f64::min);
        let hi = readings
            .iter()
            .map(|(_, c)| f(c))
            .fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    };
    let (tlo, thi) = range(&|c| c.temperature_c);
    let (hlo, hhi) = range(&|c| c.humidity_pct);
    let outside: Vec<_> = readings
        .iter()
        .filter(|(_, c)| c.outside.is_some())
        .collect();
    html! {
        h2 { "2. Environmental conditions" }
        @match &r.reference_conditions {
            Some(c) => p {
                "Reference conditions: " b { (c.describe()) } " (" (c.clause) "). A point measured outside them is "
                (match c.on_out_of_range {
                    model::lab::OnOutOfRange::Flag => "measured and flagged",
                    model::lab::OnOutOfRange::Refuse => "refused: the run stops",
                    model::lab::OnOutOfRange::Wait => "waited for, then flagged if they did not return",
                }) "."
            },
            None => p { "The plan declares no reference conditions." },
        }
        @if readings.is_empty() {
            p { b { "The ambient temperature and humidity were not logged" } " (the rig has no climate sensor, or the record predates them)." }
        } @else {
            p {
                "Logged as each point started: temperature " (format!("{tlo:.1}–{thi:.1} °C")) ", relative humidity "
                (format!("{hlo:.0}–{hhi:.0} %")) " over " (readings.len()) " of " (r.points.len()) " points."
            }
            @if outside.is_empty() {
                p { "Every point was measured within the reference conditions." }
            } @else {
                p.statement.bad { (outside.len()) " point(s) were measured outside the reference conditions; they are flagged in section 4:" }
                table {
                    tr { th { "point" } th { "rig time" } th { "°C" } th { "% RH" } th { "why" } }
                    @for (p, c) in &outside {
                        tr.outside {
                            td { (p.key) } td.n { (format!("{:.0} s", c.at_s)) }
                            td.n { (format!("{:.2}", c.temperature_c)) } td.n { (format!("{:.1}", c.humidity_pct)) }
                            td { (c.outside.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

/// 3. Instruments with their calibration certificates.
fn instruments(r: &Record) -> Markup {
    html! {
        h2 { "3. Instruments and traceability" }
        table {
            tr { th { "role" } th { "instrument" } th { "calibration due" } th { "certificate" } th { "calibrated by, on" } th { "traceability" } }
            @for i in &r.instruments {
                @let cert = r.certificates.iter().find(|c| c.role == i.role);
                tr {
                    td { (i.role) }
                    td {
                        (i.maker) " " (i.model) " s/n " (i.serial)
                        @if let Some(fw) = &i.firmware { ", firmware " (fw) }
                        @if i.simulated { " (simulated)" }
                    }
                    td { (i.calibration_due.map_or("—".to_string(), |d| d.to_string())) }
                    @match cert {
                        Some(c) => {
                            td { (c.number) }
                            td { (c.calibrating_lab) ", " (c.calibrated_on.to_string()) }
                            td { (c.traceability) }
                        }
                        None => { td { "—" } td { "—" } td { "—" } }
                    }
                }
            }
        }
    }
}

/// 4. Results per clause, with the plots of that clause's points.
fn results(r: &Record) -> Markup {
    let mut clauses: Vec<String> = Vec::new();
    for p in &r.points {
        let c = conformity::clause_of(p);
        if !clauses.contains(&c) {
            clauses.push(c);
        }
    }
    html! {
        h2 { "4. Results" }
        p.note { "Error and U in % unless the limit says otherwise; U is the expanded uncertainty (section 5). A point measured outside the reference conditions is outlined and flagged." }
        @for (i, c) in clauses.iter().enumerate() {
            @let points: Vec<_> = r.points.iter().filter(|p| conformity::clause_of(p) == *c).collect();
            h3 { "4." (i + 1) " " (c) }
            (plots(&points))
            (fragments::points_table(&points))
        }
    }
}

/// 5. The uncertainty statement.
fn uncertainty(r: &Record) -> Markup {
    let ks: Vec<f64> = r
        .points
        .iter()
        .filter_map(|p| p.budget.as_ref().map(|b| b.coverage_factor))
        .filter(|k| k.is_finite())
        .collect();
    let (klo, khi) = (
        ks.iter().copied().fold(f64::INFINITY, f64::min),
        ks.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    html! {
        h2 { "5. Measurement uncertainty" }
        p {
            "The expanded uncertainty U stated with each result is the combined standard uncertainty multiplied by a coverage factor k "
            "for a coverage probability of about 95 %, k taken from Student's t for the effective degrees of freedom (Welch–Satterthwaite), "
            "as JCGM 100:2008 (GUM) §6 and annex G describe. The combined uncertainty includes the reference standard (from its certificate), "
            "the resolution of the counts and registers, and the scatter of the repeated readings (type A)."
            @if !ks.is_empty() { " Coverage factors in this report: k = " (format!("{klo:.2}")) " to " (format!("{khi:.2}")) "." }
        }
        p { "The components that govern each point's uncertainty are named with each result, with their share of u_c²; every component with its degrees of freedom is in " code { "record.json" } "." }
    }
}

/// 6. The decision rule, and what each verdict means for the customer.
fn decision_rule(r: &Record) -> Markup {
    use model::stats::Verdict;
    html! {
        h2 { "6. Decision rule and the meaning of the verdicts" }
        p { (r.decision_rule.text) }
        table {
            tr { th { "verdict" } th { "what it means for the customer" } }
            @for v in [Verdict::Pass, Verdict::ConditionalPass, Verdict::ConditionalFail, Verdict::Fail, Verdict::Error, Verdict::Skipped] {
                tr class=(v.as_str()) { td { (conformity::verdict_words(v)) } td { (conformity::verdict_meaning(v)) } }
            }
        }
    }
}

/// 7. Deviations from the method, overrides, and what the run itself noted.
fn deviations(r: &Record) -> Markup {
    use model::events::Severity;
    let flagged: Vec<_> = r.points.iter().filter(|p| p.outside_conditions()).collect();
    let notes: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .collect();
    let any = !flagged.is_empty()
        || !notes.is_empty()
        || !r.limits_overridden.is_empty()
        || !r.limits_not_verified.is_empty()
        || r.resumes > 0;
    html! {
        h2 { "7. Deviations and overrides" }
        @if !any { p { "None: the method was followed as written." } }
        @if !r.limits_overridden.is_empty() {
            p { "Limits the plan replaced:" }
            ul { @for l in &r.limits_overridden {
                li { (l.table) " / " (l.row) " (" (l.clause) "): " (l.show()) " — " (l.overridden.as_deref().unwrap_or("")) }
            } }
        }
        @if !r.limits_not_verified.is_empty() {
            p { "Limits whose figure is not verified against the published standard (recalled or uncertain; to be confirmed):" }
            ul { @for l in &r.limits_not_verified {
                li { (l.table) " / " (l.row) " (" (l.clause) "): " (l.show()) ", " (format!("{:?}", l.confidence).to_lowercase()) }
            } }
        }
        @if !flagged.is_empty() {
            p { (flagged.len()) " point(s) measured outside the reference conditions (section 2)." }
        }
        @if r.resumes > 0 {
            p { "The run was interrupted and resumed " (r.resumes) " time(s); points were measured again from their start." }
        }
        @if !notes.is_empty() {
            p { "Deviations and warnings noted during the run:" }
            ul { @for f in &notes {
                li { b { (f.severity) } @if let Some(k) = &f.key { " (" (k) ")" } ": " (f.text) }
            } }
        }
    }
}

/// 8. Signatures: the operator who ran the test, the person who authorises the report.
fn signatures(r: &Record) -> Markup {
    let operator = r.facts.as_ref().and_then(|f| f.operator.clone());
    html! {
        h2 { "8. Signatures" }
        table.sign {
            tr { th { "Tested by" } th { "Authorised by" } }
            tr {
                td { (or_dash(operator.as_deref())) br; span.note { "operator" } }
                td {
                    (or_dash(r.lab.as_ref().map(|l| l.authoriser.as_str())))
                    br; span.note { (r.lab.as_ref().and_then(|l| l.authoriser_role.clone()).unwrap_or_else(|| "authoriser".into())) }
                }
            }
            tr { td { "signature, date:" } td { "signature, date:" } }
        }
        p.note { "This report shall not be reproduced except in full without the laboratory's written approval. The results relate only to the item tested." }
    }
}

/// Annexes: the data's traceability (files and hashes) and every finding.
fn annexes(r: &Record) -> Markup {
    html! {
        section.annex {
            h2 { "Annex A. Records and file hashes" }
            p { "Every figure is traceable to its raw samples in " code { "record.json" } " and " code { "samples.csv" } " of run " code { (r.run_id) } "." }
            table {
                tr { th { "what" } th { "file" } th { "sha256" } }
                tr { td { "plan " (r.plan_name) } td { code { (r.plan.path) } } td { code { (r.plan.sha256) } } }
                tr { td { "rig " (r.rig_name) } td { code { (r.rig.path) } } td { code { (r.rig.sha256) } } }
                @for m in &r.meters {
                    tr { td { "position " (m.position + 1) " profile " (m.profile_id) " (map " (m.map_status) ")" } td { code { (m.profile.path) } } td { code { (m.profile.sha256) } } }
                }
                @if let Some(f) = r.lab.as_ref().and_then(|l| l.file.as_ref()) {
                    tr { td { "lab file" } td { code { (f.path) } } td { code { (f.sha256) } } }
                }
            }
            p.note {
                "metrig " (r.metrig_version) ", seed " (r.seed) ", started " (r.started_at) ", "
                (r.finished_at.as_deref().map_or("not finished".to_string(), |f| format!("finished {f}")))
                ", run message: " (r.message) "."
            }
            @if !r.findings.is_empty() {
                h2 { "Annex B. Findings" }
                ul { @for f in &r.findings {
                    li { b { (f.severity) } @if let Some(k) = &f.key { " (" (k) ")" } ": " (f.text) }
                } }
            }
            @if !r.restore.is_empty() {
                h2 { "Annex C. Meter settings at the end" }
                ul { @for x in &r.restore {
                    li { "position " (x.position + 1) ": " @if x.restored { "restored" } @else { b { "NOT restored" } } " — " (x.message) }
                } }
            }
        }
    }
}

/// Error curves of the accuracy points among `points` (one plot per suite,
/// position and power factor) and the histograms their suites attach, drawn
/// by the same code as the station page's (`plot`). A plot that cannot be
/// drawn is said in words rather than dropped.
fn plots(points: &[&crate::record::PointRecord]) -> Markup {
    let mut figures: Vec<(String, Result<String, plot::PlotError>)> = Vec::new();
    for (title, pts) in plot::curves(points.iter().copied()) {
        figures.push((title, plot::error_curve(&pts)));
    }
    for (title, unit, values) in plot::histograms(points.iter().copied()) {
        figures.push((title, plot::histogram(&values, &unit, 30)));
    }
    html! {
        @if !figures.is_empty() {
            div class="plots" {
                @for (title, svg) in &figures {
                    figure {
                        figcaption { (title) }
                        @match svg {
                            // Named for screen readers and text extraction.
                            Ok(svg) => (PreEscaped(svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(title)), 1))),
                            Err(e) => p class="note" { (e.to_string()) },
                        }
                    }
                }
            }
        }
    }
}

pub fn write(record: &Record, dir: &Path) -> Result<(), String> {
    crate::safe_write::write_file(dir, HTML_FILE, render(record).as_bytes())
}

/// The first page's words for one meter's overall statement (tests read it).
pub fn overall_words(s: Statement) -> &'static str {
    s.lead()
}
