//! Small SVG plots drawn by hand: an error curve (error against current on a
//! log axis, with the limit envelope and the uncertainty bars) and a
//! histogram. No script, no external file: the report stays one file.

use std::fmt::Write as _;

use super::esc;

/// One measured point of an error curve.
#[derive(Debug, Clone)]
pub struct CurvePoint {
    pub current_a: f64,
    pub error_pct: f64,
    pub u_pct: f64,
    pub limit_pct: f64,
    pub failed: bool,
}

const W: f64 = 560.0;
const H: f64 = 260.0;
const L: f64 = 56.0;
const R: f64 = 16.0;
const T: f64 = 20.0;
const B: f64 = 40.0;

pub fn error_curve(title: &str, points: &[CurvePoint]) -> String {
    if points.is_empty() {
        return String::new();
    }
    let imin = points
        .iter()
        .map(|p| p.current_a)
        .fold(f64::INFINITY, f64::min)
        .max(1e-6);
    let imax = points
        .iter()
        .map(|p| p.current_a)
        .fold(0.0, f64::max)
        .max(imin * 1.01);
    let (lx0, lx1) = ((imin / 1.5).log10(), (imax * 1.5).log10());
    let ymax = points
        .iter()
        .map(|p| (p.error_pct.abs() + p.u_pct).max(p.limit_pct))
        .fold(0.0, f64::max)
        * 1.2;
    let ymax = if ymax > 0.0 { ymax } else { 1.0 };
    let x = |i: f64| L + (i.log10() - lx0) / (lx1 - lx0) * (W - L - R);
    let y = |e: f64| T + (ymax - e) / (2.0 * ymax) * (H - T - B);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}">"#,
        esc(title)
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="14" class="t">{}</text>"#,
        L,
        esc(title)
    );
    let _ = write!(
        s,
        r##"<line x1="{L}" y1="{}" x2="{}" y2="{}" stroke="#999"/>"##,
        y(0.0),
        W - R,
        y(0.0)
    );
    let _ = write!(
        s,
        r##"<rect x="{L}" y="{T}" width="{}" height="{}" fill="none" stroke="#ccc"/>"##,
        W - L - R,
        H - T - B
    );
    for frac in [-1.0, -0.5, 0.5, 1.0] {
        let v = ymax * frac / 1.2;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" class="a" text-anchor="end">{v:+.2}</text>"#,
            L - 4.0,
            y(v) + 4.0
        );
    }
    let mut sorted: Vec<&CurvePoint> = points.iter().collect();
    sorted.sort_by(|a, b| a.current_a.total_cmp(&b.current_a));
    // The limit envelope: each point's limit, drawn as a step.
    let mut upper = String::new();
    let mut lower = String::new();
    for (i, p) in sorted.iter().enumerate() {
        let x0 = if i == 0 {
            L
        } else {
            (x(sorted[i - 1].current_a) + x(p.current_a)) / 2.0
        };
        let x1 = if i + 1 == sorted.len() {
            W - R
        } else {
            (x(p.current_a) + x(sorted[i + 1].current_a)) / 2.0
        };
        let _ = write!(
            upper,
            "{x0:.1},{:.1} {x1:.1},{:.1} ",
            y(p.limit_pct),
            y(p.limit_pct)
        );
        let _ = write!(
            lower,
            "{x0:.1},{:.1} {x1:.1},{:.1} ",
            y(-p.limit_pct),
            y(-p.limit_pct)
        );
    }
    let _ = write!(
        s,
        r##"<polyline points="{upper}" fill="none" stroke="#c33" stroke-dasharray="4 3"/>"##
    );
    let _ = write!(
        s,
        r##"<polyline points="{lower}" fill="none" stroke="#c33" stroke-dasharray="4 3"/>"##
    );
    for p in &sorted {
        let (cx, cy) = (x(p.current_a), y(p.error_pct));
        let colour = if p.failed { "#c33" } else { "#236" };
        let _ = write!(
            s,
            r#"<line x1="{cx:.1}" y1="{:.1}" x2="{cx:.1}" y2="{:.1}" stroke="{colour}"/>"#,
            y(p.error_pct + p.u_pct),
            y(p.error_pct - p.u_pct)
        );
        let _ = write!(
            s,
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="3.5" fill="{colour}"><title>{} A: {:+.3} % ± {:.3} %</title></circle>"#,
            p.current_a, p.error_pct, p.u_pct
        );
    }
    let mut ticks: Vec<f64> = sorted.iter().map(|p| p.current_a).collect();
    ticks.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    for i in ticks {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" class="a" text-anchor="middle">{i} A</text>"#,
            x(i),
            H - B + 16.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="a" text-anchor="middle">current (log scale); error %, bars: U (k≈2); dashed: limit</text>"#,
        (L + W - R) / 2.0,
        H - 6.0
    );
    s.push_str("</svg>");
    s
}

pub fn histogram(title: &str, unit: &str, values: &[f64], bins: usize) -> String {
    if values.is_empty() {
        return String::new();
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let bins = bins.max(1);
    let mut counts = vec![0usize; bins];
    for v in values {
        let i = (((v - lo) / span) * bins as f64).floor() as usize;
        counts[i.min(bins - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let bw = (W - L - R) / bins as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="{}">"#,
        esc(title)
    );
    let _ = write!(s, r#"<text x="{L}" y="14" class="t">{}</text>"#, esc(title));
    for (i, c) in counts.iter().enumerate() {
        let h = *c as f64 / top * (H - T - B);
        let _ = write!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#468"><title>{c}</title></rect>"##,
            L + i as f64 * bw,
            H - B - h,
            (bw - 1.0).max(0.5)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{L}" y="{}" class="a">{lo:.3} {}</text>"#,
        H - B + 16.0,
        esc(unit)
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="a" text-anchor="end">{hi:.3} {}</text>"#,
        W - R,
        H - B + 16.0,
        esc(unit)
    );
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" class="a" text-anchor="middle">{} values; tallest bar {}</text>"#,
        (L + W - R) / 2.0,
        H - 6.0,
        values.len(),
        top
    );
    s.push_str("</svg>");
    s
}
