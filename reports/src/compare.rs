//! The firmware regression gate: the candidate run against the baseline,
//! point by point. A point regresses when Welch's test says its mean moved
//! (p < α) *and* it moved away from zero by more than a practical threshold
//! (a fraction of the point's limit, from the plan): statistically real and
//! large enough to matter.

use model::stats::welch::{WelchResult, welch};
use serde::{Deserialize, Serialize};

use crate::record::Record;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointComparison {
    pub key: String,
    pub baseline_mean: f64,
    pub candidate_mean: f64,
    pub test: Option<WelchResult>,
    /// |candidate| − |baseline|: positive when the error grew.
    pub degradation: f64,
    pub threshold: f64,
    /// The unit of the means, the change and the threshold: the point's
    /// limit unit ("%" for an error in percent).
    #[serde(default = "percent")]
    pub unit: String,
    pub regression: bool,
    pub improvement: bool,
}

fn percent() -> String {
    "%".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub alpha: f64,
    pub fraction_of_mpe: f64,
    pub points: Vec<PointComparison>,
    /// Points in one run and not the other.
    pub unmatched: Vec<String>,
    /// Why the gate cannot say "no regression": it did not compare what it
    /// was asked to (a point missing or not measured, too few samples for
    /// Welch's test, another meter model or plan). Any reason refuses.
    pub refusals: Vec<String>,
    /// Points whose verdict went from not failing to failing (points with
    /// no error figure to test, or that the candidate could not measure).
    pub verdict_regressions: Vec<String>,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.points.iter().filter(|p| p.regression).count() + self.verdict_regressions.len()
    }

    /// The gate passes only what it compared.
    pub fn refused(&self) -> bool {
        !self.refusals.is_empty()
    }
}

/// The meters as (position, maker, model), the runs' identity for the gate.
fn meters(r: &Record) -> Vec<(usize, String, String)> {
    r.meters
        .iter()
        .map(|m| (m.position, m.maker.clone(), m.model.clone()))
        .collect()
}

pub fn compare(
    baseline: &Record,
    candidate: &Record,
    alpha: f64,
    fraction_of_mpe: f64,
) -> Comparison {
    let mut points = Vec::new();
    let mut unmatched = Vec::new();
    let mut refusals = Vec::new();
    let mut verdict_regressions = Vec::new();
    if baseline.plan_name != candidate.plan_name || baseline.plan.sha256 != candidate.plan.sha256 {
        refusals.push(format!(
            "different plans: the baseline ran {} (sha256 {}), the candidate {} (sha256 {})",
            baseline.plan_name,
            &baseline.plan.sha256[..12.min(baseline.plan.sha256.len())],
            candidate.plan_name,
            &candidate.plan.sha256[..12.min(candidate.plan.sha256.len())]
        ));
    }
    if meters(baseline) != meters(candidate) {
        let show = |r: &Record| {
            meters(r)
                .iter()
                .map(|(p, maker, model)| format!("position {}: {maker} {model}", p + 1))
                .collect::<Vec<_>>()
                .join(", ")
        };
        refusals.push(format!(
            "different meters: baseline [{}], candidate [{}]",
            show(baseline),
            show(candidate)
        ));
    }
    if !candidate.points.iter().any(|p| p.attempts > 0) {
        refusals.push("the candidate measured no point".into());
    }
    for c in &candidate.points {
        let Some(b) = baseline.points.iter().find(|b| b.key == c.key) else {
            unmatched.push(c.key.clone());
            refusals.push(format!("{}: in the candidate only", c.key));
            continue;
        };
        // A point not run (a killed run) was not compared; a point the
        // suite itself skipped in both runs (an RTU check on a TCP link) has
        // nothing to compare.
        if b.attempts == 0 {
            refusals.push(format!(
                "{}: the baseline did not measure it (not run)",
                b.key
            ));
            continue;
        }
        if c.attempts == 0 {
            refusals.push(format!(
                "{}: the candidate did not measure it (not run)",
                c.key
            ));
            continue;
        }
        let skipped = |p: &crate::record::PointRecord| p.verdict == model::stats::Verdict::Skipped;
        match (skipped(b), skipped(c)) {
            (true, true) => continue,
            (false, true) => {
                refusals.push(format!(
                    "{}: the candidate skipped it ({})",
                    c.key, c.summary
                ));
                continue;
            }
            (true, false) => {
                refusals.push(format!(
                    "{}: the baseline skipped it ({})",
                    b.key, b.summary
                ));
                continue;
            }
            (false, false) => {}
        }
        if c.verdict.is_failure() && !b.verdict.is_failure() && c.mean_error_pct.is_none() {
            // Nothing to test statistically: the verdict itself moved.
            verdict_regressions.push(format!(
                "{}: {} in the baseline, {} in the candidate ({})",
                c.key, b.verdict, c.verdict, c.summary
            ));
            continue;
        }
        let (Some(bm), Some(cm)) = (b.mean_error_pct, c.mean_error_pct) else {
            // Not an error point (a protocol check, a response time): judged by its verdict above.
            continue;
        };
        let bv: Vec<f64> = b.samples.iter().map(|s| s.value).collect();
        let cv: Vec<f64> = c.samples.iter().map(|s| s.value).collect();
        if bv.len() < 2 || cv.len() < 2 {
            refusals.push(format!(
                "{}: {} baseline and {} candidate samples; Welch's test needs at least 2 in each",
                c.key,
                bv.len(),
                cv.len()
            ));
            continue;
        }
        let limit = c.limit_pct.or(b.limit_pct).unwrap_or(f64::INFINITY);
        let threshold = fraction_of_mpe * limit;
        let test = welch(&bv, &cv);
        if test.is_none() {
            refusals.push(format!(
                "{}: Welch's test cannot be computed on these samples",
                c.key
            ));
        }
        let significant = test.as_ref().is_some_and(|t| t.p_value < alpha);
        let degradation = cm.abs() - bm.abs();
        points.push(PointComparison {
            key: c.key.clone(),
            baseline_mean: bm,
            candidate_mean: cm,
            regression: significant && degradation > threshold,
            improvement: significant && -degradation > threshold,
            test,
            degradation,
            threshold,
            unit: unit_of(c.limit.as_ref()),
        });
    }
    for b in &baseline.points {
        if !candidate.points.iter().any(|c| c.key == b.key) {
            unmatched.push(b.key.clone());
            refusals.push(format!("{}: missing from the candidate", b.key));
        }
    }
    Comparison {
        alpha,
        fraction_of_mpe,
        points,
        unmatched,
        refusals,
        verdict_regressions,
    }
}

/// A limit's unit as a figure's unit: "±Hz" limits a value in Hz.
fn unit_of(limit: Option<&model::point::LimitRef>) -> String {
    match limit.map(|l| l.unit.trim_start_matches(['±', '≥', '≤']).trim()) {
        None | Some("") => "%".into(),
        Some(u) => u.to_string(),
    }
}

/// The comparison as a table for the terminal.
pub fn render(c: &Comparison) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Welch's t-test at α = {}, practical threshold {} × limit",
        c.alpha, c.fraction_of_mpe
    );
    let _ = writeln!(
        o,
        "baseline, candidate: mean error; Δ|error| = |candidate| − |baseline| (positive: the error grew)"
    );
    let _ = writeln!(
        o,
        "{:<44} {:>10} {:>10} {:>9} {:>10} {:>9} {:<4} verdict",
        "point", "baseline", "candidate", "p", "Δ|error|", "threshold", "unit"
    );
    for p in &c.points {
        let verdict = if p.regression {
            "REGRESSION"
        } else if p.improvement {
            "improved"
        } else {
            "same"
        };
        let _ = writeln!(
            o,
            "{:<44} {:>+10.4} {:>+10.4} {:>9} {:>+10.4} {:>9.4} {:<4} {verdict}",
            p.key,
            p.baseline_mean,
            p.candidate_mean,
            p.test
                .as_ref()
                .map_or("—".into(), |t| if t.p_value >= 0.001 {
                    format!("{:.3}", t.p_value)
                } else {
                    format!("{:.1e}", t.p_value)
                }),
            p.degradation,
            p.threshold,
            p.unit
        );
    }
    for k in &c.unmatched {
        let _ = writeln!(o, "{k:<44} (in one run only)");
    }
    for v in &c.verdict_regressions {
        let _ = writeln!(o, "REGRESSION (verdict) {v}");
    }
    for r in &c.refusals {
        let _ = writeln!(o, "NOT COMPARED: {r}");
    }
    let _ = writeln!(
        o,
        "{} regression(s) in {} points compared",
        c.regressions(),
        c.points.len()
    );
    if c.refused() {
        let _ = writeln!(
            o,
            "the gate refuses: {} reason(s) above; it passes only what it compared",
            c.refusals.len()
        );
    }
    o
}
