//! The statement of conformity per clause (ISO/IEC 17025 §7.8.6; issue 19:
//! "the meter conforms to clauses … / does not conform to clauses …"), per
//! meter: each point belongs to the clause of its limit row, and a clause's
//! statement is that of its worst point under the plan's decision rule.

use model::stats::Verdict;

use crate::record::{PointRecord, Record};

/// What a clause's points together say about one meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Statement {
    /// Every point passes.
    Conforms,
    /// A point is conditional (its U interval straddles the limit), none fails.
    Conditional,
    /// A point could not be measured (error) or was not run: no statement.
    NotJudged,
    /// A point fails.
    DoesNotConform,
}

impl Statement {
    pub fn of(v: Verdict) -> Statement {
        match v {
            Verdict::Pass => Statement::Conforms,
            Verdict::ConditionalPass | Verdict::ConditionalFail => Statement::Conditional,
            Verdict::Error | Verdict::Skipped => Statement::NotJudged,
            Verdict::Fail => Statement::DoesNotConform,
        }
    }

    /// The words a first page uses before the list of clauses.
    pub fn lead(self) -> &'static str {
        match self {
            Statement::Conforms => "conforms to",
            Statement::Conditional => "conforms only conditionally (see the decision rule) to",
            Statement::NotJudged => "could not be judged against",
            Statement::DoesNotConform => "does not conform to",
        }
    }
}

/// One clause for one meter.
#[derive(Debug, Clone, PartialEq)]
pub struct ClauseStatement {
    pub clause: String,
    pub statement: Statement,
    pub points: usize,
    /// Keys of the points that make the statement worse than "conforms".
    pub against: Vec<String>,
}

/// One meter's statements, clauses in the order the plan measured them.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterConformity {
    pub position: usize,
    pub clauses: Vec<ClauseStatement>,
    /// Points of this meter measured outside the reference conditions.
    pub outside_conditions: usize,
}

impl MeterConformity {
    /// The clauses with this statement.
    pub fn with(&self, s: Statement) -> Vec<&ClauseStatement> {
        self.clauses.iter().filter(|c| c.statement == s).collect()
    }

    /// The meter's overall statement: its worst clause's.
    pub fn overall(&self) -> Statement {
        self.clauses
            .iter()
            .map(|c| c.statement)
            .max()
            .unwrap_or(Statement::NotJudged)
    }
}

/// The clause a point is judged under: its limit row's, or its suite's for
/// a point judged by a rule of its own.
pub fn clause_of(p: &PointRecord) -> String {
    match &p.limit {
        Some(l) if !l.clause.trim().is_empty() => l.clause.clone(),
        _ => format!("{} (the suite's own rule)", p.suite),
    }
}

/// Every meter's statement per clause.
pub fn of(r: &Record) -> Vec<MeterConformity> {
    let mut positions: Vec<usize> = r.points.iter().map(|p| p.position).collect();
    positions.extend(r.meters.iter().map(|m| m.position));
    positions.sort_unstable();
    positions.dedup();
    positions
        .into_iter()
        .map(|position| {
            let mut clauses: Vec<ClauseStatement> = Vec::new();
            let mut outside = 0;
            for p in r.points.iter().filter(|p| p.position == position) {
                outside += usize::from(p.outside_conditions());
                let clause = clause_of(p);
                let s = Statement::of(p.verdict);
                let i = match clauses.iter().position(|c| c.clause == clause) {
                    Some(i) => i,
                    None => {
                        clauses.push(ClauseStatement {
                            clause,
                            statement: Statement::Conforms,
                            points: 0,
                            against: Vec::new(),
                        });
                        clauses.len() - 1
                    }
                };
                let c = &mut clauses[i];
                c.points += 1;
                c.statement = c.statement.max(s);
                if s != Statement::Conforms {
                    c.against.push(p.key.clone());
                }
            }
            MeterConformity {
                position,
                clauses,
                outside_conditions: outside,
            }
        })
        .collect()
}

/// A verdict as a customer reads it.
pub fn verdict_words(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::ConditionalPass => "conditional pass",
        Verdict::ConditionalFail => "conditional fail",
        Verdict::Fail => "fail",
        Verdict::Error => "error",
        Verdict::Skipped => "not run",
    }
}

/// What each verdict means for the customer (ILAC-G8:09/2019 §4.2).
pub fn verdict_meaning(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => {
            "The result conforms: under the decision rule the error lies within the limit."
        }
        Verdict::ConditionalPass => {
            "The measured error lies within the limit, but its expanded uncertainty interval reaches beyond it: conformity is likely but not shown at about 95 % coverage. A notified body may accept it as stated, or ask for a repeat with a smaller uncertainty."
        }
        Verdict::ConditionalFail => {
            "The measured error lies beyond the limit, but within its expanded uncertainty of it: non-conformity is likely but not proven. Treat the meter as not conforming to that clause unless a repeat with a smaller uncertainty shows otherwise."
        }
        Verdict::Fail => {
            "The result does not conform: the error lies beyond the limit under the decision rule."
        }
        Verdict::Error => {
            "The point could not be measured (the reason is given with the result): no statement is made for it."
        }
        Verdict::Skipped => "The point was not measured: no statement is made for it.",
    }
}
