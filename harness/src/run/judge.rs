//! The framework's half of a point: a suite measures, the framework judges.
//! As in OpenHTF, where a phase records measurements and the framework applies
//! their declared validators, a suite returns what it measured (`Measured`)
//! and `judge` applies the point's declared limit (its table row, after the
//! plan's overrides) and the plan's decision rule (ILAC-G8:09/2019 §4), and
//! builds the record's `PointOutcome`. A point whose limit is missing is an
//! `error` — never a `fail`: nothing was shown to be out of limits.
//!
//! Each kind of `Measured` is one named judge: a figure against a symmetric
//! limit, a requirement met or not, a requirement whose pass may carry a
//! deviation the plan calls a finding or a failure, the worst of n
//! observations against a maximum, a spread against an upper limit on σ
//! (χ² interval), and a point that does not apply. No suite builds a
//! `PointOutcome` itself.

use super::suite::{LimitRef, PointOutcome};
use crate::stats::{Budget, Component, DecisionRule, SigmaInterval, Verdict};

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
    /// A requirement met or not, whose pass may show a deviation the
    /// datasheet allows but the standard does not (a 10-bit RTU character,
    /// a reserved address accepted): a finding by default, a failure when
    /// the plan says deviations fail. The suite reports the finding itself.
    Deviating {
        ok: bool,
        summary: String,
        details: serde_json::Value,
        deviation: Option<String>,
        deviation_fails: bool,
    },
    /// The worst of n observations against the point's maximum (a response
    /// time): a pass needs every observation had (`misses` = 0) and the
    /// worst within the limit. The suite's summary already names the limit.
    Worst {
        worst: f64,
        misses: u32,
        summary: String,
        details: serde_json::Value,
    },
    /// The spread of n results against an upper limit on σ (repeatability):
    /// judged on the χ² interval of σ (ISO 3534-1, `stats::chi_square`) by
    /// the plan's rule, not a symmetric budget on s.
    Spread {
        std_dev_pct: f64,
        results: usize,
        mean_pct: f64,
        details: serde_json::Value,
    },
    /// The point does not apply to this meter or rig (why, and what was
    /// seen): `skipped`, never a pass.
    NotApplicable {
        summary: String,
        details: serde_json::Value,
    },
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
            Measured::Deviating { ok, deviation, .. } => f
                .debug_struct("Deviating")
                .field("ok", ok)
                .field("deviation", deviation)
                .finish(),
            Measured::Worst { worst, misses, .. } => f
                .debug_struct("Worst")
                .field("worst", worst)
                .field("misses", misses)
                .finish(),
            Measured::Spread {
                std_dev_pct,
                results,
                ..
            } => f
                .debug_struct("Spread")
                .field("std_dev_pct", std_dev_pct)
                .field("results", results)
                .finish(),
            Measured::NotApplicable { summary, .. } => f
                .debug_struct("NotApplicable")
                .field("summary", summary)
                .finish(),
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

    /// A point that does not apply, and why.
    pub fn not_applicable(why: impl Into<String>) -> Self {
        Measured::NotApplicable {
            summary: why.into(),
            details: serde_json::Value::Null,
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
                let what = format!(
                    "measured {:+.4} % ± {:.4} %",
                    budget.mean_pct, budget.expanded_pct
                );
                return PointOutcome {
                    mean_error_pct: Some(budget.mean_pct),
                    expanded_uncertainty_pct: Some(budget.expanded_pct),
                    budget: Some(budget),
                    ..unjudged(what, details)
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
        Measured::Deviating {
            ok,
            summary,
            mut details,
            deviation,
            deviation_fails,
        } => {
            let mut outcome = judge(
                Measured::Check {
                    ok,
                    summary,
                    details: serde_json::Value::Null,
                },
                limit,
                rule,
            );
            if let Some(d) = deviation {
                if deviation_fails {
                    outcome.verdict = Verdict::Fail;
                    outcome.summary = format!("{} — fails: {d}", outcome.summary);
                } else {
                    outcome.summary = format!("{} — finding: {d}", outcome.summary);
                }
                if let Some(obj) = details.as_object_mut() {
                    obj.insert("deviation".into(), serde_json::Value::String(d));
                }
            }
            outcome.details = details;
            outcome
        }
        Measured::Worst {
            worst,
            misses,
            summary,
            details,
        } => {
            let Some(limit) = limit.map(|l| l.limit_pct) else {
                return unjudged(summary, details);
            };
            PointOutcome {
                verdict: if misses == 0 && worst <= limit {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                },
                limit_pct: Some(limit),
                summary,
                details,
                ..PointOutcome::skipped("")
            }
        }
        Measured::Spread {
            std_dev_pct,
            results,
            mean_pct,
            details,
        } => spread(std_dev_pct, results, mean_pct, details, limit, rule),
        Measured::NotApplicable { summary, details } => PointOutcome {
            details,
            ..PointOutcome::skipped(summary)
        },
    }
}

/// A point measured (`what`) but without a limit row to judge it against:
/// `error`, never `fail` — nothing was shown to be out of limits.
fn unjudged(what: String, details: serde_json::Value) -> PointOutcome {
    PointOutcome {
        verdict: Verdict::Error,
        mean_error_pct: None,
        expanded_uncertainty_pct: None,
        limit_pct: None,
        budget: None,
        summary: format!(
            "{what}, but the point has no limit row to judge it against: {}",
            Verdict::Error
        ),
        details,
    }
}

/// A spread s of `n` results against an upper limit on σ: the χ² interval
/// of σ decides by the plan's rule, and the record's "U" is how far the
/// interval's upper bound lies above s (an upper limit on σ has no
/// symmetric budget).
fn spread(
    s: f64,
    n: usize,
    mean_pct: f64,
    details: serde_json::Value,
    limit: Option<&LimitRef>,
    rule: DecisionRule,
) -> PointOutcome {
    let Some(limit) = limit.map(|l| l.limit_pct) else {
        return PointOutcome {
            mean_error_pct: Some(s),
            ..unjudged(
                format!("s = {s:.4} % from {n} results"),
                serde_json::json!({ "std_dev_pct": s, "results": n }),
            )
        };
    };
    let interval = SigmaInterval::of(s, n);
    let verdict = interval.map_or(Verdict::Error, |i| i.decide(rule, limit));
    let (upper, lower) = interval.map_or((f64::NAN, f64::NAN), |i| (i.upper, i.lower));
    let margin = upper - s;
    let dof = n.saturating_sub(1);
    let budget = Budget {
        n: 1,
        mean_pct: s,
        std_dev_pct: 0.0,
        type_a_pct: 0.0,
        components: vec![Component {
            name: format!(
                "χ² interval of σ from {n} results ({dof} dof): {lower:.4} % … {upper:.4} %"
            ),
            standard_pct: margin / 2.0,
            dof: Some(dof as f64),
        }],
        combined_pct: margin / 2.0,
        effective_dof: Some(dof as f64),
        coverage_factor: 2.0,
        expanded_pct: margin,
    };
    let mut details = details;
    if let Some(obj) = details.as_object_mut() {
        for (key, value) in [
            ("std_dev_pct", serde_json::json!(s)),
            ("sigma_lower_pct", serde_json::json!(lower)),
            ("sigma_upper_pct", serde_json::json!(upper)),
            (
                "interval",
                serde_json::json!("chi-square 95 % two-sided (ISO 3534-1)"),
            ),
            ("mean_pct", serde_json::json!(mean_pct)),
            ("results", serde_json::json!(n)),
        ] {
            obj.insert(key.into(), value);
        }
    }
    PointOutcome {
        verdict,
        mean_error_pct: Some(s),
        expanded_uncertainty_pct: Some(margin),
        limit_pct: Some(limit),
        summary: format!(
            "s = {s:.4} % from {n} results (mean {mean_pct:+.4} %), 95 % χ² interval of σ {lower:.4} … {upper:.4} %, limit {limit} %: {verdict}"
        ),
        details,
        budget: Some(budget),
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
    fn a_deviation_is_a_finding_unless_the_plan_says_deviations_fail() {
        let seen = |fails| Measured::Deviating {
            ok: true,
            summary: "set address 255, read back 255".into(),
            details: serde_json::json!({ "result": 1 }),
            deviation: Some("address 255 is reserved".into()),
            deviation_fails: fails,
        };
        let finding = judge(seen(false), None, DecisionRule::SimpleAcceptance);
        assert_eq!(finding.verdict, Verdict::Pass);
        assert_eq!(
            finding.summary,
            "set address 255, read back 255 — finding: address 255 is reserved"
        );
        assert_eq!(finding.details["deviation"], "address 255 is reserved");
        let strict = judge(seen(true), None, DecisionRule::SimpleAcceptance);
        assert_eq!(strict.verdict, Verdict::Fail);
        assert!(strict.summary.ends_with("— fails: address 255 is reserved"));
        let not_met = Measured::Deviating {
            ok: false,
            summary: "set 9600 8N1: timeout".into(),
            details: serde_json::json!({}),
            deviation: None,
            deviation_fails: false,
        };
        let o = judge(not_met, None, DecisionRule::SimpleAcceptance);
        assert_eq!(o.verdict, Verdict::Fail);
        assert_eq!(o.summary, "set 9600 8N1: timeout");
    }

    #[test]
    fn the_worst_of_n_passes_only_with_every_one_had_and_within_the_limit() {
        let worst = |worst, misses| Measured::Worst {
            worst,
            misses,
            summary: "max".into(),
            details: serde_json::Value::Null,
        };
        let rule = DecisionRule::SimpleAcceptance;
        let at = |v| Some(limit(v));
        assert_eq!(
            judge(worst(40.0, 0), at(50.0).as_ref(), rule).verdict,
            Verdict::Pass
        );
        assert_eq!(
            judge(worst(40.0, 0), at(50.0).as_ref(), rule).limit_pct,
            Some(50.0)
        );
        assert_eq!(
            judge(worst(60.0, 0), at(50.0).as_ref(), rule).verdict,
            Verdict::Fail
        );
        assert_eq!(
            judge(worst(40.0, 1), at(50.0).as_ref(), rule).verdict,
            Verdict::Fail
        );
        assert_eq!(
            judge(worst(f64::NAN, 3), at(50.0).as_ref(), rule).verdict,
            Verdict::Fail
        );
        let o = judge(worst(40.0, 0), None, rule);
        assert_eq!(o.verdict, Verdict::Error);
        assert!(o.summary.contains("no limit row"), "{}", o.summary);
    }

    #[test]
    fn a_spread_is_judged_on_the_chi_square_interval_of_sigma() {
        let spread = |s| Measured::Spread {
            std_dev_pct: s,
            results: 10,
            mean_pct: 0.01,
            details: serde_json::json!({ "histograms": [] }),
        };
        let rule = DecisionRule::SimpleAcceptance;
        let l = limit(0.1);
        let small = judge(spread(0.01), Some(&l), rule);
        assert_eq!(small.verdict, Verdict::Pass);
        assert_eq!(small.mean_error_pct, Some(0.01));
        let u = small.expanded_uncertainty_pct.expect("margin");
        // The χ² upper bound of σ from 10 results lies ≈ 1.83 s: U ≈ 0.83 s.
        assert!((u / 0.01 - 0.826).abs() < 0.01, "{u}");
        assert_eq!(small.details["results"], 10);
        assert!(small.details["sigma_upper_pct"].as_f64().is_some());
        assert!(small.details["histograms"].is_array());
        assert_eq!(judge(spread(0.2), Some(&l), rule).verdict, Verdict::Fail);
        let missing = judge(spread(0.01), None, rule);
        assert_eq!(missing.verdict, Verdict::Error);
        assert_eq!(missing.limit_pct, None);
        assert!(
            missing.summary.contains("no limit row"),
            "{}",
            missing.summary
        );
    }

    #[test]
    fn a_point_that_does_not_apply_is_skipped_never_passed() {
        let o = judge(
            Measured::not_applicable("needs raw RTU frames"),
            Some(&limit(1.0)),
            DecisionRule::SimpleAcceptance,
        );
        assert_eq!(o.verdict, Verdict::Skipped);
        assert_eq!(o.summary, "needs raw RTU frames");
        assert_eq!(o.limit_pct, None);
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
