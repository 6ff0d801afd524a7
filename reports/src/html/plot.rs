//! The pictures of `report.html` and the station page, drawn as SVG text by
//! plotters (one set for both, so the page shows what the report prints): an error curve per
//! power factor against the limit envelope (EN 50470-3 §8.1, Table 6's
//! maximum permissible error), a point's trend over runs with its limit and
//! expanded uncertainty U, and histograms. Axes always carry their units; the
//! sizes and fonts are chosen to stay legible on a projector. Text inside
//! the SVG is escaped by plotters' SVG backend; titles with user strings
//! stay in the HTML around the plot, where maud escapes them.

use plotters::prelude::*;

/// A plot that could not be drawn (plotters' SVG backend reports it).
#[derive(Debug, thiserror::Error)]
#[error("plot: {0}")]
pub struct PlotError(pub String);

const W: u32 = 720;
const H: u32 = 340;
const FONT: (&str, u32) = ("sans-serif", 16);
const ERR: RGBColor = RGBColor(0x1f, 0x5f, 0xbf);
const FAIL: RGBColor = RGBColor(0xc0, 0x20, 0x20);
const LIMIT: RGBColor = RGBColor(0xd0, 0x70, 0x00);

/// One measured point of an error curve.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    pub current_a: f64,
    pub error_pct: f64,
    pub u_pct: f64,
    pub limit_pct: f64,
    pub failed: bool,
}

/// One run of one point for a trend.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub error_pct: f64,
    pub u_pct: Option<f64>,
    pub limit_pct: Option<f64>,
    pub failed: bool,
}

fn draw_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> PlotError {
    PlotError(e.to_string())
}

/// The range that shows every value and a margin, never empty.
fn span(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        (lo, hi)
    } else {
        (-1.0, 1.0)
    };
    let pad = ((hi - lo) * 0.1).max(0.05);
    (lo - pad, hi + pad)
}

/// Error (%) against current (A, log scale) with U bars and the ± limit.
pub fn error_curve(points: &[CurvePoint]) -> Result<String, PlotError> {
    let mut pts = points.to_vec();
    pts.retain(|p| p.current_a > 0.0 && p.error_pct.is_finite());
    pts.sort_by(|a, b| a.current_a.total_cmp(&b.current_a));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let imin = pts.first().map_or(0.1, |p| p.current_a) * 0.7;
        let imax = pts.last().map_or(100.0, |p| p.current_a) * 1.4;
        let reach = pts
            .iter()
            .map(|p| (p.error_pct.abs() + p.u_pct.abs()).max(p.limit_pct.abs()))
            .fold(0.5, f64::max);
        let (lo, hi) = span(-reach, reach);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d((imin..imax).log_scale(), lo..hi)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("current I (A)")
            .y_desc("error (%)")
            .axis_desc_style(FONT)
            .label_style(FONT)
            .draw()
            .map_err(draw_err)?;
        // The limit as a step envelope: each point's own ± limit.
        for sign in [1.0, -1.0] {
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.current_a, sign * p.limit_pct)),
                    LIMIT.stroke_width(2),
                ))
                .map_err(draw_err)?;
        }
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.current_a, p.error_pct)),
                ERR.stroke_width(2),
            ))
            .map_err(draw_err)?;
        chart
            .draw_series(pts.iter().map(|p| {
                let c = if p.failed { FAIL } else { ERR };
                ErrorBar::new_vertical(
                    p.current_a,
                    p.error_pct - p.u_pct,
                    p.error_pct,
                    p.error_pct + p.u_pct,
                    c.filled(),
                    8,
                )
            }))
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// A point's mean error run after run (oldest left), with U bars and ± limit.
pub fn trend(points: &[TrendPoint]) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let n = points.len().max(1);
        let reach = points
            .iter()
            .map(|p| {
                (p.error_pct.abs() + p.u_pct.unwrap_or(0.0).abs())
                    .max(p.limit_pct.unwrap_or(0.0).abs())
            })
            .filter(|v| v.is_finite())
            .fold(0.5, f64::max);
        let (lo, hi) = span(-reach, reach);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.5f64..(n as f64 + 0.5), lo..hi)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("run (oldest → newest)")
            .y_desc("mean error (%)")
            .x_labels(n.min(12) + 1)
            .x_label_formatter(&|x| {
                // Runs are whole numbers: label those ticks only.
                if (x - x.round()).abs() < 1e-9 && *x >= 1.0 {
                    format!("{}", x.round())
                } else {
                    String::new()
                }
            })
            .axis_desc_style(FONT)
            .label_style(FONT)
            .draw()
            .map_err(draw_err)?;
        // Each run's own ± limit as a short bar across its slot, so a limit
        // that changed between runs shows, and one run alone has its limit.
        for sign in [1.0, -1.0] {
            chart
                .draw_series(points.iter().enumerate().filter_map(|(i, p)| {
                    let x = i as f64 + 1.0;
                    p.limit_pct.map(|l| {
                        PathElement::new(
                            vec![(x - 0.45, sign * l), (x + 0.45, sign * l)],
                            LIMIT.stroke_width(3),
                        )
                    })
                }))
                .map_err(draw_err)?;
        }
        chart
            .draw_series(LineSeries::new(
                points
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (i as f64 + 1.0, p.error_pct)),
                ERR.stroke_width(2),
            ))
            .map_err(draw_err)?;
        chart
            .draw_series(points.iter().enumerate().map(|(i, p)| {
                let u = p.u_pct.unwrap_or(0.0);
                let c = if p.failed { FAIL } else { ERR };
                ErrorBar::new_vertical(
                    i as f64 + 1.0,
                    p.error_pct - u,
                    p.error_pct,
                    p.error_pct + u,
                    c.filled(),
                    8,
                )
            }))
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// A histogram of `values` in `bins` equal bins; `unit` labels the x axis.
pub fn histogram(values: &[f64], unit: &str, bins: usize) -> Result<String, PlotError> {
    let vals: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let bins = bins.max(1);
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if vals.is_empty() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u32; bins];
    for v in &vals {
        let i = (((v - lo) / width) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, 0u32..(top + top / 10 + 1))
            .map_err(draw_err)?;
        let x_desc = if unit.is_empty() {
            "value".to_string()
        } else {
            format!("value ({unit})")
        };
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("count")
            .axis_desc_style(FONT)
            .label_style(FONT)
            .draw()
            .map_err(draw_err)?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, c)| {
                let x0 = lo + width * i as f64;
                Rectangle::new([(x0, 0), (x0 + width, *c)], ERR.mix(0.7).filled())
            }))
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// Error-curve groups of a record's points, as the report and the station
/// page draw them: one curve per suite, position and power factor (points
/// with `current_a` and `pf`; influence points, which carry
/// `reference_error_pct`, are changes of error and plotted nowhere).
pub fn curves<'a>(
    points: impl IntoIterator<Item = &'a crate::record::PointRecord>,
) -> Vec<(String, Vec<CurvePoint>)> {
    let mut groups: Vec<(String, Vec<CurvePoint>)> = Vec::new();
    for p in points {
        let d = &p.details;
        if d.get("reference_error_pct").is_some() {
            continue;
        }
        if let (Some(i), Some(pf), Some(e), Some(u), Some(l)) = (
            d.get("current_a").and_then(|v| v.as_f64()),
            d.get("pf").and_then(|v| v.as_str()),
            p.mean_error_pct,
            p.expanded_uncertainty_pct,
            p.limit_pct,
        ) {
            let title = format!("{} — position {} — PF {}", p.suite, p.position + 1, pf);
            let cp = CurvePoint {
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
    }
    groups
}

/// The histograms suites leave in a point's details (response times, pulse
/// timing): title, unit, values.
pub fn histograms<'a>(
    points: impl IntoIterator<Item = &'a crate::record::PointRecord>,
) -> Vec<(String, String, Vec<f64>)> {
    let mut out = Vec::new();
    for p in points {
        for h in p
            .details
            .get("histograms")
            .and_then(|h| h.as_array())
            .into_iter()
            .flatten()
        {
            let values = h
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
            let unit = h
                .get("unit")
                .and_then(|u| u.as_str())
                .unwrap_or("")
                .to_string();
            out.push((title, unit, values));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_curve_has_axes_with_units_and_one_bar_per_point() -> Result<(), PlotError> {
        let pts: Vec<CurvePoint> = [0.25, 5.0, 10.0, 63.0]
            .iter()
            .map(|&i| CurvePoint {
                current_a: i,
                error_pct: 0.2,
                u_pct: 0.1,
                limit_pct: 1.0,
                failed: false,
            })
            .collect();
        let svg = error_curve(&pts)?;
        assert!(svg.contains("current I (A)"), "{svg}");
        assert!(svg.contains("error (%)"));
        assert!(svg.starts_with("<svg"));
        Ok(())
    }

    #[test]
    fn histogram_counts_every_value() -> Result<(), PlotError> {
        let svg = histogram(&[1.0, 1.0, 2.0, 3.0, f64::NAN], "ms", 3)?;
        assert!(svg.contains("value (ms)"));
        assert!(svg.contains("count"));
        Ok(())
    }

    #[test]
    fn histogram_unit_is_escaped() -> Result<(), PlotError> {
        let svg = histogram(&[1.0], "<script>", 3)?;
        assert!(!svg.contains("<script>"));
        Ok(())
    }
}
