//! The framework's half of a point: a suite measures, the framework judges.
//! As in OpenHTF, where a phase records measurements and the framework applies
//! their declared validators, a suite returns what it measured (`Measured`)
//! and `judge` applies the point's declared limit (its table row, after the
//! plan's overrides) and the plan's decision rule (ILAC-G8:09/2019 §4), and
//! builds the record's `PointOutcome`. A point whose limit is missing is an
//! `error` — never a `fail`: nothing was shown to be out of limits.

use super::suite::{LimitRef, PointOutcome};
use crate::stats::{Budget, DecisionRule, Verdict};

/// How a suite writes the sentence a lab engineer reads from the budget and
/// the limit; the framework appends ": {verdict}".
pub type Summary = Box<dyn FnOnce(&Budget, f64) -> String + Send>;

/// What a suite measured at one point.
pub enum Measured {
    /// A figure with its uncertainty budget (an error, a change of error, a
    /// spread): the budget's mean is judged against the point's limit with
    /// its expanded uncertainty, by the plan's decision rule.
    Figure {
        budget: Budget,
        summary: Summary,
        /// Suite-specific figures (periods, histograms, counts).
        details: serde_json::Value,
    },
    /// A requirement with no statistics: met, or not (a register that
    /// moves, a pulse that comes).
    Check {
        ok: bool,
        summary: String,
        details: serde_json::Value,
    },
    /// A verdict reached by the suite's own rule (the response-time block's
    /// early decision, a settings matrix), recorded as the suite built it.
    Judged(PointOutcome),
}

impl std::fmt::Debug for Measured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Measured::Figure { budget, .. } => {
                f.debug_struct("Figure").field("budget", budget).finish()
            }
            Measured::Check { ok, summary, .. } => f
                .debug_struct("Check")
                .field("ok", ok)
                .field("summary", summary)
                .finish(),
            Measured::Judged(o) => f.debug_tuple("Judged").field(o).finish(),
        }
    }
}

impl Measured {
    /// A figure judged against the point's limit.
    pub fn figure(
        budget: Budget,
        details: serde_json::Value,
        summary: impl FnOnce(&Budget, f64) -> String + Send + 'static,
    ) -> Self {
        Measured::Figure {
            budget,
            summary: Box::new(summary),
            details,
        }
    }

    /// A requirement met or not.
    pub fn check(ok: bool, summary: impl Into<String>, details: serde_json::Value) -> Self {
        Measured::Check {
            ok,
            summary: summary.into(),
            details,
        }
    }
}

/// The outcome of a measured point: `limit` is the point's declared limit,
/// `rule` the plan's decision rule.
pub fn judge(measured: Measured, limit: Option<&LimitRef>, rule: DecisionRule) -> PointOutcome {
    match measured {
        Measured::Figure {
            budget,
            summary,
            details,
        } => {
            let Some(limit) = limit.map(|l| l.limit_pct) else {
                return PointOutcome {
                    verdict: Verdict::Error,
                    mean_error_pct: Some(budget.mean_pct),
                    expanded_uncertainty_pct: Some(budget.expanded_pct),
                    limit_pct: None,
                    summary: format!(
                        "measured {:+.4} % ± {:.4} %, but the point has no limit row to judge it against: {}",
                        budget.mean_pct,
                        budget.expanded_pct,
                        Verdict::Error
                    ),
                    budget: Some(budget),
                    details,
                };
            };
            let verdict = rule.decide(budget.mean_pct, budget.expanded_pct, limit);
            PointOutcome {
                verdict,
                mean_error_pct: Some(budget.mean_pct),
                expanded_uncertainty_pct: Some(budget.expanded_pct),
                limit_pct: Some(limit),
                summary: format!("{}: {verdict}", summary(&budget, limit)),
                budget: Some(budget),
                details,
            }
        }
        Measured::Check {
            ok,
            summary,
            details,
        } => PointOutcome {
            verdict: if ok { Verdict::Pass } else { Verdict::Fail },
            mean_error_pct: None,
            expanded_uncertainty_pct: None,
            limit_pct: None,
            budget: None,
            summary,
            details,
        },
        Measured::Judged(outcome) => outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Confidence;
    use crate::stats::Component;

    fn limit(pct: f64) -> LimitRef {
        LimitRef {
            table: "en50470-3-class-b".into(),
            row: "itr-imax-pf1".into(),
            clause: "EN 50470-3 §8.1".into(),
            confidence: Confidence::Recalled,
            limit_pct: pct,
            overridden: None,
            unit: "%".into(),
        }
    }

    fn error_of(pct: f64) -> Measured {
        let b = Budget::of(
            &[pct],
            vec![Component::rectangular("count resolution", 0.01)],
        );
        Measured::figure(b, serde_json::Value::Null, |_, l| {
            format!("error against ±{l} %")
        })
    }

    #[test]
    fn a_point_whose_limit_row_is_missing_is_an_error_not_a_fail() {
        // An error of 5 % would fail any class B limit: without a limit row
        // it must still not be called a failure of the meter.
        let o = judge(error_of(5.0), None, DecisionRule::SimpleAcceptance);
        assert_eq!(o.verdict, Verdict::Error);
        assert_eq!(o.limit_pct, None);
        assert_eq!(o.mean_error_pct, Some(5.0));
        assert!(o.summary.contains("no limit row"), "{}", o.summary);
    }

    #[test]
    fn a_figure_is_judged_by_the_plan_rule_against_its_limit() {
        let pass = judge(
            error_of(0.5),
            Some(&limit(1.0)),
            DecisionRule::SimpleAcceptance,
        );
        assert_eq!(pass.verdict, Verdict::Pass);
        assert_eq!(pass.limit_pct, Some(1.0));
        assert_eq!(pass.summary, "error against ±1 %: pass");
        let fail = judge(
            error_of(1.5),
            Some(&limit(1.0)),
            DecisionRule::SimpleAcceptance,
        );
        assert_eq!(fail.verdict, Verdict::Fail);
        assert_eq!(fail.summary, "error against ±1 %: fail");
    }

    #[test]
    fn a_check_passes_or_fails_on_its_requirement_alone() {
        let o = judge(
            Measured::check(false, "no pulse", serde_json::Value::Null),
            None,
            DecisionRule::SimpleAcceptance,
        );
        assert_eq!(o.verdict, Verdict::Fail);
        assert_eq!(o.limit_pct, None);
    }
}
