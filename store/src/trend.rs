//! A point's drift over runs: the least-squares slope of its mean error
//! against time, with the slope's standard uncertainty from the residual
//! scatter (GUM, JCGM 100 §H.3: a straight-line calibration fit), and a plot.
//! The scatter between runs, not each run's stated U, sets the slope's
//! uncertainty: night-to-night effects the U does not cover show up there.

use serde::Serialize;

use crate::TrendRow;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Drift {
    /// % per day.
    pub slope_pct_per_day: f64,
    /// Standard uncertainty of the slope, % per day.
    pub slope_u_pct_per_day: f64,
    /// Intercept at the first run, %.
    pub intercept_pct: f64,
    pub runs: usize,
    pub days: f64,
}

impl Drift {
    /// The slope with its expanded uncertainty (k = 2), per 30 days.
    pub fn show(&self) -> String {
        format!(
            "drift {:+.5} % per 30 days, U = {:.5} % (k = 2), over {} runs in {:.0} days{}",
            self.slope_pct_per_day * 30.0,
            2.0 * self.slope_u_pct_per_day * 30.0,
            self.runs,
            self.days,
            if (self.slope_pct_per_day).abs() > 2.0 * self.slope_u_pct_per_day {
                " — significant"
            } else {
                " — not significant"
            }
        )
    }
}

/// Time of a row in days since `t0`.
fn days(row: &TrendRow, t0: chrono::DateTime<chrono::Utc>) -> Option<f64> {
    let t = chrono::DateTime::parse_from_rfc3339(&row.started_at).ok()?;
    Some((t.with_timezone(&chrono::Utc) - t0).num_milliseconds() as f64 / 86_400_000.0)
}

/// The drift of the rows' means; `None` with fewer than 3 measured runs or
/// all at one instant.
pub fn drift(rows: &[TrendRow]) -> Option<Drift> {
    let t0 = rows
        .iter()
        .filter_map(|r| chrono::DateTime::parse_from_rfc3339(&r.started_at).ok())
        .min()?
        .with_timezone(&chrono::Utc);
    let pts: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| Some((days(r, t0)?, r.mean_error_pct.filter(|m| m.is_finite())?)))
        .collect();
    let n = pts.len();
    if n < 3 {
        return None;
    }
    let nf = n as f64;
    let xm = pts.iter().map(|p| p.0).sum::<f64>() / nf;
    let ym = pts.iter().map(|p| p.1).sum::<f64>() / nf;
    let sxx: f64 = pts.iter().map(|p| (p.0 - xm).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = pts.iter().map(|p| (p.0 - xm) * (p.1 - ym)).sum();
    let b = sxy / sxx;
    let a = ym - b * xm;
    let ss: f64 = pts.iter().map(|p| (p.1 - a - b * p.0).powi(2)).sum();
    let s2 = ss / (nf - 2.0);
    Some(Drift {
        slope_pct_per_day: b,
        slope_u_pct_per_day: (s2 / sxx).sqrt(),
        intercept_pct: a,
        runs: n,
        days: pts.iter().map(|p| p.0).fold(0.0, f64::max),
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG plot: each run's mean with its U as an error bar, the limit as
/// two lines, and the fitted drift.
pub fn svg(title: &str, rows: &[TrendRow], drift: Option<&Drift>) -> String {
    let (w, h, m) = (900.0, 420.0, 60.0);
    let t0 = rows
        .iter()
        .filter_map(|r| chrono::DateTime::parse_from_rfc3339(&r.started_at).ok())
        .min()
        .map(|t| t.with_timezone(&chrono::Utc));
    let pts: Vec<(f64, f64, f64)> = match t0 {
        Some(t0) => rows
            .iter()
            .filter_map(|r| {
                Some((
                    days(r, t0)?,
                    r.mean_error_pct.filter(|v| v.is_finite())?,
                    r.expanded_uncertainty_pct
                        .filter(|v| v.is_finite())
                        .unwrap_or(0.0),
                ))
            })
            .collect(),
        None => Vec::new(),
    };
    // A ± percent limit is drawn both sides; other units (a maximum in ms,
    // a rule) are not on this scale.
    let limit = rows
        .iter()
        .rev()
        .find(|r| r.limit_pct.is_some())
        .filter(|r| r.limit_unit.as_deref().is_none_or(|u| u == "%"))
        .and_then(|r| r.limit_pct)
        .filter(|l| l.is_finite());
    let xmax = pts.iter().map(|p| p.0).fold(1.0, f64::max);
    let mut ymax = pts.iter().map(|p| p.1.abs() + p.2).fold(0.1, f64::max);
    if let Some(l) = limit {
        ymax = ymax.max(l.abs() * 1.1);
    }
    let x = |d: f64| m + d / xmax * (w - 2.0 * m);
    let y = |v: f64| h / 2.0 - v / ymax * (h / 2.0 - m);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">
<title>{}</title>
<rect width="{w}" height="{h}" fill="white"/>
<text x="{m}" y="20">{}</text>
<line x1="{m}" y1="{y0}" x2="{x1}" y2="{y0}" stroke="gray"/>
<text x="4" y="{y0}">0 %</text>
<text x="{x1}" y="{yb}" text-anchor="end">{xmax:.0} days</text>
"#,
        esc(title),
        esc(title),
        y0 = y(0.0),
        x1 = w - m,
        yb = h - 10.0,
    );
    if let Some(l) = limit {
        for v in [l, -l] {
            s.push_str(&format!(
                r#"<line x1="{m}" y1="{yy}" x2="{x1}" y2="{yy}" stroke="red" stroke-dasharray="6 4"/><text x="4" y="{yy}" fill="red">{v:+} %</text>
"#,
                yy = y(v),
                x1 = w - m
            ));
        }
    }
    for (d, v, u) in &pts {
        s.push_str(&format!(
            r#"<line x1="{cx}" y1="{a}" x2="{cx}" y2="{b}" stroke="lightsteelblue"/><circle cx="{cx}" cy="{cy}" r="2" fill="navy"/>
"#,
            cx = x(*d),
            cy = y(*v),
            a = y(v + u),
            b = y(v - u)
        ));
    }
    if let Some(dr) = drift {
        s.push_str(&format!(
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="green" stroke-width="2"/><text x="{m}" y="38" fill="green">{}</text>
"#,
            x(0.0),
            y(dr.intercept_pct),
            x(xmax),
            y(dr.intercept_pct + dr.slope_pct_per_day * xmax),
            esc(&dr.show())
        ));
    }
    s.push_str("</svg>\n");
    s
}

/// The plot in an HTML page with the table under it.
pub fn html(title: &str, rows: &[TrendRow], drift: Option<&Drift>) -> String {
    let mut t = String::new();
    for r in rows {
        t.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&r.started_at),
            esc(&r.run_id),
            esc(r.firmware.as_deref().unwrap_or("?")),
            r.mean_error_pct.map_or("—".into(), |v| format!("{v:+.4}")),
            r.expanded_uncertainty_pct
                .map_or("—".into(), |v| format!("{v:.4}")),
            esc(&r.verdict)
        ));
    }
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head><body>\n{}\n<table border=\"1\" cellspacing=\"0\" cellpadding=\"3\">\n<tr><th>started</th><th>run</th><th>firmware</th><th>mean %</th><th>U %</th><th>verdict</th></tr>\n{t}</table>\n</body></html>\n",
        esc(title),
        svg(title, rows, drift)
    )
}
