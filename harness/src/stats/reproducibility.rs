//! The arithmetic of a reproducibility study: the figure a rig file declares
//! as the floor under type A (`[metrology] reproducibility`, issue 15).
//!
//! One point is set up K times the way a run sets it up (source off and on,
//! settle, gates spread over the plan's span); each set-up's mean error is
//! one result. Their experimental standard deviation s (JCGM 100:2008 §4.2.2,
//! eq. 4) with K − 1 degrees of freedom is the standard uncertainty of one
//! point's mean that a run can claim at best: it holds the slow components
//! (self-heating, drift, beats) that the gates of one set-up share and their
//! own scatter cannot show (§4.2.7). Pooled over set-ups in the sense of
//! §4.2.4; in ISO 5725-3's words an intermediate-precision standard
//! deviation, "time different". The study's own statistical uncertainty is
//! carried by its degrees of freedom, which the point's Welch–Satterthwaite
//! budget then uses (§G.4).

use serde::{Deserialize, Serialize};

use super::Reproducibility;

/// The fewest set-ups a study may have: s needs two, and with fewer than
/// five its 95 % upper bound is over three times s (χ², 3 dof).
pub const MIN_SETUPS: usize = 5;

/// A study with too few usable set-ups.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StudyError {
    #[error("a reproducibility study needs at least {MIN_SETUPS} set-ups, got {0}")]
    TooFewSetups(usize),
    #[error("set-up {0}'s mean error is not a finite number")]
    NotFinite(usize),
}

/// The study's result: s of the set-ups' means and its degrees of freedom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyFigures {
    /// Number of set-ups K.
    pub setups: usize,
    /// Grand mean of the set-ups' means, percent (the meter's error; not
    /// part of the floor).
    pub mean_pct: f64,
    /// s of the set-ups' means, percent.
    pub s_pct: f64,
    /// K − 1.
    pub dof: f64,
}

impl StudyFigures {
    /// s and K − 1 of the set-ups' `means` (percent), in set-up order.
    pub fn of(means: &[f64]) -> Result<Self, StudyError> {
        if means.len() < MIN_SETUPS {
            return Err(StudyError::TooFewSetups(means.len()));
        }
        if let Some(i) = means.iter().position(|m| !m.is_finite()) {
            return Err(StudyError::NotFinite(i + 1));
        }
        let k = means.len() as f64;
        let mean = means.iter().sum::<f64>() / k;
        let ss: f64 = means.iter().map(|m| (m - mean).powi(2)).sum();
        Ok(Self {
            setups: means.len(),
            mean_pct: mean,
            s_pct: (ss / (k - 1.0)).sqrt(),
            dof: k - 1.0,
        })
    }

    /// The floor to declare: s rounded *up* to 0.0001 % (a rounded-down
    /// floor would claim less than was measured), K − 1 dof.
    pub fn floor(&self) -> Reproducibility {
        Reproducibility {
            u_pct: round_up_4(self.s_pct),
            dof: self.dof,
        }
    }

    /// The rig file's line: `reproducibility = { u_pct = …, dof = …,
    /// studied = "DATE", study = "RECORD" }`.
    pub fn rig_line(&self, studied: chrono::NaiveDate, study: Option<&str>) -> String {
        let f = self.floor();
        let record = study
            .map(|p| format!(", study = \"{}\"", p.replace('\\', "/").replace('"', "'")))
            .unwrap_or_default();
        format!(
            "reproducibility = {{ u_pct = {}, dof = {}, studied = \"{studied}\"{record} }}",
            fmt_4(f.u_pct),
            f.dof
        )
    }
}

fn round_up_4(x: f64) -> f64 {
    // 1e-9 absorbs the binary noise of a value already on the 0.0001 grid.
    let r = (x * 1e4 - 1e-9).ceil() / 1e4;
    if r > 0.0 { r } else { 0.0 }
}

fn fmt_4(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0');
    if s.ends_with('.') {
        format!("{s}0")
    } else {
        s.to_string()
    }
}

/// The standard deviation of the mean of `n` results `spacing_s` apart when
/// each has standard deviation `sigma` and two results Δt apart correlate
/// exp(−Δt/τ) (an Ornstein–Uhlenbeck error, `sim::faults::noise_tau_s`):
/// σ/n · √(Σᵢ Σⱼ ρ^|i−j|), ρ = e^(−spacing/τ). What a study of that bench
/// finds, up to its sampling scatter; the verdict-risk bench checks its
/// draws against it.
pub fn sd_of_mean_ou(sigma: f64, n: u32, spacing_s: f64, tau_s: f64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let r = (-spacing_s / tau_s).exp();
    let mut sum = 0.0;
    for i in 0..n {
        for j in 0..n {
            sum += r.powi((i as i32 - j as i32).abs());
        }
    }
    sigma * sum.sqrt() / f64::from(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s_and_dof_of_the_setups_means() {
        // Means 1, 2, 3, 4, 5: mean 3, Σd² = 10, s = √(10/4) = 1.5811.
        let f = StudyFigures::of(&[1.0, 2.0, 3.0, 4.0, 5.0]).expect("five set-ups");
        assert_eq!(f.setups, 5);
        assert_eq!(f.dof, 4.0);
        assert!((f.mean_pct - 3.0).abs() < 1e-12);
        assert!((f.s_pct - 2.5f64.sqrt()).abs() < 1e-12);
        assert_eq!(f.floor().u_pct, 1.5812, "rounded up, never down");
    }

    #[test]
    fn too_few_or_broken_setups_are_refused() {
        assert_eq!(
            StudyFigures::of(&[0.1, 0.2, 0.3, 0.4]),
            Err(StudyError::TooFewSetups(4))
        );
        assert_eq!(
            StudyFigures::of(&[0.1, 0.2, f64::NAN, 0.4, 0.5]),
            Err(StudyError::NotFinite(3))
        );
    }

    #[test]
    fn the_rig_line_parses_back_to_the_floor() {
        let means: Vec<f64> = (0..20).map(|i| -0.05 + 0.0123 * f64::from(i % 7)).collect();
        let f = StudyFigures::of(&means).expect("20 set-ups");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let line = f.rig_line(date, Some("reports/out/study.json"));
        assert!(line.contains("dof = 19"), "{line}");
        assert!(line.contains("studied = \"2026-12-01\""), "{line}");
        let doc: toml::Table = toml::from_str(&line).expect("a TOML line");
        let r = &doc["reproducibility"];
        assert_eq!(r["u_pct"].as_float(), Some(f.floor().u_pct));
        assert!(f.floor().u_pct >= f.s_pct && f.floor().u_pct - f.s_pct < 1e-4);
        assert_eq!(r["study"].as_str(), Some("reports/out/study.json"));
    }

    #[test]
    fn the_ou_mean_is_between_independent_and_fully_correlated() {
        // Five results: independent σ/√5, fully correlated σ.
        let indep = sd_of_mean_ou(0.1, 5, 30.0, 1e-6);
        let full = sd_of_mean_ou(0.1, 5, 30.0, 1e9);
        assert!((indep - 0.1 / 5f64.sqrt()).abs() < 1e-9);
        assert!((full - 0.1).abs() < 1e-6);
        // BENCHMARKS.md §6: 5 gates 30 s apart, τ = 60 s → 0.073 %.
        let mid = sd_of_mean_ou(0.1, 5, 30.0, 60.0);
        assert!((mid - 0.073).abs() < 5e-4, "{mid}");
    }

    #[test]
    fn a_bench_without_scatter_declares_zero_not_minus_zero() {
        let f = StudyFigures::of(&[0.0; 20]).expect("20 set-ups");
        assert_eq!(f.floor().u_pct.to_bits(), 0f64.to_bits());
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        assert!(
            f.rig_line(date, None)
                .starts_with("reproducibility = { u_pct = 0.0, dof = 19,")
        );
    }
}
