//! Figures that JSON cannot hold. `serde_json` writes NaN and ±∞ as `null`,
//! which then cannot be read back into an `f64`: one NaN (a meter that never
//! starts has no first pulse, so no period) used to make the whole journal
//! unreadable. The guard sits between the runner and its listeners and turns
//! every event that would not survive the journal into one that does: a
//! sample becomes a finding that keeps its raw readings, and the point it
//! belonged to ends with verdict `error` and the reason — a recorded verdict,
//! never a lost record (EN 50470-1 §7: every result traceable to its data).
//!
//! The test is generic — an event must read back equal to itself — so a
//! figure added to an outcome later is covered without a change here.

use std::collections::BTreeMap;

use super::events::{Finding, RunEvent, Severity};
use super::suite::PointOutcome;
use crate::stats::Verdict;

/// Turns events that JSON cannot keep into events it can.
#[derive(Debug, Default)]
pub struct FiniteGuard {
    /// Point key → why its figures are not all finite.
    tainted: BTreeMap<String, String>,
}

/// Whether every figure of `e` is a finite number, so that its JSON reads
/// back (NaN and ±∞ are written as `null`). Degrees of freedom may be
/// infinite: `null` reads back as `None`, which means ∞.
pub fn survives_json(e: &RunEvent) -> bool {
    let ok = |v: f64| v.is_finite();
    match e {
        RunEvent::PointStarted { at_s, .. } => ok(*at_s),
        RunEvent::Sample { sample, .. } => ok(sample.value) && ok(sample.at_s),
        RunEvent::PointFinished { outcome, at_s, .. } => ok(*at_s) && outcome_finite(outcome),
        RunEvent::Conditions { reading, .. } => {
            ok(reading.at_s) && ok(reading.temperature_c) && ok(reading.humidity_pct)
        }
        RunEvent::RunStarted(_) | RunEvent::Finding { .. } | RunEvent::RunFinished { .. } => true,
    }
}

fn outcome_finite(o: &PointOutcome) -> bool {
    [o.mean_error_pct, o.expanded_uncertainty_pct, o.limit_pct]
        .iter()
        .flatten()
        .all(|v| v.is_finite())
        && o.budget.as_ref().is_none_or(budget_finite)
}

fn budget_finite(b: &crate::stats::Budget) -> bool {
    let dof_ok = |d: Option<f64>| d.is_none_or(|v| !v.is_nan());
    [
        b.mean_pct,
        b.std_dev_pct,
        b.type_a_pct,
        b.combined_pct,
        b.coverage_factor,
        b.expanded_pct,
    ]
    .iter()
    .all(|v| v.is_finite())
        && dof_ok(b.effective_dof)
        && b.components
            .iter()
            .all(|c| c.standard_pct.is_finite() && dof_ok(c.dof))
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

fn describe(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+∞".into()
    } else if v == f64::NEG_INFINITY {
        "−∞".into()
    } else {
        format!("{v}")
    }
}

impl FiniteGuard {
    /// The events to emit in place of `e` (usually `e` itself).
    pub fn admit(&mut self, e: RunEvent) -> Vec<RunEvent> {
        match e {
            RunEvent::PointStarted { key, at_s } => {
                // A restarted point starts clean.
                self.tainted.remove(&key);
                vec![RunEvent::PointStarted { key, at_s }]
            }
            e if survives_json(&e) => match e {
                RunEvent::PointFinished { key, outcome, at_s } => {
                    let outcome = match self.tainted.remove(&key) {
                        Some(why) => error_outcome(&outcome, &why),
                        None => outcome,
                    };
                    vec![RunEvent::PointFinished { key, outcome, at_s }]
                }
                e => vec![e],
            },
            RunEvent::Sample { key, sample } => {
                let why = format!(
                    "sample {} of {key} is not a finite number (value {} {}, at {} s)",
                    sample.index,
                    describe(sample.value),
                    sample.unit,
                    describe(sample.at_s),
                );
                self.tainted
                    .entry(key.clone())
                    .or_insert_with(|| why.clone());
                vec![RunEvent::Finding {
                    finding: Finding {
                        key: Some(key),
                        severity: Severity::Warning,
                        // The raw readings are kept: they are what a reader needs to see why.
                        text: format!("{why}; raw readings: {}", sample.raw),
                    },
                }]
            }
            RunEvent::PointFinished { key, outcome, at_s } => {
                let why = self.tainted.remove(&key).unwrap_or_else(|| {
                    format!(
                        "a figure of the outcome is not a finite number (mean {}, U {}, limit {})",
                        outcome.mean_error_pct.map_or("—".into(), describe),
                        outcome
                            .expanded_uncertainty_pct
                            .map_or("—".into(), describe),
                        outcome.limit_pct.map_or("—".into(), describe),
                    )
                });
                let at_s = if at_s.is_finite() { at_s } else { 0.0 };
                let e = RunEvent::PointFinished {
                    key: key.clone(),
                    outcome: error_outcome(&outcome, &why),
                    at_s,
                };
                if survives_json(&e) {
                    vec![e]
                } else {
                    // A figure this guard does not know of: keep the verdict and the reason.
                    vec![RunEvent::PointFinished {
                        key,
                        outcome: PointOutcome {
                            verdict: Verdict::Error,
                            mean_error_pct: None,
                            expanded_uncertainty_pct: None,
                            limit_pct: None,
                            budget: None,
                            summary: why,
                            details: serde_json::Value::Null,
                        },
                        at_s,
                    }]
                }
            }
            RunEvent::Finding { finding } => vec![RunEvent::Finding { finding }],
            // A climate reading that is not a number: kept as a finding, the
            // point then has no logged conditions (the report says so).
            RunEvent::Conditions { key, reading } => vec![RunEvent::Finding {
                finding: Finding {
                    key: Some(key),
                    severity: Severity::Warning,
                    text: format!(
                        "the climate sensor's reading is not a finite number (temperature {} °C, humidity {} %)",
                        describe(reading.temperature_c),
                        describe(reading.humidity_pct)
                    ),
                },
            }],
            // A header or an end with a non-finite figure: nothing to judge;
            // written as is (the reader refuses it with its line number).
            e => vec![e],
        }
    }
}

/// The outcome as verdict `error`, its non-finite figures dropped, the
/// reason first in its summary.
fn error_outcome(o: &PointOutcome, why: &str) -> PointOutcome {
    let budget_ok = o.budget.as_ref().is_none_or(budget_finite);
    PointOutcome {
        verdict: Verdict::Error,
        mean_error_pct: finite(o.mean_error_pct),
        expanded_uncertainty_pct: finite(o.expanded_uncertainty_pct),
        limit_pct: finite(o.limit_pct),
        budget: if budget_ok { o.budget.clone() } else { None },
        summary: format!("error: {why} (the suite said: {})", o.summary),
        details: o.details.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::Sample;

    fn outcome(mean: Option<f64>) -> PointOutcome {
        PointOutcome {
            verdict: Verdict::Pass,
            mean_error_pct: mean,
            expanded_uncertainty_pct: Some(0.1),
            limit_pct: Some(1.0),
            budget: None,
            summary: "fine".into(),
            details: serde_json::json!({"n": 3}),
        }
    }

    fn sample(v: f64) -> RunEvent {
        RunEvent::Sample {
            key: "k".into(),
            sample: Sample {
                index: 0,
                at_s: 1.0,
                value: v,
                unit: "s".into(),
                raw: serde_json::json!({"first_pulse": null}),
            },
        }
    }

    fn finished(mean: Option<f64>) -> RunEvent {
        RunEvent::PointFinished {
            key: "k".into(),
            outcome: outcome(mean),
            at_s: 2.0,
        }
    }

    fn verdict(e: &RunEvent) -> (Verdict, String) {
        match e {
            RunEvent::PointFinished { outcome, .. } => (outcome.verdict, outcome.summary.clone()),
            other => panic!("not an end: {other:?}"),
        }
    }

    #[test]
    fn finite_events_pass_unchanged() {
        let mut g = FiniteGuard::default();
        assert_eq!(g.admit(sample(0.5)), vec![sample(0.5)]);
        assert_eq!(g.admit(finished(Some(0.2))), vec![finished(Some(0.2))]);
    }

    #[test]
    fn every_non_finite_value_becomes_a_recorded_error_verdict() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut g = FiniteGuard::default();
            let out = g.admit(sample(bad));
            assert!(
                matches!(&out[..], [RunEvent::Finding { finding }] if finding.text.contains("not a finite")),
                "{out:?}"
            );
            let end = g.admit(finished(Some(0.2)));
            let (v, why) = verdict(&end[0]);
            assert_eq!(v, Verdict::Error);
            assert!(why.contains("sample 0 of k"), "{why}");
            assert!(end.iter().all(survives_json));
        }
    }

    #[test]
    fn a_non_finite_mean_is_an_error_and_is_dropped() {
        for bad in [f64::NAN, f64::INFINITY, -f64::INFINITY] {
            let mut g = FiniteGuard::default();
            let end = g.admit(finished(Some(bad)));
            let (v, _) = verdict(&end[0]);
            assert_eq!(v, Verdict::Error);
            assert!(survives_json(&end[0]));
        }
    }

    #[test]
    fn a_restarted_point_starts_clean() {
        let mut g = FiniteGuard::default();
        g.admit(sample(f64::NAN));
        g.admit(RunEvent::PointStarted {
            key: "k".into(),
            at_s: 0.0,
        });
        assert_eq!(verdict(&g.admit(finished(Some(0.1)))[0]).0, Verdict::Pass);
    }
}
