//! Statistics for verdicts: uncertainty budgets (GUM), decision rules
//! (ILAC-G8:09/2019) and the two-sample test the firmware gate uses live in
//! `model` (the record carries them) and are re-exported here; sequential
//! stopping, correlation-aware type A and the χ² bound on a spread, which
//! only the harness and suites need, stay here.
//! Owns: sequential stopping, type A over correlated gates, the χ² interval,
//! and the arithmetic of the reproducibility study that gives the rig's type A
//! floor.
//! May import: `model`, statrs and chrono (a study's date) only.

pub mod chi_square;
pub mod reproducibility;
pub mod sequential;
pub mod type_a;

pub use chi_square::SigmaInterval;
pub use model::stats::{decision, uncertainty, welch};
pub use sequential::SequentialRule;
pub use type_a::{Reproducibility, TypeA, TypeAGoverned};

pub use model::stats::{Budget, Component, DecisionRule, Verdict, student_t_975};
