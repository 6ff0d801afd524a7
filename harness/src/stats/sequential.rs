//! Sequential stopping: stop repeating a point once its verdict is decided,
//! instead of after a fixed count, for nightly and gate plans (the type-test
//! plan keeps its fixed counts: a notified body expects the stated n).
//!
//! After each repetition from `min` on, the mean error's interval is taken at
//! a Bonferroni share of the rule's 5 % two-sided risk, α / L for L looks, so
//! that the chance of any early decision being wrong stays within the
//! stated risk however many looks are taken. The point stops as a pass when
//! the whole widened interval lies within the limit and the rule itself
//! passes the current budget; as a fail when the whole widened interval lies
//! beyond the limit. Otherwise it goes on, at most to the fixed count, where
//! the rule decides as usual.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{Budget, Component, DecisionRule, Verdict};

/// The two-sided risk the rules state (95 % coverage).
const ALPHA: f64 = 0.05;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequentialRule {
    /// Repetitions before the first look (at least 2, for a standard deviation).
    pub min: u32,
    /// The fixed count: the most repetitions a point gets.
    pub max: u32,
}

impl SequentialRule {
    pub fn new(max: u32) -> Self {
        Self {
            min: 3.min(max).max(2),
            max,
        }
    }

    /// How many looks the rule takes at most.
    pub fn looks(&self) -> u32 {
        self.max.saturating_sub(self.min).max(1)
    }

    /// The coverage factor of one look: t at 1 − α/(2L) for `dof`.
    pub fn coverage(&self, dof: Option<f64>) -> f64 {
        let p = 1.0 - ALPHA / (2.0 * f64::from(self.looks()));
        let dof = dof
            .filter(|v| v.is_finite())
            .unwrap_or(1.0e4)
            .clamp(1.0, 1.0e4);
        StudentsT::new(0.0, 1.0, dof)
            .map(|t| t.inverse_cdf(p))
            .unwrap_or(4.0)
    }

    /// The verdict the results so far already decide, if any.
    pub fn decided(
        &self,
        errors: &[f64],
        components: &[Component],
        limit_pct: f64,
        rule: DecisionRule,
    ) -> Option<Verdict> {
        let n = errors.len() as u32;
        if n < self.min || n >= self.max {
            return None;
        }
        let b = Budget::of(errors, components.to_vec());
        let wide = self.coverage(b.effective_dof) * b.combined_pct;
        let x = b.mean_pct.abs();
        if !x.is_finite() || !wide.is_finite() {
            return None;
        }
        if x - wide > limit_pct {
            return Some(Verdict::Fail);
        }
        if x + wide <= limit_pct
            && rule.decide(b.mean_pct, b.expanded_pct, limit_pct) == Verdict::Pass
        {
            return Some(Verdict::Pass);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Vec<Component> {
        vec![Component::from_expanded("reference", 0.02, 2.0)]
    }

    #[test]
    fn a_good_meter_stops_at_the_first_look() {
        let r = SequentialRule::new(10);
        let e = [0.30, 0.31, 0.29];
        assert_eq!(
            r.decided(&e, &reference(), 1.0, DecisionRule::GuardedBinary),
            Some(Verdict::Pass)
        );
        // Before the first look nothing is decided.
        assert_eq!(
            r.decided(&e[..2], &reference(), 1.0, DecisionRule::GuardedBinary),
            None
        );
    }

    #[test]
    fn a_meter_far_outside_stops_as_a_fail() {
        let r = SequentialRule::new(10);
        let e = [1.60, 1.62, 1.58];
        assert_eq!(
            r.decided(&e, &reference(), 1.0, DecisionRule::GuardedBinary),
            Some(Verdict::Fail)
        );
    }

    #[test]
    fn a_marginal_or_noisy_meter_goes_on_to_the_fixed_count() {
        let r = SequentialRule::new(10);
        // Mean 0.99 % against 1 %: neither side is sure.
        let marginal = [0.98, 1.00, 0.99, 0.99];
        assert_eq!(
            r.decided(&marginal, &reference(), 1.0, DecisionRule::GuardedBinary),
            None
        );
        // Mean 0.3 % but s = 0.4 %: too noisy to stop at 3.
        let noisy = [0.0, 0.8, 0.1];
        assert_eq!(
            r.decided(&noisy, &reference(), 1.0, DecisionRule::GuardedBinary),
            None
        );
        // At the fixed count the rule decides, not the sequential test.
        let ten = [0.3; 10];
        assert_eq!(
            r.decided(&ten, &reference(), 1.0, DecisionRule::GuardedBinary),
            None
        );
    }

    #[test]
    fn non_binary_conditional_zones_never_stop_early() {
        let r = SequentialRule::new(10);
        // |mean| + U' within the limit passes; the conditional zones go on.
        let e = [0.99, 1.00, 1.01];
        assert_eq!(
            r.decided(&e, &reference(), 1.0, DecisionRule::NonBinary),
            None
        );
    }

    #[test]
    fn each_look_is_wider_than_the_fixed_rule() {
        let r = SequentialRule::new(10);
        assert!(r.coverage(None) > 1.96 + 0.5, "{}", r.coverage(None));
        assert!(r.coverage(Some(2.0)) > r.coverage(Some(20.0)));
    }
}
