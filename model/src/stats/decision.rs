//! Decision rules of ILAC-G8:09/2019, stated in the plan before measuring and
//! printed in the record and the report.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    ConditionalPass,
    ConditionalFail,
    Fail,
    /// The point could not be measured.
    Error,
    /// The point does not apply, or was not run.
    Skipped,
}

impl Verdict {
    /// Every verdict, in the order the reports count them.
    pub const ALL: [Verdict; 6] = [
        Verdict::Pass,
        Verdict::ConditionalPass,
        Verdict::ConditionalFail,
        Verdict::Fail,
        Verdict::Error,
        Verdict::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::ConditionalPass => "conditional_pass",
            Verdict::ConditionalFail => "conditional_fail",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
            Verdict::Skipped => "skipped",
        }
    }

    /// Whether the run's exit code must say "a verdict failed".
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Verdict::Fail | Verdict::ConditionalFail | Verdict::Error
        )
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionRule {
    /// ILAC-G8 §4.2.1: simple acceptance, guard band w = 0; the measured
    /// value alone is compared with the limit.
    SimpleAcceptance,
    /// ILAC-G8 §4.2.2: binary statement with guard band w = U; pass only
    /// when |x| ≤ TL − U (probability of false accept < 2.5 %).
    GuardedBinary,
    /// ILAC-G8 §4.2.3: non-binary statement: pass, conditional pass,
    /// conditional fail, fail, by where the interval x ± U lies.
    NonBinary,
}

/// The rule as the plan file names it (`decision_rule = "non-binary"`), so a
/// screen and the file say the same words.
impl std::fmt::Display for DecisionRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DecisionRule::SimpleAcceptance => "simple-acceptance",
            DecisionRule::GuardedBinary => "guarded-binary",
            DecisionRule::NonBinary => "non-binary",
        })
    }
}

impl DecisionRule {
    pub fn describe(self) -> &'static str {
        match self {
            DecisionRule::SimpleAcceptance => {
                "Simple acceptance (ILAC-G8:09/2019 §4.2.1, guard band w = 0): a point passes when the absolute mean error does not exceed the limit. The measurement uncertainty is stated but not used in the decision; the risk of a false accept can reach 50 % for a result at the limit."
            }
            DecisionRule::GuardedBinary => {
                "Binary statement with guard band w = U (ILAC-G8:09/2019 §4.2.2): a point passes when the absolute mean error does not exceed the limit minus the expanded uncertainty U (k for 95 %), so that the probability of a false accept is below 2.5 %; otherwise it fails."
            }
            DecisionRule::NonBinary => {
                "Non-binary statement (ILAC-G8:09/2019 §4.2.3): pass when the whole interval |mean| + U lies within the limit; conditional pass when the mean lies within the limit but the interval crosses it; conditional fail when the mean lies beyond the limit but the interval crosses it; fail when |mean| − U exceeds the limit."
            }
        }
    }

    /// Decides a two-sided limit ±`limit_pct` on a mean error with expanded
    /// uncertainty `u_pct`.
    pub fn decide(self, mean_pct: f64, u_pct: f64, limit_pct: f64) -> Verdict {
        if !mean_pct.is_finite() || !u_pct.is_finite() {
            return Verdict::Error;
        }
        let x = mean_pct.abs();
        match self {
            DecisionRule::SimpleAcceptance => {
                if x <= limit_pct {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                }
            }
            DecisionRule::GuardedBinary => {
                if x <= limit_pct - u_pct {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                }
            }
            DecisionRule::NonBinary => {
                if x + u_pct <= limit_pct {
                    Verdict::Pass
                } else if x <= limit_pct {
                    Verdict::ConditionalPass
                } else if x - u_pct <= limit_pct {
                    Verdict::ConditionalFail
                } else {
                    Verdict::Fail
                }
            }
        }
    }

    /// Decides an upper bound (a standard deviation, a pulse count): the
    /// value is non-negative and must not exceed `limit`.
    pub fn decide_upper(self, value: f64, u: f64, limit: f64) -> Verdict {
        self.decide(value, u, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_disagree_where_ilac_g8_says_they_do() {
        // +0.95 % against ±1.0 % with U = 0.1 %.
        assert_eq!(
            DecisionRule::NonBinary.decide(0.95, 0.1, 1.0),
            Verdict::ConditionalPass
        );
        assert_eq!(
            DecisionRule::GuardedBinary.decide(0.95, 0.1, 1.0),
            Verdict::Fail
        );
        assert_eq!(
            DecisionRule::SimpleAcceptance.decide(0.95, 0.1, 1.0),
            Verdict::Pass
        );
        assert_eq!(
            DecisionRule::NonBinary.decide(-1.05, 0.1, 1.0),
            Verdict::ConditionalFail
        );
        assert_eq!(DecisionRule::NonBinary.decide(1.2, 0.1, 1.0), Verdict::Fail);
        assert_eq!(DecisionRule::NonBinary.decide(0.5, 0.1, 1.0), Verdict::Pass);
        assert_eq!(
            DecisionRule::GuardedBinary.decide(0.85, 0.1, 1.0),
            Verdict::Pass
        );
    }
}
