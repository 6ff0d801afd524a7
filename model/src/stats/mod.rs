//! The statistics a record carries: uncertainty budgets (GUM), decision rules
//! and verdicts (ILAC-G8:09/2019), and the two-sample test the firmware gate
//! uses.

pub mod decision;
pub mod uncertainty;
pub mod welch;

pub use decision::{DecisionRule, Verdict};
pub use uncertainty::{Budget, Component, student_t_975};
