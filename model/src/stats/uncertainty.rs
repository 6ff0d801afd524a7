//! The uncertainty of a mean error, after the GUM (JCGM 100): type A from the
//! scatter of repeated results, type B from the reference standard's stated
//! uncertainty and from count resolution, combined, with the coverage factor
//! from Student's t at 95 % for the Welch–Satterthwaite effective degrees of
//! freedom (JCGM 100 G.4).

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// One standard-uncertainty component, in percent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub name: String,
    /// Standard uncertainty u(x), percent.
    pub standard_pct: f64,
    /// Degrees of freedom; `None` for type B components taken as exact (∞).
    pub dof: Option<f64>,
}

impl Component {
    /// A type B component from an expanded uncertainty U at coverage k.
    pub fn from_expanded(name: &str, expanded_pct: f64, k: f64) -> Self {
        Self {
            name: name.into(),
            standard_pct: expanded_pct / k,
            dof: None,
        }
    }

    /// A type B component from a rectangular distribution of half-width a
    /// (count resolution, register resolution): u = a/√3.
    pub fn rectangular(name: &str, half_width_pct: f64) -> Self {
        Self {
            name: name.into(),
            standard_pct: half_width_pct / 3f64.sqrt(),
            dof: None,
        }
    }
}

/// The statistics of a point's repeated results and their uncertainty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub n: usize,
    pub mean_pct: f64,
    /// Experimental standard deviation s (n − 1), percent; 0 for n = 1.
    pub std_dev_pct: f64,
    /// Type A: s/√n.
    pub type_a_pct: f64,
    pub components: Vec<Component>,
    pub combined_pct: f64,
    /// Welch–Satterthwaite; `None` means infinite.
    pub effective_dof: Option<f64>,
    pub coverage_factor: f64,
    pub expanded_pct: f64,
}

/// The 97.5 % quantile of the normal distribution.
const Z_975: f64 = 1.959_963_984_540_054;

/// Above this many degrees of freedom t is z to within 2.4·10⁻⁴ (t = 1.96020
/// at 10⁴); statrs's t quantile search does not converge for very large ν.
const DOF_AS_INFINITE: f64 = 1.0e4;

/// t such that P(|T| ≤ t) = 95 % for `dof` degrees of freedom (∞ → 1.96).
pub fn student_t_975(dof: Option<f64>) -> f64 {
    match dof {
        Some(v) if v.is_finite() && v >= DOF_AS_INFINITE => Z_975,
        Some(v) if v.is_finite() && v >= 1.0 => StudentsT::new(0.0, 1.0, v)
            .map(|t| t.inverse_cdf(0.975))
            .unwrap_or(Z_975),
        Some(v) if v.is_finite() && v > 0.0 => {
            // Fewer than one effective degree of freedom: be conservative.
            StudentsT::new(0.0, 1.0, 1.0)
                .map(|t| t.inverse_cdf(0.975))
                .unwrap_or(12.706)
        }
        _ => Z_975,
    }
}

/// The mean of `results` (NaN when empty) and their experimental standard
/// deviation s with n − 1 in the denominator (JCGM 100 §4.2.2; 0 below two results).
pub fn mean_and_s(results: &[f64]) -> (f64, f64) {
    let n = results.len();
    let mean = if n == 0 {
        f64::NAN
    } else {
        results.iter().sum::<f64>() / n as f64
    };
    let s = if n > 1 {
        (results.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    (mean, s)
}

impl Budget {
    /// Builds the budget of the mean of `results` with type B `components`.
    pub fn of(results: &[f64], components: Vec<Component>) -> Self {
        let n = results.len();
        let (mean, s) = mean_and_s(results);
        let type_a = if n > 1 { s / (n as f64).sqrt() } else { 0.0 };
        let mut all = components;
        if n > 1 {
            all.insert(
                0,
                Component {
                    name: "repeatability (type A)".into(),
                    standard_pct: type_a,
                    dof: Some((n - 1) as f64),
                },
            );
        }
        let (combined, effective_dof) = combine(&all);
        let k = student_t_975(effective_dof);
        Self {
            n,
            mean_pct: mean,
            std_dev_pct: s,
            type_a_pct: type_a,
            components: all,
            combined_pct: combined,
            effective_dof,
            coverage_factor: k,
            expanded_pct: k * combined,
        }
    }
}

/// The combined standard uncertainty of `components` (root sum of squares,
/// JCGM 100 §5.1.2 with uncorrelated inputs) and its effective degrees of
/// freedom by Welch–Satterthwaite (JCGM 100 G.4.1); `None` when no
/// component states its degrees of freedom.
pub fn combine(components: &[Component]) -> (f64, Option<f64>) {
    let combined = components
        .iter()
        .map(|c| c.standard_pct.powi(2))
        .sum::<f64>()
        .sqrt();
    let denominator: f64 = components
        .iter()
        .filter_map(|c| c.dof.map(|v| c.standard_pct.powi(4) / v))
        .sum();
    (
        combined,
        (denominator > 0.0).then(|| combined.powi(4) / denominator),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_published_table() {
        // Student's t, two-sided 95 %: 1 → 12.706, 4 → 2.776, 9 → 2.262, 30 → 2.042, ∞ → 1.960.
        for (dof, t) in [(1.0, 12.706), (4.0, 2.776), (9.0, 2.262), (30.0, 2.042)] {
            assert!((student_t_975(Some(dof)) - t).abs() < 5e-4, "dof {dof}");
        }
        assert!((student_t_975(None) - 1.960).abs() < 5e-4);
    }

    #[test]
    fn t_is_finite_and_monotone_over_every_dof() {
        let mut last = f64::INFINITY;
        for exp in -1..40 {
            let v = 10f64.powf(exp as f64 / 2.0);
            let t = student_t_975(Some(v));
            assert!(
                t.is_finite() && t >= Z_975 - 1e-12 && t <= last + 1e-9,
                "dof {v}: {t}"
            );
            last = t;
        }
        assert!((student_t_975(Some(9_999.0)) - Z_975).abs() < 3e-4);
    }

    #[test]
    fn hand_computed_budget() {
        // Results 1.0, 1.2, 0.8, 1.1, 0.9: mean 1.0, s = 0.158114, u_A = 0.070711 (4 dof).
        // Reference U = 0.1 % (k = 2) → 0.05; resolution ±0.01 % → 0.005774.
        let b = Budget::of(
            &[1.0, 1.2, 0.8, 1.1, 0.9],
            vec![
                Component::from_expanded("reference", 0.1, 2.0),
                Component::rectangular("resolution", 0.01),
            ],
        );
        assert!((b.mean_pct - 1.0).abs() < 1e-12);
        assert!((b.std_dev_pct - 0.158_114).abs() < 1e-6);
        assert!((b.type_a_pct - 0.070_711).abs() < 1e-6);
        let uc = (0.070_711f64.powi(2) + 0.05f64.powi(2) + 0.005_774f64.powi(2)).sqrt();
        assert!((b.combined_pct - uc).abs() < 1e-5);
        // ν_eff = u_c⁴ / (u_A⁴/4) = 4 · (u_c/u_A)⁴.
        let nu = 4.0 * (uc / 0.070_711).powi(4);
        assert!((b.effective_dof.expect("finite") - nu).abs() < 1e-3);
        assert!((b.coverage_factor - student_t_975(Some(nu))).abs() < 1e-4);
        assert!((b.expanded_pct - b.coverage_factor * b.combined_pct).abs() < 1e-12);
        // ν ≈ 4 · (0.08675/0.07071)⁴ ≈ 9.06 → k ≈ 2.26, U ≈ 0.196 %.
        assert!((b.expanded_pct - 0.196).abs() < 1e-3, "{}", b.expanded_pct);
    }

    #[test]
    fn a_single_result_has_only_type_b() {
        let b = Budget::of(
            &[0.3],
            vec![Component::from_expanded("reference", 0.04, 2.0)],
        );
        assert_eq!(b.effective_dof, None);
        assert!((b.expanded_pct - 1.959_964 * 0.02).abs() < 1e-6);
    }
}
