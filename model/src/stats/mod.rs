//! The statistics a record carries: uncertainty budgets (GUM), decision rules
//! and verdicts (ILAC-G8:09/2019), and the two-sample test the firmware gate
//! uses.
//!
//! Owns: `Budget`, `Component`, `DecisionRule`, `Verdict`, Welch's test.
//! May import: the `model` crate's own quantities and statrs; nothing of
//! metrig's other crates.

pub mod decision;
pub mod uncertainty;
pub mod welch;

pub use decision::{DecisionRule, Verdict};
pub use uncertainty::{Budget, Component, student_t_975};
