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
    pub regression: bool,
    pub improvement: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub alpha: f64,
    pub fraction_of_mpe: f64,
    pub points: Vec<PointComparison>,
    /// Points in one run and not the other.
    pub unmatched: Vec<String>,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.points.iter().filter(|p| p.regression).count()
    }
}

pub fn compare(
    baseline: &Record,
    candidate: &Record,
    alpha: f64,
    fraction_of_mpe: f64,
) -> Comparison {
    let mut points = Vec::new();
    let mut unmatched = Vec::new();
    for c in &candidate.points {
        let Some(b) = baseline.points.iter().find(|b| b.key == c.key) else {
            unmatched.push(c.key.clone());
            continue;
        };
        let bv: Vec<f64> = b.samples.iter().map(|s| s.value).collect();
        let cv: Vec<f64> = c.samples.iter().map(|s| s.value).collect();
        if bv.is_empty() || cv.is_empty() {
            continue;
        }
        let (Some(bm), Some(cm)) = (b.mean_error_pct, c.mean_error_pct) else {
            continue;
        };
        let limit = c.limit_pct.or(b.limit_pct).unwrap_or(f64::INFINITY);
        let threshold = fraction_of_mpe * limit;
        let test = welch(&bv, &cv);
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
        });
    }
    for b in &baseline.points {
        if !candidate.points.iter().any(|c| c.key == b.key) {
            unmatched.push(b.key.clone());
        }
    }
    Comparison {
        alpha,
        fraction_of_mpe,
        points,
        unmatched,
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
        "{:<44} {:>10} {:>10} {:>9} {:>9}  verdict",
        "point", "baseline", "candidate", "p", "moved"
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
            "{:<44} {:>+10.4} {:>+10.4} {:>9} {:>+9.4}  {verdict}",
            p.key,
            p.baseline_mean,
            p.candidate_mean,
            p.test
                .as_ref()
                .map_or("—".into(), |t| format!("{:.2e}", t.p_value)),
            p.degradation
        );
    }
    for k in &c.unmatched {
        let _ = writeln!(o, "{k:<44} (in one run only)");
    }
    let _ = writeln!(
        o,
        "{} regression(s) in {} points compared",
        c.regressions(),
        c.points.len()
    );
    o
}
