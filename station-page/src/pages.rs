//! The pages, as maud templates: every `(value)` splice is HTML-escaped, so
//! a serial number or plan name that holds markup shows as text. Only the
//! SVG that plotters drew (its text escaped by plotters) and the report
//! that `reports::html` rendered (its own escaping) go in unescaped.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use reports::Record;
use reports::compare::Comparison;
use reports::signature::SignatureStatus;
use store::{HistoryFilter, LiveRun, RunRow, TrendRow};

use crate::PageError;
use crate::hub::LiveUpdate;
use crate::plot;
use crate::server::Thresholds;

const STYLE: &str = "body{font:16px/1.45 system-ui,sans-serif;margin:1.5em 2em;color:#222;max-width:1200px}\
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:4px 9px;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}.pass{background:#e6f4e6}.conditional_pass{background:#f4f4d8}\
.conditional_fail{background:#f8e4cc}.fail,.error{background:#f6d6d6}.skipped{color:#888}\
.running{color:#1f5fbf;font-weight:bold}.stopped,.interrupted{color:#c02020;font-weight:bold}.completed{color:#207020;font-weight:bold}\
progress{width:28em;height:1.3em}nav a{margin-right:1.2em}form input{width:9em;margin-right:.6em}\
figure{display:inline-block;margin:.5em 1em .5em 0}figcaption{font-weight:bold}.note{color:#555}code{background:#f3f3f3;padding:0 3px}";

/// The live page's script: it reads the run's server-sent events and sets
/// text only (`textContent`), never markup.
pub const LIVE_JS: &str = r#"(function(){
const root=document.getElementById('live');if(!root)return;
const id=root.dataset.run;
const set=(k,v)=>{const e=document.getElementById(k);if(e)e.textContent=v;};
const rows=(tb,list,cells)=>{const t=document.getElementById(tb);if(!t)return;t.replaceChildren();
for(const x of list){const tr=document.createElement('tr');for(const [c,cls] of cells(x)){const td=document.createElement('td');td.textContent=c;if(cls)td.className=cls;tr.appendChild(td);}t.appendChild(tr);}};
const es=new EventSource('/live/'+encodeURIComponent(id)+'/events');
es.addEventListener('progress',ev=>{const u=JSON.parse(ev.data);
set('state',u.state);document.getElementById('state').className=u.state;
set('message',u.state==='running'?'':u.message);
set('point',u.point_key||'—');set('title',u.point_title||'');set('loads',u.point_loads||'');
set('done',u.points_done);set('planned',u.points_planned);
set('pct',u.progress_pct.toFixed(1));document.getElementById('bar').value=u.progress_pct;
set('rig-done',fmt(u.rig_time_done_s));set('rig-planned',fmt(u.rig_time_planned_s));set('eta',fmt(u.eta_rig_s));
set('heartbeat',u.updated_at);set('updates',(+document.getElementById('updates').textContent||0)+1);
rows('samples',u.samples.slice().reverse(),s=>[[s.point_key],[s.index,'n'],[s.at_s.toFixed(1),'n'],[s.value.toFixed(4)+' '+s.unit,'n']]);
rows('verdicts',u.verdicts.slice().reverse(),v=>[[v.point_key],[v.verdict,v.verdict],[v.mean_error_pct==null?'':v.mean_error_pct.toFixed(3),'n']]);
});
function fmt(s){s=Math.round(s);const h=Math.floor(s/3600),m=Math.floor(s%3600/60);return h+' h '+m+' min '+(s%60)+' s';}
})();"#;

/// A path segment, percent-encoded: user strings go into links as data.
pub fn seg(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            o.push(char::from(b));
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

/// Rig time in words, as the live view shows it.
pub fn rig_time(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    format!("{} h {} min {} s", s / 3600, s % 3600 / 60, s % 60)
}

fn layout(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { "metrig station — " (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                nav { a href="/" { "live & history" } a href="/compare" { "compare" } }
                (body)
            }
        }
    }
    .into_string()
}

pub fn error(code: u16, message: &str) -> String {
    layout("error", html! { h1 { "Error " (code) } p { (message) } })
}

fn live_table(live: &[LiveRun]) -> Markup {
    html! {
        @if live.is_empty() {
            p.note { "No run has reported progress to this store." }
        } @else {
            table {
                tr { th { "run" } th { "state" } th { "plan" } th { "rig" } th { "meters" }
                     th { "current point" } th { "points" } th { "ETA (rig time)" } th { "heartbeat" } }
                @for l in live {
                    tr {
                        td { a href={ "/live/" (seg(&l.run_id)) } { (l.run_id) } }
                        td class=(l.state()) { (l.state()) }
                        td { (l.plan) }
                        td { (l.rig) }
                        td { (l.meters.join(", ")) }
                        td { (l.progress.point_key.as_deref().unwrap_or("—")) }
                        td.n { (l.progress.points_done) " / " (l.progress.points_planned) }
                        td.n { (rig_time(l.eta_rig_s())) }
                        td { (l.updated_at) }
                    }
                }
            }
        }
    }
}

pub fn index(live: &[LiveRun], runs: &[RunRow], f: &HistoryFilter) -> String {
    let v = |o: &Option<String>| o.clone().unwrap_or_default();
    layout(
        "live & history",
        html! {
            h1 { "Station" }
            h2 { "Live" }
            (live_table(live))
            h2 { "History" }
            form method="get" action="/" {
                label { "meter " input name="meter" value=(v(&f.meter)); }
                label { "firmware " input name="firmware" value=(v(&f.firmware)); }
                label { "rig " input name="rig" value=(v(&f.rig)); }
                label { "plan " input name="plan" value=(v(&f.plan)); }
                label { "since " input name="since" placeholder="YYYY-MM-DD" value=(v(&f.since)); }
                button type="submit" { "filter" }
            }
            table #history {
                tr { th { "started" } th { "run" } th { "status" } th { "plan" } th { "rig" }
                     th { "meters" } th { "firmware" } th { "points" } th { "verdicts" } }
                @for r in runs {
                    tr {
                        td { (r.started_at) }
                        td { a href={ "/run/" (seg(&r.run_id)) } { (r.run_id) } }
                        td class=(r.status) { (r.status) }
                        td { (r.plan) }
                        td { (r.rig) }
                        td { @for (i, m) in r.meters.iter().enumerate() {
                            @if i > 0 { ", " } a href={ "/meter/" (seg(m)) } { (m) } } }
                        td { (r.firmware.join(", ")) }
                        td.n { (r.points) " / " (r.points_planned) }
                        td { @for (k, n) in &r.verdicts { span class=(k) { (n) " " (k) } " " } }
                    }
                }
            }
        },
    )
}

pub fn live(u: &LiveUpdate, l: &LiveRun) -> String {
    layout(
        &format!("live {}", l.run_id),
        html! {
            div #live data-run=(l.run_id) {
                h1 { "Run " code { (l.run_id) } }
                p { "Plan " b { (l.plan) } " on rig " b { (l.rig) } ", started " (l.started_at)
                    ". Meters: " (l.meters.join(", ")) "." }
                p { "State: " span #state class=(u.state) { (u.state) } " "
                    span #message { @if u.state != "running" { (u.message) } } }
                p { "Current point: " b #point { (u.point_key.as_deref().unwrap_or("—")) } " "
                    span #title { (u.point_title.as_deref().unwrap_or("")) } br;
                    "Load: " span #loads { (u.point_loads.as_deref().unwrap_or("")) } }
                p { progress #bar max="100" value=(format!("{:.1}", u.progress_pct)) {} " "
                    span #pct { (format!("{:.1}", u.progress_pct)) } " % of the plan's rig time; points "
                    span #done { (u.points_done) } " / " span #planned { (u.points_planned) } }
                p { "Rig time done " span #rig-done { (rig_time(u.rig_time_done_s)) } " of "
                    span #rig-planned { (rig_time(u.rig_time_planned_s)) } "; ETA "
                    span #eta { (rig_time(u.eta_rig_s)) } " (rig time)." }
                p.note { "Heartbeat " span #heartbeat { (u.updated_at) } "; live updates received: "
                    span #updates { "0" } "." }
                h2 { "Last samples" }
                table { thead { tr { th { "point" } th { "#" } th { "rig time (s)" } th { "value" } } }
                    tbody #samples { @for s in u.samples.iter().rev() {
                        tr { td { (s.point_key) } td.n { (s.index) } td.n { (format!("{:.1}", s.at_s)) }
                             td.n { (format!("{:.4} {}", s.value, s.unit)) } } } } }
                h2 { "Last verdicts" }
                table { thead { tr { th { "point" } th { "verdict" } th { "mean error (%)" } } }
                    tbody #verdicts { @for v in u.verdicts.iter().rev() {
                        tr { td { (v.point_key) } td class=(v.verdict) { (v.verdict) }
                             td.n { @if let Some(e) = v.mean_error_pct { (format!("{e:.3}")) } } } } } }
                p { a href={ "/run/" (seg(&l.run_id)) } { "the run's page (points stored so far)" } }
            }
            script src="/live.js" {}
        },
    )
}

/// The signature line of a run's page and the compare page.
fn signature_line(sig: &SignatureStatus) -> Markup {
    let class = match sig {
        SignatureStatus::Valid { .. } => "signature pass",
        SignatureStatus::Broken { .. } => "signature fail",
        SignatureStatus::Unsigned => "signature",
    };
    html! { span class=(class) { (sig.summary()) } }
}

pub fn run(r: &Record, sig: &SignatureStatus) -> Result<String, PageError> {
    let mut figures = Vec::new();
    for (title, pts) in plot::curves(&r.points) {
        figures.push((title, plot::error_curve(&pts)?));
    }
    for (title, unit, values) in plot::histograms(&r.points) {
        figures.push((title, plot::histogram(&values, &unit, 30)?));
    }
    let status = reports_status(r);
    Ok(layout(
        &format!("run {}", r.run_id),
        html! {
            h1 { "Run " code { (r.run_id) } }
            p { "Plan " b #plan { (r.plan_name) } " on rig " b { (r.rig_name) } ", started "
                (r.started_at) "; status " span class=(status) { (status) } ". " (r.message) }
            p { "Decision rule: " (r.decision_rule.text) }
            p #signature { "Signature: " (signature_line(sig)) }
            p { a href={ "/run/" (seg(&r.run_id)) "/report.html" } { "the full report (report.html)" } " · "
                a href={ "/live/" (seg(&r.run_id)) } { "live view" } }
            h2 { "Meters" }
            table { tr { th { "position" } th { "serial" } th { "firmware" } th { "maker / model" } }
                @for m in &r.meters {
                    @let said = m.said.as_ref();
                    @let serial = said.and_then(|s| s.serial_number.clone());
                    tr { td.n { (m.position + 1) }
                         td { @if let Some(sn) = &serial { a href={ "/meter/" (seg(sn)) } { (sn) } } @else { "?" } }
                         td { (said.and_then(|s| s.firmware.clone()).unwrap_or_default()) }
                         td { (m.maker) " " (m.model) } } } }
            h2 { "Statement of conformity" }
            @let conformity = reports::conformity::of(r);
            @for m in &conformity {
                (reports::html::fragments::conformity(r, m, conformity.len() > 1))
            }
            h2 { "Verdicts" }
            table #verdict-counts { tr { th { "verdict" } th { "points" } }
                @for v in harness::stats::Verdict::ALL {
                    tr { td class=(v.as_str()) { (v.as_str()) }
                         td.n id={ "count-" (v.as_str()) } { (r.count(v)) } } } }
            h2 { "Pictures" }
            @for (title, svg) in &figures {
                figure { figcaption { (title) } (PreEscaped(svg)) }
            }
            h2 { "Points" }
            @let points: Vec<&reports::record::PointRecord> = r.points.iter().collect();
            (reports::html::fragments::points_table(&points))
            @if !r.findings.is_empty() {
                h2 { "Findings" }
                ul { @for f in &r.findings { li { (f.severity) @if let Some(k) = &f.key { " (" (k) ")" } ": " (f.text) } } }
            }
        },
    ))
}

fn reports_status(r: &Record) -> &'static str {
    match r.status {
        reports::record::RecordStatus::Completed => "completed",
        reports::record::RecordStatus::Interrupted => "interrupted",
        reports::record::RecordStatus::Unfinished => "unfinished",
    }
}

pub fn meter(
    serial: &str,
    trends: &[(String, String, Vec<TrendRow>)],
) -> Result<String, PageError> {
    let mut figures = Vec::new();
    for (suite, id, rows) in trends {
        let pts: Vec<plot::TrendPoint> = rows
            .iter()
            .filter_map(|t| {
                t.mean_error_pct.map(|e| plot::TrendPoint {
                    error_pct: e,
                    u_pct: t.expanded_uncertainty_pct,
                    limit_pct: t.limit_pct,
                    failed: matches!(t.verdict.as_str(), "fail" | "conditional_fail" | "error"),
                })
            })
            .collect();
        if pts.is_empty() {
            continue;
        }
        figures.push((suite, id, rows, plot::trend(&pts)?));
    }
    Ok(layout(
        &format!("meter {serial}"),
        html! {
            h1 { "Meter " code #serial { (serial) } }
            p.note { "Every point's mean error run after run, with its expanded uncertainty U (bars) and the ± limit (orange)." }
            @for (suite, id, rows, svg) in &figures {
                figure.trend {
                    figcaption { (suite) " / " (id) " — " (rows.len()) " runs" }
                    (PreEscaped(svg))
                    table { tr { th { "run" } th { "started" } th { "firmware" } th { "verdict" } th { "error (%)" } th { "U (%)" } th { "limit" } }
                        @for t in rows.iter() {
                            tr { td { a href={ "/run/" (seg(&t.run_id)) } { (t.run_id) } } td { (t.started_at) }
                                 td { (t.firmware.as_deref().unwrap_or("")) }
                                 td class=(t.verdict) { (t.verdict) }
                                 td.n { @if let Some(e) = t.mean_error_pct { (format!("{e:.3}")) } }
                                 td.n { @if let Some(u) = t.expanded_uncertainty_pct { (format!("{u:.3}")) } }
                                 td.n { @if let Some(l) = t.limit_pct { "± " (format!("{l}")) " " (t.limit_unit.as_deref().unwrap_or("%")) } } } } }
                }
            }
        },
    ))
}

fn compare_fields(b: &str, c: &str, alpha: &str, fraction: &str) -> Markup {
    html! {
        form method="get" action="/compare" {
            label { "baseline " input name="baseline" value=(b) placeholder="RUN_ID or latest?firmware=…"; }
            label { "candidate " input name="candidate" value=(c) placeholder="RUN_ID"; }
            label { "α " input name="alpha" value=(alpha) size="6" placeholder="plan's"; }
            label { "fraction of limit " input name="fraction" value=(fraction) size="6" placeholder="plan's"; }
            button type="submit" { "compare" }
        }
    }
}

pub fn compare_form() -> String {
    layout(
        "compare",
        html! {
            h1 { "Compare two runs (firmware gate)" }
            p.note { "Empty thresholds: the candidate plan's own " code { "[compare]" } " thresholds, as "
                code { "metrig compare" } " applies them." }
            (compare_fields("", "", "", ""))
        },
    )
}

pub fn compare(
    b: &Record,
    c: &Record,
    cmp: &Comparison,
    t: &Thresholds,
    sigs: &(SignatureStatus, SignatureStatus),
) -> String {
    layout(
        "compare",
        html! {
            h1 { "Firmware gate: " (cmp.regressions()) " regression(s)" }
            p { "Baseline " a href={ "/run/" (seg(&b.run_id)) } { (b.run_id) } " (" (b.plan_name) "), candidate "
                a href={ "/run/" (seg(&c.run_id)) } { (c.run_id) } " (" (c.plan_name) ")." }
            p #signatures { "Signature: baseline " (signature_line(&sigs.0)) "; candidate " (signature_line(&sigs.1)) "." }
            p #thresholds { "Welch test at α = " span #alpha { (t.settings.alpha) } "; a regression is a significant degradation beyond "
                span #fraction { (t.settings.practical_fraction_of_mpe) } " of the limit. Thresholds: " (t.source) "." }
            (compare_fields(&b.run_id, &c.run_id, &t.settings.alpha.to_string(), &t.settings.practical_fraction_of_mpe.to_string()))
            table { tr { th { "point" } th { "baseline mean (%)" } th { "candidate mean (%)" } th { "degradation" }
                         th { "threshold" } th { "result" } }
                @for p in &cmp.points {
                    @let class = if p.regression { "fail" } else if p.improvement { "pass" } else { "" };
                    tr { td { (p.key) } td.n { (format!("{:.4}", p.baseline_mean)) } td.n { (format!("{:.4}", p.candidate_mean)) }
                         td.n { (format!("{:.4}", p.degradation)) } td.n { (format!("{:.4}", p.threshold)) }
                         td class=(class) { @if p.regression { "regression" } @else if p.improvement { "improvement" } @else { "same" } } } } }
            @if !cmp.unmatched.is_empty() {
                p { "Candidate points without a baseline: " (cmp.unmatched.join(", ")) }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seg_encodes_everything_but_unreserved() {
        assert_eq!(seg("SN-1_a.b~"), "SN-1_a.b~");
        assert_eq!(seg("<x>/\"'"), "%3Cx%3E%2F%22%27");
    }

    #[test]
    fn error_page_escapes_its_message() {
        let page = error(404, "<script>alert(1)</script>");
        assert!(!page.contains("<script>alert"));
        assert!(page.contains("&lt;script&gt;"));
    }
}
