//! Welch's two-sample t-test (unequal variances), for comparing a candidate
//! firmware's samples with the baseline's at the same point.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WelchResult {
    /// Candidate mean minus baseline mean.
    pub difference: f64,
    pub t: f64,
    pub dof: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, v)
}

/// `None` when either sample has fewer than two values.
pub fn welch(baseline: &[f64], candidate: &[f64]) -> Option<WelchResult> {
    if baseline.len() < 2 || candidate.len() < 2 {
        return None;
    }
    let (m1, v1) = mean_var(baseline);
    let (m2, v2) = mean_var(candidate);
    let (n1, n2) = (baseline.len() as f64, candidate.len() as f64);
    let se2 = v1 / n1 + v2 / n2;
    let difference = m2 - m1;
    if se2 <= 0.0 {
        // Both samples constant: any difference is certain, none is none.
        let p = if difference == 0.0 { 1.0 } else { 0.0 };
        return Some(WelchResult {
            difference,
            t: if difference == 0.0 {
                0.0
            } else {
                f64::INFINITY * difference.signum()
            },
            dof: n1 + n2 - 2.0,
            p_value: p,
        });
    }
    let t = difference / se2.sqrt();
    let dof = se2.powi(2) / ((v1 / n1).powi(2) / (n1 - 1.0) + (v2 / n2).powi(2) / (n2 - 1.0));
    let p_value = StudentsT::new(0.0, 1.0, dof)
        .map(|d| 2.0 * (1.0 - d.cdf(t.abs())))
        .unwrap_or(1.0);
    Some(WelchResult {
        difference,
        t,
        dof,
        p_value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer() {
        // Hand-computed: means 20.0 and 22.0, variances 2.5 and 2.5, n = 5 each:
        // se = √(0.5 + 0.5) = 1, t = 2, dof = 8, p = 0.0805 (t-table).
        let a = [18.0, 19.0, 20.0, 21.0, 22.0];
        let b = [20.0, 21.0, 22.0, 23.0, 24.0];
        let r = welch(&a, &b).expect("enough samples");
        assert!((r.t - 2.0).abs() < 1e-12);
        assert!((r.dof - 8.0).abs() < 1e-9);
        assert!((r.p_value - 0.0805).abs() < 5e-4, "{}", r.p_value);
    }
}
