//! Statistics for verdicts: uncertainty budgets (GUM), decision rules
//! (ILAC-G8:09/2019) and the two-sample test the firmware gate uses live in
//! `model` (the record carries them) and are re-exported here; sequential
//! stopping, which only the runner needs, stays here.
//! May import: `model` and statrs only.

pub mod sequential;

pub use model::stats::{decision, uncertainty, welch};
pub use sequential::SequentialRule;

pub use model::stats::{Budget, Component, DecisionRule, Verdict, student_t_975};
